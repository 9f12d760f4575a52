#!/usr/bin/env python3
"""A rolling window over an hour pinned whole through serve: at each poll CloudWatch answers the
2-hour window ending at the minute just settled as one period (Period 7200), and while the
evaluator's 2-hour windows end at that minute their percentiles are their sum conformed to it.

Latency runs from hour X (a day ago) on (the stand-in's sampled ALB, drawn per minute, 60 ... 240
values a minute, 12 % from a slow mode in X); request counts run throughout. `slawatch backfill`
stores the three hours before X (so the objectives' 2-hour window has data enough for a
verdict), then `slawatch serve` runs under libfaketime from just after X at 90 times real speed.
Once the evaluation has passed X + 40 min, the first /api/v1/status evaluated at a minute that is
not on the hour (the window then holds only minutes of X: no settled hour is pinned in it) must
give P95 and P99 over 2 hours within 0.1 % of the truth computed here from the drawn values of
[X, that minute). About 50 s.

    test_serve_window_live.py SLAWATCH STANDIN_PY
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

ECS_TOKEN = "ecs-token-for-window-pin"
SPEED = 90
INGEST_DELAY = 420
WINDOW = 2 * HOUR
RULES = ("version: 1\nbase_interval: 1m\nservices:\n  - name: web\n"
         + alb_sli("requests", "errors", "latency")
         + "objectives:\n"
           "  - {name: p95, objective: p95 <= 500ms, window: 2h}\n"
           "  - {name: p99, objective: p99 <= 1s, window: 2h}\n")
TOLERANCE = 0.001


def standin_stats(base):
    with urllib.request.urlopen(base + "/_standin/stats", timeout=5) as r:
        return json.load(r)


def status_at(d):
    """(evaluated at, {objective name: measured}) of web in one /api/v1/status."""
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        raise OSError("/api/v1/status: HTTP %d" % status)
    at = datetime.datetime.strptime(doc["at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    svc = next((s for s in doc.get("services", []) if s.get("name") == "web"), {})
    return int(at), {o.get("name"): o.get("measured") for o in svc.get("objectives", [])}


def read_inside_hour(d, hour):
    """The first status evaluated in (X + 40 min, X + 1 h): not on the hour, X's minutes only."""
    found = []

    def inside():
        at, got = status_at(d)
        if hour + 40 * 60 < at < hour + HOUR:
            found.append((at, got))
        return bool(found) or at >= hour + HOUR
    wait_until("serve to evaluate inside hour X", inside, timeout=HOUR / SPEED + 60, step=0.1)
    return found[0] if found else (None, {})


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    standin = load_standin(standin_py)
    hour = int(time.time()) // HOUR * HOUR - DAY
    sampled = dict(sampled_alb(hour - 10 * HOUR, hour), start=hour, end=hour + 2 * HOUR)
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
        at, got, rc = None, {}, None
        try:
            fill = subprocess.run([exe, "backfill", "--source", "cloudwatch", "--from",
                                   iso(hour - 3 * HOUR), "--to", iso(hour), "--config",
                                   d.config_path], capture_output=True, text=True, timeout=120)
            if fill.returncode != 0:
                failures.append("backfill: rc %d %s" % (fill.returncode, fill.stderr))
            start = datetime.datetime.fromtimestamp(hour + 60, datetime.timezone.utc)
            d.start(env=dict(os.environ, LD_PRELOAD=LIBFAKETIME, FAKETIME_DONT_FAKE_MONOTONIC="1",
                             FAKETIME=start.strftime("@%Y-%m-%d %H:%M:%S x") + str(SPEED)))
            try:
                wait_until("serve to evaluate past X + 30 min",
                           lambda: evaluated_at(d) >= hour + 30 * 60,
                           timeout=40 * 60 / SPEED + 60, step=0.2)
                at, got = read_inside_hour(d, hour)
            finally:
                rc = d.stop()
        finally:
            stats = standin_stats(base)
            stop_standin(proc)
        if rc != 0:
            failures.append("serve exited %r:\n%s" % (rc, d.log_text()[-3000:]))
        if stats["rejected"]:
            failures.append("stand-in rejected requests: %r" % stats["rejected"])
        if at is not None and [at - WINDOW, at, WINDOW] not in stats["long_ranges"]:
            failures.append("the 2-hour window ending %s was not asked as one period" % iso(at))
    if at is None:
        failures.append("no status evaluated inside hour X")
    else:
        values = standin.sampled_period(spec, hour, at - hour)
        for name, p in (("p95", 95), ("p99", 99)):
            want = nearest_rank(values, p) * 1e6
            have = got.get(name)
            if not isinstance(have, (int, float)):
                failures.append("2-hour %s: %r" % (name, have))
                continue
            err = have / want - 1
            print("2-hour window to %s %s %.1f us, truth %.1f us (%+.3f %%)"
                  % (iso(at), name, have, want, 100 * err))
            if abs(err) > TOLERANCE:
                failures.append("2-hour %s off by %+.3f %%" % (name, 100 * err))
    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
