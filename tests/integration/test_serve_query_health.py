#!/usr/bin/env python3
"""Health read through `prometheus_query` at the smallest ingest_delay `check` accepts: every
health value the query source read is stored in its interval, none dropped as late.

Usage: test_serve_query_health.py SLAWATCH

A stand-in for Prometheus' /api/v1/query_range answers each query after a simulated response
time well inside the configured timeout (the slow server the bound is about): an `up` gauge
whose value at each evaluation time T is known here (0 every fourth second, else 1) and two
request counters. The rules read requests, errors and health through three selectors, so a
poll sends three queries one after the other. The test computes the arrival bound itself,
lag + every + 2 x 3 x timeout, and the take delay base/10 + ingest_delay (no scrape or probe
here); `slawatch check` must refuse ingest_delay one millisecond under the bound and accept it
at the bound, and serve runs at the bound. Every T the stand-in answered for and whose interval
[T - 1 s, T) the daemon has evaluated must be stored with exactly one probe, failed exactly when
the stand-in said 0; nothing else may be stored, and slawatch_ingest_late_values_total stays 0.
Finally a reload to ingest_delay one millisecond under the bound is refused and changes nothing.
"""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from serve_util import (  # noqa: E402
    FAILURES, check, Daemon, evaluated_at, free_port, scalar_metrics, wait_until)

BASE_MS = 1000
LAG_MS, EVERY_MS, TIMEOUT_MS = 0, 1000, 2000
RESPONSE_S = 1.2  # the stand-in's simulated response time per query: under the timeout
REQUESTS = 'http_requests_total{job="app"}'
ERRORS = 'http_requests_total{job="app",code="500"}'
HEALTH = 'up{job="app"}'
QUERIES = len({REQUESTS, ERRORS, HEALTH})
ARRIVAL_MS = LAG_MS + EVERY_MS + 2 * QUERIES * TIMEOUT_MS
INGEST_DELAY_MS = ARRIVAL_MS - BASE_MS // 10  # no scrape or probe timeouts in this config
RUN_S = 10  # evaluation times answered before the check

RULES = f"""version: 1
base_interval: 1s
min_requests: 1
services:
  - name: api
    sli:
      requests: {{prometheus: '{REQUESTS}'}}
      errors: {{prometheus: '{ERRORS}'}}
      health: {{prometheus: '{HEALTH}'}}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""


def up_at(t_ms):
    return 0 if (t_ms // 1000) % 4 == 1 else 1


def series_for(query, times):
    """What Prometheus would return for query at the evaluation times (ms)."""
    def matrix(labels, value):
        return {"metric": labels, "values": [[t / 1000, str(value(t))] for t in times]}
    ok = {"__name__": "http_requests_total", "job": "app", "code": "200"}
    bad = {"__name__": "http_requests_total", "job": "app", "code": "500"}
    if query == HEALTH:
        return [matrix({"__name__": "up", "job": "app"}, up_at)]
    if query == REQUESTS:
        return [matrix(ok, lambda t: 9 * (t // 1000)), matrix(bad, lambda t: t // 1000)]
    if query == ERRORS:
        return [matrix(bad, lambda t: t // 1000)]
    return []


class StandIn:
    """query_range answered after RESPONSE_S; every health evaluation time served recorded."""

    def __init__(self):
        self.lock = threading.Lock()
        self.health_times = []
        self.other = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                status, body = stand_in.answer(self.path, form)
                threading.Event().wait(RESPONSE_S)  # the simulated server's response time
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        self.srv = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def answer(self, path, form):
        query = form.get("query", [""])[0]
        try:
            start = round(float(form["start"][0]) * 1000)
            end = round(float(form["end"][0]) * 1000)
            step = round(float(form["step"][0]) * 1000)
        except (KeyError, ValueError):
            with self.lock:
                self.other.append((path, form))
            return 400, b'{"status":"error","errorType":"bad_data","error":"bad form"}'
        if path != "/api/v1/query_range" or step != BASE_MS:
            with self.lock:
                self.other.append((path, form))
        times = list(range(start, end + 1, step))
        with self.lock:
            if query == HEALTH:
                self.health_times += times
        doc = {"status": "success",
               "data": {"resultType": "matrix", "result": series_for(query, times)}}
        return 200, json.dumps(doc).encode()

    def served(self):
        with self.lock:
            return list(self.health_times)


def stored_health(data_dir):
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'slawatch.db')}?mode=ro", uri=True)
    try:
        return {start: (probes, failures) for start, probes, failures in con.execute(
            "SELECT i.start_ms, i.probes, i.failures FROM intervals i JOIN series s "
            "ON s.id = i.series_id WHERE s.service = 'api' AND i.resolution_ms = 1000 "
            "AND i.probes > 0")}
    finally:
        con.close()


def query_config(url, ingest_delay_ms):
    return (f"ingest_delay: {ingest_delay_ms}ms\nprometheus_query:\n  url: {url}\n"
            f"  every: {EVERY_MS}ms\n  lag: {LAG_MS}ms\n  lookback: 0s\n"
            f"  timeout: {TIMEOUT_MS}ms\n  retries: 0\n")


def write_config(d, body):
    with open(d.config_path, "w") as f:
        f.write(f"listen: 127.0.0.1:{d.port}\ndata_dir: {d.data}\n"
                f"rules_files: [rules.yaml]\nlog_level: info\n{body}")


def check_accepts(slawatch, d, url):
    """The bound here is the one check draws: a millisecond less is refused."""
    for delay, want in ((INGEST_DELAY_MS - 1, 1), (INGEST_DELAY_MS, 0)):
        write_config(d, query_config(url, delay))
        r = subprocess.run([slawatch, "check", d.config_path], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == want, f"check with ingest_delay {delay} ms: exit {r.returncode}, "
                                    f"want {want}: {r.stderr.strip()}")


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-query-health-") as tmp:
        stand_in = StandIn()
        d = Daemon(slawatch, tmp, rules=RULES)
        check_accepts(slawatch, d, stand_in.url)
        write_config(d, query_config(stand_in.url, INGEST_DELAY_MS))
        try:
            d.start()
            first = wait_until("the first health values served", stand_in.served, 30)[0]
            last = first + RUN_S * 1000
            wait_until(f"the stand-in to answer for {last}",
                       lambda: max(stand_in.served()) >= last, RUN_S + 30)
            wait_until("slawatch to evaluate past them",
                       lambda: evaluated_at(d) * 1000 >= last, ARRIVAL_MS / 1000 + 30)
            status, _, body = d.get("/metrics")
            metrics = scalar_metrics(body.decode())
            evaluated_ms = evaluated_at(d) * 1000
            late = metrics.get(("slawatch_ingest_late_values_total", frozenset()))
            failures = metrics.get(("slawatch_query_failures_total", frozenset()))
            check(failures == 0, f"slawatch_query_failures_total {failures}: a query failed, "
                                 "so its values could come later than the bound")
            check(late == 0, f"slawatch_ingest_late_values_total {late}, want 0")

            write_config(d, query_config(stand_in.url, INGEST_DELAY_MS - 1))
            status, _, body = d.post("/-/reload")
            check(status == 500 and b"ingest_delay" in body,
                  f"reload under the bound: HTTP {status} {body[:300]!r}, want 500")
            rc = d.stop()
            check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")

            served = [t for t in stand_in.served() if t <= evaluated_ms]
            want = {}
            for t in served:
                p, f = want.get(t - BASE_MS, (0, 0))
                want[t - BASE_MS] = (p + 1, f + (up_at(t) == 0))
            got = {s: v for s, v in stored_health(d.data).items() if s + BASE_MS <= evaluated_ms}
            check(len(want) >= RUN_S, f"only {len(want)} health intervals served")
            check(sum(f for _, f in want.values()) > 0, "no failed health value served")
            missing = sorted(s for s in want if got.get(s) != want[s])
            extra = sorted(s for s in got if s not in want)
            check(not missing, f"{len(missing)} of {len(want)} health intervals not stored as "
                               f"served, first {[(s, want[s], got.get(s)) for s in missing[:5]]}")
            check(not extra, f"stored health intervals never served: {extra[:5]}")
            check(not stand_in.other, f"unexpected requests: {stand_in.other[:3]}")
            print(f"{len(want)} health intervals compared, ingest_delay {INGEST_DELAY_MS} ms")
        finally:
            d.stop()
            stand_in.srv.shutdown()
            if FAILURES:
                print("--- slawatch log ---\n" + d.log_text()[-4000:])
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
