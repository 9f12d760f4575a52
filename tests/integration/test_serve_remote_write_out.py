#!/usr/bin/env python3
"""`slawatch serve` pushing its SLI series to a real Prometheus over remote write.

Usage: test_serve_remote_write_out.py SLAWATCH

Starts Prometheus 2.42 (Debian `prometheus`) with --web.enable-remote-write-receiver and
--enable-feature=native-histograms, and the daemon (base interval 1s) with a remote_write entry
pointing at it. Pushes known traffic through POST /api/v1/ingest, then checks through
Prometheus' query API that the request and error counters equal what was pushed and that a
latency quantile of the native histogram lies within the schema-8 bucket of the true quantile
of the pushed values. Then stops Prometheus, pushes more traffic while it is down, starts it
again on the same data directory and checks that the queued samples arrive (the counters'
increase equals the second push) with nothing dropped. Fails when prometheus is
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

from serve_util import (
    FAILURES, check, Daemon, free_port, http, push_intervals, scalar_metrics, wait_until,
)

PROMETHEUS = "/usr/bin/prometheus"
# Per interval: (service, env) -> (requests, errors, latency values in microseconds).
TRAFFIC = {
    ("api", "blue"): (1000, 5, [2000, 7000, 20000, 40000, 80000, 200000, 240000, 400000,
                                800000, 2000000]),
    ("api", "green"): (500, 50, [3000, 3000, 30000, 600000]),
    ("web", None): (2000, 0, [1500, 12000, 130000]),
}
FIRST, SECOND = 4, 3  # intervals pushed while Prometheus is up, then while it is down
# One schema-8 bucket spans a factor 2^(1/256); HDR's 3 digits add 0.1 % at most.
BUCKET_FACTOR = 2 ** (1 / 256) * 1.001



class Prometheus:
    def __init__(self, tmp):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tsdb = os.path.join(tmp, "tsdb")
        self.cfg = os.path.join(tmp, "prometheus.yml")
        self.log_path = os.path.join(tmp, "prometheus.log")
        with open(self.cfg, "w") as f:
            f.write("global:\n  evaluation_interval: 1s\n")
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.cfg}", f"--storage.tsdb.path={self.tsdb}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
             "--enable-feature=native-histograms"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until("prometheus /-/ready", lambda: self.proc.poll() is None and
                   http("GET", self.url + "/-/ready")[0] == 200, 30)

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def query(self, q):
        status, _, body = http("GET", f"{self.url}/api/v1/query?" +
                               urllib.parse.urlencode({"query": q}))
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise ValueError(f"query {q}: HTTP {status} {body[:300]!r}")
        return doc["data"]["result"]

    def value(self, q):
        r = self.query(q)
        if len(r) != 1:
            raise ValueError(f"query {q}: {len(r)} series, want 1: {r}")
        return float(r[0]["value"][1])


def sel(service, env):
    labels = [f'service="{service}"'] + ([f'env="{env}"'] if env else []) + ['shard="t1"']
    return "{" + ",".join(labels) + "}"


def batches(k):
    out = []
    for (service, env), (req, err, lat) in TRAFFIC.items():
        batch = {"service": service, "requests": req, "errors": err, "latency_us": lat}
        if env:
            batch["env"] = env
        out.append(batch)
    return out


def wait_delivered(prom, intervals):
    """Until Prometheus' newest sample of every series counts `intervals` intervals' traffic."""
    def delivered():
        for (service, env), (req, _, _) in TRAFFIC.items():
            r = prom.query("slawatch_requests_total" + sel(service, env))
            if len(r) != 1 or float(r[0]["value"][1]) < req * intervals:
                return False
        return True
    wait_until(f"Prometheus to hold {intervals} intervals", delivered, 40, 0.25)


def check_counters(prom, intervals):
    for (service, env), (req, err, _) in TRAFFIC.items():
        got = prom.value("slawatch_requests_total" + sel(service, env))
        check(got == req * intervals, f"{service}/{env}: requests {got}, want {req * intervals}")
        got = prom.value("slawatch_request_errors_total" + sel(service, env))
        check(got == err * intervals, f"{service}/{env}: errors {got}, want {err * intervals}")


def check_quantiles(prom, intervals):
    """Each quantile from the raw native histogram against the pushed values' true quantile
    (nearest rank): Prometheus interpolates inside the bucket holding it."""
    for (service, env), (_, _, lat) in TRAFFIC.items():
        values = sorted(v / 1e6 for v in lat * intervals)
        for q in (0.5, 0.9, 0.99):
            true = values[max(0, math.ceil(q * len(values)) - 1)]
            got = prom.value(f"histogram_quantile({q}, slawatch_request_duration_seconds"
                             f"{sel(service, env)})")
            check(true / BUCKET_FACTOR <= got <= true * BUCKET_FACTOR,
                  f"{service}/{env}: p{q * 100:g} {got}, true {true} (one bucket either side)")
        count = prom.value(f"histogram_count(slawatch_request_duration_seconds"
                           f"{sel(service, env)})")
        check(count == len(values), f"{service}/{env}: histogram count {count}, "
                                    f"want {len(values)}")


def check_rate_quantile(prom):
    """The query a dashboard runs: p99 over rate() of the cumulative histogram. Over the
    window its increase is the later pushes' values, identical per interval."""
    _, _, lat = TRAFFIC[("api", "blue")]
    values = sorted(v / 1e6 for v in lat)
    true = values[math.ceil(0.99 * len(values)) - 1]
    got = prom.value('histogram_quantile(0.99, rate(slawatch_request_duration_seconds'
                     f'{sel("api", "blue")}[5m]))')
    check(true / BUCKET_FACTOR <= got <= true * BUCKET_FACTOR,
          f"api/blue: p99 of rate() {got}, true {true}")


def self_metrics(d):
    _, _, body = d.get("/metrics")
    m = scalar_metrics(body.decode())
    remote = frozenset({("remote", "prom")})
    names = ["sent", "failed", "dropped", "retried"]
    out = {n: m.get((f"slawatch_remote_storage_samples_{n}_total", remote)) for n in names}
    out["queued"] = m.get(("slawatch_remote_storage_queue_samples", remote))
    return out


def main():
    slawatch = sys.argv[1]
    if not os.access(PROMETHEUS, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit(f"{PROMETHEUS} not installed")
    with tempfile.TemporaryDirectory(prefix="sw-rw-") as tmp:
        prom = Prometheus(tmp)
        extra = ("remote_write:\n"
                 f"  - url: {prom.url}/api/v1/write\n"
                 "    name: prom\n"
                 "    headers: {X-Scope-OrgID: team-a}\n"
                 "    external_labels: {shard: t1}\n"
                 "    queue: {capacity: 10000, max_samples_per_send: 500,"
                 " batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}\n")
        d = Daemon(slawatch, tmp, extra_config=extra)
        try:
            prom.start()
            d.start()
            t0 = time.monotonic()
            push_intervals(d, batches, FIRST)
            wait_delivered(prom, FIRST)
            check_counters(prom, FIRST)
            check_quantiles(prom, FIRST)

            prom.stop()
            push_intervals(d, batches, SECOND)
            wait_until("a failed send while Prometheus is down",
                       lambda: (self_metrics(d)["retried"] or 0) > 0 or
                       (self_metrics(d)["queued"] or 0) > 0, 20)
            prom.start()
            wait_delivered(prom, FIRST + SECOND)
            check_counters(prom, FIRST + SECOND)
            check_quantiles(prom, FIRST + SECOND)
            check_rate_quantile(prom)
            m = self_metrics(d)
            check(m["dropped"] == 0 and m["failed"] == 0,
                  f"self-metrics {m}: nothing should be dropped or refused")
            check((m["sent"] or 0) > 0, f"self-metrics {m}: samples sent")
            print(f"checked in {time.monotonic() - t0:.1f}s; self-metrics {m}")
        finally:
            prom.stop()
            rc = d.stop()
            check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log ---\n" + d.log_text()[-4000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: the remote-write receiver holds what was pushed, also across its restart")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
