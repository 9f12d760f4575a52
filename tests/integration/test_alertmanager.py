#!/usr/bin/env python3
"""Push alerts to a real Alertmanager (Debian's prometheus-alertmanager 0.25, API v2).

Usage: test_alertmanager.py AM_PUSH

Starts Alertmanager on 127.0.0.1 with a free port, its own storage directory and gossip off,
routing everything to a webhook receiver served here. AM_PUSH (tests/integration/am_push.c)
pushes a firing alert; the test checks GET /api/v2/alerts and the webhook's `firing`
notification, then pushes the resolution and waits for the `resolved` notification.
Fails when the Alertmanager binary (Debian prometheus-alertmanager) is missing.
"""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request

from serve_util import free_port, wait_until

AM_BIN = "/usr/bin/prometheus-alertmanager"
DEADLINE_S = 30

WANT_LABELS = {"alertname": "HighErrorRate", "severity": "critical", "service": "api",
               "env": "green", "kind": "alert"}
WANT_ANNOTATIONS = {"summary": "error_rate is 2.3% (> 1% over 5m)",
                    "description": "More than 1% of requests to api/green failed for 5 minutes.",
                    "runbook_url": "https://runbooks.example/api/high-error-rate"}


class Webhook(http.server.BaseHTTPRequestHandler):
    received = []  # notification bodies, in arrival order
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Webhook.lock:
            Webhook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def config(hook_port):
    return f"""route:
  receiver: hook
  group_by: [alertname, service, env]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{hook_port}/hook
        send_resolved: true
"""


def get(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.status, r.read()


def notification(status):
    with Webhook.lock:
        for n in Webhook.received:
            if n.get("status") == status:
                return n
    return None


def check_alert(alert, where):
    for key, want in WANT_LABELS.items():
        if alert["labels"].get(key) != want:
            sys.exit(f"FAIL: {where}: label {key} is {alert['labels'].get(key)!r}, want {want!r}")
    for key, want in WANT_ANNOTATIONS.items():
        if alert["annotations"].get(key) != want:
            sys.exit(f"FAIL: {where}: annotation {key} is "
                     f"{alert['annotations'].get(key)!r}, want {want!r}")
    if alert.get("generatorURL") != "http://127.0.0.1:9464/api/v1/status":
        sys.exit(f"FAIL: {where}: generatorURL is {alert.get('generatorURL')!r}")


def push(am_push, am_url, mode):
    r = subprocess.run([am_push, am_url + "/api/v2/alerts", mode], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        sys.exit(f"FAIL: am_push {mode} exited {r.returncode}: {r.stderr.strip()}")


def scenario(am_push, am_url):
    wait_until("Alertmanager /-/ready", lambda: get(am_url + "/-/ready")[0] == 200, DEADLINE_S)
    push(am_push, am_url, "firing")

    def listed():
        alerts = json.loads(get(am_url + "/api/v2/alerts")[1])
        return [a for a in alerts if a["labels"].get("alertname") == "HighErrorRate"]
    alerts = wait_until("the alert in GET /api/v2/alerts", listed, DEADLINE_S)
    check_alert(alerts[0], "GET /api/v2/alerts")
    if alerts[0]["status"]["state"] != "active":
        sys.exit(f"FAIL: alert state is {alerts[0]['status']['state']!r}, want 'active'")

    firing = wait_until("the webhook's firing notification", lambda: notification("firing"),
                        DEADLINE_S)
    check_alert(firing["alerts"][0], "firing notification")

    push(am_push, am_url, "resolved")
    resolved = wait_until("the webhook's resolved notification",
                          lambda: notification("resolved"), DEADLINE_S)
    check_alert(resolved["alerts"][0], "resolved notification")
    if resolved["alerts"][0]["status"] != "resolved":
        sys.exit("FAIL: the resolved notification's alert is not resolved")
    wait_until("the alert to leave GET /api/v2/alerts", lambda: listed() == [], DEADLINE_S)
    print("ok: firing listed and notified, resolution notified")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if not os.access(AM_BIN, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{AM_BIN} not installed")
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    am_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write(config(hook.server_address[1]))
        log = open(os.path.join(tmp, "am.log"), "w+")
        am = subprocess.Popen([AM_BIN, f"--config.file={cfg}", f"--storage.path={tmp}/data",
                               f"--web.listen-address=127.0.0.1:{am_port}",
                               "--cluster.listen-address="],
                              stdout=log, stderr=subprocess.STDOUT)
        try:
            scenario(sys.argv[1], f"http://127.0.0.1:{am_port}")
        except SystemExit:
            log.seek(0)
            sys.stderr.write("--- alertmanager log ---\n" + log.read()[-4000:])
            raise
        finally:
            am.kill()
            am.wait()
            log.close()
            hook.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
