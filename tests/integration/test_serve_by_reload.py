#!/usr/bin/env python3
"""A reload to rules using `by` applies: the service is then judged per label value.

Usage: test_serve_by_reload.py SLAWATCH

The daemon starts with a service judged as one SLO (objective availability >= 99 %). Its rules
file then gains `by: [route]`: POST /-/reload answers 200 and counts no reload error. The test
then remote-writes, stamped in intervals still open, counters for two routes (each from 0: its
increase is its last value), and /api/v1/status must list api once per route ("labels":
{"route": ...}), each with the requests the test sent for that route.
"""
import math
import sys
import tempfile
import time

from serve_util import FAILURES, check, Daemon, scalar_metrics, wait_evaluated, wait_until
import rw_util

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
WITH_BY = RULES.replace("objectives:\n", "    by: [route]\nobjectives:\n")
SENT = {"/a": [0, 7, 19], "/b": [0, 100, 250]}  # cumulative 200s per route, one per interval


def reload_errors(d):
    _, _, body = d.get("/metrics")
    return scalar_metrics(body.decode()).get(("slawatch_reload_errors_total", frozenset()))


def samples_by_route(d):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        return {}
    return {s["labels"]["route"]: s["objectives"][0]["samples"]
            for s in doc["services"] if s["name"] == "api" and "labels" in s}


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-by-reload-") as tmp:
        d = Daemon(slawatch, tmp, rules=RULES,
                   extra_config="remote_write_receiver:\n  enabled: true\n")
        try:
            d.start()
            errors_before = reload_errors(d)
            with open(d.rules_path, "w") as f:
                f.write(WITH_BY)
            status, _, body = d.post("/-/reload")
            check(status == 200, f"reload to by: HTTP {status} {body[:300]!r}, want 200")
            check(reload_errors(d) == errors_before,
                  f"reload errors {reload_errors(d)}, want {errors_before}")
            first = (math.floor(time.time()) + 2) * 1000
            starts = [first + k * 1000 for k in range(3)]
            series = [([("__name__", "http_requests_total"), ("job", "api"), ("route", r),
                        ("code", "200")], [(float(v), s + 500) for v, s in zip(values, starts)])
                      for r, values in SENT.items()]
            status, _, body = d.post("/api/v1/write", rw_util.body(series),
                                     headers=rw_util.HEADERS)
            check(status == 204, f"remote write: HTTP {status} {body[:200]!r}, want 204")
            wait_evaluated(d, starts[-1] / 1000 + 1, "slawatch to evaluate past the write")
            want = {r: v[-1] - v[0] for r, v in SENT.items()}
            wait_until("both routes in /api/v1/status", lambda: samples_by_route(d) == want)
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print(d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: a reload to by applies, api judged per route")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
