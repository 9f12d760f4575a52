#!/usr/bin/env python3
"""/metrics names as Prometheus users expect them.

Usage: test_serve_metrics_names.py SLAWATCH

`slawatch serve` with pushed data only (no scrape, remote-write receiver, query or CloudWatch
source, no remote_write): service `web` gets 95 requests of 10 ms and 5 of 900 ms per
interval, so its p95 is 10 ms (nearest rank; HDR keeps 3 significant digits). Then:
- each objective's SLI is in exactly one slawatch_objective_measured family, and each family
  has one unit: the latency objective in `_seconds`, availability in `_ratio`;
- no family of a source that is not configured is exported (as zeros or empty);
- HEAD /metrics answers 200 with GET's Content-Type and no body;
- the latency percentiles are a summary as Prometheus knows them: a real Prometheus (Debian's)
  scraping /metrics stores slawatch_sli_latency_seconds{quantile="0.95"} (10 ms, as above) with
  metadata type summary, and its _count is the 200 latency values pushed.
"""
import json
import sys
import tempfile
import time
import urllib.parse

from serve_util import (FAILURES, check, RULES_HEAD, Daemon, http, promql, push_intervals,
                        scalar_metrics, start_prometheus, stop, wait_until)

RULES = RULES_HEAD + """objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
  - name: latency
    objective: p95 <= 500ms
    window: 1h
"""
UNCONFIGURED = ("slawatch_scrape_", "slawatch_prometheus_", "slawatch_remote_write_",
                "slawatch_remote_storage_", "slawatch_query_", "slawatch_cloudwatch_")


def near(got, want):
    return got is not None and want <= got <= want * 1.001


def run(slawatch, tmp):
    d = Daemon(slawatch, tmp, rules=RULES)
    try:
        d.start()
        push_intervals(d, lambda k: [{"service": "web", "requests": 100, "errors": 0,
                                      "latency_us": [10000] * 95 + [900000] * 5}], 2)
        status, headers, body = d.get("/metrics")
        text = body.decode()
        m = scalar_metrics(text)
        fams = {}
        for (name, labels), v in m.items():
            if name.startswith("slawatch_objective_measured") and dict(labels).get(
                    "service") == "web":
                fams.setdefault(dict(labels)["objective"], []).append(name)
        want = {"availability": ["slawatch_objective_measured_ratio"],
                "latency": ["slawatch_objective_measured_seconds"]}
        check(fams == want, f"objective measured families {fams}, want {want}")
        seconds = [v for (name, labels), v in m.items()
                   if name == "slawatch_objective_measured_seconds"
                   and dict(labels).get("service") == "web"]
        check(len(seconds) == 1 and near(seconds[0], 0.010),
              f"latency objective measured {seconds} s, want p95 0.010 s")
        leftover = sorted({line.split()[2] for line in text.splitlines()
                           if line.startswith("# HELP ") and line.split()[2].startswith(
                               UNCONFIGURED)})
        check(not leftover, f"families of sources not configured: {leftover}")
        hstatus, hheaders, hbody = http("HEAD", d.url + "/metrics")
        check(hstatus == 200 and hbody == b""
              and hheaders.get("Content-Type") == headers.get("Content-Type"),
              f"HEAD /metrics: HTTP {hstatus}, Content-Type {hheaders.get('Content-Type')!r} "
              f"(GET: {headers.get('Content-Type')!r}), {len(hbody)} body bytes")
        check("# TYPE slawatch_sli_latency_seconds summary" in text,
              "slawatch_sli_latency_seconds is not a summary")
        scraped_by_prometheus(d, tmp)
    finally:
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")


def scraped_by_prometheus(d, tmp):
    proc, log, prom = start_prometheus(tmp, f"127.0.0.1:{d.port}")
    try:
        q95 = 'slawatch_sli_latency_seconds{service="web",window="5m",quantile="0.95"}'
        got = wait_until("Prometheus to store the p95 summary quantile",
                         lambda: promql(prom, q95, time.time()), 30)
        check(near(got, 0.010), f"Prometheus {q95} = {got}, want 0.010")
        count = promql(prom, 'slawatch_sli_latency_seconds_count{service="web",window="5m"}',
                       time.time())
        check(count == 200, f"Prometheus slawatch_sli_latency_seconds_count = {count}, want 200")
        query = urllib.parse.urlencode({"metric": "slawatch_sli_latency_seconds"})
        status, _, body = http("GET", f"{prom}/api/v1/metadata?{query}")
        meta = json.loads(body).get("data", {}).get("slawatch_sli_latency_seconds", [])
        check(status == 200 and [m.get("type") for m in meta] == ["summary"],
              f"Prometheus metadata of slawatch_sli_latency_seconds: {meta}")
    finally:
        stop(proc)
        log.close()


def main():
    with tempfile.TemporaryDirectory(prefix="sw-names-") as tmp:
        run(sys.argv[1], tmp)
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
