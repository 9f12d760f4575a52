#!/usr/bin/env python3
"""A label value forgotten after by_idle leaves /metrics, its counters included; if it comes
back, its counters start again from 0 (docs/metrics.md, rules/README.md "Ageing").

Usage: test_serve_by_idle.py SLAWATCH

slawatch serve runs with Debian's libfaketime preloaded, its clock the real one plus an offset
read from a file the test rewrites (0 at first). The rules judge api per route (by_idle 1h) and
web as one SLO. The test remote-writes counters for two routes of api and for web (each from 0:
its increase is its last value) and waits until /metrics counts them
(slawatch_requests_total{service="api",route=...}, {service="web"}). Then the clock jumps
3,700 s ahead: more than by_idle after the routes' last data, so both are forgotten and
/api/v1/status lists no route. /metrics must then have no series naming a route, and web's
counter, a plain service's, must stand as it was. Last, route /a comes back with a new counter
run: its slawatch_requests_total is that run's increase alone, counted from 0.
"""
import math
import os
import sys
import tempfile
import time

from serve_util import (FAILURES, LIBFAKETIME, check, Daemon, evaluated_at, scalar_metrics,
                        wait_evaluated, wait_until)
import rw_util

RULES = """version: 1
base_interval: 1s
services:
  - name: api
    by: [route]
    by_idle: 1h
    sli:
      requests: {prometheus: 'http_requests_total{job="api"}'}
      errors: {prometheus: 'http_requests_total{job="api",code=~"5.."}'}
  - name: web
    sli:
      requests: {prometheus: 'http_requests_total{job="web"}'}
      errors: {prometheus: 'http_requests_total{job="web",code=~"5.."}'}
objectives:
  - {name: availability, objective: availability >= 99%, window: 1h}
"""
JUMP_S = 3700  # past by_idle (1h) after the routes' last data, whatever the take delay
FIRST = {("api", "/a"): [0, 7, 19], ("api", "/b"): [0, 100, 250], ("web", None): [0, 30, 42]}
AGAIN = {("api", "/a"): [0, 3, 8]}  # after the jump: a new run of /a's counter


class OffsetClockDaemon(Daemon):
    """The daemon with its clock the real one plus the offset in a file (libfaketime's
    FAKETIME_TIMESTAMP_FILE, read again at every clock call)."""

    def __init__(self, exe, tmp, **kwargs):
        super().__init__(exe, tmp, **kwargs)
        self.offset_path = os.path.join(tmp, "clock-offset")
        self.offset_s = 0
        self.set_offset(0)

    def set_offset(self, seconds):
        with open(self.offset_path + ".new", "w") as f:
            f.write(f"+{seconds}s\n")
        os.replace(self.offset_path + ".new", self.offset_path)
        self.offset_s = seconds

    def now(self):
        return time.time() + self.offset_s

    def start(self, timeout=20):
        return super().start(timeout, env=dict(
            os.environ, LD_PRELOAD=LIBFAKETIME, FAKETIME_DONT_FAKE_MONOTONIC="1",
            FAKETIME_TIMESTAMP_FILE=self.offset_path, FAKETIME_NO_CACHE="1"))


def write_counters(d, sent):
    """Remote-write each counter, one sample per interval from the daemon's next whole second
    but one; returns the end of the last interval (the daemon's epoch seconds)."""
    first = (math.floor(d.now()) + 2) * 1000
    starts = [first + k * 1000 for k in range(3)]
    series = []
    for (job, route), values in sent.items():
        labels = [("__name__", "http_requests_total"), ("job", job), ("code", "200")]
        labels += [("route", route)] if route else []
        series.append((labels, [(float(v), s + 500) for v, s in zip(values, starts)]))
    status, _, body = d.post("/api/v1/write", rw_util.body(series), headers=rw_util.HEADERS)
    check(status == 204, f"remote write: HTTP {status} {body[:200]!r}, want 204")
    return starts[-1] / 1000 + 1


def metrics(d):
    _, _, body = d.get("/metrics")
    return scalar_metrics(body.decode())


def requests_total(m, job, route):
    labels = {("service", job)} | ({("route", route)} if route else set())
    return m.get(("slawatch_requests_total", frozenset(labels)))


def route_series(m):
    """Every /metrics series naming a route, or with a service label that is no service's
    name (a value's key, api + 0x1F + route=...)."""
    return [(name, dict(labels)) for (name, labels) in m
            if any(k == "route" or (k == "service" and v not in ("api", "web"))
                   for k, v in labels)]


def routes_in_status(d):
    _, doc = d.get_json("/api/v1/status")
    return [s["labels"] for s in doc["services"] if "labels" in s]


def main():
    slawatch = sys.argv[1]
    if not os.access(LIBFAKETIME, os.R_OK):
        print(f"FAIL: {LIBFAKETIME} is missing (Debian package libfaketime)")
        return 1
    with tempfile.TemporaryDirectory(prefix="sw-by-idle-") as tmp:
        d = OffsetClockDaemon(slawatch, tmp, rules=RULES,
                              extra_config="remote_write_receiver:\n  enabled: true\n")
        try:
            d.start()
            wait_evaluated(d, write_counters(d, FIRST), "slawatch to evaluate past the write")
            want = {k: v[-1] - v[0] for k, v in FIRST.items()}
            wait_until("every counter on /metrics",
                       lambda: {k: requests_total(metrics(d), *k) for k in FIRST} == want)
            last_data = evaluated_at(d)
            d.set_offset(JUMP_S)
            wait_until("the routes forgotten after by_idle", lambda: evaluated_at(d) >
                       last_data + 3600 and routes_in_status(d) == [], timeout=30)
            m = metrics(d)
            check(route_series(m) == [],
                  f"/metrics still names forgotten routes: {route_series(m)[:6]}")
            check(requests_total(m, "web", None) == want[("web", None)],
                  f"web's requests_total {requests_total(m, 'web', None)}, "
                  f"want {want[('web', None)]} (a plain service's counter stays)")
            back = write_counters(d, AGAIN)
            wait_until("slawatch to evaluate past /a's return", lambda: evaluated_at(d) >= back)
            again = AGAIN[("api", "/a")][-1] - AGAIN[("api", "/a")][0]
            wait_until("/a counted again", lambda: requests_total(metrics(d), "api", "/a")
                       is not None)
            got = requests_total(metrics(d), "api", "/a")
            check(got == again, f"/a's requests_total after its return {got}, want {again} "
                  f"(from 0, not on top of the {want[('api', '/a')]} it had when forgotten)")
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print(d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: a forgotten route leaves /metrics and comes back from 0")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
