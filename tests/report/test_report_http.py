#!/usr/bin/env python3
"""GET /api/v1/report served by `slawatch serve` over the recorded month (record_month.c): the
figures against hand-computed values, the same document as `slawatch report` for every format,
the Content-Types, service selection, time zones, and the status and message of each bad
request (400 bad parameter, 422 a month that cannot be judged, 404 no data).

usage: test_report_http.py SLAWATCH RECORD_MONTH RULES SERVE_UTIL_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SLAWATCH, RECORD, RULES, UTIL = sys.argv[1:5]
sys.path.insert(0, UTIL)
from serve_util import Daemon  # noqa: E402

# By hand, as in test_report.py: api in October 2026, 44,640 minutes less 60 of maintenance
# and a 360-minute gap, 60,000 requests a minute; 30 errors a minute, 6,000 in 30 incident ones.
DATA_MIN = 31 * 1440 - 60 - 360
REQUESTS = DATA_MIN * 60000
ERRORS = (DATA_MIN - 30) * 30 + 30 * 6000

# 1-minute rows are kept long enough that the daemon's retention leaves October alone.
STORE_CONFIG = "store:\n  retention:\n    1m: 400d\n"

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")


def cli(data, *args):
    p = subprocess.run([SLAWATCH, "report", "--data", data, *args], capture_output=True,
                       timeout=120)
    if p.returncode != 0:
        raise SystemExit(f"slawatch report {args}: {p.stderr.decode()}")
    return p.stdout


def without_generated(doc):
    """The JSON report less its generation time, which differs between two runs."""
    doc = json.loads(doc)
    doc.pop("generated_at", None)
    return doc


def check_formats(d, data):
    types = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
             "json": "application/json", "csv": "text/csv; charset=utf-8"}
    for fmt, ctype in types.items():
        status, headers, body = d.get(f"/api/v1/report?month=2026-10&format={fmt}")
        check(f"{fmt} status", status, 200)
        check(f"{fmt} content type", headers.get("Content-Type"), ctype)
        want = cli(data, "--month", "2026-10", "--format", fmt)
        if fmt == "json":
            check("json as the CLI's", without_generated(body), without_generated(want))
        elif fmt in ("md", "csv"):
            check(f"{fmt} as the CLI's", body, want)
        else:
            check("html tally", b"4 met, 1 missed, 5 without a verdict" in body, True)
    status, _, body = d.get("/api/v1/report?month=2026-10")
    check("html by default", (status, body.startswith(b"<!DOCTYPE html>")), (200, True))


def check_figures(d):
    status, _, body = d.get("/api/v1/report?month=2026-10&format=json")
    rep = json.loads(body)
    check("summary", {k: rep["summary"][k] for k in ("met", "missed", "judged", "commitments")},
          {"met": 4, "missed": 1, "judged": 5, "commitments": 10})
    api = next(s for s in rep["services"] if s["name"] == "api")
    check("requests", api["requests"], REQUESTS)
    check("errors", api["errors"], ERRORS)


def services_of(d, query):
    status, _, body = d.get("/api/v1/report?month=2026-10&format=json&" + query)
    return status, [s["name"] for s in json.loads(body).get("services", [])]


def check_selection(d):
    check("one service", services_of(d, "service=api"), (200, ["api"]))
    check("repeated service", services_of(d, "service=web&service=api"), (200, ["web", "api"]))
    check("comma list", services_of(d, "service=api%2Cweb"), (200, ["api", "web"]))
    status, _, body = d.get("/api/v1/report?month=2026-10&format=json&tz=Europe/Berlin")
    check("zone", (status, json.loads(body).get("time_zone")), (200, "Europe/Berlin"))


def check_errors(d):
    cases = [
        ("", 400, "missing query parameter month"),
        ("month=2026-13", 400, "not YYYY-MM"),
        ("month=2026-10&format=pdf", 400, "format 'pdf'"),
        ("month=2026-10&tz=Mars/Olympus", 400, "unknown time zone"),
        ("month=2026-10&tz=../etc", 400, "not a time zone name"),
        ("month=2026%zz", 400, "malformed"),
        ("month=2026-10&service=" + "s" * 300, 400, "malformed"),
        ("month=2026-10&" + "&".join(["service=api"] * 65), 400, "more than 64 services"),
        ("month=2099-01", 422, "has not started"),
        ("month=2025-10", 422, "no rules were recorded"),
        ("month=2026-10&service=nope", 422, "not in the rules"),
        # Rules are recorded from September 1st on; nothing was stored for November.
        ("month=2026-11", 404, "no data"),
    ]
    for query, want_status, text in cases:
        status, headers, body = d.get("/api/v1/report?" + query)
        check(f"{query[:40]} status", status, want_status)
        msg = json.loads(body).get("error", "") if status != 200 else ""
        check(f"{query[:40]} says '{text}' ({msg})", text in msg, True)


def main():
    tmp = tempfile.mkdtemp(prefix="sw-report-http-")
    d = None
    try:
        data = os.path.join(tmp, "data")
        subprocess.run([RECORD, data, RULES], check=True, timeout=240)
        d = Daemon(SLAWATCH, tmp, rules=open(RULES).read(), extra_config=STORE_CONFIG)
        d.start()
        check_figures(d)
        check_formats(d, data)
        check_selection(d)
        check_errors(d)
        # A clean exit: under ASan a leak or a memory error would show here.
        check("serve exit status", d.stop(), 0)
    finally:
        if d is not None:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL", f)
    print(f"{'ok' if not failures else 'failed'}: {len(failures)} failures")
    sys.exit(1 if failures else 0)


main()
