#!/usr/bin/env python3
"""Two `slawatch serve` shards remote-writing into one VictoriaMetrics (docs/scaling.md).

Usage: test_shards.py SLAWATCH DASHBOARD

Starts Debian's victoria-metrics (store in a temporary directory, no other listeners, no
self-scrape) and two daemons with `shard: {count: 2, index: 0|1}` over the same rules, each
remote-writing to it. The owner of every service is computed here with an independent FNV-1a 64
(the hash docs/scaling.md publishes). The test checks that:
- `slawatch check` lists for each shard exactly the services this hash gives it;
- a shard refuses pushes for a service it does not own and evaluates only its own;
- over PromQL on VictoriaMetrics, each service's availability and p99 (the remote-written SLI
  gauges, and the availability again from the remote-written counters) equal what its shard's
  /api/v1/status reports, which in turn matches the pushed truth;
- each service's series come from exactly one shard, labelled with its `shard`;
- every panel query of the shipped Grafana dashboard returns, over VictoriaMetrics, the series of
  both shards' services, none twice.
Fails (does not skip) when victoria-metrics is missing.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

from serve_util import (
    FAILURES, check, Daemon, evaluated_at, free_port, http, rfc3339, wait_evaluated, wait_until,
)

SLAWATCH, DASHBOARD = sys.argv[1:3]
VM = "/usr/bin/victoria-metrics"
COUNT = 2
# The objectives' window: INTERVALS base intervals, all of them with data whenever the status
# is read (the traffic is pushed AHEAD intervals in advance), so each has a verdict.
WINDOW = "4s"
# /metrics' SLI gauges have their own windows (5m, 1h): over 1h they hold all the traffic, whose
# every interval is the same, so their ratios and p99 equal the objectives' over WINDOW.
SLI_WINDOW = "1h"
P99_LABEL = ',quantile="0.99"'

# Per interval: service -> (requests, errors, latency values in microseconds). api has
# environments, so its series carry env; the others do not.
TRAFFIC = {
    "checkout": (400, 2, [1200, 3400, 9000, 15000, 250000]),
    "search": (1000, 30, [800, 900, 1000, 45000, 90000, 120000]),
    "payments": (300, 0, [20000, 30000, 700000]),
    "catalog": (500, 5, [5000, 6000, 7000, 8000]),
    "login": (250, 25, [60000, 61000, 900000, 2000000]),
    "web": (2000, 1, [1500, 2500, 3500, 130000]),
}
INTERVALS = 4
AHEAD = 40


def fnv1a64(name):
    """FNV-1a 64 of the UTF-8 name, as published (offset basis and prime from the FNV spec)."""
    h = 14695981039346656037
    for b in name.encode("utf-8"):
        h = ((h ^ b) * 1099511628211) % (1 << 64)
    return h


OWNER = {s: fnv1a64(s) % COUNT for s in TRAFFIC}


def rules():
    out = ["version: 1", "base_interval: 1s", "min_requests: 10", "services:"]
    for s in TRAFFIC:
        out += [f"  - name: {s}", "    sli:", "      requests: {push: true}",
                "      errors: {push: true}", "      latency: {push: true}",
                "      health: {push: true}"]
    out += ["objectives:", "  - name: availability", "    objective: availability >= 99%",
            f"    window: {WINDOW}", "  - name: latency", "    objective: p99 <= 1s",
            f"    window: {WINDOW}",
            "alerts:", "  - name: ErrorRateHigh", "    when: error_rate > 5%", "    over: 2s",
            "    severity: critical",
            "rollback_triggers:", "  - name: ErrorSpike", "    when: error_rate > 20%",
            "    over: 2s",
            "gate:", "  window: 10s", "  min_requests: 10", "  checks:",
            "    - error_rate <= 5%"]
    return "\n".join(out) + "\n"


class Victoria:
    def __init__(self, tmp):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(tmp, "victoria.log")
        log = open(self.log_path, "ab")
        # Only the HTTP listener (graphite, influx and opentsdb listeners are off unless
        # given), no self-scrape, the store in tmp; data visible to queries at once.
        self.proc = subprocess.Popen(
            [VM, f"-httpListenAddr=127.0.0.1:{self.port}",
             f"-storageDataPath={os.path.join(tmp, 'vmdata')}", "-selfScrapeInterval=0",
             "-search.latencyOffset=0s", "-search.disableCache", "-retentionPeriod=1y"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until("victoria-metrics /health", lambda: self.alive() and
                   http("GET", self.url + "/health")[0] == 200, 30)

    def alive(self):
        if self.proc.poll() is not None:
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError(f"victoria-metrics exited {self.proc.returncode}:\n"
                                   + f.read()[-2000:])
        return True

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def query(self, q, t):
        http("GET", self.url + "/internal/force_flush")
        status, _, body = http("GET", f"{self.url}/api/v1/query?" +
                               urllib.parse.urlencode({"query": q, "time": f"{t:.3f}"}))
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise ValueError(f"query {q}: HTTP {status} {body[:300]!r}")
        return doc["data"]["result"]

    def value(self, q, t):
        r = self.query(q, t)
        if len(r) != 1:
            raise ValueError(f"query {q}: {len(r)} series, want 1: {r}")
        return float(r[0]["value"][1])


def start_shard(tmp, index, vm):
    d = os.path.join(tmp, f"shard{index}")
    os.mkdir(d)
    extra = (f"shard: {{count: {COUNT}, index: {index}}}\n"
             "remote_write:\n"
             f"  - url: {vm.url}/api/v1/write\n"
             "    external_labels: {cluster: test}\n"
             "    queue: {capacity: 100000, batch_send_deadline: 200ms}\n")
    return Daemon(SLAWATCH, d, rules=rules(), extra_config=extra)


def check_listing(shard, index):
    """`slawatch check` names exactly the services the published hash gives this shard."""
    p = subprocess.run([SLAWATCH, "check", shard.config_path], capture_output=True, text=True)
    check(p.returncode == 0, f"shard {index}: check exit {p.returncode}: {p.stderr}")
    line = [ln for ln in p.stdout.splitlines() if "owns" in ln]
    want = sorted(s for s in TRAFFIC if OWNER[s] == index)
    got = sorted(line[0].split(":", 2)[2].split()) if len(line) == 1 else None
    check(got == want, f"shard {index}: check lists {got}, want {want} ({p.stdout!r})")


def push(shard, index, first):
    """Each shard gets its own services' traffic, the same in each of AHEAD intervals from
    first; a push of another's is refused whole."""
    for k in range(AHEAD):
        at = rfc3339(first + k + 0.5)
        for service, (req, err, lat) in TRAFFIC.items():
            body = {"service": service, "at": at, "requests": req, "errors": err,
                    "latency_us": lat, "probes": [True, True, False, True]}
            status, text = shard.ingest(body)
            if OWNER[service] == index:
                check(status == 200, f"shard {index}: push {service}: HTTP {status} {text!r}")
            else:
                check(400 <= status < 500,
                      f"shard {index}: push of {service} (shard {OWNER[service]}) answered "
                      f"{status}, want a refusal")


def status_of(shard):
    status, doc = shard.get_json("/api/v1/status")
    if status != 200:
        raise OSError(f"/api/v1/status: HTTP {status}")
    return doc


def evaluated_at_of(doc):
    return time.mktime(time.strptime(doc["at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


def stable_status(shard):
    """The status, when no tick came between it and the check of its time."""
    doc = status_of(shard)
    return doc if evaluated_at(shard) == evaluated_at_of(doc) else None


def reported(series):
    """(availability, p99 in seconds) of a status series: its two objectives' measured SLIs
    over WINDOW (latency in microseconds there)."""
    got = {o["name"]: o for o in series["objectives"]}
    for name in ("availability", "latency"):
        if got.get(name, {}).get("window") != WINDOW:
            raise ValueError(f"no {name} objective over {WINDOW} in {series}")
    return got["availability"]["measured"], got["latency"]["measured"] / 1e6


def truth(service):
    req, err, lat = TRAFFIC[service]
    values = sorted(v / 1e6 for v in lat * INTERVALS)
    return 1 - err / req, values[math.ceil(0.99 * len(values)) - 1]


def check_status(index, doc):
    """The shard evaluates its own services, and its numbers are the pushed truth."""
    names = sorted(s["name"] for s in doc["services"])
    want = sorted(s for s in TRAFFIC if OWNER[s] == index)
    check(names == want, f"shard {index}: status has {names}, want {want}")
    for s in doc["services"]:
        avail, p99 = reported(s)
        true_avail, true_p99 = truth(s["name"])
        check(math.isclose(avail, true_avail, rel_tol=1e-9),
              f"{s['name']}: status availability {avail}, pushed {true_avail}")
        # HDR keeps 3 significant digits: its p99 is within 0.1 % of the value.
        check(abs(p99 - true_p99) <= true_p99 * 1e-3,
              f"{s['name']}: status p99 {p99}, pushed {true_p99}")


def sel(service, extra=""):
    return f'{{service="{service}",window="{SLI_WINDOW}"{extra}}}'


def check_store(vm, statuses, at):
    """PromQL over the one store gives each service's numbers as its shard reports them."""
    for index, doc in enumerate(statuses):
        for s in doc["services"]:
            service, (avail, p99) = s["name"], reported(s)
            got = vm.query(f"slawatch_sli_availability_ratio{sel(service)}", at[index])
            check(len(got) == 1 and got[0]["metric"].get("shard") == str(index),
                  f"{service}: availability series {got}, want one from shard {index}")
            if len(got) == 1:
                v = float(got[0]["value"][1])
                check(math.isclose(v, avail, rel_tol=1e-9),
                      f"{service}: PromQL availability {v}, shard {index} reports {avail}")
            q = "slawatch_sli_latency_seconds" + sel(service, P99_LABEL)
            v = vm.value(q, at[index])
            check(math.isclose(v, p99, rel_tol=1e-9),
                  f"{service}: PromQL p99 {v}, shard {index} reports {p99}")
            # The availability again, from the remote-written counters (all traffic is in the
            # window): a receiver-side computation, not the shard's own number.
            c = f'{{service="{service}"}}'
            v = vm.value(f"1 - slawatch_request_errors_total{c} / slawatch_requests_total{c}",
                         at[index])
            check(math.isclose(v, avail, rel_tol=1e-9),
                  f"{service}: availability from counters {v}, shard {index} reports {avail}")


def check_one_shard_each(vm, t):
    r = vm.query("count by (service, shard) (slawatch_requests_total)", t)
    got = sorted((x["metric"]["service"], x["metric"].get("shard")) for x in r)
    want = sorted((s, str(OWNER[s])) for s in TRAFFIC)
    check(got == want, f"(service, shard) pairs in the store {got}, want {want}")


def panel_queries():
    """(title, expr) of every panel target, as tests/grafana/test_dashboard.py reads them,
    with the dashboard's variables at their "All" values."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            e = t["expr"].replace("$service", ".*").replace("$env", ".*")
            out.append((f"{p['title']} {t['refId']}", e.replace("$__rate_interval", "5m")))
    return out


def served_services(shards, expr):
    """Services whose series of expr's metrics a shard serves on its own /metrics."""
    names = {n for n in re.findall(r"slawatch_\w+", expr)}
    names |= {n[: -len(sfx)] for n in names for sfx in ("_bucket",) if n.endswith(sfx)}
    out = set()
    for shard in shards:
        for line in shard.get("/metrics")[2].decode().splitlines():
            m = re.match(r"(slawatch_\w+)\{.*service=\"([^\"]+)\"", line)
            if m and (m.group(1) in names or m.group(1).rsplit("_", 1)[0] in names):
                out.add(m.group(2))
    return out


def check_dashboard(vm, shards, t):
    queries = panel_queries()
    check(len(queries) >= 15, f"{len(queries)} panel queries read from {DASHBOARD}")
    for title, expr in queries:
        r = vm.query(expr, t)
        want = served_services(shards, expr)
        got = sorted(x["metric"].get("service") for x in r)
        check(want == set(TRAFFIC), f"panel {title}: the shards serve {sorted(want)} only")
        check(set(got) == want, f"panel {title}: {expr}\n  services {sorted(set(got))}, "
                                f"want {sorted(want)}")
        keys = [tuple(sorted((k, v) for k, v in x["metric"].items() if k != "shard"))
                for x in r]
        check(len(keys) == len(set(keys)), f"panel {title}: a series twice: {keys}")
        wrong = [x["metric"] for x in r if "shard" in x["metric"]
                 and x["metric"]["shard"] != str(OWNER[x["metric"]["service"]])]
        check(not wrong, f"panel {title}: series from the wrong shard: {wrong}")


def main():
    check(os.access(VM, os.X_OK), f"{VM} is missing: install Debian's victoria-metrics")
    if FAILURES:
        sys.exit(1)
    check(set(OWNER.values()) == set(range(COUNT)), f"both shards own services: {OWNER}")
    with tempfile.TemporaryDirectory() as tmp:
        vm = Victoria(tmp)
        shards = [start_shard(tmp, i, vm) for i in range(COUNT)]
        try:
            for i, shard in enumerate(shards):
                check_listing(shard, i)
                shard.start()
            first = math.floor(time.time()) + 1
            for i, shard in enumerate(shards):
                push(shard, i, first)
            for shard in shards:
                wait_evaluated(shard, first + INTERVALS)
            # A status and its time read together: ticks go on meanwhile.
            at, statuses = [], []
            for shard in shards:
                doc = wait_until("a status read within one tick",
                                 lambda: stable_status(shard), 10)
                statuses.append(doc)
                at.append(evaluated_at_of(doc))
            for i, doc in enumerate(statuses):
                check_status(i, doc)

            def delivered():
                return all(len(vm.query(f"slawatch_sli_availability_ratio{sel(s['name'])}"
                                        f" and timestamp(slawatch_sli_availability_ratio) == "
                                        f"{at[i]:.0f}", at[i])) == 1
                           for i, doc in enumerate(statuses) for s in doc["services"])
            wait_until("the shards' evaluations in victoria-metrics", delivered, 30, 0.2)
            check_store(vm, statuses, at)
            check_one_shard_each(vm, max(at))
            check_dashboard(vm, shards, max(at))
        finally:
            for i, shard in enumerate(shards):
                rc = shard.stop()
                check(rc == 0, f"shard {i} exited {rc}:\n{shard.log_text()[-2000:]}")
            vm.stop()
    print(f"{len(TRAFFIC)} services over {COUNT} shards, {len(panel_queries())} panel queries; "
          + ("ok" if not FAILURES else f"{len(FAILURES)} failures"))
    sys.exit(1 if FAILURES else 0)


main()
