#!/usr/bin/env python3
"""Alerts of a service judged per label value carry the value (Debian prometheus-alertmanager).

Usage: test_serve_by_alertmanager.py SLAWATCH

Starts Alertmanager on a free port (own storage, gossip off), then the daemon with `checkout`
judged per `route` and an alert ErrorRateHigh (error_rate > 10% over 2s). The test remote-writes,
stamped in open intervals, /bad with 30 % errors and /good with 0.1 %; Alertmanager must then
hold ErrorRateHigh with labels service="checkout" and route="/bad", and no alert for /good.
Fails when Alertmanager is missing.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from serve_util import FAILURES, check, Daemon, free_port, http, wait_until
import rw_util

AM_BIN = "/usr/bin/prometheus-alertmanager"
AM_CONFIG = """route:
  receiver: none
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: none
"""
RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: checkout
    by: [route]
    sli:
      requests: {prometheus: 'http_requests_total{job="shop"}'}
      errors: {prometheus: 'http_requests_total{job="shop",code=~"5.."}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
alerts:
  - name: ErrorRateHigh
    when: error_rate > 10%
    over: 2s
    severity: critical
"""
N = 6
# Per interval: (ok, errors) per route.
TRAFFIC = {"/bad": (700, 300), "/good": (999, 1)}


def am_alerts(am):
    status, _, body = http("GET", am + "/api/v2/alerts")
    if status != 200:
        raise ValueError(f"GET /api/v2/alerts: HTTP {status}")
    return json.loads(body)


def write(d):
    first = (math.floor(time.time()) + 2) * 1000
    starts = [first + k * 1000 for k in range(N + 1)]
    series = []
    for route, (ok, bad) in TRAFFIC.items():
        for code, n in (("200", ok), ("500", bad)):
            labels = [("__name__", "http_requests_total"), ("job", "shop"), ("route", route),
                      ("code", code)]
            series.append((labels, [(float(k * n), s + 500) for k, s in enumerate(starts)]))
    status, _, body = d.post("/api/v1/write", rw_util.body(series), headers=rw_util.HEADERS)
    check(status == 204, f"remote write: HTTP {status} {body[:200]!r}, want 204")


def main():
    slawatch = sys.argv[1]
    if not os.access(AM_BIN, os.X_OK):
        sys.exit(f"{AM_BIN} not installed")  # a skip tests nothing: CI installs it
    with tempfile.TemporaryDirectory(prefix="sw-by-am-") as tmp:
        am_port = free_port()
        am = f"http://127.0.0.1:{am_port}"
        cfg = os.path.join(tmp, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write(AM_CONFIG)
        am_log = open(os.path.join(tmp, "alertmanager.log"), "w+")
        am_proc = subprocess.Popen([AM_BIN, f"--config.file={cfg}",
                                    f"--storage.path={tmp}/am-data",
                                    f"--web.listen-address=127.0.0.1:{am_port}",
                                    "--cluster.listen-address="],
                                   stdout=am_log, stderr=subprocess.STDOUT)
        d = Daemon(slawatch, tmp, rules=RULES,
                   extra_config=f"alertmanager:\n  url: {am}/api/v2/alerts\n"
                   "  resend_interval: 1s\nremote_write_receiver:\n  enabled: true\n")
        try:
            wait_until("Alertmanager /-/ready", lambda: am_proc.poll() is None and
                       http("GET", am + "/-/ready")[0] == 200, 30)
            d.start()
            write(d)

            def fired():
                return [a["labels"] for a in am_alerts(am)
                        if a["labels"].get("alertname") == "ErrorRateHigh"]
            got = wait_until("ErrorRateHigh in Alertmanager", fired, 30)
            want = {"alertname": "ErrorRateHigh", "severity": "critical",
                    "service": "checkout", "route": "/bad"}
            check(any(all(g.get(k) == v for k, v in want.items()) for g in got),
                  f"ErrorRateHigh labels {got}, want {want} among them")
            good = [g for g in fired() if g.get("route") != "/bad"]
            check(not good, f"alerts for other routes than /bad (0.1 % errors): {good}")
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            am_proc.terminate()
            try:
                am_proc.wait(15)
            except subprocess.TimeoutExpired:
                am_proc.kill()
                am_proc.wait()
            if FAILURES:
                am_log.seek(0)
                print("--- alertmanager log ---\n" + am_log.read()[-2000:])
                print("--- slawatch log ---\n" + d.log_text()[-2000:])
            am_log.close()
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: the alert of route /bad carries route=\"/bad\"")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
