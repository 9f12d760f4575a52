#!/usr/bin/env python3
"""One SLO per label value: a service with `by: [route]` judged route by route.

Usage: test_serve_by.py SLAWATCH

slawatch serve (base interval 1s, the remote-write receiver on) judges `checkout` per value of
`route`, at most two values (by_limit: 2), availability >= 99 %. The test remote-writes, stamped
in intervals still open, the request counters of two routes with values it chooses: /pay ends
with 1005 requests of which 5 failed (99.5 %: met), /cart with 1000 of which 50 failed (95 %:
missed); each counter starts at 0, so its increase is its last value whichever way a new
series is counted. Then a third route, /extra, which the cap refuses. Each route must show with
its own numbers, computed here from what was sent (requests, errors, the error budget left of
the hour so far): in /api/v1/status (an entry per route, "labels": {"route": ...}), in /metrics
(route="..." on its objective series) and from the gate (its availability check's measure;
?service=checkout&route=/cart fails, /pay passes, and without route the gate answers for the
worst route and names it). /extra must appear nowhere, and its samples must be
counted in slawatch_label_values_refused_total{service="checkout",label="route"}: one per SLI
each sample was for (a 5xx sample is a request and an error). After a restart each route's
requests and budget are rebuilt from the store (a pushed batch, which carries no route, having
been refused), and the month's report (JSON) lists checkout
once per route ("checkout route=/pay") with that route's requests and errors.
"""
import json
import math
import subprocess
import sys
import tempfile
import time
import urllib.parse

from serve_util import FAILURES, check, Daemon, scalar_metrics, wait_evaluated, wait_until
import rw_util

RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: checkout
    by: [route]
    by_limit: 2
    sli:
      requests: {prometheus: 'http_requests_total{job="shop"}'}
      errors: {prometheus: 'http_requests_total{job="shop",code=~"5.."}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
gate:
  window: 1h
  checks:
    - availability >= 99%
"""
N = 25  # intervals of traffic after the first sample (coverage stays >= 90 % while checked)


def cumulative(per_interval):
    """A counter starting at 0, increased by per_interval(k) in interval k."""
    out = [0]
    for k in range(N):
        out.append(out[-1] + per_interval(k))
    return out


# Counters per route and code, one sample per interval.
ROUTES = {
    "/pay": {"200": cumulative(lambda k: 40), "500": cumulative(lambda k: k % 5 == 0)},
    "/cart": {"200": cumulative(lambda k: 38), "500": cumulative(lambda k: 2)},
}
EXTRA = {"/extra": {"200": cumulative(lambda k: 1), "500": cumulative(lambda k: 1)}}
TARGET = 0.99


def write(d, routes, starts):
    series = []
    for route, codes in routes.items():
        for code, values in codes.items():
            labels = [("__name__", "http_requests_total"), ("job", "shop"), ("route", route),
                      ("code", code)]
            series.append((labels, [(float(v), s + 500) for v, s in zip(values, starts)]))
    status, _, body = d.post("/api/v1/write", rw_util.body(series), headers=rw_util.HEADERS)
    check(status == 204, f"remote write: HTTP {status} {body[:200]!r}, want 204")


def truth(codes):
    """(requests, errors, availability) from the counters sent: last value minus first."""
    errors = codes["500"][-1] - codes["500"][0]
    requests = codes["200"][-1] - codes["200"][0] + errors
    return requests, errors, 1 - errors / requests


def status_by_route(d):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        return {}
    return {s.get("labels", {}).get("route"): s for s in doc["services"] if s["name"] == "checkout"}


def gate(d, route=None):
    q = {"service": "checkout"}
    if route is not None:
        q["route"] = route
    status, doc = d.get_json("/api/v1/gate?" + urllib.parse.urlencode(q))
    check(status == 200, f"gate {q}: HTTP {status} {doc}")
    return doc if status == 200 else {}


def check_routes(d):
    got = status_by_route(d)
    check(set(got) == set(ROUTES), f"status lists routes {sorted(got, key=str)}, want "
                                   f"{sorted(ROUTES)} (and not /extra)")
    metrics = scalar_metrics(d.get("/metrics")[2].decode())
    for route, codes in ROUTES.items():
        requests, errors, avail = truth(codes)
        left = 1 - (1 - avail) / (1 - TARGET)  # the error budget left of the window so far
        obj = {o["name"]: o for o in got.get(route, {}).get("objectives", [])}.get("availability")
        check(obj is not None and obj["samples"] == requests
              and math.isclose(obj["budget_remaining"], left, rel_tol=1e-9),
              f"status {route}: {obj}, want {requests} requests, budget left {left}")
        labels = frozenset({("service", "checkout"), ("route", route),
                            ("objective", "availability"), ("window", "1h")})
        m = metrics.get(("slawatch_error_budget_remaining_ratio", labels))
        check(m is not None and math.isclose(m, left, rel_tol=1e-9),
              f"/metrics slawatch_error_budget_remaining_ratio{{route={route}}} {m}, want {left}")
        g = gate(d, route)
        want = "pass" if avail >= TARGET else "fail"
        measured = [c.get("measured") for c in g.get("checks", [])]
        check(g.get("verdict") == want and len(measured) == 1
              and math.isclose(measured[0], avail, rel_tol=1e-9),
              f"gate route={route}: {g.get('verdict')} {measured} ({g.get('reason')}), want "
              f"{want} at {avail}")
    worst = min(ROUTES, key=lambda r: truth(ROUTES[r])[2])
    g = gate(d)
    check(g.get("verdict") == "fail" and worst in g.get("reason", ""),
          f"gate without route: {g.get('verdict')} ({g.get('reason')}), want fail naming {worst}")
    for name in metrics:
        check(("route", "/extra") not in name[1], f"/metrics shows /extra: {name}")
    return metrics


def check_report(d):
    """The month's report lists checkout once per route, with that route's counts."""
    month = time.strftime("%Y-%m", time.gmtime())
    status, doc = d.get_json(f"/api/v1/report?month={month}&format=json")
    check(status == 200, f"report: HTTP {status} {doc}")
    got = {s["name"]: (s.get("requests"), s.get("errors")) for s in doc.get("services", [])}
    want = {f"checkout route={r}": truth(c)[:2] for r, c in ROUTES.items()}
    check(got == want, f"report services {got}, want {want}")


def check_whatif(slawatch, d, first_ms):
    """`slawatch eval --data` over the stopped daemon's store judges each route on its own."""
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    hour = 3600  # eval's spans are whole hours
    start = first_ms // 1000 - first_ms // 1000 % hour
    span = ["--from", stamp(start), "--to", stamp(start + hour * math.ceil((time.time() - start + 1) / hour))]
    p = subprocess.run([slawatch, "eval", "--rules", d.rules_path, "--data", d.data, *span,
                        "--json"], capture_output=True, text=True, timeout=60)
    if not check(p.returncode == 0, f"eval --data: exit {p.returncode}: {p.stderr}"):
        return
    got = {s.get("labels", {}).get("route"): s for s in json.loads(p.stdout)["services"]
           if s["name"] == "checkout"}
    check(set(got) == set(ROUTES), f"eval --data lists routes {sorted(got, key=str)}, want "
                                   f"{sorted(ROUTES)}")
    for route, codes in ROUTES.items():
        requests, _, avail = truth(codes)
        left = 1 - (1 - avail) / (1 - TARGET)  # the span's error budget left
        obj = {o["name"]: o for o in got.get(route, {}).get("objectives", [])}.get("availability")
        check(obj is not None and obj["samples"] == requests
              and math.isclose(obj["budget_remaining"], left, rel_tol=1e-9),
              f"eval --data {route}: {obj}, want {requests} requests, budget left {left}")


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-by-") as tmp:
        d = Daemon(slawatch, tmp, rules=RULES,
                   extra_config="remote_write_receiver:\n  enabled: true\n")
        try:
            d.start()
            first = (math.floor(time.time()) + 2) * 1000
            starts = [first + k * 1000 for k in range(N + 1)]
            write(d, ROUTES, starts)
            write(d, EXTRA, starts)
            # A pushed batch carries no route: refused whole, naming why.
            status, body = d.ingest({"service": "checkout", "requests": 10})
            check(status == 400 and b"judged per value of route" in body,
                  f"push to checkout: HTTP {status} {body!r}, want 400")
            wait_evaluated(d, starts[-1] / 1000 + 1, "slawatch to evaluate past the writes")
            wait_until("both routes in /api/v1/status", lambda: set(status_by_route(d)) ==
                       set(ROUTES))
            metrics = check_routes(d)
            refused = metrics.get(("slawatch_label_values_refused_total",
                                   frozenset({("service", "checkout"), ("label", "route")})))
            want = sum(len(v) * (2 if code == "500" else 1)
                       for codes in EXTRA.values() for code, v in codes.items())
            check(refused == want, f"slawatch_label_values_refused_total {refused}, want {want}")
            tracked = metrics.get(("slawatch_label_values",
                                   frozenset({("service", "checkout"), ("label", "route")})))
            check(tracked == len(ROUTES), f"slawatch_label_values {tracked}, want {len(ROUTES)}")
            # A restart starts each route's windows from the checkpoint written at the stop.
            check(d.stop() == 0, "slawatch serve did not exit 0 on SIGTERM")
            d.start()
            want = {r: truth(c)[0] for r, c in ROUTES.items()}
            starts_logged = lambda: [l for l in d.log_text().splitlines()
                                     if "evaluator loaded" in l or "evaluator rebuilt" in l]
            wait_until("the restart's start line", lambda: len(starts_logged()) == 2)
            check("evaluator loaded from its checkpoint" in starts_logged()[-1],
                  f"the restart did not start from the checkpoint: {starts_logged()}")
            wait_until("each route's requests rebuilt after a restart",
                       lambda: {r: s["objectives"][0]["samples"]
                                for r, s in status_by_route(d).items()} == want)
            for route, codes in ROUTES.items():
                obj = status_by_route(d)[route]["objectives"][0]
                left = 1 - (1 - truth(codes)[2]) / (1 - TARGET)
                check(math.isclose(obj["budget_remaining"], left, rel_tol=1e-9),
                      f"after the restart, {route}: budget left {obj['budget_remaining']}, "
                      f"want {left}")
            check_report(d)
            check(d.stop() == 0, "slawatch serve did not exit 0 on SIGTERM")
            check_whatif(slawatch, d, starts[0])
        finally:
            rc = d.stop()  # None: stopped already
            check(rc in (0, None), f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log ---\n" + d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: checkout judged per route, the cap counted")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
