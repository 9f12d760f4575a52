#!/usr/bin/env python3
"""Crash test for `slawatch serve`: SIGKILL at random moments under load, restart on the same
data directory, and check that a restart loses at most the interval in flight.

Usage: test_serve_kill9.py SLAWATCH [SEED]

A load thread POSTs ingest batches continuously for api/blue and web, each with an explicit
`at` (the send time less a random lag of up to 130 ms, as a client that measured a little
before sending; some reach the daemon right when their interval closes), and records every acknowledged (200) batch with its interval and the daemon's
lifetime. The daemon is SIGKILLed KILLS times at random moments and restarted each time, then
stopped with SIGTERM (exit 0 required). Then, with sqlite3: PRAGMA integrity_check is 'ok';
every interval acknowledged and closed (its end + 10% grace) at least one base interval before
the kill of its lifetime (or before the final SIGTERM) has its base-resolution row in
`intervals` with exactly the requests and errors pushed; no row holds more than was pushed
(acknowledged, or in doubt: sent to a daemon killed before it answered, which may have kept it).
After each restart /api/v1/status must already count the pre-kill requests in the availability
objective's samples.
"""
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time

from serve_util import Daemon, rfc3339

KILLS = 9
BASE_S = 1.0
GRACE_S = 0.1
SERIES = [("api", "blue"), ("web", None)]

# Only the objective matters here (its samples after a restart); no alerts or gate noise.
RULES = """version: 1
base_interval: 1s
min_requests: 100
services:
  - name: api
    environments: [blue, green]
    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}
  - name: web
    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""


class Load:
    """Pushes batches until stopped; acks[(series, start_s)] = [(lifetime, requests, errors)]."""

    def __init__(self, daemon, rng):
        self.d = daemon
        self.rng = rng
        self.lifetime = 0
        self.lock = threading.Lock()
        self.acks = {}
        self.doubt = {}  # (series, start_s) -> [(requests, errors)] sent without an answer
        self.sent = self.acked = self.late = self.failed = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            series = self.rng.choice(SERIES)
            requests = self.rng.randint(1, 500)
            errors = self.rng.randint(0, requests // 50)
            # Mostly fresh data; one batch in five measured 90-130 ms ago, which reaches the
            # daemon around the moment its interval closes (end + 100 ms grace).
            lag = self.rng.uniform(0.09, 0.13) if self.rng.random() < 0.2 else \
                self.rng.uniform(0, 0.09)
            at = time.time() - lag
            at_ms = int(at * 1000)
            batch = {"service": series[0], "at": rfc3339(at_ms / 1000), "requests": requests,
                     "errors": errors, "latency_us": [self.rng.randint(100, 900000)]}
            if series[1]:
                batch["env"] = series[1]
            with self.lock:
                lifetime = self.lifetime
            try:
                status, _ = self.d.ingest(batch)
            except OSError:
                status = None  # killed or restarting: not acknowledged
            with self.lock:
                self.sent += 1
                if status == 200 and self.lifetime != lifetime:
                    # A restart came between reading the lifetime and the answer (this thread
                    # was descheduled through it): either process may have kept the batch.
                    status = None
                if status == 200:
                    self.acked += 1
                    key = (series, at_ms // 1000)
                    self.acks.setdefault(key, []).append((lifetime, requests, errors))
                elif status == 422:
                    self.late += 1
                else:
                    self.failed += 1
                    if status is None:
                        key = (series, at_ms // 1000)
                        self.doubt.setdefault(key, []).append((requests, errors))
            if status is None:
                time.sleep(0.02)


def expected_stored(load, ends):
    """(series, start_s) -> (requests, errors) for intervals that must be in the store."""
    want = {}
    for (series, start), acks in load.acks.items():
        lifetimes = {a[0] for a in acks}
        if len(lifetimes) != 1:
            continue  # split across a restart: the pre-kill part was in flight
        life = lifetimes.pop()
        end, how = ends[life]
        margin = BASE_S if how == "kill" else 0.2
        if start + BASE_S + GRACE_S <= end - margin:
            want[(series, start)] = (sum(a[1] for a in acks), sum(a[2] for a in acks))
    return want


def stored_rows(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        rows = con.execute(
            "SELECT s.service, s.env, i.start_ms, i.requests, i.errors FROM intervals i "
            "JOIN series s ON s.id = i.series_id WHERE i.resolution_ms = ?",
            (int(BASE_S * 1000),)).fetchall()
    finally:
        con.close()
    got = {}
    for service, env, start_ms, req, err in rows:
        got[((service, env or None), start_ms // 1000)] = (req, err)
    return integrity, got


def samples_of(d, service, env):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        raise RuntimeError(f"/api/v1/status: HTTP {status}")
    for s in doc["services"]:
        if s["name"] == service and s.get("env") == env:
            for o in s["objectives"]:
                if o["name"] == "availability":
                    return o["samples"] or 0
    return 0


def main():
    slawatch = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    failures = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sw-kill9-") as tmp:
        d = Daemon(slawatch, tmp, rules=RULES)
        load = Load(d, random.Random(seed + 1))
        thread = threading.Thread(target=load.run, daemon=True)
        ends = {}  # lifetime -> (time it ended, "kill" | "term")
        try:
            d.start()
            thread.start()
            for k in range(KILLS):
                time.sleep(rng.uniform(2.5, 4.5))
                with load.lock:
                    ends[load.lifetime] = (time.time(), "kill")
                d.kill()
                # Only once the process is gone: an answer read with the old lifetime is its.
                with load.lock:
                    load.lifetime += 1
                # What must have survived so far, as the restarted daemon must already count it.
                want = expected_stored(load, ends)
                pre_kill = sum(v[0] for (s, _), v in want.items() if s == ("api", "blue"))
                d.start()
                samples = samples_of(d, "api", "blue")
                if samples < pre_kill:
                    failures.append(f"after restart {k + 1}: availability samples {samples} < "
                                    f"{pre_kill} requests stored before the kill")
            time.sleep(2.5)
            load.stop.set()
            thread.join(15)
            with load.lock:
                ends[load.lifetime] = (time.time(), "term")
            rc = d.stop()
            if rc != 0:
                failures.append(f"SIGTERM -> exit {rc}, want 0")
        finally:
            load.stop.set()
            d.stop(timeout=5)
        integrity, got = stored_rows(os.path.join(d.data, "slawatch.db"))
        if integrity != [("ok",)]:
            failures.append(f"PRAGMA integrity_check: {integrity}")
        want = expected_stored(load, ends)
        missing = [k for k in want if k not in got]
        wrong = [(k, got[k], want[k]) for k in want if k in got and got[k] != want[k]]
        pushed = {k: (sum(a[1] for a in v), sum(a[2] for a in v)) for k, v in load.acks.items()}
        for k, v in load.doubt.items():
            p = pushed.get(k, (0, 0))
            pushed[k] = (p[0] + sum(a[0] for a in v), p[1] + sum(a[1] for a in v))
        extra = [(k, v, pushed.get(k)) for k, v in got.items()
                 if pushed.get(k) is None or v[0] > pushed[k][0] or v[1] > pushed[k][1]]
        for k in sorted(missing, key=lambda k: k[1])[:10]:
            failures.append(f"interval {k[0]} {rfc3339(k[1])} acknowledged and closed, not "
                            f"stored: {load.acks[k]}")
        for k, g, w in wrong[:10]:
            failures.append(f"interval {k[0]} {rfc3339(k[1])}: stored (requests, errors) {g}, "
                            f"pushed {w}")
        for k, g, p in extra[:10]:
            failures.append(f"interval {k[0]} {rfc3339(k[1])}: stored {g}, more than pushed {p}")
        print(f"{load.sent} batches sent, {load.acked} acknowledged, {load.late} too late, "
              f"{load.failed} failed; {len(want)} intervals had to survive, {len(got)} stored, "
              f"{len(missing)} missing, {len(wrong)} wrong; {time.monotonic() - t0:.1f}s")
        if failures:
            print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"ok: {KILLS} SIGKILLs lost at most the interval in flight")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
