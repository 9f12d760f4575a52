#!/usr/bin/env python3
"""`slawatch serve` with the cloudwatch source against the stand-in on 127.0.0.1.

The stand-in generates every metric from formulas written here (the expected values come from
the same formulas, not from slawatch), answers late data (periods younger than its ingest
delay) with half their value, pages results one datapoint at a time (PartialData +
NextToken), throttles and fails some requests, and expires the ECS credentials after a few
calls. The test checks, from the store: every settled period's requests and errors exactly
(an ALB service with two 5xx metrics summed, a Lambda service), nothing counted twice and no
period skipped between the first and the last stored, a period of 2 s split over two 1 s
intervals with the remainder in the first, latency samples per period equal to SampleCount,
ALB health; and from the stand-in: throttling and the 500 retried, pages followed, the
expired key replaced, no signature rejected.

    test_gmd_serve.py SLAWATCH STANDIN_PY
"""
import json
import os
import sqlite3
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import Daemon, wait_until  # noqa: E402
from cw_test_util import (ALB, ELB, FN, alb_counts, alb_sli, cloudwatch_config,  # noqa: E402
                          scenario as standin_scenario, series, set_ecs_env, start_standin,
                          stop_standin)

PERIOD = 2
ECS_TOKEN = "ecs-token-for-gmd-test"
REQ = {"base": 1000, "step": 37, "mod": 101}
T5XX = {"base": 3, "step": 5, "mod": 7}
E5XX = {"base": 1, "step": 1, "mod": 3}
INV = {"base": 501, "step": 11, "mod": 13}
ERR = {"base": 0, "step": 1, "mod": 4}
LAT_COUNT = {"base": 400, "step": 9, "mod": 50}

RULES = """version: 1
base_interval: 1s
services:
  - name: web
""" + alb_sli("requests", "errors", "latency", "health") + """  - name: fn
    sli:
      requests: {cloudwatch: {preset: lambda, dimensions: {FunctionName: checkout}}}
      errors: {cloudwatch: {namespace: AWS/Lambda, metric: Errors, stat: Sum,
                            dimensions: {FunctionName: checkout}}}
objectives:
  - name: availability
    objective: availability >= 99%
  - name: fast
    objective: p95 <= 400ms
"""


def formula(spec, t):
    return spec["base"] + ((t // PERIOD) * spec["step"]) % spec["mod"]


def scenario():
    return standin_scenario(ECS_TOKEN, {
        "series": alb_counts(REQ, T5XX, E5XX) + [
            series("HealthyHostCount", {"base": 2, "step": 0, "mod": 1}, stat="Minimum"),
            series("UnHealthyHostCount", {"base": 0, "step": 0, "mod": 1}, stat="Maximum"),
            series("Invocations", INV, FN, "AWS/Lambda"),
            series("Errors", ERR, FN, "AWS/Lambda")],
        "latency": [{"namespace": ELB, "metric": "TargetResponseTime", "dimensions": ALB,
                     "median": 0.120, "sigma": 0.5, "count": LAT_COUNT}],
        "ingest_delay_s": 1, "page_size": 1, "throttle": [2, 3], "fail500": [5],
        "expire_after": 6, "slow_s": 0.02}, ttl_s=3600)


def stored(db_path):
    """{service: {start_ms: (requests, errors, probes, failures, latency blob)}} at 1 s."""
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT s.service, i.start_ms, i.requests, i.errors, i.probes, "
                       "i.failures, i.latency FROM intervals i JOIN series s "
                       "ON s.id = i.series_id WHERE i.resolution_ms = 1000").fetchall()
    con.close()
    out = {}
    for service, start, req, err, probes, failures, blob in rows:
        out.setdefault(service, {})[start] = (req, err, probes, failures, blob)
    return out


def standin_stats(base):
    with urllib.request.urlopen(base + "/_standin/stats", timeout=5) as r:
        return json.load(r)


def seen_enough(db_path, base):
    """Four periods of each service stored, and the stand-in's pages and key expiry exercised."""
    rows = stored(db_path) if os.path.exists(db_path) else {}
    if any(len({s // 1000 // PERIOD for s in rows.get(n, {})}) < 4 for n in ("web", "fn")):
        return False
    st = standin_stats(base)
    return st["partial_pages"] >= 1 and st["expired"] >= 1 and len(st["keys_used"]) >= 2


def check_service(name, rows, want_req, want_err, failures):
    starts = sorted(rows)
    periods = sorted({s // 1000 // PERIOD * PERIOD for s in starts})
    if len(periods) < 3:
        failures.append("%s: only %d periods stored" % (name, len(periods)))
        return
    for p in range(periods[0], periods[-1] + PERIOD, PERIOD):
        first, second = rows.get(p * 1000), rows.get(p * 1000 + 1000)
        if first is None or second is None:
            failures.append("%s: period %d missing (skipped)" % (name, p))
            continue
        req, err = want_req(p), want_err(p)
        if (first[0] + second[0], first[1] + second[1]) != (req, err):
            failures.append("%s: period %d has %d/%d, scenario says %d/%d" % (
                name, p, first[0] + second[0], first[1] + second[1], req, err))
        if (first[0], second[0]) != ((req + 1) // 2, req // 2):
            failures.append("%s: period %d split %d+%d" % (name, p, first[0], second[0]))
    return periods


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        standin, base = start_standin(standin_py, tmp, scenario())
        set_ecs_env(base, tmp, ECS_TOKEN)
        config = "ingest_delay: 10s\n" + cloudwatch_config(
            base, "5s", "  period: %ds\n  settle: 3s\n  every: 3s\n" % PERIOD)
        daemon = Daemon(exe, tmp, rules=RULES, extra_config=config)
        try:
            daemon.start()
            db = os.path.join(daemon.data, "slawatch.db")
            wait_until("four settled periods per service", lambda: seen_enough(db, base),
                       timeout=45, step=0.5)
            status, _, metrics = daemon.get("/metrics")
        finally:
            rc = daemon.stop()
            stats = standin_stats(base)
            stop_standin(standin)
        if rc != 0:
            failures.append("serve exited %r:\n%s" % (rc, daemon.log_text()[-3000:]))
        rows = stored(os.path.join(daemon.data, "slawatch.db"))
        web = check_service("web", rows.get("web", {}), lambda p: formula(REQ, p),
                            lambda p: formula(T5XX, p) + formula(E5XX, p), failures)
        check_service("fn", rows.get("fn", {}), lambda p: formula(INV, p),
                      lambda p: formula(ERR, p), failures)
        for p in web or []:
            first = rows["web"].get(p * 1000)
            if first is not None and (first[2], first[3]) != (1, 0):
                failures.append("web: period %d health %d probes %d failures" % (
                    p, first[2], first[3]))
            if first is not None and first[4] is None:
                failures.append("web: period %d has no latency histogram" % p)
        text = metrics.decode() if isinstance(metrics, bytes) else metrics
        for name in ("slawatch_cloudwatch_requests_total", "slawatch_cloudwatch_throttled_total",
                     "slawatch_cloudwatch_last_success_timestamp_seconds"):
            if name not in text:
                failures.append("/metrics lacks " + name)
        want = {"throttled": 2, "fail500": 1}
        for k, v in want.items():
            if stats[k] != v:
                failures.append("stand-in %s: %d, expected %d" % (k, stats[k], v))
        if stats["partial_pages"] < 1 or stats["expired"] < 1 or len(stats["keys_used"]) < 2:
            failures.append("pagination or refresh not exercised: %r" % stats)
        bad = {k: v for k, v in stats["rejected"].items()
               if k not in ("ThrottlingException", "InternalServiceFault",
                            "ExpiredTokenException")}
        if bad:
            failures.append("stand-in rejected requests: %r" % bad)
        if ECS_TOKEN in daemon.log_text():
            failures.append("the ECS token appears in the log")
        print("periods web=%s stats=%s" % (web, json.dumps(stats)))
    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
