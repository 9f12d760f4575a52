#!/usr/bin/env python3
"""A rules change on a running daemon recomputes every window from the store at once.

The store holds 34 days of hourly rows with known per-request latencies, ending two hours ago
(store_intervals, as a backfill would). `slawatch serve` starts with `p95 <= 500ms` over 30 d;
the rules are changed to `p95 <= 300ms` and reloaded with POST /-/reload, then back with SIGHUP.
After start and after each reload /api/v1/status must answer for the whole 30-day window from
the stored data: the p95 within the HDR bucket of the exact order statistic of every request in
the window, the verdict the truth gives. The window is the evaluator's: (at - 30 d, at] with its
old edge moved up to a whole hour, so the truth takes the hours starting at or after
ceil_hour(at - 30 d). The hours from that edge to the next midnight are slow and busy: a window
rebuilt from daily rows that start before the edge would leave them out and answer ~245 ms.

usage: test_whatif_reload.py SLAWATCH STORE_INTERVALS SERVE_UTIL_DIR
"""
import calendar
import datetime
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from history import HOUR, away_from, in_hdr_bucket, line, percentile, width  # noqa: E402

SLAWATCH, STORE_INTERVALS, SERVE_UTIL = sys.argv[1:4]
sys.path.insert(0, SERVE_UTIL)
from serve_util import Daemon, FAILURES, check, wait_until  # noqa: E402

DAY = 86400
WINDOW = 30 * DAY
RULES = """version: 1
base_interval: 10s
min_requests: 1000
services:
  - name: api
    sli:
      requests: {{push: true}}
      errors: {{push: true}}
      latency: {{push: true}}
objectives:
  - name: latency-p95
    objective: p95 <= {threshold}ms
    window: 30d
"""


def generate(path, now):
    """Hourly rows from 34 days ago to two hours ago; returns {hour_start: values}."""
    rng = random.Random(1234)
    top = now - now % HOUR
    slow_from = top - WINDOW + HOUR               # the window's edge while at is in this hour
    slow_to = slow_from - slow_from % DAY + DAY   # ... to the next midnight
    hours = {}
    with open(path, "w") as f:
        for t in range(top - 34 * DAY, top - 2 * HOUR, HOUR):
            slow = slow_from <= t < slow_to
            values = []
            while len(values) < (2000 if slow else 20):
                v = (rng.randint(430000, 470000) if slow
                     else int(rng.lognormvariate(0, 0.3) * 150000))
                if away_from(v, [300000, 500000]):
                    values.append(v)
            hours[t] = values
            f.write(line("api", t, 3600, values) + "\n")
    return hours


def window_values(hours, at):
    edge = -(-(at - WINDOW) // HOUR) * HOUR
    out = []
    for t, vs in hours.items():
        if edge <= t and t + HOUR <= at:
            out += vs
    return out


def status(d):
    code, doc = d.get_json("/api/v1/status")
    if code != 200:
        raise OSError(f"/api/v1/status: HTTP {code}")
    return doc


def check_window(d, hours, threshold, what):
    doc = status(d)
    at = calendar.timegm(time.strptime(doc["at"], "%Y-%m-%dT%H:%M:%SZ"))
    api = [s for s in doc["services"] if s["name"] == "api"]
    if not check(len(api) == 1, f"{what}: no api in the status"):
        return
    o = {o["name"]: o for o in api[0]["objectives"]}["latency-p95"]
    values = window_values(hours, at)
    v = percentile(values, 95)
    check(o["target"] == threshold * 1000, f"{what}: target {o['target']}, want "
          f"{threshold * 1000} (the new rules)")
    check(in_hdr_bucket(o["measured"], v), f"{what}: p95 over 30 d {o['measured']}, want "
          f"[{v}, {v + width(v)}) (exact {v} of {len(values)} requests, at {doc['at']})")
    check(o["met"] == (v <= threshold * 1000), f"{what}: met {o['met']}, want "
          f"{v <= threshold * 1000} (p95 {v} us against {threshold} ms)")


def set_threshold(d, threshold):
    with open(d.rules_path, "w") as f:
        f.write(RULES.format(threshold=threshold))


def main():
    with tempfile.TemporaryDirectory(prefix="sw-whatif-reload-") as tmp:
        now = int(time.time())
        lines = os.path.join(tmp, "history.jsonl")
        hours = generate(lines, now)
        d = Daemon(SLAWATCH, tmp, rules=RULES.format(threshold=500))
        subprocess.run([STORE_INTERVALS, d.data, lines, str(now * 1000)], check=True,
                       timeout=120)
        d.start()
        try:
            wait_until("the first evaluation", lambda: status(d)["services"])
            check_window(d, hours, 500, "after start")
            set_threshold(d, 300)
            code, _, body = d.post("/-/reload")
            check(code == 200, f"POST /-/reload: HTTP {code} {body!r}")
            check_window(d, hours, 300, "after POST /-/reload")
            set_threshold(d, 500)
            reloads = d.log_text().count("configuration and rules reloaded")
            d.proc.send_signal(signal.SIGHUP)
            wait_until("the SIGHUP reload",
                       lambda: d.log_text().count("configuration and rules reloaded") > reloads)
            check_window(d, hours, 500, "after SIGHUP")
        finally:
            rc = d.stop()
        check(rc == 0, f"slawatch serve exited {rc}")
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("reload: every window recomputed from the store")
    return 0


if __name__ == "__main__":
    sys.exit(main())
