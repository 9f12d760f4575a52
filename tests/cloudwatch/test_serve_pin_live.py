#!/usr/bin/env python3
"""The live pin through serve: an hour's latency, polled minute by minute, is pinned in the
evaluator's windows once CloudWatch answers the hour as one period.

Hour X (a day ago) holds the only latency there is (the stand-in's sampled ALB, drawn per minute,
60 ... 240 values a minute, 12 % from a slow mode: the incident hour of test_serve_pinned.py);
request counts run throughout. `slawatch backfill` stores the three hours before X (so the
objectives' 2-hour window has data enough for a verdict), then `slawatch serve` runs under
libfaketime from just after X at 90 times real speed: it polls X's minutes as they settle, then
asks X as one period (Period 3600) and pins its windows. Once the evaluator has passed X's end
after that fetch, /api/v1/status' P95 and P99 over 2 hours (X whole, nothing else with latency)
must be within 0.1 % of the truth computed here from the drawn values; the minutes alone miss
X's P99 by about 1.2 %. About 50 s.

    test_serve_pin_live.py SLAWATCH STANDIN_PY
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import LIBFAKETIME, Daemon, evaluated_at, wait_until  # noqa: E402
from cw_test_util import (DAY, HOUR, QUIET_ALB, alb_sli, cloudwatch_config, iso,  # noqa: E402
                          load_standin, nearest_rank, sampled_alb, scenario, set_ecs_env,
                          start_standin, stop_standin)

ECS_TOKEN = "ecs-token-for-live-pin"
SPEED = 90
INGEST_DELAY = 420
BASE = 60
RULES = ("version: 1\nbase_interval: 1m\nservices:\n  - name: web\n"
         + alb_sli("requests", "errors", "latency")
         + "objectives:\n"
           "  - {name: p95, objective: p95 <= 500ms, window: 2h}\n"
           "  - {name: p99, objective: p99 <= 1s, window: 2h}\n")
TOLERANCE = 0.001


def standin_stats(base):
    with urllib.request.urlopen(base + "/_standin/stats", timeout=5) as r:
        return json.load(r)


def measured(d):
    """{objective name: measured} of web's objectives in /api/v1/status."""
    _, doc = d.get_json("/api/v1/status")
    svc = next((s for s in doc.get("services", []) if s.get("name") == "web"), {})
    return {o.get("name"): o.get("measured") for o in svc.get("objectives", [])}


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    standin = load_standin(standin_py)
    hour = int(time.time()) // HOUR * HOUR - DAY
    sampled = dict(sampled_alb(hour - 10 * HOUR, hour), start=hour, end=hour + HOUR)
    spec = json.dumps(sampled, sort_keys=True)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_standin(standin_py, tmp, dict(
            scenario(ECS_TOKEN, {"series": QUIET_ALB, "sampled": [sampled]}),
            clock_skew_s=2 * DAY))
        set_ecs_env(base, tmp, ECS_TOKEN)
        config = "ingest_delay: %ds\n%s" % (INGEST_DELAY, cloudwatch_config(
            base, "5s", "  period: 60s\n  settle: 30s\n  every: 20s\n"))
        d = Daemon(exe, tmp, rules=RULES, extra_config=config)
        got, rc = {}, None
        try:
            fill = subprocess.run([exe, "backfill", "--source", "cloudwatch", "--from",
                                   iso(hour - 3 * HOUR), "--to", iso(hour), "--config",
                                   d.config_path], capture_output=True, text=True, timeout=120)
            if fill.returncode != 0:
                failures.append("backfill: rc %d %s" % (fill.returncode, fill.stderr))
            # The first tick is the store's end (X) while now - ingest_delay is before it: serve
            # has 360 fake seconds (4 real ones) to start.
            start = datetime.datetime.fromtimestamp(hour + 60, datetime.timezone.utc)
            d.start(env=dict(os.environ, LD_PRELOAD=LIBFAKETIME, FAKETIME_DONT_FAKE_MONOTONIC="1",
                             FAKETIME=start.strftime("@%Y-%m-%d %H:%M:%S x") + str(SPEED)))
            try:
                wait_until("serve to ask hour X as one period",
                           lambda: [hour, hour + HOUR] in standin_stats(base)["hour_ranges"],
                           timeout=3 * HOUR / SPEED + 30, step=0.2)
                # Pins queued by that fetch are applied by the first tick at or past X's end.
                after = max(evaluated_at(d), hour + HOUR) + 3 * BASE
                wait_until("serve to evaluate past the pinned hour",
                           lambda: evaluated_at(d) >= after, timeout=30, step=0.2)
                got = measured(d)
            finally:
                rc = d.stop()
        finally:
            stats = standin_stats(base)
            stop_standin(proc)
        if rc != 0:
            failures.append("serve exited %r:\n%s" % (rc, d.log_text()[-3000:]))
        if stats["rejected"]:
            failures.append("stand-in rejected requests: %r" % stats["rejected"])
    values = standin.sampled_period(spec, hour, HOUR)
    for name, p in (("p95", 95), ("p99", 99)):
        want = nearest_rank(values, p) * 1e6
        have = got.get(name)
        if not isinstance(have, (int, float)):
            failures.append("2-hour %s: %r" % (name, have))
            continue
        err = have / want - 1
        print("2-hour window %s %.1f us, truth %.1f us (%+.3f %%)" % (name, have, want, 100 * err))
        if abs(err) > TOLERANCE:
            failures.append("2-hour %s off by %+.3f %%" % (name, 100 * err))
    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
