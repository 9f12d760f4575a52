#!/usr/bin/env python3
"""The live daemon's /metrics (text 0.0.4) through `promtool check metrics` (Debian
`prometheus`, /usr/bin/promtool).

Usage: test_promtool_metrics.py SLAWATCH

Pushes a few intervals of traffic for api/blue, api/green (bad enough to fire the alert and the
rollback trigger, with health probes) and web, waits until the intervals are closed (the
exposition then has every family: counters, histograms, SLI gauges, objectives, alerts,
triggers, gate verdicts), and fails on any promtool output line or a non-zero exit. Fails
when promtool (Debian prometheus) is missing.
"""
import os
import subprocess
import sys
import tempfile

from serve_util import Daemon, push_intervals, scalar_metrics, wait_until

PROMTOOL = "/usr/bin/promtool"
TRAFFIC = [
    {"service": "api", "env": "blue", "requests": 1000, "errors": 2,
     "latency_us": [1200, 15000, 90000, 310000], "probes": [True, True]},
    {"service": "api", "env": "green", "requests": 400, "errors": 120,
     "latency_us": [2500, 700000, 1500000], "probes": [True, False, False]},
    {"service": "web", "requests": 3000, "errors": 0, "latency_us": [500, 8000]},
]


def main():
    slawatch = sys.argv[1]
    if not os.access(PROMTOOL, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{PROMTOOL} not installed")
    failures = []
    with tempfile.TemporaryDirectory(prefix="sw-promtool-") as tmp:
        d = Daemon(slawatch, tmp)
        try:
            d.start()
            n = 3
            push_intervals(d, lambda k: TRAFFIC, n)
            want = n * TRAFFIC[2]["requests"]

            def closed():
                m = scalar_metrics(d.get("/metrics")[2].decode())
                return m.get(("slawatch_requests_total", frozenset({("service", "web")}))) == want
            wait_until("the pushed intervals in /metrics", closed, 10)
            status, headers, text = d.get("/metrics", {"Accept": "text/plain;version=0.0.4"})
            if status != 200:
                failures.append(f"/metrics: HTTP {status}")
            for family in ("slawatch_alert_firing", "slawatch_rollback_trigger_fired",
                           "slawatch_request_duration_seconds_bucket",
                           "slawatch_health_probe_failures_total", "slawatch_gate_verdict"):
                if family.encode() not in text:
                    failures.append(f"/metrics lacks {family}: the check would cover less")
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                               timeout=30)
            out = (r.stdout + r.stderr).decode(errors="replace").strip()
            if r.returncode != 0 or out:
                failures.append(f"promtool check metrics: exit {r.returncode}\n{out}")
            print(f"promtool checked {len(text.splitlines())} lines, exit {r.returncode}")
        finally:
            rc = d.stop()
            if rc != 0:
                failures.append(f"slawatch serve: SIGTERM -> exit {rc}, want 0")
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok: promtool accepts the live exposition")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
