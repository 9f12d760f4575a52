#!/usr/bin/env python3
"""`slawatch serve` ingesting CloudWatch Embedded Metric Format over POST /api/v1/ingest/emf.

Usage: test_serve_emf.py SLAWATCH

One daemon (base interval 1s, gate window 1m, auth token file) with a `push: true` service
with environments (api: metrics Requests/Errors/Latency, dimension set [Service, Env]) and a
service whose SLIs come from `cloudwatch` sources (edge: namespace/metric/dimensions). The
test builds EMF lines by the specification (numbers and arrays, Milliseconds and Seconds),
keeps its own totals of what it sent, and checks:
- auth: 401 without a token or with a wrong one, and nothing applied;
- bad lines (malformed JSON, a string value, a latency without a unit): 400 naming the line,
  and nothing of that request applied (its good lines included);
- the 200 answer's values/lines/unmatched counted by the test (a metric with a different
  dimension set, or in another namespace, is unmatched);
- the store's 1 s intervals hold exactly the requests and errors sent per series;
- the gate (evaluated) reports those requests, error rate errors/requests, and p95/p99 equal to
  the nearest-rank percentiles of the sent latencies within HDR's 3 significant digits.
"""
import json
import math
import os
import random
import sqlite3
import sys
import tempfile
import time

from serve_util import FAILURES, check, Daemon, wait_evaluated

TOKEN = "emf-test-token"
EDGE_NS = "Shop/Edge"
EDGE_DIMS = {"Route": "/checkout", "Stage": "prod"}

RULES = f"""version: 1
base_interval: 1s
services:
  - name: api
    environments: [blue, green]
    sli:
      requests: {{push: true}}
      errors: {{push: true}}
      latency: {{push: true}}
  - name: edge
    sli:
      requests: {{cloudwatch: {{namespace: {EDGE_NS}, metric: Hits, stat: Sum,
                               dimensions: {{Route: /checkout, Stage: prod}}}}}}
      errors: {{cloudwatch: {{namespace: {EDGE_NS}, metric: Faults, stat: Sum,
                             dimensions: {{Route: /checkout, Stage: prod}}}}}}
      latency: {{cloudwatch: {{namespace: {EDGE_NS}, metric: Took, stat: p99,
                              dimensions: {{Route: /checkout, Stage: prod}}}}}}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
gate:
  window: 1m
  min_requests: 1
  checks:
    - error_rate <= 50%
    - p95 <= 60s
    - p99 <= 60s
"""



def emf_line(ts_ms, namespace, dim_names, metrics, members):
    """One EMF document: metrics is [(name, unit or None)], members the top-level values."""
    defs = [{"Name": n} if u is None else {"Name": n, "Unit": u} for n, u in metrics]
    doc = {"_aws": {"Timestamp": ts_ms,
                    "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [dim_names],
                                           "Metrics": defs}]}}
    doc.update(members)
    return json.dumps(doc)


class Sent:
    """What the test sent and the daemon should have applied, per (service, env)."""

    def __init__(self):
        self.req, self.err, self.lat = {}, {}, {}

    def add(self, key, req, err, lat_us):
        self.req[key] = self.req.get(key, 0) + req
        self.err[key] = self.err.get(key, 0) + err
        self.lat.setdefault(key, []).extend(lat_us)


def as_list(v):
    return v if isinstance(v, list) else [v]


def build_body(rng, ts_ms, sent):
    """Good lines for api/blue, api/green and edge, plus unmatched ones. Returns (body, values,
    lines, unmatched) as the test counts them, and records the applied data in sent."""
    lines, values, unmatched = [], 0, 0
    for env in ("blue", "green"):
        for _ in range(6):
            req = [rng.randint(50, 200) for _ in range(rng.randint(1, 3))]
            err = rng.randint(0, 5)
            req_v = req if len(req) > 1 else req[0]
            if rng.random() < 0.5:
                unit, scale = "Milliseconds", 1000
                lat = [round(rng.lognormvariate(3.5, 0.8), 3) for _ in range(rng.randint(1, 40))]
            else:
                unit, scale = "Seconds", 1000000
                lat = [round(rng.lognormvariate(-3.0, 0.8), 6) for _ in range(rng.randint(1, 40))]
            lat_v = lat if len(lat) > 1 else lat[0]
            lines.append(emf_line(ts_ms, "Shop/Api", ["Service", "Env"],
                                  [("Requests", "Count"), ("Errors", None), ("Latency", unit)],
                                  {"Service": "api", "Env": env, "Requests": req_v,
                                   "Errors": err, "Latency": lat_v}))
            us = [round(x * scale) for x in as_list(lat_v)]
            sent.add(("api", env), sum(req), err, us)
            values += 2 + len(us)
    for _ in range(5):
        hits, faults = rng.randint(100, 400), [rng.randint(0, 3), rng.randint(0, 3)]
        took = [round(rng.uniform(0.5, 900.0), 3) for _ in range(rng.randint(5, 100))]
        members = dict(EDGE_DIMS, Hits=hits, Faults=faults, Took=took)
        lines.append(emf_line(ts_ms, EDGE_NS, list(EDGE_DIMS),
                              [("Hits", "Count"), ("Faults", "Count"), ("Took", "Milliseconds")],
                              members))
        sent.add(("edge", ""), hits, sum(faults), [round(x * 1000) for x in took])
        values += 2 + len(took)
    # The same metrics under another dimension set, and in another namespace: other metrics
    # to CloudWatch, so no service takes them (3 metric x directive pairs each).
    lines.append(emf_line(ts_ms, EDGE_NS, ["Route"],
                          [("Hits", None), ("Faults", None), ("Took", "Milliseconds")],
                          {"Route": "/checkout", "Hits": 999, "Faults": 999, "Took": 1.0}))
    lines.append(emf_line(ts_ms, "Other/Ns", list(EDGE_DIMS),
                          [("Hits", None), ("Faults", None), ("Took", "Milliseconds")],
                          dict(EDGE_DIMS, Hits=999, Faults=999, Took=[1.0, 2.0])))
    unmatched += 6
    rng.shuffle(lines)
    return ("\n".join(lines) + "\n").encode(), values, len(lines), unmatched


def check_rejected(d, ts_ms):
    """Requests refused whole: their good lines (a million requests and errors for api/blue)
    must not show in the totals checked later."""
    good = emf_line(ts_ms, "Shop/Api", ["Service", "Env"], [("Requests", None), ("Errors", None)],
                    {"Service": "api", "Env": "blue", "Requests": 1000000, "Errors": 1000000})
    string_value = emf_line(ts_ms, "Shop/Api", ["Service", "Env"], [("Requests", None)],
                            {"Service": "api", "Env": "blue", "Requests": "12"})
    no_unit = emf_line(ts_ms, EDGE_NS, list(EDGE_DIMS), [("Took", None)],
                       dict(EDGE_DIMS, Took=[5.0]))
    cases = [
        ("malformed JSON on line 2", f"{good}\n{good[:-1]}\n{good}\n", 400, "line 2"),
        ("string value on line 3", f"{good}\n\n{string_value}\n", 400, "line 3"),
        ("latency without a unit on line 4", f"{good}\n{good}\n{good}\n{no_unit}", 400,
         "line 4"),
    ]
    for what, body, want, text in cases:
        status, _, resp = d.post("/api/v1/ingest/emf", body.encode())
        check(status == want, f"{what}: HTTP {status}, want {want} ({resp!r})")
        try:
            msg = json.loads(resp).get("error", "")
        except ValueError:
            msg = ""
        check(text in msg, f"{what}: error {resp!r} does not name {text!r}")


def check_auth(d, ts_ms):
    line = emf_line(ts_ms, "Shop/Api", ["Service", "Env"], [("Requests", None)],
                    {"Service": "api", "Env": "green", "Requests": 777777}).encode()
    token, d.token = d.token, None
    for what, headers in (("no token", {}), ("wrong token", {"Authorization": "Bearer nope"})):
        status, _, body = d.post("/api/v1/ingest/emf", line, headers=headers)
        check(status == 401, f"EMF with {what}: HTTP {status} {body!r}, want 401")
    d.token = token


def stored(db_path):
    """{(service, env): (requests, errors)} summed over the store's 1 s intervals."""
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT s.service, s.env, SUM(i.requests), SUM(i.errors) FROM intervals i "
                       "JOIN series s ON s.id = i.series_id WHERE i.resolution_ms = 1000 "
                       "GROUP BY s.service, s.env").fetchall()
    con.close()
    return {(s, e): (r, x) for s, e, r, x in rows}


def nearest_rank(values, p):
    """HdrHistogram's convention: the value of rank ceil(p/100 * n) (at least 1)."""
    v = sorted(values)
    return v[max(1, math.ceil(p / 100.0 * len(v))) - 1]


def check_gate(d, service, env, sent):
    key = (service, env)
    q = f"/api/v1/gate?service={service}" + (f"&env={env}" if env else "")
    status, doc = d.get_json(q)
    if not check(status == 200, f"gate {key}: HTTP {status} {doc}"):
        return
    checks = {c["name"]: c for c in doc.get("checks", [])}
    er = checks.get("error_rate")
    want_rate = sent.err[key] / sent.req[key]
    if check(er is not None, f"gate {key}: no error_rate check in {doc}"):
        check(er["samples"] == sent.req[key],
              f"gate {key}: error_rate over {er['samples']} requests, sent {sent.req[key]}")
        check(er["measured"] is not None and abs(er["measured"] - want_rate) <= 1e-9,
              f"gate {key}: error_rate {er['measured']}, sent {sent.err[key]}/{sent.req[key]}")
    for p in (95, 99):
        c = checks.get(f"p{p}")
        want = nearest_rank(sent.lat[key], p)
        if not check(c is not None and c["measured"] is not None,
                     f"gate {key}: no measured p{p} in {doc}"):
            continue
        got = c["measured"]
        # HDR with 3 significant digits reports the highest value of the rank's bucket, whose
        # width is at most 1/1024 of its values.
        check(want <= got <= want + want / 1024.0 + 1,
              f"gate {key}: p{p} {got} us, sent latencies give {want} us")


def main():
    slawatch = sys.argv[1]
    t0 = time.monotonic()
    rng = random.Random(20261122)
    sent = Sent()
    with tempfile.TemporaryDirectory(prefix="sw-emf-") as tmp:
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        d = Daemon(slawatch, tmp, rules=RULES,
                   extra_config=f"auth:\n  token_file: {token_file}\n")
        try:
            d.start()
            d.token = TOKEN
            # Timestamps in the middle of base intervals ahead of now (kept open).
            first_ms = (math.floor(time.time()) + 2) * 1000 + 500
            check_auth(d, first_ms)
            check_rejected(d, first_ms)
            for k in range(3):
                body, values, lines, unmatched = build_body(rng, first_ms + k * 1000, sent)
                status, _, resp = d.post("/api/v1/ingest/emf", body)
                if not check(status == 200, f"EMF batch {k}: HTTP {status} {resp!r}"):
                    continue
                got = json.loads(resp)
                want = {"values": values, "lines": lines, "unmatched": unmatched}
                check(got == want, f"EMF batch {k}: answered {got}, want {want}")
            end_s = first_ms // 1000 + 3
            wait_evaluated(d, end_s)
            have = stored(os.path.join(d.data, "slawatch.db"))
            for key in sorted(sent.req):
                want = (sent.req[key], sent.err[key])
                check(have.get(key) == want, f"store {key}: {have.get(key)}, sent {want}")
            extra = set(have) - set(sent.req)
            check(not any(have[k] != (0, 0) for k in extra),
                  f"store holds counts for series the test never fed: {extra}")
            for service, env in sorted(sent.req):
                check_gate(d, service, env, sent)
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    print(f"{time.monotonic() - t0:.1f}s")
    if not FAILURES:
        print("ok: EMF ingestion through serve")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
