#!/usr/bin/env python3
"""The monthly report's throughput figures (docs/reports.md): peak_rps, the busiest minute's
requests / 60, and sustained_rps, the rate that 99 % of the minutes with data outside
maintenance reached.

The test draws a month of per-minute request counts for blue and green (seeded), with minutes
where only one environment reports, a stretch without data, distinct low rates around the 1st
percentile (so a rank one off gives another figure) and busier minutes inside the maintenance
window (which must count for neither figure). store_from_plan turns the plan into a store;
the expected figures are worked out here from the same counts.

usage: test_report_throughput.py SLAWATCH STORE_FROM_PLAN RULES
"""
import collections
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile

SLAWATCH, FROM_PLAN, RULES = sys.argv[1:4]
UTC = datetime.timezone.utc
MIN = 60000


def ms(day, hour=0, minute=0, month=10):
    return int(datetime.datetime(2026, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


OCT_1, NOV_1 = ms(1), ms(1, month=11)
MAINT = (ms(10, 2), ms(10, 3))  # rules_story.yaml's maintenance window
GAP = (ms(20, 0), ms(20, 5))    # no data from either environment
LATENCY_US, VALUES = 200000, 10


def draw_month(seed):
    """{minute start: [(env, requests)]}: what each environment counted in each minute."""
    rng = random.Random(seed)
    minutes = [t for t in range(OCT_1, NOV_1, MIN) if not GAP[0] <= t < GAP[1]]
    # About 2 % of the minutes are quiet, each with its own total (distinct values from 0 to
    # 2999), so the 1st percentile falls among distinct rates.
    quiet = rng.sample(minutes, len(minutes) // 50)
    quiet_totals = rng.sample(range(0, 3000), len(quiet))
    totals = {t: rng.randint(3000, 60000) for t in minutes}
    totals.update(zip(quiet, quiet_totals))
    for t in range(MAINT[0], MAINT[1], MIN):
        totals[t] = 1000000 + rng.randint(0, 1000)  # a load test during maintenance
    month = {}
    for t, total in totals.items():
        shape = rng.random()
        if shape < 0.05:
            month[t] = [("green", total)]
        elif shape < 0.10:
            month[t] = [("blue", total)]
        else:
            blue = rng.randint(0, total)
            month[t] = [("blue", blue), ("green", total - blue)]
    return month


def write_plan(path, month):
    with open(path, "w") as f:
        f.write(f"r\t{OCT_1 - 86400000}\n")
        for t in sorted(month):
            for env, req in month[t]:
                f.write(f"m\t{t}\t{env}\t{req}\t0\t{LATENCY_US}\t{VALUES}\n")
        f.write(f"u\t{NOV_1 + 86400000}\n")


def expected(month):
    """(peak, sustained) in requests per second, from the minutes with data outside
    maintenance: sustained is the highest rate R such that at least 99 % of them had R or more."""
    rates = [sum(r for _, r in rows) for t, rows in month.items()
             if not MAINT[0] <= t < MAINT[1]]
    n, reached = len(rates), collections.Counter(rates)
    at_least = 0
    for r in sorted(reached, reverse=True):  # at_least: the minutes with r or more
        at_least += reached[r]
        if 100 * at_least >= 99 * n:
            return max(rates) / 60.0, r / 60.0
    raise AssertionError("no rate reached by 99 % of the minutes")


def report(data):
    p = subprocess.run([SLAWATCH, "report", "--data", data, "--month", "2026-10", "--format",
                        "json"], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit(f"report: exit {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)["services"][0]


def main():
    month = draw_month(20261007)
    with tempfile.TemporaryDirectory() as tmp:
        plan, data = os.path.join(tmp, "plan.tsv"), os.path.join(tmp, "data")
        write_plan(plan, month)
        subprocess.run([FROM_PLAN, data, RULES, plan], check=True, timeout=300)
        svc = report(data)
    peak, sustained = expected(month)
    failures = []
    for name, got, want in (("peak_rps", svc["peak_rps"], peak),
                            ("sustained_rps", svc["sustained_rps"], sustained)):
        if got is None or abs(got - want) > 1e-9 * want:
            failures.append(f"{name}: got {got!r}, want {want!r}")
    for f in failures:
        print("FAIL", f)
    print(f"{'ok' if not failures else 'failed'}: {len(failures)} failures "
          f"(peak {peak:.4f}/s, sustained {sustained:.4f}/s)")
    sys.exit(1 if failures else 0)


main()
