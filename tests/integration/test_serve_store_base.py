#!/usr/bin/env python3
"""`slawatch export` and `slawatch report` read a store of any base interval.

Usage: test_serve_store_base.py SLAWATCH

`slawatch serve` with `base_interval: 1s` (serve_util's rules) stores pushed intervals of
service `web`: each of 6 one-second intervals gets 1000 + 100k requests and k errors. After
SIGTERM, `slawatch export --format csv` must list exactly those rows (start, length 1 s,
requests, errors). `slawatch report` reads the minute rollups, which the daemon makes once a
minute for minutes that have ended: the daemon runs until `slawatch report --format json` for
the month answers (polled, bounded), and it must count exactly the pushed requests and errors.
Both read the base interval the store records instead of refusing the store.
"""
import csv
import datetime
import io
import json
import subprocess
import sys
import tempfile

from serve_util import FAILURES, check, Daemon, push_intervals, rfc3339, wait_until

N = 6


def walk(doc):
    """Every dict in a JSON document."""
    if isinstance(doc, dict):
        yield doc
        for v in doc.values():
            yield from walk(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from walk(v)


def report(slawatch, data, month):
    return subprocess.run([slawatch, "report", "--data", data, "--month", month, "--service",
                           "web", "--format", "json"], capture_output=True, text=True,
                          timeout=60)


def report_totals(p):
    return [(o.get("requests"), o.get("errors")) for o in walk(json.loads(p.stdout))
            if o.get("name") == "web" and "requests" in o]


def check_report(p, want):
    if check(p.returncode == 0, f"report: exit {p.returncode}: {p.stderr.strip()}"):
        totals = report_totals(p)
        check(totals == [want], f"report totals of web {totals}, pushed {want}")


def check_export(slawatch, data, first, end, want):
    p = subprocess.run([slawatch, "export", "--data", data, "--service", "web",
                        "--from", rfc3339(first - 60), "--to", rfc3339(end + 60),
                        "--format", "csv"], capture_output=True, text=True, timeout=60)
    if not check(p.returncode == 0, f"export: exit {p.returncode}: {p.stderr.strip()}"):
        return
    got = []
    for r in csv.DictReader(io.StringIO(p.stdout)):
        start = datetime.datetime.strptime(r["start"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        got.append((int(start), float(r["length_s"]), int(r["requests"]), int(r["errors"])))
    check(got == want, f"export rows {got}, pushed {want}")


def run(slawatch, tmp):
    d = Daemon(slawatch, tmp)
    try:
        d.start()
        end = push_intervals(d, lambda k: [{"service": "web", "requests": 1000 + 100 * k,
                                            "errors": k}], N)
        first = end - N
        want = [(int(first + k), 1.0, 1000 + 100 * k, k) for k in range(N)]
        month = datetime.datetime.fromtimestamp(first, datetime.timezone.utc).strftime("%Y-%m")
        want_totals = (sum(w[2] for w in want), sum(w[3] for w in want))

        def rolled_up():
            p = report(slawatch, d.data, month)
            if p.returncode != 0:
                return p if "holds no data" not in p.stderr else None  # refused: done
            return p if report_totals(p) == [want_totals] else None

        # Refused outright before the fix; short only until every minute is rolled up.
        try:
            p = wait_until("the daemon's minute rollups, seen by slawatch report", rolled_up,
                           150, step=2)
        except TimeoutError:
            p = report(slawatch, d.data, month)
    finally:
        rc = d.stop()
    check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
    check_report(p, want_totals)
    check_export(slawatch, d.data, first, end, want)


def main():
    with tempfile.TemporaryDirectory(prefix="sw-base-") as tmp:
        run(sys.argv[1], tmp)
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
