#!/usr/bin/env python3
"""`slawatch export --label LABEL=VALUE`: one value of a service judged per label value, from a
store the test filled through `slawatch serve` (remote write, then SIGTERM, which stores every
interval that ended).

Usage: test_export_by.py SLAWATCH INTEGRATION_DIR

The rules judge api per route. The test writes counters for /pay (200s and 500s) and /cart
(200s), each from 0 so its increase is its last value; the CSV of each route must then sum to
the requests and errors written for that route. Errors: a --label that is not LABEL=VALUE
(exit 2), a value never stored (exit 1, naming it), and the service without --label, which is
stored per value only (exit 1, naming the first value stored, /cart, to choose).
"""
import csv
import datetime
import io
import math
import subprocess
import sys
import tempfile
import time

SLAWATCH, INTEGRATION = sys.argv[1:3]
sys.path.insert(0, INTEGRATION)
from serve_util import FAILURES, check, Daemon, wait_evaluated  # noqa: E402
import rw_util  # noqa: E402

RULES = """version: 1
base_interval: 1s
services:
  - name: api
    by: [route]
    sli:
      requests: {prometheus: 'http_requests_total{job="api"}'}
      errors: {prometheus: 'http_requests_total{job="api",code=~"5.."}'}
objectives:
  - {name: availability, objective: availability >= 99%, window: 1h}
"""
# Cumulative counters per (route, code), one sample per interval, each from 0.
SENT = {("/pay", "200"): [0, 40, 95], ("/pay", "500"): [0, 1, 3], ("/cart", "200"): [0, 10, 30]}


def written(route):
    """(requests, errors) the test wrote for route: every code's increase is a request."""
    requests = sum(v[-1] - v[0] for (r, _), v in SENT.items() if r == route)
    errors = sum(v[-1] - v[0] for (r, c), v in SENT.items() if r == route and c.startswith("5"))
    return requests, errors


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def fill_store(tmp):
    d = Daemon(SLAWATCH, tmp, rules=RULES,
               extra_config="remote_write_receiver:\n  enabled: true\n")
    try:
        d.start()
        first = (math.floor(time.time()) + 2) * 1000
        starts = [first + k * 1000 for k in range(3)]
        series = [([("__name__", "http_requests_total"), ("job", "api"), ("route", r),
                    ("code", c)], [(float(v), s + 500) for v, s in zip(values, starts)])
                  for (r, c), values in SENT.items()]
        status, _, body = d.post("/api/v1/write", rw_util.body(series), headers=rw_util.HEADERS)
        check(status == 204, f"remote write: HTTP {status} {body[:200]!r}, want 204")
        wait_evaluated(d, starts[-1] / 1000 + 1, "slawatch to evaluate past the write")
    finally:
        rc = d.stop()
        check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
    return d.data, first / 1000


def export(data, t0, *args):
    return subprocess.run([SLAWATCH, "export", "--data", data, "--service", "api",
                           "--from", iso(t0 - 3600), "--to", iso(t0 + 3600), "--format", "csv",
                           *args], capture_output=True, text=True, timeout=60)


def main():
    with tempfile.TemporaryDirectory(prefix="sw-export-by-") as tmp:
        data, t0 = fill_store(tmp)
        for route in ("/pay", "/cart"):
            p = export(data, t0, "--label", f"route={route}")
            check(p.returncode == 0, f"export --label route={route}: exit {p.returncode}, "
                  f"want 0: {p.stderr.strip()}")
            rows = list(csv.DictReader(io.StringIO(p.stdout)))
            got = (sum(int(r["requests"]) for r in rows), sum(int(r["errors"]) for r in rows))
            check(got == written(route), f"route={route}: (requests, errors) {got} in "
                  f"{len(rows)} rows, want {written(route)}")
        p = export(data, t0, "--label", "route")
        check(p.returncode == 2 and "is not LABEL=VALUE" in p.stderr,
              f"--label route: exit {p.returncode} {p.stderr.strip()!r}, want 2, not LABEL=VALUE")
        p = export(data, t0, "--label", "route=/nope")
        check(p.returncode == 1 and "has no route=/nope in the store" in p.stderr,
              f"--label route=/nope: exit {p.returncode} {p.stderr.strip()!r}, want 1 naming it")
        p = export(data, t0)
        check(p.returncode == 1 and "choose one with --label (e.g. --label route=/cart)"
              in p.stderr, f"no --label: exit {p.returncode} {p.stderr.strip()!r}, want 1 "
              "pointing at --label route=/cart")
        check("\x1f" not in p.stderr, f"a series key in a message: {p.stderr!r}")
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: export --label picks one value of a service judged per label value")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
