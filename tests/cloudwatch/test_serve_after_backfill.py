#!/usr/bin/env python3
"""`slawatch serve` started right after `slawatch backfill` on the same store, against the
stand-in on 127.0.0.1:
  1. serve's poller starts where the store's rows end: no GetMetricData request of serve asks
     for a period the backfill stored, nothing counts as late, and the log has no warning or
     error (a failed poll is one);
  2. a deployment mark posted right after start reaches the gate at once (the gate's window is
     cut at the mark), not only after ingest_delay.
About 70 s: serve's first poll waits for the period after the stored ones to settle.

    test_serve_after_backfill.py SLAWATCH STANDIN_PY
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import Daemon, check, FAILURES, wait_until  # noqa: E402
from cw_test_util import (alb_counts, alb_sli, cloudwatch_config, scenario,  # noqa: E402
                          set_ecs_env, start_standin, stop_standin)

ECS_TOKEN = "ecs-token-for-serve-after-backfill"
RULES = """version: 1
base_interval: 10s
services:
  - name: web
""" + alb_sli("requests", "errors") + """objectives:
  - name: availability
    objective: availability >= 99%
gate:
  window: 10m
  checks:
    - error_rate <= 1%
"""


def stats(base):
    with urllib.request.urlopen(base + "/_standin/stats", timeout=5) as r:
        return json.load(r)


def stored_end(db):
    """The end of the last stored row (epoch seconds)."""
    con = sqlite3.connect(db)
    end = con.execute("SELECT MAX(start_ms + resolution_ms) FROM intervals").fetchone()[0]
    con.close()
    return end // 1000


def metric(d, name):
    _, _, body = d.get("/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        standin, base = start_standin(standin_py, tmp, scenario(ECS_TOKEN, {"series": alb_counts(
            {"base": 1000, "step": 37, "mod": 101}, {"base": 0, "step": 1, "mod": 3})}))
        set_ecs_env(base, tmp, ECS_TOKEN)
        config = "ingest_delay: 70s\n" + cloudwatch_config(
            base, "5s", "  period: 60s\n  settle: 5s\n  every: 5s\n")
        d = Daemon(exe, tmp, rules=RULES, extra_config=config)
        try:
            now = time.time()
            fill = subprocess.run([exe, "backfill", "--source", "cloudwatch", "--from",
                                   time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(now - 7200)),
                                   "--to", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                                   "--config", d.config_path], capture_output=True, text=True,
                                  timeout=120)
            check(fill.returncode == 0, "backfill failed: %s" % fill.stderr)
            backfilled = stored_end(os.path.join(d.data, "slawatch.db"))
            before = len(stats(base)["gmd_ranges"])
            d.start()
            status, _, body = d.post("/api/v1/deployments", {"service": "web"})
            check(status == 200, "deployment mark: HTTP %d %s" % (status, body))

            def marked():
                _, gate = d.get_json("/api/v1/gate?service=web")
                return gate if gate.get("window_limited_by") == "deployment" else None
            try:
                wait_until("the gate to honour the deployment mark", marked, timeout=25, step=0.5)
            except TimeoutError as e:
                check(False, str(e))
            # The period after the stored ones settles at most period + settle after the backfill.
            wait_until("serve's first GetMetricData request",
                       lambda: len(stats(base)["gmd_ranges"]) > before, timeout=90, step=0.5)
            # A second mark publishes again, with the poll's counters, without a boundary.
            d.post("/api/v1/deployments", {"service": "web"})
            wait_until("/metrics after the first poll",
                       lambda: metric(d, "slawatch_cloudwatch_requests_total"), timeout=30, step=0.5)
            late = metric(d, "slawatch_ingest_late_values_total")
        finally:
            rc = d.stop()
            ranges = stats(base)["gmd_ranges"]
            stop_standin(standin)
        serve_ranges = ranges[before:]
        check(rc == 0, "serve exited %r" % rc)
        check(serve_ranges and all(start >= backfilled for start, _ in serve_ranges),
              "serve re-read what the backfill stored (store ends %d): %r" % (backfilled, serve_ranges))
        check(serve_ranges and serve_ranges[0][0] == backfilled,
              "serve's first poll does not start where the store ends (%d): %r" % (
                  backfilled, serve_ranges[:1]))
        check(late == 0, "late values after start: %r" % late)
        noisy = [line for line in d.log_text().splitlines()
                 if "level=warn" in line or "level=error" in line]
        check(not noisy, "warnings after a backfill: %s" % noisy[:3])
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
