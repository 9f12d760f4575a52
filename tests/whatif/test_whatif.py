#!/usr/bin/env python3
"""What-if from history: a quarter (2026-Q3) of hourly rows with known per-request latencies is
written into a store (store_intervals, as a backfill would), then judged by two rule sets that
were never in force while it was collected:

  1. `slawatch eval --data DIR --quarter 2026-Q3` (and the same span as --from/--to): every
     objective judged over exactly the quarter: p95/p99 within the HDR bucket of the exact order
     statistic, the share of requests at or below the threshold (from the budget) exact,
     availability exact, verdicts as the truth says, under rules A and rules B;
  2. `slawatch report --month 2026-08 --rules ...`: August's percentiles and verdicts, both rule
     sets;
  3. a throughput objective (slices of a minute) over two days of 1-minute rows: the share of
     minutes that reached the rate, exact;
  4. rules needing an SLI the store does not hold (latency of a service that never sent any):
     eval and report refuse with the objective's FILE:LINE:COL, exit 1.

usage: test_whatif.py SLAWATCH STORE_INTERVALS
"""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from history import HOUR, away_from, in_hdr_bucket, line, percentile, width  # noqa: E402

SLAWATCH, STORE_INTERVALS = sys.argv[1:3]
Q3_START = 1782864000          # 2026-07-01T00:00:00Z
Q3_END = 1790812800            # 2026-10-01T00:00:00Z
AUG_START, AUG_END = 1785542400, 1788220800   # 2026-08-01, 2026-09-01
SLOW_WEEK = (1786320000, 1786924800)          # 2026-08-10 .. 2026-08-17: slower
THRESHOLDS = [300000, 450000, 500000]

SERVICE = """  - name: {name}
    sli:
      requests: {{push: true}}
      errors: {{push: true}}
      latency: {{push: true}}
"""
HEAD = "version: 1\nbase_interval: 10s\nmin_requests: 1000\nservices:\n"
RULES_A = HEAD + SERVICE.format(name="api") + """objectives:
  - name: availability
    objective: availability >= 99%
    window: 30d
  - name: latency-p95
    objective: p95 <= 500ms
    window: 30d
"""
RULES_B = HEAD + SERVICE.format(name="api") + """objectives:
  - name: availability
    objective: availability >= 99.9%
    window: 30d
  - name: latency-p95
    objective: p95 <= 300ms
    window: 30d
  - name: latency-p99
    objective: p99 <= 450ms
    window: 7d
"""
# batch is stored with counts only: its latency was never collected.
RULES_C = HEAD + SERVICE.format(name="api") + SERVICE.format(name="batch") + """objectives:
  - name: availability
    objective: availability >= 99%
  - name: latency-p95
    objective: p95 <= 500ms
"""
OBJECTIVES = {  # name: (sli, target) per rule set
    "A": {"availability": ("availability", 0.99), "latency-p95": (95, 500000)},
    "B": {"availability": ("availability", 0.999), "latency-p95": (95, 300000),
          "latency-p99": (99, 450000)},
}

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL: " + msg)


def generate(path):
    """The quarter, hour by hour; returns {hour_start: (values, errors)} of api."""
    rng = random.Random(20260701)
    api = {}
    with open(path, "w") as f:
        for t in range(Q3_START, Q3_END, HOUR):
            median = 260000 if SLOW_WEEK[0] <= t < SLOW_WEEK[1] else 190000
            values = []
            while len(values) < 30:
                v = int(rng.lognormvariate(0, 0.35) * median)
                if away_from(v, THRESHOLDS):
                    values.append(v)
            errors = 1 if rng.random() < 0.1 else 0
            api[t] = (values, errors)
            f.write(line("api", t, 3600, values, errors) + "\n")
            f.write(line("batch", t, 3600, None, 0, requests=10) + "\n")
    return api


def truth(api, start, end):
    values, requests, errors = [], 0, 0
    for t, (vs, e) in api.items():
        if start <= t < end:
            values += vs
            requests += len(vs)
            errors += e
    return values, requests, errors


def run(*args):
    return subprocess.run([SLAWATCH, *args], capture_output=True, text=True, timeout=120)


def check_objectives(what, rules, got, values, requests, errors, p_key="measured"):
    """got: {name: objective JSON}; the expected figures from the values."""
    for name, (sli, target) in OBJECTIVES[rules].items():
        o = got.get(name)
        if not check(o is not None, f"{what}: objective {name} missing"):
            continue
        if sli == "availability":
            want = 1 - errors / requests
            check(o["measured"] is not None and abs(o["measured"] - want) < 1e-12,
                  f"{what} {name}: measured {o['measured']}, want {want}")
            check(o["met"] == (want >= target), f"{what} {name}: met {o['met']}, want "
                  f"{want >= target} ({want} against {target})")
            continue
        v = percentile(values, sli)
        check(abs(v - target) > width(v), f"{what} {name}: the test's p{sli} {v} is within a "
              f"bucket of {target}: change the generated data")
        check(in_hdr_bucket(o["measured"], v), f"{what} {name}: p{sli} {o['measured']}, want "
              f"[{v}, {v + width(v)}) (exact {v}, HDR bucket width {width(v)})")
        check(o["met"] == (v <= target), f"{what} {name}: met {o['met']}, want {v <= target}")
        # The budget counts the requests slower than the threshold: exact, as no value shares
        # the threshold's bucket.
        slower = sum(1 for x in values if x > target)
        want_budget = 1 - slower / ((1 - sli / 100) * len(values))
        check(o["budget_remaining"] is not None
              and abs(o["budget_remaining"] - want_budget) < 1e-9,
              f"{what} {name}: budget_remaining {o['budget_remaining']}, want {want_budget} "
              f"({slower} of {len(values)} slower than {target} us)")


def eval_json(data, rules_path, *span):
    p = run("eval", "--rules", rules_path, "--data", data, *span, "--json")
    if not check(p.returncode == 0, f"eval {span} exited {p.returncode}: {p.stderr}"):
        return None
    doc = json.loads(p.stdout)
    api = [s for s in doc["services"] if s["name"] == "api"]
    check(len(api) == 1, f"eval {span}: services {[s['name'] for s in doc['services']]}")
    return doc, {o["name"]: o for o in api[0]["objectives"]} if api else {}


def check_eval(data, paths, api):
    values, requests, errors = truth(api, Q3_START, Q3_END)
    for rules in ("A", "B"):
        for span in (["--quarter", "2026-Q3"],
                     ["--from", "2026-07-01T00:00:00Z", "--to", "2026-10-01T00:00:00Z"]):
            got = eval_json(data, paths[rules], *span)
            if got is None:
                continue
            doc, objectives = got
            check(doc["at"] == "2026-10-01T00:00:00Z", f"eval {span}: at {doc['at']}")
            check_objectives(f"eval {rules} {span[0]}", rules, objectives, values, requests,
                             errors)
            for o in objectives.values():
                check(o["window"] == "92d", f"eval {span}: window {o['window']}, want 92d")
    # August alone, as --from/--to.
    values, requests, errors = truth(api, AUG_START, AUG_END)
    got = eval_json(data, paths["B"], "--from", "2026-08-01T00:00:00Z", "--to",
                    "2026-09-01T00:00:00Z")
    if got is not None:
        check_objectives("eval B August", "B", got[1], values, requests, errors)


def check_report(data, paths, api):
    values, requests, errors = truth(api, AUG_START, AUG_END)
    for rules in ("A", "B"):
        p = run("report", "--data", data, "--month", "2026-08", "--rules", paths[rules],
                "--format", "json")
        if not check(p.returncode == 0, f"report {rules} exited {p.returncode}: {p.stderr}"):
            continue
        doc = json.loads(p.stdout)
        api_doc = next(s for s in doc["services"] if s["name"] == "api")
        check(api_doc["requests"] == requests, f"report {rules}: requests "
              f"{api_doc['requests']}, want {requests}")
        for p_, key in ((95, "p95_us"), (99, "p99_us")):
            v = percentile(values, p_)
            check(in_hdr_bucket(api_doc[key], v), f"report {rules}: {key} {api_doc[key]}, want "
                  f"[{v}, {v + width(v)})")
        check_objectives(f"report {rules}", rules,
                         {o["name"]: o for o in api_doc["objectives"]}, values, requests, errors)


def check_missing_sli(data, path):
    text = open(path).read().splitlines()
    line_no = next(i for i, s in enumerate(text, 1) if "p95 <= 500ms" in s)
    where = f"{path}:{line_no}:{text[line_no - 1].index('p95') + 1}"
    for args in (["eval", "--rules", path, "--data", data, "--quarter", "2026-Q3"],
                 ["report", "--data", data, "--month", "2026-08", "--rules", path,
                  "--format", "json"]):
        p = run(*args)
        check(p.returncode == 1, f"{args[0]} with rules needing latency of batch: exit "
              f"{p.returncode}, want 1 ({p.stderr})")
        check(p.stdout == "", f"{args[0]}: printed a result although refused: {p.stdout[:200]}")
        err = p.stderr.strip()
        check(where in err and "latency-p95" in err and "batch" in err and "latency" in err,
              f"{args[0]}: error should name {where}, the objective and the service: {err!r}")


RULES_T = HEAD + SERVICE.format(name="api") + """objectives:
  - name: throughput
    objective: throughput >= 1/s
"""


def check_slices(tmp):
    """Two days of minutes with 40..100 requests each; slices reaching 60 counted here."""
    rng = random.Random(5)
    path, data = os.path.join(tmp, "minutes.jsonl"), os.path.join(tmp, "minutes")
    reached = 0
    with open(path, "w") as f:
        for t in range(AUG_START, AUG_START + 2 * 86400, 60):
            n = rng.randint(40, 100)
            reached += n >= 60
            f.write(line("api", t, 60, [150000] * n) + "\n")
    subprocess.run([STORE_INTERVALS, data, path], check=True, timeout=120)
    rules = os.path.join(tmp, "rules-T.yaml")
    with open(rules, "w") as f:
        f.write(RULES_T)
    p = run("eval", "--rules", rules, "--data", data, "--from", "2026-08-01T00:00:00Z", "--to",
            "2026-08-03T00:00:00Z", "--json")
    if not check(p.returncode == 0, f"eval throughput exited {p.returncode}: {p.stderr}"):
        return
    o = json.loads(p.stdout)["services"][0]["objectives"][0]
    want = reached / 2880
    check(o["samples"] == 2880 and o["measured"] is not None
          and abs(o["measured"] - want) < 1e-9 and o["met"] is False,
          f"throughput over minutes: measured {o['measured']} of {o['samples']} slices, "
          f"want {want} of 2880, not met")


def check_usage(data, path):
    """Bad periods and flags: exit 2 with the flag named, nothing printed on stdout."""
    cases = [(["--quarter", "2026-Q5"], "--quarter"),
             (["--from", "2026-07-01T00:30:00Z", "--to", "2026-08-01T00:00:00Z"], "whole hour"),
             (["--from", "2026-08-01T00:00:00Z", "--to", "2026-07-01T00:00:00Z"], "--to"),
             (["--quarter", "2026-Q3", "--from", "2026-07-01T00:00:00Z"], "--quarter"),
             (["--quarter", "2026-Q3", "--at", "2026-08-01T00:00:00Z"], "--at"),
             ([], "--quarter")]
    for extra, word in cases:
        p = run("eval", "--rules", path, "--data", data, *extra)
        check(p.returncode == 2 and word in p.stderr and p.stdout == "",
              f"eval {extra}: exit {p.returncode}, want 2 naming {word}: {p.stderr[:200]!r}")
    p = run("eval", "--rules", path, "--data", data + "-missing", "--quarter", "2026-Q3")
    check(p.returncode == 2 and "no store" in p.stderr and not os.path.exists(data + "-missing"),
          f"eval on a missing store: exit {p.returncode}, {p.stderr!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="sw-whatif-") as tmp:
        lines = os.path.join(tmp, "quarter.jsonl")
        api = generate(lines)
        data = os.path.join(tmp, "data")
        subprocess.run([STORE_INTERVALS, data, lines], check=True, timeout=120)
        paths = {}
        for name, text in (("A", RULES_A), ("B", RULES_B), ("C", RULES_C)):
            paths[name] = os.path.join(tmp, f"rules-{name}.yaml")
            with open(paths[name], "w") as f:
                f.write(text)
        check_eval(data, paths, api)
        check_report(data, paths, api)
        check_missing_sli(data, paths["C"])
        check_usage(data, paths["A"])
        check_slices(tmp)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("what-if from history: eval and report under two rule sets agree with the truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
