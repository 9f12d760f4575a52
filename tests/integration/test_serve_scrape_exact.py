#!/usr/bin/env python3
"""`slawatch serve` scraping simulated targets whose exact truth the test knows.

Usage: test_serve_scrape_exact.py SLAWATCH

Late answers: eight targets (one server, eight `instance` labels, so eight scrape slots spread over
the second) answer every scrape 0.9 s after it starts, within the 1 s scrape_timeout, so most
answers arrive after the 1 s base interval their scrape started in has ended (the default
ingest_delay 0s). Each serves the same request counter; the test steps it only after every
target has been scraped twice (the first scrape of a target is its baseline), and waits until
the daemon has evaluated well past the last step. Every request the targets counted must be
stored: eight times the counter's increase, none late or lost.

New series and restarts: one target answers OpenMetrics with `process_start_time_seconds`.
After slawatch has its baselines, a `code="504"` series appears (no `_created`: it was absent
from the previous scrape) and a `code="202"` series with a fresh `_created`; then the process
"restarts" with counters already above the old ones (a new start time and new `_created`).
Every request the target counted after slawatch's first scrape must be stored, with the
restart's new values taken whole.
"""
import math
import os
import sqlite3
import sys
import tempfile
import threading
import time

from scrape_util import Reply, TargetServer, metric
from serve_util import FAILURES, check, Daemon, scalar_metrics, wait_evaluated, wait_until

RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: app
    sli:
      requests: {prometheus: 'app_requests_total{job="app"}'}
      errors: {prometheus: 'app_requests_total{job="app",code=~"5.."}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""
SLOTS = 8
DELAY_S = 0.9


def stored_totals(data_dir, service):
    """(requests, errors) summed over every stored base interval of service."""
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'slawatch.db')}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT COALESCE(SUM(i.requests), 0), COALESCE(SUM(i.errors), 0) FROM intervals i "
            "JOIN series s ON s.id = i.series_id WHERE s.service = ? AND i.resolution_ms = 1000",
            (service,)).fetchone()
    finally:
        con.close()
    return tuple(row)


def scrape_config(address, slots):
    lines = ["scrape_configs:", "  - job_name: app", "    scrape_interval: 1s",
             "    scrape_timeout: 1s", "    static_configs:"]
    for k in range(slots):
        lines += [f"      - targets: ['{address}']", f"        labels: {{instance: 'slot{k}'}}"]
    return "\n".join(lines) + "\n"


def run_late(slawatch, tmp):
    lock = threading.Lock()
    state = {"ok": 500, "err": 5}

    def text(path, headers):
        with lock:
            body = ("# TYPE app_requests_total counter\n"
                    f'app_requests_total{{code="200"}} {state["ok"]}\n'
                    f'app_requests_total{{code="503"}} {state["err"]}\n')
        return Reply(body, delay_s=DELAY_S)

    srv = TargetServer(text)
    d = Daemon(slawatch, os.path.join(tmp, "late"), extra_config=scrape_config(srv.address, SLOTS),
               rules=RULES)
    try:
        d.start()
        t0 = time.time()
        wait_until("two scrapes of every slot",
                   lambda: len(srv.hits_by("slawatch/", since=t0)) >= 2 * SLOTS + SLOTS, 30)
        steps = 0
        end = time.time() + 6
        while time.time() < end:
            with lock:
                state["ok"] += 7
                state["err"] += 1 if steps % 3 == 0 else 0
            steps += 1
            time.sleep(0.13)
        last_change = time.time()
        with lock:
            want = (SLOTS * (state["ok"] - 500 + state["err"] - 5), SLOTS * (state["err"] - 5))
        # Two more scrapes of every slot see the final values; then those intervals close.
        wait_until("two scrapes of every slot after the last step",
                   lambda: len(srv.hits_by("slawatch/", since=last_change)) >= 3 * SLOTS, 30)
        wait_evaluated(d, math.ceil(time.time()) + 1)
        metrics = scalar_metrics(d.get("/metrics")[2].decode())
        ups = [metric(metrics, "slawatch_scrape_up", job="app", instance=f"slot{k}")
               for k in range(SLOTS)]
        check(all(u == 1 for u in ups), f"slawatch_scrape_up per slot {ups}, want all 1")
        got = stored_totals(d.data, "app")
        check(got == want, f"stored (requests, errors) {got}, the targets counted {want} "
              f"({steps} steps over {SLOTS} slots answering {DELAY_S}s after each scrape)")
        late = metric(metrics, "slawatch_ingest_late_values_total")
        check(late == 0, f"slawatch_ingest_late_values_total {late}, want 0")
        print(f"late answers: stored {got}, want {want}")
    finally:
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
        srv.close()
        if FAILURES:
            print("--- slawatch log ---\n" + d.log_text()[-3000:])


OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"


class Process:
    """The target's counters: {code: [value, _created or None]} and its start time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.start = time.time() - 3600
        self.series = {"200": [1000, self.start]}

    def text(self, path, headers):
        with self.lock:
            out = ["# TYPE process_start_time_seconds gauge",
                   f"process_start_time_seconds {self.start:.3f}",
                   "# TYPE app_requests counter"]
            for code, (v, created) in sorted(self.series.items()):
                out.append(f'app_requests_total{{code="{code}"}} {v}')
                if created is not None:
                    out.append(f'app_requests_created{{code="{code}"}} {created:.3f}')
        return Reply("\n".join(out + ["# EOF"]) + "\n", ctype=OM)


def run_new_series(slawatch, tmp):
    p = Process()
    srv = TargetServer(p.text)
    d = Daemon(slawatch, os.path.join(tmp, "new"), extra_config=scrape_config(srv.address, 1),
               rules=RULES)

    def scrapes_after(t, n):
        wait_until(f"{n} scrapes", lambda: len(srv.hits_by("slawatch/", since=t)) >= n, 20)

    try:
        d.start()
        scrapes_after(0, 2)
        with p.lock:  # the incident: new series on a target already scraped
            p.series["200"][0] += 10
            p.series["504"] = [7, None]
            p.series["202"] = [5, time.time()]
        scrapes_after(time.time(), 2)
        with p.lock:  # the restart: every counter starts over and is already above the old
            now = time.time()
            p.start = now
            p.series = {"200": [1500, now], "504": [3, None], "202": [6, now]}
        scrapes_after(time.time(), 2)
        want = (10 + 7 + 5 + 1500 + 3 + 6, 7 + 3)
        wait_evaluated(d, math.ceil(time.time()) + 1)
        got = stored_totals(d.data, "app")
        check(got == want, f"stored (requests, errors) {got}, the target counted {want}")
        metrics = scalar_metrics(d.get("/metrics")[2].decode())
        started = {r: metric(metrics, "slawatch_prometheus_series_started_total", reason=r)
                   for r in ("created", "absent")}
        check(started == {"created": 1, "absent": 1},
              f"slawatch_prometheus_series_started_total {started}, want created 1, absent 1")
        print(f"new series and restarts: stored {got}, want {want}")
    finally:
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
        srv.close()
        if FAILURES:
            print("--- slawatch log ---\n" + d.log_text()[-3000:])


def main():
    with tempfile.TemporaryDirectory(prefix="sw-exact-") as tmp:
        for sub in ("late", "new"):
            os.makedirs(os.path.join(tmp, sub))
        run_late(sys.argv[1], tmp)
        run_new_series(sys.argv[1], tmp)
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
