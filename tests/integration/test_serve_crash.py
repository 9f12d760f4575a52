#!/usr/bin/env python3
"""Acknowledged means kept: `slawatch serve` under pushed and remote-written load, SIGKILLed at
random moments and restarted on the same data directory, then stopped once with SIGTERM in the
middle of the load and restarted again.

Usage: test_serve_crash.py SLAWATCH [--delay 0s|5s] [--kills N] [--seed S]

Two load threads run throughout. One POSTs /api/v1/ingest batches for api/blue (`at` = now less
up to 50 ms). The other remote-writes a counter app_requests_total whose value it raises by
1..100 before every request (stamped with the send time), as a Prometheus sender does. Each
request is recorded with the daemon lifetime it was sent to (lifetimes change when a new process
is spawned) and its answer: acknowledged (2xx), refused (another status: nothing applied) or in
doubt (no answer: the process died meanwhile, so it may or may not have been applied).

At the end the load stops, the last daemon is let evaluate past the data and stopped with
SIGTERM, and the SQLite store is read (PRAGMA integrity_check must be ok):
- pushed: every interval holds at least the acknowledged requests and errors and at most those
  plus the ones in doubt (0 lost, 0 double counted), whatever the delay and the kill moments;
- remote-written: a counter's first sample in a process only sets its baseline, so within a
  lifetime every increase between acknowledged samples must be stored, and never more than
  the increases between the samples that lifetime may have applied. What a crash costs is the
  increase between the last sample before it and the first after it: reported per crash.
"""
import argparse
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time

import rw_util
from serve_util import Daemon, http, rfc3339, wait_evaluated

RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: api
    environments: [blue, green]
    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}
  - name: app
    sli:
      requests: {prometheus: 'app_requests_total{job="app"}'}
      errors: {prometheus: 'app_requests_total{job="app",code=~"5.."}'}
      latency: {prometheus: 'app_duration_seconds{job="app"}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""


class Log:
    """Requests sent and what became of them, by daemon lifetime."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lifetime = 0
        self.stop = threading.Event()

    def current(self):
        with self.lock:
            return self.lifetime


class PushLoad(threading.Thread):
    def __init__(self, d, log, rng):
        super().__init__(daemon=True)
        self.d, self.log, self.rng = d, log, rng
        self.acked = {}  # start_s -> [requests, errors]
        self.doubt = {}
        self.counts = {"acked": 0, "doubt": 0, "refused": 0}

    def run(self):
        while not self.log.stop.is_set():
            requests = self.rng.randint(1, 500)
            errors = self.rng.randint(0, requests // 50)
            at_ms = int((time.time() - self.rng.uniform(0, 0.05)) * 1000)
            batch = {"service": "api", "env": "blue", "at": rfc3339(at_ms / 1000),
                     "requests": requests, "errors": errors,
                     "latency_us": [self.rng.randint(100, 900000)]}
            try:
                status, _ = self.d.ingest(batch)
            except OSError:
                status = None
            kind = "acked" if status == 200 else "doubt" if status is None else "refused"
            self.counts[kind] += 1
            if kind != "refused":
                into = self.acked if kind == "acked" else self.doubt
                slot = into.setdefault(at_ms // 1000, [0, 0])
                slot[0] += requests
                slot[1] += errors
            if status is None:
                time.sleep(0.02)


class WriteLoad(threading.Thread):
    def __init__(self, d, log, rng):
        super().__init__(daemon=True)
        self.d, self.log, self.rng = d, log, rng
        self.value = 1000
        self.sent = []  # (lifetime, value, "acked" | "doubt")
        self.counts = {"acked": 0, "doubt": 0, "refused": 0}

    def run(self):
        while not self.log.stop.is_set():
            self.value += self.rng.randint(1, 100)
            lifetime = self.log.current()
            body = rw_util.body([([("__name__", "app_requests_total"), ("job", "app"),
                                   ("code", "200")], [(float(self.value), int(time.time() * 1000))])])
            try:
                status, _, _ = http("POST", self.d.url + "/api/v1/write", body,
                                    headers=rw_util.HEADERS)
            except OSError:
                status = None
            kind = "acked" if status == 204 else "doubt" if status is None else "refused"
            self.counts[kind] += 1
            answered_in = self.log.current()
            if kind != "refused" and answered_in != lifetime:
                # A restart came between reading the lifetime and the answer (this thread was
                # descheduled for the whole restart): either process may have applied it, as its
                # last sample or as the next one's baseline. Neither lifetime may count on it.
                self.sent.append((lifetime, self.value, "doubt"))
                self.sent.append((answered_in, self.value, "doubt"))
            elif kind != "refused":
                self.sent.append((lifetime, self.value, kind))
            time.sleep(0.01 if status is not None else 0.02)


def stored(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        rows = con.execute(
            "SELECT s.service, i.start_ms, i.requests, i.errors FROM intervals i "
            "JOIN series s ON s.id = i.series_id WHERE i.resolution_ms = 1000").fetchall()
    finally:
        con.close()
    push = {start // 1000: (req, err) for svc, start, req, err in rows if svc == "api"}
    written = sum(req for svc, _, req, _ in rows if svc == "app")
    return integrity, push, written


def check_push(load, got, failures):
    lost = extra = 0
    for start in sorted(set(load.acked) | set(load.doubt)):
        lo = load.acked.get(start, [0, 0])
        hi = [lo[i] + load.doubt.get(start, [0, 0])[i] for i in range(2)]
        have = got.get(start, (0, 0))
        for i, what in enumerate(("requests", "errors")):
            if have[i] < lo[i]:
                lost += lo[i] - have[i]
                failures.append(f"pushed interval {rfc3339(start)}: {have[i]} {what} stored, "
                                f"{lo[i]} acknowledged")
            if have[i] > hi[i]:
                extra += have[i] - hi[i]
                failures.append(f"pushed interval {rfc3339(start)}: {have[i]} {what} stored, "
                                f"more than the {hi[i]} sent")
    return lost, extra


def check_written(load, written, kills, failures):
    """Bounds on the stored total from each lifetime's samples; the loss at each restart."""
    by_life = {}
    for life, value, kind in load.sent:
        by_life.setdefault(life, []).append((value, kind))
    low = high = 0
    acked_first_last = []
    for life in sorted(by_life):
        values = by_life[life]
        acked = [v for v, k in values if k == "acked"]
        if acked:
            low += acked[-1] - acked[0]
            acked_first_last.append((acked[0], acked[-1]))
        high += values[-1][0] - values[0][0]
    if written < low:
        failures.append(f"remote write: {written} requests stored, fewer than the {low} "
                        f"increases between acknowledged samples of each lifetime")
    if written > high:
        failures.append(f"remote write: {written} requests stored, more than the {high} sent")
    gaps = [b[0] - a[1] for a, b in zip(acked_first_last, acked_first_last[1:])]
    return low, high, gaps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("slawatch")
    ap.add_argument("--delay", default="0s")
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    print(f"seed {a.seed}, ingest_delay {a.delay}, {a.kills} kills")
    delay_s = float(a.delay.rstrip("s"))
    failures = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sw-crash-") as tmp:
        d = Daemon(a.slawatch, tmp, rules=RULES,
                   extra_config=f"ingest_delay: {a.delay}\nremote_write_receiver:\n"
                                "  enabled: true\n")
        log = Log()
        push = PushLoad(d, log, random.Random(a.seed + 1))
        write = WriteLoad(d, log, random.Random(a.seed + 2))
        restarts = []
        try:
            d.start()
            push.start()
            write.start()
            for k in range(a.kills + 1):
                time.sleep(rng.uniform(1.0, 2.5))
                if k < a.kills:
                    d.kill()
                else:
                    rc = d.stop()  # SIGTERM in the middle of the load
                    if rc != 0:
                        failures.append(f"SIGTERM -> exit {rc}, want 0")
                t_down = time.monotonic()
                with log.lock:
                    log.lifetime += 1
                d.start()
                restarts.append(time.monotonic() - t_down)
            time.sleep(1.5)
            log.stop.set()
            push.join(15)
            write.join(15)
            wait_evaluated(d, time.time() + delay_s + 1.5)
            rc = d.stop()
            if rc != 0:
                failures.append(f"final SIGTERM -> exit {rc}, want 0")
        finally:
            log.stop.set()
            d.stop(timeout=5)
        integrity, got, written = stored(os.path.join(d.data, "slawatch.db"))
        if integrity != [("ok",)]:
            failures.append(f"PRAGMA integrity_check: {integrity}")
        lost, extra = check_push(push, got, failures)
        low, high, gaps = check_written(write, written, a.kills, failures)
        print(f"pushed: {push.counts} batches; {sum(v[0] for v in push.acked.values())} "
              f"requests acknowledged; lost {lost}, double counted {extra}")
        print(f"remote write: {write.counts} requests; stored {written} within [{low}, {high}]; "
              f"increase lost at each restart (baseline): mean "
              f"{sum(gaps) / max(1, len(gaps)):.0f}, max {max(gaps, default=0)}")
        r = sorted(restarts)
        print(f"restart (down to ready): median {r[len(r) // 2]:.2f}s, "
              f"p90 {r[len(r) * 9 // 10]:.2f}s, max {r[-1]:.2f}s; {time.monotonic() - t0:.1f}s")
        if failures:
            print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    for f in failures[:20]:
        print("FAIL:", f)
    if not failures:
        print(f"ok: {a.kills} SIGKILLs and a SIGTERM lost nothing acknowledged")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
