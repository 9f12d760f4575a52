#!/usr/bin/env python3
"""Per-service commitments and many rules files in one `slawatch serve`, over real HTTP.

Usage: test_serve_per_service.py SLAWATCH

rules_files: [rules.d/*.yaml], three teams' files plus a shared profiles file:
  checkout (profile tier1): availability >= 99.95 %, p99 <= 300ms; gate error_rate <= 1%, p99
  importer (profile batch): availability >= 99 %, no latency objective; gate error_rate <= 5%
  admin: its own availability >= 99.5 %
The same traffic (3 intervals of 1000 requests, 30 errors) is pushed to checkout and importer,
so every difference in the answers comes from the rules. Truth worked out here: error rate
0.03, burn rate 0.03 / (1 - target) (60 for checkout, 3 for importer) and budget left 1 - burn;
checkout's gate fails (3 % > 1 %), importer's passes (3 % <= 5 %). Checked in /api/v1/status,
/metrics, the gate and the monthly report (JSON). Then team C's file is broken (an unknown
profile): POST /-/reload is refused whole naming that file, and the old set keeps serving;
fixed (importer's target moved to 98 %), the reload applies all files.
"""
import math
import os
import sys
import tempfile
import time

import serve_util
from serve_util import FAILURES, check, Daemon, push_intervals, scalar_metrics

PROFILES = """version: 1
profiles:
  tier1:
    objectives:
      - {name: availability, objective: availability >= 99.95%}
      - {name: latency_p99, objective: p99 <= 300ms}
    gate:
      window: 1m
      checks: [error_rate <= 1%, p99 <= 300ms]
  batch:
    objectives:
      - {name: availability, objective: availability >= 99%}
    gate:
      window: 1m
      checks: [error_rate <= 5%]
"""
SLI = "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
TEAM_A = "version: 1\nbase_interval: 1s\nservices:\n  - name: checkout\n    profile: tier1\n" + SLI
TEAM_B = "version: 1\nservices:\n  - name: importer\n    profile: batch\n" + SLI
TEAM_C = ("version: 1\nservices:\n  - name: admin\n" + SLI +
          "    objectives:\n      - {name: availability, objective: availability >= 99.5%}\n")
TRAFFIC = {"requests": 1000, "errors": 30, "latency_us": [5000, 20000, 60000, 90000]}
INTERVALS = 3
AVAILABILITY = 1 - 30 / 1000
TARGETS = {"checkout": {"availability": 0.9995, "latency_p99": 300000.0},
           "importer": {"availability": 0.99}}


def write(tmp, name, text):
    with open(os.path.join(tmp, "rules.d", name), "w") as f:
        f.write(text)


def status_of(d, service):
    status, doc = d.get_json("/api/v1/status")
    check(status == 200, f"/api/v1/status: HTTP {status}")
    return next((s for s in doc["services"] if s["name"] == service), None)


def check_status(d):
    for svc, want in TARGETS.items():
        s = status_of(d, svc)
        got = {o["name"]: o["target"] for o in s["objectives"]} if s else None
        check(got == want, f"status {svc}: objectives {got}, want {want}")
        for o in (s or {}).get("objectives", []):
            if o["name"] != "availability":
                continue
            burn = (1 - AVAILABILITY) / (1 - want["availability"])
            check(o["samples"] == INTERVALS * TRAFFIC["requests"]
                  and math.isclose(o["budget_remaining"], 1 - burn, rel_tol=1e-9)
                  and math.isclose(o["burn_rate_1h"], burn, rel_tol=1e-9),
                  f"status {svc}: samples {o['samples']} budget_remaining "
                  f"{o['budget_remaining']} burn_rate_1h {o['burn_rate_1h']}, want "
                  f"{INTERVALS * TRAFFIC['requests']}, {1 - burn}, {burn}")


def check_metrics(d):
    m = scalar_metrics(d.get("/metrics")[2].decode())
    for svc, want in TARGETS.items():
        names = {dict(labels).get("objective") for (name, labels) in m
                 if name == "slawatch_objective_coverage_ratio"
                 and dict(labels).get("service") == svc}
        check(names == set(want), f"/metrics {svc}: objectives {names}, want {set(want)}")
        labels = frozenset({("service", svc), ("objective", "availability"), ("window", "month")})
        left = m.get(("slawatch_error_budget_remaining_ratio", labels))
        want_left = 1 - (1 - AVAILABILITY) / (1 - want["availability"])
        check(left is not None and math.isclose(left, want_left, rel_tol=1e-9),
              f"/metrics {svc}: budget remaining {left}, want {want_left}")


def check_gates(d):
    for svc, verdict, checks in (("checkout", "fail", {"error_rate", "p99"}),
                                 ("importer", "pass", {"error_rate"})):
        status, _, body = d.get(f"/api/v1/gate?service={svc}")
        doc = serve_util.json.loads(body)
        names = {c["name"] for c in doc.get("checks", [])}
        check(status == 200 and doc.get("verdict") == verdict and names == checks,
              f"gate {svc}: HTTP {status} {doc.get('verdict')} checks {names}, want {verdict} "
              f"with {checks}: {doc.get('reason')}")


def check_report(d):
    month = time.strftime("%Y-%m", time.gmtime())
    status, doc = d.get_json(f"/api/v1/report?month={month}&format=json")
    check(status == 200, f"report: HTTP {status} {doc}")
    for svc, want in TARGETS.items():
        s = next((x for x in doc.get("services", []) if x["name"] == svc), None)
        got = {o["name"]: o["target"] for o in s["objectives"]} if s else None
        check(got == want, f"report {svc}: objectives {got}, want {want}")


def check_reload(d, tmp):
    write(tmp, "team_c.yaml", TEAM_C.replace("  - name: admin\n",
                                             "  - name: admin\n    profile: tier9\n"))
    status, _, body = d.post("/-/reload")
    check(status == 500 and b"team_c.yaml" in body and b"tier9" in body,
          f"reload with a broken team_c.yaml: HTTP {status} {body[:300]!r}, want 500 naming it")
    check(status == 500 and status_of(d, "checkout") is not None,
          "after the refused reload, checkout is gone from /api/v1/status")
    s = status_of(d, "importer")
    got = {o["name"]: o["target"] for o in s["objectives"]} if s else None
    check(got == TARGETS["importer"], f"after the refused reload, importer {got}")
    write(tmp, "team_c.yaml", TEAM_C)
    write(tmp, "team_b.yaml", TEAM_B + "    objectives:\n"
          "      - {name: availability, objective: availability >= 98%}\n")
    status, _, body = d.post("/-/reload")
    check(status == 200, f"reload of fixed files: HTTP {status} {body!r}")
    s = status_of(d, "importer")
    got = {o["name"]: o["target"] for o in s["objectives"]} if s else None
    check(got == {"availability": 0.98}, f"after the reload, importer {got}, want 98 %")


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-per-service-") as tmp:
        os.mkdir(os.path.join(tmp, "rules.d"))
        write(tmp, "00-profiles.yaml", PROFILES)
        write(tmp, "team_a.yaml", TEAM_A)
        write(tmp, "team_b.yaml", TEAM_B)
        write(tmp, "team_c.yaml", TEAM_C)
        d = Daemon(slawatch, tmp, rules="unused: the daemon reads rules.d\n")
        with open(d.config_path, "w") as f:
            f.write(f"listen: 127.0.0.1:{d.port}\ndata_dir: {d.data}\n"
                    "rules_files: ['rules.d/*.yaml']\nlog_level: info\n")
        try:
            d.start()
            push_intervals(d, lambda k: [{"service": s, **TRAFFIC}
                                         for s in ("checkout", "importer")], INTERVALS)
            check_status(d)
            check_metrics(d)
            check_gates(d)
            check_report(d)
            check_reload(d, tmp)
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: two services with their own SLAs, three teams' files, atomic reload")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
