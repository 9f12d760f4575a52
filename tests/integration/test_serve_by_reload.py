#!/usr/bin/env python3
"""A reload to rules using `by` applies: the service is then judged per label value; a reload
back to rules without `by` ends the values' series, as a fresh start would know none of them.

Usage: test_serve_by_reload.py SLAWATCH

The daemon starts with a service judged as one SLO (objective availability >= 99 %). Its rules
file then gains `by: [route]`: POST /-/reload answers 200 and counts no reload error. The test
then remote-writes, stamped in intervals still open, counters for two routes (each from 0: its
increase is its last value), and /api/v1/status must list api once per route ("labels":
{"route": ...}), each with the requests the test sent for that route, as must /metrics
(slawatch_requests_total{service="api",route=...}).

Then the rules lose `by` again and are reloaded. At once, no output may name a route any more:
/api/v1/status lists no api entry with labels, and /metrics has no series with a route label, no
service label other than api (a value's key, api + 0x1F + route=..., is not a service's name)
and no slawatch_label_values of api. A new route's counter written after the reload is api's
own: its requests (its last value) become api's samples in /api/v1/status and api's
slawatch_requests_total.
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
AFTER = {"/c": [0, 4, 11]}  # written after by is gone: api's own requests


def reload_errors(d):
    _, _, body = d.get("/metrics")
    return scalar_metrics(body.decode()).get(("slawatch_reload_errors_total", frozenset()))


def samples_by_route(d):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        return {}
    return {s["labels"]["route"]: s["objectives"][0]["samples"]
            for s in doc["services"] if s["name"] == "api" and "labels" in s}


def plain_samples(d):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        return None
    return [s["objectives"][0]["samples"] for s in doc["services"]
            if s["name"] == "api" and "labels" not in s]


def labelled_status(d):
    _, doc = d.get_json("/api/v1/status")
    return [s for s in doc["services"] if "labels" in s]


def metrics(d):
    _, _, body = d.get("/metrics")
    return scalar_metrics(body.decode())


def route_series(m):
    """The /metrics series that still name a label value: a route label, a service label that
    is not a service's name, or the label values of api."""
    out = []
    for (name, labels), value in m.items():
        ls = dict(labels)
        if "route" in ls or ls.get("service", "api") != "api" or (
                name.startswith("slawatch_label_values") and ls.get("service") == "api"):
            out.append((name, ls, value))
    return out


def write_counters(d, sent):
    """Remote-write each route's counter, one sample per interval from the next whole second;
    returns the end of the last interval (epoch seconds)."""
    first = (math.floor(time.time()) + 2) * 1000
    starts = [first + k * 1000 for k in range(3)]
    series = [([("__name__", "http_requests_total"), ("job", "api"), ("route", r),
                ("code", "200")], [(float(v), s + 500) for v, s in zip(values, starts)])
              for r, values in sent.items()]
    status, _, body = d.post("/api/v1/write", rw_util.body(series), headers=rw_util.HEADERS)
    check(status == 204, f"remote write: HTTP {status} {body[:200]!r}, want 204")
    return starts[-1] / 1000 + 1


def reload_without_by(d):
    with open(d.rules_path, "w") as f:
        f.write(RULES)
    status, _, body = d.post("/-/reload")
    check(status == 200, f"reload without by: HTTP {status} {body[:300]!r}, want 200")
    check(labelled_status(d) == [], f"api still listed per route: {labelled_status(d)}")
    left = route_series(metrics(d))
    check(left == [], f"/metrics still names routes after by was removed: {left[:6]}")
    wait_evaluated(d, write_counters(d, AFTER), "slawatch to evaluate past the second write")
    want = sum(v[-1] - v[0] for v in AFTER.values())
    wait_until("api judged as one SLO", lambda: plain_samples(d) == [want])
    m = metrics(d)
    check(m.get(("slawatch_requests_total", frozenset({("service", "api")}))) == want,
          f"api's requests_total {m.get(('slawatch_requests_total', frozenset({('service', 'api')})))}"
          f", want {want}")
    left = route_series(m)
    check(left == [], f"/metrics names routes again: {left[:6]}")


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
            wait_evaluated(d, write_counters(d, SENT), "slawatch to evaluate past the write")
            want = {r: v[-1] - v[0] for r, v in SENT.items()}
            wait_until("both routes in /api/v1/status", lambda: samples_by_route(d) == want)
            totals = {r: metrics(d).get(("slawatch_requests_total",
                                         frozenset({("service", "api"), ("route", r)})))
                      for r in SENT}
            check(totals == want, f"requests_total per route {totals}, want {want}")
            reload_without_by(d)
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print(d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: a reload to by applies, api judged per route; one without by ends the routes")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
