#!/usr/bin/env python3
"""`slawatch serve` scraping a target that a real Prometheus (Debian `prometheus`) scrapes too.

Usage: test_serve_scrape.py SLAWATCH

A target server run here exposes a request counter (code 200 and 500 series) and a classic
latency histogram whose values the test advances in bursts separated by quiet spells; it gzips
its answers to clients that accept gzip. Both slawatch (scrape_interval 1s, base interval 1s,
a relabel rule adding the `tier` label the rules' selectors require) and Prometheus scrape it
every second. A second boundary B is usable when nothing changed in the 1.4 s before it: both
scrapers then saw the same quiet value at B. Over each range [A, B) between usable boundaries
with traffic in it, the requests and errors slawatch stored must equal Prometheus' raw counter
differences (query API, value at B minus at A), and the latency count of the whole run the
+Inf bucket's. Slawatch's answers must have been gzipped. Fails without prometheus.
"""
import math
import os
import sqlite3
import sys
import tempfile
import threading
import time

from scrape_util import Reply, TargetServer, metric
from serve_util import (  # noqa: E402
    FAILURES,
    check,
    Daemon, PROMETHEUS, promql, scalar_metrics, start_prometheus,
    stop, wait_evaluated, wait_until)

LE = ["0.005", "0.05", "0.5", "5", "+Inf"]
VALUES = [0.002, 0.02, 0.02, 0.2, 0.2, 0.2, 2.0]  # seconds, away from bucket edges
QUIET_S = 1.4  # no change this long before a boundary: both scrapers saw the quiet value
RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: app
    sli:
      requests: {prometheus: 'app_requests_total{job="app",tier="front"}'}
      errors: {prometheus: 'app_requests_total{job="app",tier="front",code=~"5.."}'}
      latency: {prometheus: 'app_duration_seconds{job="app",tier="front"}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""


class App:
    """Counters and buckets, changed only by step(); change times are recorded."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok, self.err, self.k = 1000, 10, 0
        self.buckets = [0] * len(LE)
        self.sum = 0.0
        self.changes = []

    def step(self):
        with self.lock:
            self.ok += 3 + self.k % 5
            self.err += 1 if self.k % 4 == 0 else 0
            v = VALUES[self.k % len(VALUES)]
            self.sum += v
            for i, le in enumerate(LE):
                self.buckets[i] += le == "+Inf" or v <= float(le)
            self.k += 1
            self.changes.append(time.time())

    def text(self):
        with self.lock:
            out = ["# TYPE app_requests_total counter",
                   f'app_requests_total{{code="200"}} {self.ok}',
                   f'app_requests_total{{code="500"}} {self.err}',
                   "# TYPE app_duration_seconds histogram"]
            out += [f'app_duration_seconds_bucket{{le="{le}"}} {c}'
                    for le, c in zip(LE, self.buckets)]
            out += [f"app_duration_seconds_sum {self.sum}",
                    f"app_duration_seconds_count {self.buckets[-1]}"]
        return "\n".join(out) + "\n"


def stored(data_dir):
    """{interval start (s): (requests, errors)} for service app at 1 s resolution."""
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'slawatch.db')}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT i.start_ms, i.requests, i.errors FROM intervals i JOIN series s "
            "ON s.id = i.series_id WHERE s.service = 'app' AND i.resolution_ms = 1000 "
            "AND i.has_data = 1").fetchall()
    finally:
        con.close()
    return {ms // 1000: (r, e) for ms, r, e in rows}


def boundaries(changes, first, last):
    """Whole seconds in [first, last] with no change in the QUIET_S before them."""
    return [b for b in range(math.ceil(first), math.floor(last) + 1)
            if not any(b - QUIET_S < c <= b + 0.05 for c in changes)]


def compare(prom, rows, changes, first, last):
    bs = boundaries(changes, first, last)
    ranges = [(a, b) for a, b in zip(bs, bs[1:]) if any(a < c < b for c in changes)]
    check(len(ranges) >= 5, f"only {len(ranges)} ranges with traffic between {bs} "
          f"(changes {[round(c - first, 1) for c in changes]} after {first})")
    q_req = 'sum(app_requests_total{job="app"})'
    q_err = 'sum(app_requests_total{job="app",code=~"5.."})'
    for a, b in ranges:
        got = [sum(rows.get(s, (0, 0))[i] for s in range(a, b)) for i in (0, 1)]
        want = [promql(prom, q, b) - promql(prom, q, a) for q in (q_req, q_err)]
        check(got == want and want[0] > 0,
              f"[{a}, {b}): slawatch requests/errors {got}, Prometheus differences {want}")
    return bs[0], bs[-1], len(ranges)


def run(slawatch, tmp):
    app = App()
    srv = TargetServer(lambda path, headers: Reply(app.text(), gzip_ok=True))
    prom_proc, prom_log, prom = start_prometheus(tmp, srv.address)
    relabel = ("    relabel_configs:\n"
               "      - source_labels: [__address__]\n"
               "        regex: '127\\.0\\.0\\.1:[0-9]+'\n"
               "        target_label: tier\n"
               "        replacement: front\n")
    d = Daemon(slawatch, os.path.join(tmp, "d"), rules=RULES,
               extra_config="ingest_delay: 2s\nscrape_configs:\n  - job_name: app\n"
                            "    scrape_interval: 1s\n    static_configs:\n"
                            f"      - targets: ['{srv.address}']\n" + relabel)
    try:
        d.start()
        wait_until("two scrapes by each scraper", lambda: len(srv.hits_by("slawatch/")) >= 2
                   and len(srv.hits_by("Prometheus/")) >= 2, 20)
        first = time.time()
        time.sleep(QUIET_S + 1.2)  # a boundary before the first burst
        for burst in range(5):
            end = time.time() + 2.0
            while time.time() < end:
                app.step()
                time.sleep(0.1)
            time.sleep(QUIET_S + 1.2)  # a whole second is always usable
        time.sleep(1.5)  # the last burst gets a closing boundary too
        last = time.time()
        wait_evaluated(d, math.floor(last))
        metrics = scalar_metrics(d.get("/metrics")[2].decode())
        count = metric(metrics, "slawatch_request_duration_seconds_count", service="app")
        up = metric(metrics, "slawatch_scrape_up", job="app", instance=srv.address)
        check(up == 1, f"slawatch_scrape_up {up}, want 1")
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
        lo, hi, n = compare(prom, stored(d.data), app.changes, first, last)
        q_inf = 'sum(app_duration_seconds_bucket{job="app",le="+Inf"})'
        want_count = promql(prom, q_inf, hi) - promql(prom, q_inf, lo)
        check(count == want_count and count > 0,
              f"latency count {count}, Prometheus +Inf bucket difference {want_count}")
        sw_hits = srv.hits_by("slawatch/")
        check(sw_hits and all(h[3] for h in sw_hits),
              f"{sum(1 for h in sw_hits if not h[3])} of {len(sw_hits)} slawatch scrapes "
              "were not answered gzipped")
        print(f"{n} ranges compared over [{lo}, {hi}); latency count {count}; "
              f"{len(sw_hits)} gzipped scrapes")
    finally:
        d.stop()
        stop(prom_proc)
        prom_log.close()
        srv.close()
        if FAILURES:
            print("--- slawatch log ---\n" + d.log_text()[-4000:])


def main():
    if not os.access(PROMETHEUS, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{PROMETHEUS} not installed")
    with tempfile.TemporaryDirectory(prefix="sw-scrape-") as tmp:
        os.makedirs(os.path.join(tmp, "d"))
        run(sys.argv[1], tmp)
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
