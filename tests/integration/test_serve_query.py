#!/usr/bin/env python3
"""`slawatch serve` reading SLIs back from a real Prometheus through /api/v1/query_range.

Usage: test_serve_query.py SLAWATCH

The test runs a small HTTP app exposing a request counter (code 200 and 500 series) and a
classic latency histogram whose values it drives; a real Prometheus (Debian `prometheus`)
scrapes it every second; slawatch serve (base interval 1s) has a `prometheus_query` source on
that Prometheus. After the traffic stops and slawatch has evaluated past it, every stored
interval [s, s+1) is compared with what Prometheus' own query API says: requests and errors
equal the raw counter differences sum(...) at s+1 minus at s, and the latency count of all
intervals equals the summed differences of the +Inf bucket. Then a second daemon queries a
stand-in that serves the error real Prometheus gives for a bad selector: the log names the
PromQL error and the selector, and 4xx is not retried. Fails without prometheus.
"""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import os
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse

from serve_util import (  # noqa: E402
    FAILURES,
    check,
    Daemon, free_port, http, PROMETHEUS, promql,
    scalar_metrics, start_prometheus, stop, wait_evaluated, wait_until)

LE = ["0.005", "0.05", "0.5", "5", "+Inf"]
VALUES = [0.002, 0.02, 0.02, 0.2, 0.2, 0.2, 2.0]  # seconds, cycled, away from bucket edges

RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: api
    sli:
      requests: {prometheus: 'http_requests_total{job="app"}'}
      errors: {prometheus: 'http_requests_total{job="app",code=~"5.."}'}
      latency: {prometheus: 'http_request_duration_seconds{job="app"}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""

BAD_SELECTOR = 'up{job=~"a{1,1001}"}'  # RE2 refuses counts over 1000


class App:
    """The scraped app: counters and a histogram moved by a thread until stopped."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = self.err = self.n = 0
        self.buckets = [0] * len(LE)
        self.sum = 0.0
        self.running = True
        self.thread = threading.Thread(target=self.traffic, daemon=True)

    def traffic(self):
        k = 0
        while self.running:
            with self.lock:
                self.ok += 7
                self.err += 1 if k % 3 == 0 else 0
                v = VALUES[k % len(VALUES)]
                self.n += 1
                self.sum += v
                for i, le in enumerate(LE):
                    if le == "+Inf" or v <= float(le):
                        self.buckets[i] += 1
            k += 1
            time.sleep(0.05)

    def exposition(self):
        with self.lock:
            lines = ["# TYPE http_requests_total counter",
                     f'http_requests_total{{code="200"}} {self.ok}',
                     f'http_requests_total{{code="500"}} {self.err}',
                     "# TYPE http_request_duration_seconds histogram"]
            lines += [f'http_request_duration_seconds_bucket{{le="{le}"}} {c}'
                      for le, c in zip(LE, self.buckets)]
            lines += [f"http_request_duration_seconds_sum {self.sum}",
                      f"http_request_duration_seconds_count {self.n}"]
        return ("\n".join(lines) + "\n").encode()


def serve(handler_body):
    """An HTTP server on a free port answering every request with handler_body(path, body)."""
    class Handler(BaseHTTPRequestHandler):
        def respond(self):
            n = int(self.headers.get("Content-Length") or 0)
            status, ctype, body = handler_body(self.path, self.rfile.read(n))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        do_GET = do_POST = respond

        def log_message(self, *args):
            pass
    srv = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def stored_intervals(data_dir):
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'slawatch.db')}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT i.start_ms, i.requests, i.errors FROM intervals i JOIN series s "
            "ON s.id = i.series_id WHERE s.service = 'api' AND i.resolution_ms = 1000 "
            "AND i.has_data = 1 ORDER BY i.start_ms").fetchall()
    finally:
        con.close()


def compare_with_prometheus(prom, rows):
    inf_total = 0.0
    with_traffic = 0
    for start_ms, requests, errors in rows:
        s = start_ms / 1000
        want = {}
        for key, q in (("requests", 'sum(http_requests_total{job="app"})'),
                       ("errors", 'sum(http_requests_total{job="app",code=~"5.."})'),
                       ("inf", 'sum(http_request_duration_seconds_bucket{job="app",le="+Inf"})')):
            a, b = promql(prom, q, s), promql(prom, q, s + 1)
            want[key] = (b or 0) - (a or 0) if a is not None else None
        if want["requests"] is None:
            check(False, f"interval {start_ms}: stored, but Prometheus had no value at its start")
            continue
        check(requests == want["requests"] and errors == want["errors"],
              f"interval {start_ms}: slawatch requests/errors {requests}/{errors}, "
              f"Prometheus differences {want['requests']}/{want['errors']}")
        inf_total += want["inf"]
        with_traffic += requests > 0
    check(with_traffic >= 5, f"only {with_traffic} stored intervals with traffic, want >= 5")
    return inf_total


def run_main(slawatch, tmp, app):
    app_srv = serve(lambda path, body: (200, "text/plain; version=0.0.4", app.exposition()))
    app.thread.start()
    prom_proc, prom_log, prom = start_prometheus(tmp, f"127.0.0.1:{app_srv.server_address[1]}")
    d = Daemon(slawatch, os.path.join(tmp, "d1"), rules=RULES,
               extra_config=f"ingest_delay: 4s\nprometheus_query:\n  url: {prom}\n"
                            "  every: 1s\n  lag: 2s\n  lookback: 3s\n")
    try:
        d.start()
        time.sleep(12)  # the app's traffic runs for 12 s; waits below poll
        app.running = False
        stopped = time.time()
        # The last change is queried lag + every after it: evaluated past that, it is in.
        wait_evaluated(d, stopped + 4, "slawatch to evaluate past the traffic")
        status, _, body = d.get("/metrics")
        metrics = scalar_metrics(body.decode())
        count = metrics.get(("slawatch_request_duration_seconds_count",
                             frozenset({("service", "api")})))
        for name in ("slawatch_query_requests_total",
                     "slawatch_query_last_success_timestamp_seconds"):
            check(metrics.get((name, frozenset()), 0) > 0, f"{name} is not above 0")
        check(metrics.get(("slawatch_query_failures_total", frozenset())) == 0,
              "slawatch_query_failures_total is not 0")
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
        rows = stored_intervals(d.data)
        inf_total = compare_with_prometheus(prom, rows)
        check(count == inf_total, f"latency count {count}, Prometheus +Inf bucket increases "
                                  f"over the stored intervals {inf_total}")
        print(f"{len(rows)} intervals compared; latency count {count}")
    finally:
        d.stop()
        stop(prom_proc)
        prom_log.close()
        app_srv.shutdown()
        if FAILURES:
            print("--- slawatch log ---\n" + d.log_text()[-4000:])


def run_promql_error(slawatch, tmp, error_body):
    seen = []

    def refuse(path, body):
        seen.append((path, urllib.parse.parse_qs(body.decode())))
        return 400, "application/json", error_body
    stand_in = serve(refuse)
    url = f"http://127.0.0.1:{stand_in.server_address[1]}"
    d = Daemon(slawatch, os.path.join(tmp, "d2"), rules=RULES,
               extra_config=f"prometheus_query:\n  url: {url}\n  every: 1s\n  lag: 0s\n")
    try:
        d.start()
        def failed_polls():
            return sum(1 for l in d.log_text().splitlines() if "prometheus query failed" in l)
        # Three polls, so a retry of a 4xx would show as more requests than polls.
        wait_until("three logged PromQL errors", lambda: failed_polls() >= 3, 15)
        line = next(l for l in d.log_text().splitlines() if "prometheus query failed" in l)
        for part in ("level=error", "PromQL error bad_data", "invalid repeat count",
                     "HTTP 400", 'http_requests_total{job=\\"app\\"}', "/api/v1/query_range"):
            check(part in line, f"error log line lacks {part!r}: {line}")
        check(all(p == "/api/v1/query_range" for p, _ in seen), f"paths {seen[:3]}")
        check(all(q.get("step") == ["1.000"] for _, q in seen), f"step {seen[:3]}")
        # One request per poll (the first selector fails the page): 4xx is never retried.
        polls = failed_polls()
        check(len(seen) <= polls + 1, f"{len(seen)} requests for {polls} failed polls: retried")
        check(d.stop() == 0, "second daemon did not exit 0")
    finally:
        d.stop()
        stand_in.shutdown()
        if FAILURES:
            print("--- slawatch log (PromQL error) ---\n" + d.log_text()[-3000:])


def main():
    slawatch = sys.argv[1]
    if not os.access(PROMETHEUS, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{PROMETHEUS} not installed")
    with tempfile.TemporaryDirectory(prefix="sw-query-") as tmp:
        os.makedirs(os.path.join(tmp, "d1"))
        os.makedirs(os.path.join(tmp, "d2"))
        run_main(slawatch, tmp, App())
        # What real Prometheus answers for a selector its RE2 refuses, served by a stand-in.
        p2, log2, prom2 = start_prometheus(os.path.join(tmp, "d2"), f"127.0.0.1:{free_port()}")
        try:
            q = urllib.parse.urlencode({"query": BAD_SELECTOR, "start": "1", "end": "2",
                                        "step": "1"})
            status, _, error_body = http("GET", f"{prom2}/api/v1/query_range?{q}")
            check(status == 400, f"Prometheus answered HTTP {status} to {BAD_SELECTOR}")
        finally:
            stop(p2)
            log2.close()
        run_promql_error(slawatch, tmp, error_body)
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
