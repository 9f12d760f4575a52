#!/usr/bin/env python3
"""`slawatch serve` scraped by a real Prometheus (Debian `prometheus`, /usr/bin/prometheus).

Usage: test_serve_prometheus.py SLAWATCH

Starts the daemon (base interval 1s, services api{blue,green} and web, all pushed), pushes
known traffic into a few intervals with explicit times, waits until they are closed, starts
Prometheus scraping /metrics every second and checks through its query API that the counters,
the 5m error ratio and the latency histogram equal what this test computes from its own
inputs; also checks /metrics content negotiation. Fails when prometheus is
missing.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

from serve_util import FAILURES, check, Daemon, free_port, http, push_intervals, wait_until

PROMETHEUS = "/usr/bin/prometheus"
INTERVALS = 4
# Per interval: (service, env) -> (requests, errors, latency values in microseconds).
# Latencies are kept well away from the histogram's bucket edges (HDR keeps 3 digits).
TRAFFIC = {
    ("api", "blue"): (1000, 5, [2000, 7000, 20000, 40000, 80000, 200000, 240000, 400000,
                                800000, 2000000]),
    ("api", "green"): (500, 50, [3000, 3000, 30000, 600000]),
    ("web", None): (2000, 0, [1500, 12000, 130000]),
}
LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, math.inf]



def promql(prom, q):
    status, _, body = http("GET", f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    doc = json.loads(body)
    if status != 200 or doc.get("status") != "success":
        raise ValueError(f"query {q}: HTTP {status} {body[:300]!r}")
    return doc["data"]["result"]


def one(prom, q):
    r = promql(prom, q)
    if len(r) != 1:
        raise ValueError(f"query {q}: {len(r)} series, want 1: {r}")
    return float(r[0]["value"][1])


def sel(service, env, extra=""):
    labels = [f'service="{service}"'] + ([f'env="{env}"'] if env else [])
    return "{" + ",".join(labels + ([extra] if extra else [])) + "}"


def push_traffic(d):
    """Push INTERVALS intervals of TRAFFIC; returns the end of the last one."""
    def batches(k):
        out = []
        for (service, env), (req, err, lat) in TRAFFIC.items():
            batch = {"service": service, "requests": req, "errors": err, "latency_us": lat}
            if env:
                batch["env"] = env
            out.append(batch)
        return out
    return push_intervals(d, batches, INTERVALS)


def check_negotiation(d):
    cases = [
        (None, "text/plain; version=0.0.4"),
        ("text/plain;version=0.0.4", "text/plain; version=0.0.4"),
        ("application/openmetrics-text;version=1.0.0", "application/openmetrics-text"),
        ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited", "application/vnd.google.protobuf"),
    ]
    for accept, want in cases:
        status, headers, body = d.get("/metrics", {"Accept": accept} if accept else {})
        ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        check(status == 200 and ctype.startswith(want),
              f"/metrics Accept {accept!r}: HTTP {status} Content-Type {ctype!r}, want {want}")
        if want.startswith("application/openmetrics"):
            check(body.endswith(b"# EOF\n"), "OpenMetrics exposition does not end with # EOF")
        if want.startswith("application/vnd.google.protobuf"):
            check("proto=io.prometheus.client.MetricFamily" in ctype
                  and "encoding=delimited" in ctype, f"protobuf Content-Type {ctype!r}")
            # Length-delimited MetricFamily messages: the first varint is a length that fits.
            n, shift, i = 0, 0, 0
            while i < len(body) and body[i] & 0x80:
                n |= (body[i] & 0x7F) << shift
                shift += 7
                i += 1
            if i < len(body):
                n |= body[i] << shift
            check(len(body) > 0 and 0 < n <= len(body) - i - 1 and body[i + 1] == 0x0A,
                  f"protobuf body does not start with a delimited MetricFamily: {body[:16]!r}")


def check_series(prom, service, env, req, err, lat):
    s = sel(service, env)
    what = f"{service}/{env}"
    n = INTERVALS
    check(one(prom, f"slawatch_requests_total{s}") == n * req,
          f"{what}: requests_total != {n * req}")
    check(one(prom, f"slawatch_request_errors_total{s}") == n * err,
          f"{what}: request_errors_total != {n * err}")
    window_5m = sel(service, env, 'window="5m"')
    ratio = one(prom, f"slawatch_sli_error_ratio{window_5m}")
    check(math.isclose(ratio, err / req, rel_tol=1e-9, abs_tol=1e-12),
          f"{what}: sli_error_ratio 5m = {ratio}, want {err / req}")
    count = one(prom, f"slawatch_request_duration_seconds_count{s}")
    check(count == n * len(lat), f"{what}: histogram _count {count}, want {n * len(lat)}")
    total = one(prom, f"slawatch_request_duration_seconds_sum{s}")
    want_sum = n * sum(lat) / 1e6
    check(math.isclose(total, want_sum, rel_tol=2e-3),
          f"{what}: histogram _sum {total}, want {want_sum} (within HDR precision)")
    buckets = {float(r["metric"]["le"]): float(r["value"][1]) for r in
               promql(prom, f"slawatch_request_duration_seconds_bucket{s}")}
    check(sorted(buckets) == LE, f"{what}: bucket bounds {sorted(buckets)}, want {LE}")
    for le in LE:
        want = n * sum(1 for v in lat if v / 1e6 <= le)
        check(buckets.get(le) == want, f"{what}: bucket le={le} = {buckets.get(le)}, want {want}")
    # histogram_quantile must land in the bucket that holds the true quantile of the values.
    values = sorted(lat * n)
    for q in (0.5, 0.9):
        got = one(prom, f"histogram_quantile({q}, slawatch_request_duration_seconds_bucket{s})")
        true = values[math.ceil(q * len(values)) - 1] / 1e6
        hi = next(le for le in LE if true <= le)
        lo = LE[LE.index(hi) - 1] if LE.index(hi) > 0 else 0
        check(lo <= got <= hi, f"{what}: histogram_quantile({q}) = {got}, want in [{lo}, {hi}] "
              f"(true quantile {true})")


def main():
    slawatch = sys.argv[1]
    if not os.access(PROMETHEUS, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{PROMETHEUS} not installed")
    version = subprocess.run([slawatch, "--version"], capture_output=True, text=True,
                             timeout=10).stdout.split()
    with tempfile.TemporaryDirectory(prefix="sw-prom-") as tmp:
        d = Daemon(slawatch, tmp)
        prom_proc = None
        prom_log = open(os.path.join(tmp, "prometheus.log"), "wb")
        try:
            d.start()
            t0 = time.monotonic()
            last_end = push_traffic(d)
            closed_at = last_end + 0.1  # the last interval is taken at its end + 10% grace
            check_negotiation(d)

            prom_port = free_port()
            prom = f"http://127.0.0.1:{prom_port}"
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        "scrape_configs:\n  - job_name: slawatch\n    static_configs:\n"
                        f"      - targets: ['127.0.0.1:{d.port}']\n")
            prom_proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={cfg}",
                 f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                stdout=prom_log, stderr=subprocess.STDOUT)
            wait_until("prometheus /-/ready", lambda: prom_proc.poll() is None and
                       http("GET", prom + "/-/ready")[0] == 200, 30)
            # A scrape taken after the last pushed interval was closed.
            wait_until("a scrape after the last interval closed", lambda: any(
                float(r["value"][1]) >= closed_at + 0.05 for r in
                promql(prom, 'timestamp(slawatch_requests_total{service="web"})')), 30)

            check(one(prom, 'up{job="slawatch"}') == 1, 'up{job="slawatch"} != 1')
            for (service, env), (req, err, lat) in TRAFFIC.items():
                check_series(prom, service, env, req, err, lat)
            info = promql(prom, "slawatch_build_info")
            check(len(info) == 1 and info[0]["metric"].get("version")
                  and info[0]["metric"]["version"] in version,
                  f"slawatch_build_info {info}, want a version label from {version}")
            print(f"checked in {time.monotonic() - t0:.1f}s")
        finally:
            if prom_proc is not None:
                prom_proc.terminate()
                try:
                    prom_proc.wait(15)
                except subprocess.TimeoutExpired:
                    prom_proc.kill()
                    prom_proc.wait()
            prom_log.close()
            rc = d.stop()
            check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log ---\n" + d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: Prometheus sees what was pushed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
