#!/usr/bin/env python3
"""Alertmanager as Prometheus users configure it: a real Alertmanager (Debian
prometheus-alertmanager) on 127.0.0.1 and a webhook receiver run here.

Usage: test_serve_am_annotations.py SLAWATCH

`alertmanager.url` is Alertmanager's base URL, as in Prometheus' `alertmanagers` (slawatch
appends /api/v2/alerts). The rules give ErrorRateHigh and the rollback trigger ErrorRateSpike a
`runbook_url` and a `description`, and a burn-rate alert on availability. 30 % errors for
api/green make all three fire: in Alertmanager's GET /api/v2/alerts the alert and the trigger
must carry the rules' runbook_url and description as annotations. Then good traffic lets the
burn rate recover and a deployment mark clears the latched trigger: the webhook receiver gets
their resolved notifications (send_resolved), where the trigger's summary must say when it
fired (the startsAt Alertmanager had for it) and that a deployment mark cleared it, and the
burn-rate alert's summary which objective's budget recovered. Fails when Alertmanager is
missing.
"""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serve_util import (
    FAILURES, check, Daemon, RULES_HEAD, free_port, http, push_intervals, wait_until,
)

AM_BIN = "/usr/bin/prometheus-alertmanager"
RUNBOOK = "https://runbooks.example.com/api-errors"
RULES = RULES_HEAD + """objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
alerts:
  - name: ErrorRateHigh
    when: error_rate > 10%
    over: 2s
    severity: critical
    runbook_url: """ + RUNBOOK + """
    description: More than one request in ten fails.
  - name: AvailabilityBudgetBurn
    burn_rate: 10
    objective: availability
    long: 4s
    short: 2s
    severity: warning
rollback_triggers:
  - name: ErrorRateSpike
    when: error_rate > 10%
    over: 2s
    runbook_url: """ + RUNBOOK + """/rollback
    description: Roll the green deployment back.
"""


class Webhook:
    """Records the alerts of every notification Alertmanager POSTs."""

    def __init__(self):
        self.lock = threading.Lock()
        self.alerts = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.lock:
                    owner.alerts += json.loads(body).get("alerts", [])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def resolved(self, name):
        with self.lock:
            return [a for a in self.alerts if a["labels"].get("alertname") == name
                    and a.get("status") == "resolved"]


def am_alerts(am, name):
    status, _, body = http("GET", am + "/api/v2/alerts")
    if status != 200:
        raise ValueError(f"GET /api/v2/alerts: HTTP {status}")
    return [a for a in json.loads(body) if a["labels"].get("alertname") == name
            and a["labels"].get("env") == "green"]


def start_am(tmp, hook):
    port = free_port()
    cfg = os.path.join(tmp, "alertmanager.yml")
    with open(cfg, "w") as f:
        f.write("route:\n  receiver: hook\n  group_by: ['...']\n  group_wait: 1s\n"
                "  group_interval: 1s\n  repeat_interval: 24h\nreceivers:\n  - name: hook\n"
                f"    webhook_configs:\n      - url: {hook.url}\n        send_resolved: true\n")
    log = open(os.path.join(tmp, "alertmanager.log"), "w+")
    proc = subprocess.Popen([AM_BIN, f"--config.file={cfg}", f"--storage.path={tmp}/am-data",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    am = f"http://127.0.0.1:{port}"
    wait_until("Alertmanager /-/ready", lambda: proc.poll() is None and
               http("GET", am + "/-/ready")[0] == 200, 30)
    return proc, log, am


def traffic(errors):
    return lambda k: [{"service": "api", "env": "green", "requests": 1000, "errors": errors,
                       "latency_us": [10000]}]


def check_annotations(am):
    for name, url, text in (("ErrorRateHigh", RUNBOOK, "More than one request in ten fails."),
                            ("ErrorRateSpike", RUNBOOK + "/rollback",
                             "Roll the green deployment back.")):
        got = wait_until(f"{name} in Alertmanager", lambda: am_alerts(am, name), 15)
        ann = got[0].get("annotations", {})
        check(ann.get("runbook_url") == url and ann.get("description") == text,
              f"{name} annotations {ann}, want runbook_url {url!r} and description {text!r}")
    got = wait_until("AvailabilityBudgetBurn in Alertmanager",
                     lambda: am_alerts(am, "AvailabilityBudgetBurn"), 15)
    return wait_until("ErrorRateSpike's startsAt", lambda: am_alerts(am, "ErrorRateSpike"),
                      5)[0]["startsAt"]


def parse_time(text):
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def check_resolved(d, hook, fired_at):
    burn = wait_until("AvailabilityBudgetBurn resolved at the webhook",
                      lambda: hook.resolved("AvailabilityBudgetBurn"), 30)
    summary = burn[-1]["annotations"].get("summary", "")
    check("availability" in summary and "recovered" in summary,
          f"resolved burn-rate summary {summary!r} does not say availability's budget recovered")
    status, _, body = d.post("/api/v1/deployments", {"service": "api", "env": "green"})
    check(status == 200, f"deployment mark: HTTP {status} {body!r}")
    trig = wait_until("ErrorRateSpike resolved at the webhook",
                      lambda: hook.resolved("ErrorRateSpike"), 30)
    summary = trig[-1]["annotations"].get("summary", "")
    m = re.search(r"fired at (\d{4}-\d\d-\d\dT[0-9:.]+Z)", summary)
    said = parse_time(m.group(1)) if m else None
    check(said == parse_time(fired_at) and "deployment mark" in summary,
          f"resolved trigger summary {summary!r}: want it fired at {fired_at} (startsAt) and "
          "the deployment mark that cleared it")


def run(slawatch, tmp):
    hook = Webhook()
    am_proc, am_log, am = start_am(tmp, hook)
    d = Daemon(slawatch, tmp, rules=RULES,
               extra_config=f"alertmanager:\n  url: {am}\n  resend_interval: 1s\n")
    try:
        d.start()
        push_intervals(d, traffic(300), 3)
        fired_at = check_annotations(am)
        push_intervals(d, traffic(0), 5)
        check_resolved(d, hook, fired_at)
    except TimeoutError as e:
        check(False, str(e))
    finally:
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
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
        hook.srv.shutdown()


def main():
    if not os.access(AM_BIN, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{AM_BIN} not installed")
    with tempfile.TemporaryDirectory(prefix="sw-am-notes-") as tmp:
        run(sys.argv[1], tmp)
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
