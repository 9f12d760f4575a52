#!/usr/bin/env python3
"""Reloading an organisation's rules in a running daemon leaves no gap in /metrics or the gate.

Usage: test_serve_reload_large.py SLAWATCH [FILES SERVICES]   (defaults 200 files, 2,000 services)

The rules are a profiles file and FILES - 1 teams' files (`rules_files: ['rules.d/*.yaml']`)
with SERVICES pushed services in all, each using a profile. Two services get traffic. While two
threads ask /metrics and the gate of a service with traffic in a loop, the test reloads the
whole set again and again, alternating SIGHUP and POST /-/reload, each time with that
service's availability target changed in its team's file, and waits (bounded) until
/api/v1/status judges by the new target. Every answer of the pollers must be whole: /metrics
200 with the service's series, the gate 200 with a verdict; none may fail or time out. The
reloads go on (at most 16) until each poller has had answers to requests sent while a POST
/-/reload was in progress, and at least two of each kind were done.
"""
import os
import signal
import sys
import tempfile
import threading
import time

from serve_util import (FAILURES, Daemon, check, http, push_intervals, scalar_metrics,
                        wait_until)

PROFILES = """version: 1
base_interval: 1s
min_requests: 10
profiles:
  tier1:
    objectives:
      - {name: availability, objective: availability >= 99.5%, window: 1h}
      - {name: latency_p99, objective: p99 <= 300ms, window: 1h}
    alerts:
      - {name: BurnFast, burn_rate: 14.4, objective: availability, long: 1h, short: 5m}
    gate: {window: 5m, min_requests: 10, checks: [error_rate <= 1%, p99 <= 300ms]}
  batch:
    objectives:
      - {name: availability, objective: availability >= 99%, window: 1h}
"""
SLI = "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
WATCHED = "svc-00000"
TRAFFIC = {"requests": 100, "errors": 0, "latency_us": [20000] * 10}


def team_file(services, target=None):
    text = "version: 1\nservices:\n"
    for i in services:
        name = f"svc-{i:05d}"
        text += f"  - name: {name}\n{SLI}    profile: {'tier1' if i % 2 == 0 else 'batch'}\n"
        if name == WATCHED and target is not None:
            text += ("    objectives:\n"
                     f"      - {{name: availability, objective: availability >= {target}%, "
                     "window: 1h}\n")
    return text


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)  # a reload never reads half a file


class Poller(threading.Thread):
    """Asks one URL in a loop until stopped; keeps (sent, answered) times and every failure."""

    def __init__(self, name, url, whole):
        super().__init__(daemon=True)
        self.name, self.url, self.whole = name, url, whole
        self.spans, self.failures = [], []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            sent = time.monotonic()
            try:
                status, _, body = http("GET", self.url, timeout=30)
                problem = None if status == 200 and self.whole(body) else \
                    f"HTTP {status} {body[:200]!r}"
            except OSError as e:
                problem = f"no answer: {e!r}"
            self.spans.append((sent, time.monotonic()))
            if problem:
                self.failures.append(problem)

    def sent_during(self, start, end):
        return sum(1 for sent, _ in self.spans if start <= sent <= end)


def target_of(d):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        return None
    for s in doc["services"]:
        if s["name"] == WATCHED:
            return next((o["target"] for o in s["objectives"] if o["name"] == "availability"),
                        None)
    return None


def reloads(d):
    return scalar_metrics(d.get("/metrics")[2].decode()).get(("slawatch_reloads_total",
                                                              frozenset()))


def main():
    exe = sys.argv[1]
    n_files = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    n_services = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    with tempfile.TemporaryDirectory(prefix="sw-reload-large-") as tmp:
        rules_d = os.path.join(tmp, "rules.d")
        os.mkdir(rules_d)
        write(os.path.join(rules_d, "00-profiles.yaml"), PROFILES)
        teams = [list(range(k, n_services, n_files - 1)) for k in range(n_files - 1)]
        for k, services in enumerate(teams):
            write(os.path.join(rules_d, f"team-{k:03d}.yaml"), team_file(services))
        watched_file = os.path.join(rules_d, "team-000.yaml")
        d = Daemon(exe, tmp, rules="unused: the daemon reads rules.d\n")
        with open(d.config_path, "w") as f:
            f.write(f"listen: 127.0.0.1:{d.port}\ndata_dir: {d.data}\n"
                    "rules_files: ['rules.d/*.yaml']\nlog_level: info\n")
        pollers = []
        try:
            d.start(timeout=60)
            push_intervals(d, lambda k: [{"service": s, **TRAFFIC}
                                         for s in (WATCHED, "svc-00001")], 2)
            series = f'slawatch_requests_total{{service="{WATCHED}"}}'.encode()
            pollers = [Poller("/metrics", d.url + "/metrics", lambda b: series in b),
                       Poller("gate", f"{d.url}/api/v1/gate?service={WATCHED}",
                              lambda b: b'"verdict":' in b.replace(b" ", b""))]
            for p in pollers:
                p.start()
            done = {"sighup": 0, "post": 0}
            post_spans = []
            for n in range(16):
                target = round(99.0 + 0.05 * (n + 1), 2)
                write(watched_file, team_file(teams[0], target))
                if n % 2 == 0:
                    before = reloads(d)
                    d.proc.send_signal(signal.SIGHUP)
                    wait_until("the SIGHUP reload", lambda: reloads(d) == before + 1, 60)
                    done["sighup"] += 1
                else:
                    start = time.monotonic()
                    status, _, body = d.post("/-/reload")
                    post_spans.append((start, time.monotonic()))
                    check(status == 200, f"POST /-/reload: HTTP {status} {body!r}")
                    done["post"] += 1
                wait_until(f"availability >= {target}% in force",
                           lambda: target_of(d) is not None and
                           abs(target_of(d) - target / 100) < 1e-12, 60)
                overlapped = all(any(p.sent_during(a, b) for a, b in post_spans) for p in pollers)
                if overlapped and min(done.values()) >= 2:
                    break
            for p in pollers:
                p.stopping.set()
                p.join(60)
            for p in pollers:
                check(not p.failures, f"{p.name}: {len(p.failures)} of {len(p.spans)} answers "
                                      f"failed, first: {p.failures[:3]}")
                check(any(p.sent_during(a, b) for a, b in post_spans),
                      f"{p.name}: no request sent during any of {len(post_spans)} reloads")
            check(min(done.values()) >= 2, f"reloads done: {done}")
            print(f"reloads {done}, answers: " +
                  ", ".join(f"{p.name} {len(p.spans)}" for p in pollers))
        finally:
            for p in pollers:
                p.stopping.set()
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    if FAILURES:
        return 1
    print(f"ok: {n_services} services in {n_files} files reloaded with no gap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
