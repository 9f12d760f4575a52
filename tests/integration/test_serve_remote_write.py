#!/usr/bin/env python3
"""`slawatch serve` fed by a real Prometheus' remote_write (Debian `prometheus` 2.42).

Usage: test_serve_remote_write.py SLAWATCH

A small HTTP server run here exposes a counter with a 5xx subset and a classic histogram whose
values this test drives; Prometheus scrapes it every second and remote-writes to slawatch
(ingest_delay 5s, so samples arriving seconds late still land in open intervals). After the
traffic stops and everything has arrived, slawatch's totals (requests, errors, latency count
and each bucket's share) must equal the raw counter differences Prometheus' own query API gives
for the same series (`metric[range]`: last sample minus first). Also: a malformed body is 400,
a wrong Content-Encoding 400, and nothing of them is applied. Fails without prometheus.
"""
import http.server as httpserver
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import json

from serve_util import (
    FAILURES, check, Daemon, free_port, http, scalar_metrics, wait_evaluated, wait_until,
)

PROMETHEUS = "/usr/bin/prometheus"
LE = ["0.01", "0.05", "0.25", "1", "+Inf"]
RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: app
    sli:
      requests: { prometheus: 'app_requests_total{job="app"}' }
      errors: { prometheus: 'app_requests_total{job="app",code=~"5.."}' }
      latency: { prometheus: 'app_duration_seconds{job="app"}' }
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""


class Target:
    """The counters and buckets the exposition serves, changed only by step()."""

    def __init__(self):
        self.lock = threading.Lock()
        self.req = {"200": 1000, "500": 10}
        self.buckets = {le: 0 for le in LE}  # cumulative
        self.sum = 0.0

    def step(self, n_ok, n_err, durations):
        with self.lock:
            self.req["200"] += n_ok
            self.req["500"] += n_err
            for d in durations:
                self.sum += d
                for le in LE:
                    if le == "+Inf" or d <= float(le):
                        self.buckets[le] += 1

    def text(self):
        with self.lock:
            out = ["# TYPE app_requests_total counter"]
            out += [f'app_requests_total{{code="{c}"}} {v}' for c, v in self.req.items()]
            out.append("# TYPE app_duration_seconds histogram")
            out += [f'app_duration_seconds_bucket{{le="{le}"}} {v}' for le, v in self.buckets.items()]
            out.append(f"app_duration_seconds_sum {self.sum}")
            out.append(f"app_duration_seconds_count {self.buckets['+Inf']}")
        return "\n".join(out) + "\n"


def serve_target(target):
    class Handler(httpserver.BaseHTTPRequestHandler):
        def do_GET(self):
            body = target.text().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    srv = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def query(prom, q):
    st, _, body = http("GET", prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    if st != 200:
        raise RuntimeError(f"query {q}: HTTP {st} {body[:200]!r}")
    return json.loads(body)["data"]["result"]


def raw_increase(prom, selector):
    """Sum over series of (last - first) raw sample of selector[10m], as Prometheus holds them."""
    total = 0.0
    for r in query(prom, selector + "[10m]"):
        vals = [float(v) for _, v in r["values"]]
        total += vals[-1] - vals[0]
    return total


def slawatch_totals(d):
    m = scalar_metrics(d.get("/metrics")[2].decode())
    svc = frozenset({("service", "app")})
    out = {k: m.get((k, svc), 0.0) for k in
           ("slawatch_requests_total", "slawatch_request_errors_total",
            "slawatch_request_duration_seconds_count")}
    for le in ("0.05", "0.25"):
        out["le" + le] = m.get(("slawatch_request_duration_seconds_bucket",
                                frozenset({("service", "app"), ("le", le)})), 0.0)
    out["rw_samples"] = m.get(("slawatch_remote_write_samples_total", frozenset()), 0.0)
    out["rw_400"] = m.get(("slawatch_remote_write_requests_total",
                           frozenset({("code", "400")})), 0.0)
    return out


def bad_requests(d):
    hdrs = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0"}
    st, _, body = d.post("/api/v1/write", b"\x10garbage", hdrs)
    check(st == 400 and b"snappy" in body, f"garbage body: {st} {body!r}, want 400 naming snappy")
    st, _, body = d.post("/api/v1/write", b"\x00", dict(hdrs, **{"Content-Encoding": "gzip"}))
    check(st == 400 and b"Content-Encoding" in body, f"gzip: {st} {body!r}, want 400")
    st, _, _ = d.post("/api/v1/write", b"\x00", hdrs)  # an empty WriteRequest
    check(st == 204, f"empty request: {st}, want 204")


def main():
    if not os.path.exists(PROMETHEUS):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit("prometheus is not installed")
    slawatch = sys.argv[1]
    target = Target()
    tsrv = serve_target(target)
    with tempfile.TemporaryDirectory(prefix="sw-rw-") as tmp:
        d = Daemon(slawatch, tmp, rules=RULES,
                   extra_config="ingest_delay: 5s\nremote_write_receiver:\n  enabled: true\n")
        prom_proc = None
        prom_log = open(os.path.join(tmp, "prometheus.log"), "wb")
        try:
            d.start()
            bad_requests(d)
            prom_port = free_port()
            prom = f"http://127.0.0.1:{prom_port}"
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\n"
                        "scrape_configs:\n  - job_name: app\n    static_configs:\n"
                        f"      - targets: ['127.0.0.1:{tsrv.server_address[1]}']\n"
                        f"remote_write:\n  - url: {d.url}/api/v1/write\n"
                        "    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms}\n")
            prom_proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={cfg}",
                 f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                stdout=prom_log, stderr=subprocess.STDOUT)
            wait_until("slawatch receiving samples",
                       lambda: slawatch_totals(d)["rw_samples"] > 0, 40)
            for i in range(12):  # traffic for 12 s: known steps, some errors, spread latencies
                target.step(100 + i, i % 3, [0.003, 0.02, 0.02, 0.1, 0.4, 2.0][: 1 + i % 6])
                time.sleep(1)
            # Prometheus holds every step; slawatch has taken every interval with it.
            want_req = lambda: raw_increase(prom, 'app_requests_total{job="app"}')
            wait_until("the last step in Prometheus",
                       lambda: want_req() == sum(100 + i + i % 3 for i in range(12)), 20)
            # The last samples reach slawatch within a remote-write send (~1 s): evaluated
            # past that, every one of them is in.
            wait_evaluated(d, time.time() + 2, "slawatch to evaluate past the last samples")
            got = slawatch_totals(d)
            want = {
                "slawatch_requests_total": want_req(),
                "slawatch_request_errors_total": raw_increase(prom, 'app_requests_total{job="app",code="500"}'),
                "slawatch_request_duration_seconds_count":
                    raw_increase(prom, 'app_duration_seconds_bucket{job="app",le="+Inf"}'),
            }
            # Values in the source's +Inf bucket are recorded at its lower bound (1 s), as
            # histogram_quantile does, so slawatch's le="1" holds them: compared below it only.
            for le in ("0.05", "0.25"):
                want["le" + le] = raw_increase(prom, f'app_duration_seconds_bucket{{job="app",le="{le}"}}')
            for k, v in want.items():
                check(got[k] == v, f"{k}: slawatch {got[k]}, Prometheus {v}")
            check(got["rw_400"] == 2, f"remote-write 400s counted {got['rw_400']}, want 2")
            print("slawatch", got, "\nprometheus", want)
        finally:
            if prom_proc is not None:
                prom_proc.terminate()
                try:
                    prom_proc.wait(15)
                except subprocess.TimeoutExpired:
                    prom_proc.kill()
                    prom_proc.wait()
            prom_log.close()
            tsrv.shutdown()
            rc = d.stop()
            check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log ---\n" + d.log_text()[-3000:])
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
