#!/usr/bin/env python3
"""One verdict rule: /metrics, /api/v1/status and the monthly report agree.

Usage: test_serve_verdict_rule.py SLAWATCH

`slawatch serve` runs with Debian's libfaketime preloaded, so its clock starts at a chosen
instant near the start of a month and runs at the real rate from there. Two services with
pushed data, a monthly availability objective (>= 99 %): `good` has no errors, `bad` 5 %.

- early: the daemon starts at 00:04:00 on the 1st; every base interval from 00:04:02 has data.
  When it has evaluated past 00:04:12, at most 12 s of the month's 252 s have data.
- enough: the daemon starts at 23:59:58 on the last day of the previous month; every base
  interval of the new month has data.

The expected answer is worked out here from what was pushed and the rule as documented
(rules/README.md, docs/reports.md): a verdict needs the SLI measured (min_requests) and data in
at least 90 % of the month's span judged so far; while the month goes on it is a verdict "so
far". All three outputs must give that answer: met true/false/null and so_far in the status
and the report's JSON, slawatch_objective_met 1/0/NaN and slawatch_objective_met_so_far 1/0.
"""
import datetime
import math
import os
import sys
import tempfile

from serve_util import (FAILURES, LIBFAKETIME, check, evaluated_at, FakeClockDaemon,
                        rfc3339, scalar_metrics, wait_until)

RULES = """version: 1
base_interval: 1s
min_requests: 100
services:
  - name: good
    sli:
      requests: {push: true}
      errors: {push: true}
  - name: bad
    sli:
      requests: {push: true}
      errors: {push: true}
objectives:
  - name: availability
    objective: availability >= 99%
    window: month
"""
PUSHED = {"good": (200, 0), "bad": (200, 10)}  # requests, errors per base interval
TARGET = 0.99
MIN_COVERAGE = 0.9


def epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def expected(service, data_s, judged_s):
    """The verdict from what was pushed: (met, so_far); met None without a verdict."""
    requests, errors = PUSHED[service]
    intervals = data_s  # one interval a second
    if intervals * requests < 100 or data_s < MIN_COVERAGE * judged_s:
        return None, False
    return 1 - errors / requests >= TARGET, True  # the month is not over


def json_verdict(doc, service):
    """(met, so_far) of the service's objective in the status or report JSON."""
    for s in doc.get("services", []):
        if s["name"] == service:
            o = s["objectives"][0]
            return o["met"], o.get("so_far")
    return "missing", None


def metrics_verdict(text, service):
    m = scalar_metrics(text)
    labels = frozenset({("service", service), ("objective", "availability"),
                        ("window", "month")})
    met = m.get(("slawatch_objective_met", labels))
    so_far = m.get(("slawatch_objective_met_so_far", labels))
    if met is None:
        return "missing", None
    return (None if math.isnan(met) else met == 1), so_far == 1


def run_case(slawatch, tmp, name, fake_start, first_data, look_at):
    """Push every second from first_data to 5 minutes after it, then compare the three outputs
    once the daemon has evaluated past look_at."""
    os.makedirs(os.path.join(tmp, name))
    d = FakeClockDaemon(slawatch, os.path.join(tmp, name), fake_start, rules=RULES)
    try:
        d.start()
        for k in range(280):
            for svc, (req, err) in PUSHED.items():
                status, body = d.ingest({"service": svc, "requests": req, "errors": err,
                                         "at": rfc3339(first_data + k + 0.5)})
                if status != 200:
                    raise RuntimeError(f"{name}: ingest: HTTP {status} {body!r}")
        at = wait_until(f"{name}: evaluation past {rfc3339(look_at)}",
                        lambda: (lambda t: t if t >= look_at else 0)(evaluated_at(d)), 60)
        month_start = math.floor(look_at / 86400) * 86400  # the 1st, 00:00 UTC
        status, status_doc = d.get_json("/api/v1/status")
        check(status == 200, f"{name}: /api/v1/status HTTP {status}")
        _, _, text = d.get("/metrics")
        status, report = d.get_json("/api/v1/report?month=2026-12&format=json")
        check(status == 200, f"{name}: report HTTP {status}: {report}")
        judged = at - month_start
        data = at - max(first_data, month_start)
        for svc in PUSHED:
            want = expected(svc, data, judged)
            check(json_verdict(status_doc, svc) == want,
                  f"{name} {svc}: status {json_verdict(status_doc, svc)}, want {want}")
            check(metrics_verdict(text.decode(), svc) == want,
                  f"{name} {svc}: /metrics {metrics_verdict(text.decode(), svc)}, want {want}")
            check(json_verdict(report, svc) == want,
                  f"{name} {svc}: report {json_verdict(report, svc)}, want {want}")
    finally:
        rc = d.stop()
        check(rc == 0, f"{name}: slawatch exited {rc}")


def main():
    slawatch = sys.argv[1]
    if not os.access(LIBFAKETIME, os.R_OK):
        print(f"FAIL: {LIBFAKETIME} is missing (Debian package libfaketime)")
        return 1
    dec1 = epoch("2026-12-01T00:00:00Z")
    with tempfile.TemporaryDirectory() as tmp:
        run_case(slawatch, tmp, "early", dec1 + 240, dec1 + 242, dec1 + 252)
        run_case(slawatch, tmp, "enough", dec1 - 2, dec1, dec1 + 25)
    if FAILURES:
        return 1
    print("verdict rule: status, /metrics and the report agree early in a month and with "
          "enough data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
