#!/usr/bin/env python3
"""A reload that moves a service's latency threshold starts that service's
slawatch_request_duration_seconds again at the new bounds; a service whose bounds stay keeps
counting (docs/metrics.md).

Usage: test_serve_totals_reload.py SLAWATCH

Two services, `moved` and `kept`, each with a p99 objective at 300 ms; latency pushed for both
over two intervals. Then `moved`'s threshold becomes 400 ms and POST /-/reload answers 200. At
once, before any new data, `moved`'s histogram has the ladder and 0.4 as bounds (not 0.3), every
bucket, `_count` and `_sum` at 0, and so do its summary's `_sum` and `_count`; `kept`'s
histogram is as before. After one more interval pushed, `moved` counts that interval's values
alone and `kept` all three intervals'; each bucket's count is the number of pushed values at or
below its bound, worked out here from the values.
"""
import math
import sys
import tempfile

from serve_util import FAILURES, Daemon, check, push_intervals, scalar_metrics

LADDER = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: moved
    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}
    objectives:
      - {name: p99, objective: p99 <= MOVEDms, window: 1h}
  - name: kept
    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}
    objectives:
      - {name: p99, objective: p99 <= 300ms, window: 1h}
"""
# Latency values pushed per interval (µs) and their counts, away from every bound (the histogram
# keeps values to three significant digits).
VALUES = {20000: 10, 280000: 20, 350000: 15, 700000: 5}
NAME = "slawatch_request_duration_seconds"


def histogram(m, svc):
    """({le: count}, count, sum) of svc's latency histogram; ({}, None, None) when absent."""
    buckets = {}
    for (name, labels), value in m.items():
        d = dict(labels)
        if name == NAME + "_bucket" and d.get("service") == svc:
            buckets[d["le"]] = value
    count = m.get((NAME + "_count", frozenset({("service", svc)})))
    total = m.get((NAME + "_sum", frozenset({("service", svc)})))
    return buckets, count, total


def summary_totals(m, svc):
    key = frozenset({("service", svc), ("window", "5m")})
    return (m.get(("slawatch_sli_latency_seconds_count", key)),
            m.get(("slawatch_sli_latency_seconds_sum", key)))


def expect(m, svc, threshold_s, intervals):
    got, count, _ = histogram(m, svc)
    bounds = sorted(set(LADDER) | {threshold_s})
    finite = sorted((float(le) for le in got if le != "+Inf"))
    check(len(finite) == len(bounds) and
          all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(finite, bounds)),
          f"{svc}: le bounds {finite}, want {bounds}")
    n = intervals * sum(VALUES.values())
    check(count == n and got.get("+Inf") == n, f"{svc}: count {count}, +Inf {got.get('+Inf')}, "
          f"want {n}")
    for le, value in got.items():
        if le == "+Inf":
            continue
        below = intervals * sum(c for v, c in VALUES.items() if v / 1e6 <= float(le))
        check(value == below, f"{svc}: le={le} count {value}, want {below}")


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-totals-reload-") as tmp:
        d = Daemon(exe, tmp, rules=RULES.replace("MOVED", "300"))
        try:
            d.start()
            values = [v for v, c in VALUES.items() for _ in range(c)]
            batches = lambda k: [{"service": s, "requests": len(values), "errors": 0,
                                  "latency_us": values} for s in ("moved", "kept")]
            push_intervals(d, batches, 2)
            before = scalar_metrics(d.get("/metrics")[2].decode())
            expect(before, "moved", 0.3, 2)
            expect(before, "kept", 0.3, 2)

            with open(d.rules_path, "w") as f:
                f.write(RULES.replace("MOVED", "400"))
            status, _, body = d.post("/-/reload")
            check(status == 200, f"reload: HTTP {status} {body[:300]!r}, want 200")
            after = scalar_metrics(d.get("/metrics")[2].decode())
            expect(after, "moved", 0.4, 0)
            _, _, moved_sum = histogram(after, "moved")
            check(moved_sum == 0, f"moved: _sum {moved_sum} after the reload, want 0")
            check(summary_totals(after, "moved") == (0, 0),
                  f"moved: summary _count, _sum {summary_totals(after, 'moved')}, want 0, 0")
            check(histogram(after, "kept") == histogram(before, "kept"),
                  "kept: histogram changed by a reload that kept its bounds")

            push_intervals(d, batches, 1)
            last = scalar_metrics(d.get("/metrics")[2].decode())
            expect(last, "moved", 0.4, 1)
            expect(last, "kept", 0.3, 3)
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
    if FAILURES:
        return 1
    print("ok: a reload that moves a threshold starts that service's histogram again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
