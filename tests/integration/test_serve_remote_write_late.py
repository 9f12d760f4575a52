#!/usr/bin/env python3
"""Remote-written health values that arrive after their interval was taken are counted, not lost
silently: the sender decides how late it sends, so no configuration can bound it.

Usage: test_serve_remote_write_late.py SLAWATCH

slawatch serve (base interval 1s, the remote-write receiver on) reads health from `up{job="api"}`.
The test writes four `up` samples stamped in intervals still to come, then, once the daemon
has evaluated after that, five of another `up` series stamped ten seconds before its last
evaluation (their intervals are taken), with values it chooses. The five must show as slawatch_prometheus_samples_total{result="late"} and in
slawatch_ingest_late_values_total, and nothing of them may be stored; the four must be stored
one probe per interval, failed exactly where the test wrote 0.
"""
import math
import os
import sqlite3
import sys
import tempfile
import time

from serve_util import (  # noqa: E402
    FAILURES, check, Daemon, evaluated_at, scalar_metrics, wait_evaluated, wait_until)
import rw_util

RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: api
    sli:
      requests: {prometheus: 'http_requests_total{job="api"}'}
      health: {prometheus: 'up{job="api"}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""
UP = [("__name__", "up"), ("job", "api")]
LATE = [1, 0, 1, 0, 1]
ON_TIME = [1, 0, 0, 1]


def write(d, labels, samples):
    status, _, body = d.post("/api/v1/write", rw_util.body([(labels, samples)]),
                             headers=rw_util.HEADERS)
    check(status == 204, f"remote write: HTTP {status} {body[:200]!r}, want 204")


def stored_probes(data_dir):
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'slawatch.db')}?mode=ro", uri=True)
    try:
        return {s: (p, f) for s, p, f in con.execute(
            "SELECT i.start_ms, i.probes, i.failures FROM intervals i JOIN series s "
            "ON s.id = i.series_id WHERE s.service = 'api' AND i.resolution_ms = 1000 "
            "AND i.probes > 0")}
    finally:
        con.close()


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-rw-late-") as tmp:
        d = Daemon(slawatch, tmp, rules=RULES,
                   extra_config="ingest_delay: 2s\nremote_write_receiver:\n  enabled: true\n")
        try:
            d.start()
            # The on-time samples first: the service's series then exists, and the take that
            # follows moves its watermark, so the late ones below meet a taken interval.
            first = (math.floor(time.time()) + 3) * 1000
            on_time_starts = [first + k * 1000 for k in range(len(ON_TIME))]
            write(d, UP + [("instance", "a")],
                  [(float(v), s + 500) for v, s in zip(ON_TIME, on_time_starts)])
            written = time.time()
            taken_ms = int(wait_until("an evaluation after the first write",
                                      lambda: evaluated_at(d) > written and evaluated_at(d))
                           * 1000)
            # Another series of the same service (its own samples are in time order).
            late_starts = [taken_ms - 10000 + k * 1000 for k in range(len(LATE))]
            write(d, UP + [("instance", "b")],
                  [(float(v), s + 500) for v, s in zip(LATE, late_starts)])
            wait_evaluated(d, on_time_starts[-1] / 1000 + 1, "slawatch to evaluate past them")
            metrics = scalar_metrics(d.get("/metrics")[2].decode())
            late = metrics.get(("slawatch_prometheus_samples_total",
                                frozenset({("result", "late")})))
            check(late == len(LATE), f'slawatch_prometheus_samples_total{{result="late"}} '
                                     f"{late}, want {len(LATE)}")
            late_values = metrics.get(("slawatch_ingest_late_values_total", frozenset()))
            check(late_values == len(LATE),
                  f"slawatch_ingest_late_values_total {late_values}, want {len(LATE)}")
            used = metrics.get(("slawatch_prometheus_samples_total",
                                frozenset({("result", "used")})))
            check(used == len(ON_TIME), f'result="used" {used}, want {len(ON_TIME)}')
            check(d.stop() == 0, "slawatch serve did not exit 0 on SIGTERM")
            got = stored_probes(d.data)
            for s in late_starts:
                check(s not in got, f"late interval {s} stored: {got.get(s)}")
            for v, s in zip(ON_TIME, on_time_starts):
                want = (1, 1 - v)
                check(got.get(s) == want, f"interval {s}: stored {got.get(s)}, want {want}")
            print(f"{len(LATE)} late samples counted, {len(ON_TIME)} on-time samples stored")
        finally:
            d.stop()
            if FAILURES:
                print("--- slawatch log ---\n" + d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
