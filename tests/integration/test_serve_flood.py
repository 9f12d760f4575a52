#!/usr/bin/env python3
"""A flood of writes does not starve the deploy gate, and the writes past their bound are
refused, not queued.

Usage: test_serve_flood.py SLAWATCH

One daemon (base interval 1s, two pool threads, one ingest worker with two places waiting).
FLOODERS clients each post PUSHES large pushes (LATENCIES latency values apiece) back to back
on their own keep-alive connection, with no token (as anyone who can reach the port may),
while another client asks the gate over and over on its own connection. Checked, over real
HTTP:
- every gate request made while the flood runs is answered 200 with a verdict;
- every push is answered 200 (applied), 503 with Retry-After: 1 (refused, nothing applied) or,
  on a machine too loaded to apply it before its interval closed, 422 (too late, nothing
  applied); 200 and 503 both happen: the flood is more than the ingest workers and their queue
  hold;
- acknowledged data is kept: the store's 1 s rows hold exactly the requests of the pushes
  answered 200 (sqlite3), none of the refused ones.
"""
import http.client
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time

from serve_util import FAILURES, check, Daemon, wait_evaluated

FLOODERS = 12
PUSHES = 25
LATENCIES = 20000
MIN_GATE_ANSWERS = 20
CONFIG = "http:\n  threads: 2\n  ingest_workers: 1\n  ingest_queue: 2\n"


def push_body(requests, rng):
    latencies = ",".join(str(rng.randrange(1000, 900000)) for _ in range(LATENCIES))
    return (f'{{"service":"api","env":"blue","requests":{requests},"errors":0,'
            f'"latency_us":[{latencies}]}}').encode()


def flood(port, seed, out):
    """One client's pushes; appends (status, Retry-After, requests, body) per answer."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for k in range(PUSHES):
        requests = LATENCIES + seed * 100 + k
        conn.request("POST", "/api/v1/ingest", push_body(requests, rng),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        out.append((resp.status, resp.getheader("Retry-After"), requests, resp.read()))
    conn.close()


def ask_gate(port, flooding, answers):
    """Gate requests on one connection until the flood is over; appends (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while flooding.is_set() or len(answers) < MIN_GATE_ANSWERS:
        conn.request("GET", "/api/v1/gate?service=api&env=green")
        resp = conn.getresponse()
        answers.append((resp.status, resp.read()))
    conn.close()


def stored_requests(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT SUM(i.requests) FROM intervals i JOIN series s ON s.id = i.series_id "
            "WHERE i.resolution_ms = 1000 AND s.service = 'api' AND s.env = 'blue'").fetchone()
    finally:
        con.close()
    return row[0] or 0


def check_gate(answers, during):
    check(during >= MIN_GATE_ANSWERS,
          f"only {during} gate answers while the flood ran, want at least {MIN_GATE_ANSWERS}")
    for status, body in answers:
        try:
            verdict = json.loads(body).get("verdict")
        except ValueError:
            verdict = None
        if not check(status == 200 and verdict in ("pass", "fail", "inconclusive"),
                     f"gate during the flood: {status} {body[:200]!r}"):
            return


def check_pushes(results):
    statuses = sorted({r[0] for r in results})
    check(set(statuses) <= {200, 422, 503}, f"push answers {statuses}, want 200, 503 (or 422)")
    refused = [r for r in results if r[0] == 503]
    check(len(refused) > 0, "no push was refused: the flood was never over its bound")
    check(any(r[0] == 200 for r in results), "no push was applied")
    check(all(r[1] == "1" for r in refused),
          f"503 without Retry-After: 1: {[r[1] for r in refused][:5]}")
    check(all(b"busy" in r[3] for r in refused), f"503 body: {refused[0][3][:200]!r}"
          if refused else "")


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-flood-") as tmp:
        d = Daemon(slawatch, tmp, extra_config=CONFIG)
        try:
            d.start()
            results = []
            answers = []
            flooding = threading.Event()
            flooding.set()
            gate = threading.Thread(target=ask_gate, args=(d.port, flooding, answers))
            gate.start()
            pushers = [threading.Thread(target=flood, args=(d.port, k, results))
                       for k in range(FLOODERS)]
            for t in pushers:
                t.start()
            for t in pushers:
                t.join()
            during = len(answers)
            flooding.clear()
            gate.join()
            check_gate(answers, during)
            check_pushes(results)
            accepted = sum(r[2] for r in results if r[0] == 200)
            wait_evaluated(d, time.time() + 1.5)
            rc = d.stop()
            check(rc == 0, f"SIGTERM: exit {rc}")
            got = stored_requests(os.path.join(d.data, "slawatch.db"))
            check(got == accepted, f"stored {got} requests, the pushes answered 200 had {accepted}")
        finally:
            d.stop(timeout=5)
        if FAILURES:
            print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    if not FAILURES:
        print(f"ok: {during} gate answers during the flood, all 200 with a verdict; "
              f"{sum(r[0] == 200 for r in results)} pushes applied, "
              f"{sum(r[0] == 503 for r in results)} refused with 503; stored = acknowledged")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
