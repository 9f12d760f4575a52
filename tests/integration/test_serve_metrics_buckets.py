#!/usr/bin/env python3
"""The classic latency buckets of /metrics, per service, without a cap.

Usage: test_serve_metrics_buckets.py SLAWATCH

Three services, each with 15 latency objectives (p50 ... p64, the evaluator's limit is 16
distinct thresholds a service) and 10 latency alerts of its own: 25 thresholds a service
(more than the 21 the 32 bounds of /metrics once left beside the ladder), 75 conditions in all
(more than the 64 it once read); one alert's bound, 500 ms, is the ladder's already. Latency is
pushed for all three; each service's `slawatch_request_duration_seconds_bucket` must have
exactly the ladder (5 ms ... 10 s, docs/metrics.md) and its own thresholds as `le` bounds, each
once, plus +Inf; and each bucket's count must be the number of pushed values at or below it.
"""
import math
import os
import sys
import tempfile

from serve_util import FAILURES, Daemon, check, push_intervals

LADDER = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
# (objective thresholds, alert thresholds) in ms: service k's bands start at 100 * (k + 1).
SERVICES = {name: ([100 * (k + 1) + 1 + i for i in range(15)],
                   [100 * (k + 1) + 51 + i for i in range(9)] + [500])
            for k, name in enumerate(("fast", "mid", "slow"))}
# Latency values pushed per interval (µs) and their counts, each well away from every bound
# (the histogram keeps values to a few significant digits).
VALUES = {20000: 10, 80000: 30, 170000: 30, 280000: 20, 380000: 10, 700000: 5, 3000000: 5}


def service(name, objectives, alerts):
    text = (f"  - name: {name}\n"
            "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
            "    objectives:\n")
    for i, ms in enumerate(objectives):
        text += f"      - {{name: p{50 + i}, objective: p{50 + i} <= {ms}ms, window: 1h}}\n"
    text += "    alerts:\n"
    for ms in alerts:
        text += f"      - {{name: Slow{ms}, when: p99 > {ms}ms, over: 1m}}\n"
    return text


RULES = ("version: 1\nbase_interval: 1s\nmin_requests: 1\nservices:\n" +
         "".join(service(name, o, a) for name, (o, a) in SERVICES.items()))


def buckets(text, svc):
    """{le: count} of svc's slawatch_request_duration_seconds_bucket, in order of appearance."""
    out = {}
    for line in text.splitlines():
        if not line.startswith("slawatch_request_duration_seconds_bucket{"):
            continue
        head, _, value = line.rpartition(" ")
        labels = dict(kv.split("=", 1) for kv in head[head.index("{") + 1:-1].split(","))
        labels = {k: v.strip('"') for k, v in labels.items()}
        if labels.get("service") == svc:
            out[labels["le"]] = float(value)
    return out


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-buckets-") as tmp:
        d = Daemon(exe, tmp, rules=RULES)
        try:
            d.start()
            n = 2
            values = [v for v, c in VALUES.items() for _ in range(c)]
            push_intervals(d, lambda k: [
                {"service": s, "requests": len(values), "errors": 0, "latency_us": values}
                for s in SERVICES], n)
            text = d.get("/metrics")[2].decode()
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
    for svc, (objectives, alerts) in SERVICES.items():
        got = buckets(text, svc)
        want = sorted(set(LADDER) | {ms / 1000 for ms in objectives + alerts})
        finite = [le for le in got if le != "+Inf"]
        bounds = [float(le) for le in finite]
        check(len(bounds) == len(want) and
              all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(bounds, want)),
              f"{svc}: le bounds {bounds}, want {want}")
        check(got.get("+Inf") == n * sum(VALUES.values()),
              f"{svc}: +Inf {got.get('+Inf')}, want {n * sum(VALUES.values())}")
        for le, b in zip(finite, bounds):
            below = n * sum(c for v, c in VALUES.items() if v / 1e6 <= b)
            check(got[le] == below, f"{svc}: le={le} count {got[le]}, want {below}")
    if FAILURES:
        return 1
    print("ok: each service's latency thresholds are its own buckets, 75 in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
