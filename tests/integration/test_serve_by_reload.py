#!/usr/bin/env python3
"""A reload to rules using `by` is refused and the running set kept.

Usage: test_serve_by_reload.py SLAWATCH

The daemon starts with a service judged as one SLO (objective availability >= 99 %). Its rules
file then gains `by: [route]`, which this daemon does not judge per value: POST /-/reload answers
500 naming the file, line and column of the label and the service, /api/v1/status still shows
the service with its objective, and the reload error is counted in /metrics. A reload to the
file without `by` but a new target (98 %) then applies.
"""
import sys
import tempfile

from serve_util import FAILURES, check, Daemon, scalar_metrics, wait_until

# Lines: 1 version, 2 base_interval, 3 services, 4 api, 5 sli, 6 requests, 7 errors,
# 8 objectives, 9 availability.
RULES = """version: 1
base_interval: 1s
services:
  - name: api
    sli:
      requests: {prometheus: 'http_requests_total{job="api"}'}
      errors: {prometheus: 'http_requests_total{job="api",code=~"5.."}'}
objectives:
  - {name: availability, objective: availability >= 99%, window: 1h}
"""
# by on line 8, the label at column 10.
WITH_BY = RULES.replace("objectives:\n", "    by: [route]\nobjectives:\n")


def targets(d):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        return None
    for s in doc["services"]:
        if s["name"] == "api":
            return {o["name"]: o["target"] for o in s["objectives"]}
    return None


def reload_errors(d):
    _, _, body = d.get("/metrics")
    return scalar_metrics(body.decode()).get(("slawatch_reload_errors_total", frozenset()))


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-by-reload-") as tmp:
        d = Daemon(slawatch, tmp, rules=RULES)
        try:
            d.start()
            status, _, body = d.post("/api/v1/deployments", b'{"service": "api"}')
            check(status == 200, f"deployment mark: HTTP {status} {body!r}")
            wait_until("api in /api/v1/status", lambda: targets(d) is not None)
            before = targets(d)
            check(before == {"availability": 0.99}, f"at start, api's objectives {before}")
            errors_before = reload_errors(d)
            with open(d.rules_path, "w") as f:
                f.write(WITH_BY)
            status, _, body = d.post("/-/reload")
            check(status == 500 and b"rules.yaml:8:10:" in body and b"by: [route]" in body
                  and b"service api" in body,
                  f"reload to by: HTTP {status} {body[:300]!r}, want 500 naming rules.yaml:8:10")
            after = targets(d)
            check(after == {"availability": 0.99}, f"after the refused reload, api {after}")
            check(reload_errors(d) == errors_before + 1,
                  f"reload errors {reload_errors(d)}, want {errors_before + 1}")
            with open(d.rules_path, "w") as f:
                f.write(RULES.replace("99%", "98%"))
            status, _, body = d.post("/-/reload")
            check(status == 200, f"reload without by: HTTP {status} {body!r}")
            got = targets(d)
            check(got == {"availability": 0.98}, f"after the reload, api {got}, want 98 %")
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print(d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: a reload to by is refused, the running set kept")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
