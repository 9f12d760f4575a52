#!/usr/bin/env python3
"""`slawatch serve` pushing alerts to a real Alertmanager (Debian prometheus-alertmanager).

Usage: test_serve_alertmanager.py SLAWATCH

Starts Alertmanager on a free port (own storage, gossip off), then the daemon with
`alertmanager: {url: .../api/v2/alerts, resend_interval: 1s}`. Pushes bad traffic (30%
errors) for api/green and good traffic for api/blue; the rules' ErrorRateHigh (error_rate >
10% over 2s, critical) must then be active in Alertmanager's GET /api/v2/alerts with labels
alertname, severity, service and env, the rollback trigger ErrorRateSpike too, and nothing
for api/blue. Fails when Alertmanager is missing.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from serve_util import Daemon, free_port, http, push_intervals, wait_until

AM_BIN = "/usr/bin/prometheus-alertmanager"
AM_CONFIG = """route:
  receiver: none
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: none
"""


def am_alerts(am):
    status, _, body = http("GET", am + "/api/v2/alerts")
    if status != 200:
        raise ValueError(f"GET /api/v2/alerts: HTTP {status}")
    return json.loads(body)


def main():
    slawatch = sys.argv[1]
    if not os.access(AM_BIN, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{AM_BIN} not installed")
    failures = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sw-am-") as tmp:
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
        d = Daemon(slawatch, tmp, extra_config=f"alertmanager:\n  url: {am}/api/v2/alerts\n"
                   "  resend_interval: 1s\n")
        try:
            wait_until("Alertmanager /-/ready", lambda: am_proc.poll() is None and
                       http("GET", am + "/-/ready")[0] == 200, 30)
            d.start()
            push_intervals(d, lambda k: [{"service": "api", "env": env, "requests": 1000,
                                          "errors": errors, "latency_us": [10000, 20000]}
                                         for env, errors in (("green", 300), ("blue", 1))], 3)

            def alert(name):
                return [a for a in am_alerts(am) if a["labels"].get("alertname") == name
                        and a["labels"].get("env") == "green"]
            try:
                got = wait_until("ErrorRateHigh in Alertmanager", lambda: alert("ErrorRateHigh"),
                                 15)
                labels = got[0]["labels"]
                want = {"alertname": "ErrorRateHigh", "severity": "critical", "service": "api",
                        "env": "green"}
                if any(labels.get(k) != v for k, v in want.items()):
                    failures.append(f"ErrorRateHigh labels {labels}, want {want} among them")
                if got[0].get("status", {}).get("state") != "active":
                    failures.append(f"ErrorRateHigh not active: {got[0].get('status')}")
                if not got[0].get("generatorURL", "").startswith(d.url):
                    failures.append(f"generatorURL {got[0].get('generatorURL')!r} is not "
                                    f"under {d.url}")
            except TimeoutError as e:
                failures.append(str(e))
            try:
                wait_until("rollback trigger ErrorRateSpike in Alertmanager",
                           lambda: alert("ErrorRateSpike"), 10)
            except TimeoutError as e:
                failures.append(str(e))
            blue = [a["labels"] for a in am_alerts(am) if a["labels"].get("env") == "blue"]
            if blue:
                failures.append(f"alerts for api/blue (0.1% errors): {blue}")
        finally:
            rc = d.stop()
            if rc != 0:
                failures.append(f"slawatch serve: SIGTERM -> exit {rc}, want 0")
            am_proc.terminate()
            try:
                am_proc.wait(15)
            except subprocess.TimeoutExpired:
                am_proc.kill()
                am_proc.wait()
            if failures:
                am_log.seek(0)
                print("--- alertmanager log ---\n" + am_log.read()[-2000:])
                print("--- slawatch log ---\n" + d.log_text()[-2000:])
            am_log.close()
    for f in failures:
        print("FAIL:", f)
    print(f"{time.monotonic() - t0:.1f}s")
    if not failures:
        print("ok: Alertmanager has the alert from slawatch serve")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
