"""What the live-pin tests share: hour X (a day ago) of the stand-in's sampled ALB latency,
request counts throughout, the three hours before X backfilled, then `slawatch serve` under
libfaketime from just after X at 90 times real speed with 2-hour P95 and P99 objectives; each
test says when to read /api/v1/status, and its two readings are held to the truth computed
from the stand-in's drawn values."""
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
from serve_util import LIBFAKETIME, Daemon  # noqa: E402
from cw_test_util import (DAY, HOUR, QUIET_ALB, alb_sli, cloudwatch_config, iso,  # noqa: E402
                          load_standin, nearest_rank, sampled_alb, scenario, set_ecs_env,
                          start_standin, stop_standin)

SPEED = 90
INGEST_DELAY = 420
RULES = ("version: 1\nbase_interval: 1m\nservices:\n  - name: web\n"
         + alb_sli("requests", "errors", "latency")
         + "objectives:\n"
           "  - {name: p95, objective: p95 <= 500ms, window: 2h}\n"
           "  - {name: p99, objective: p99 <= 1s, window: 2h}\n"
           "  - {name: p95-30m, objective: p95 <= 500ms, window: 30m}\n"
           "  - {name: p99-30m, objective: p99 <= 1s, window: 30m}\n")
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


def run_live(exe, standin_py, token, latency_hours, read):
    """Runs the scenario with latency_hours of latency from X; read(d, base, hour) returns
    (at, {name: measured}) while serve runs. Returns (hour, at, got, the stand-in's stats,
    failures, the sampled spec the truth is drawn from)."""
    hour = int(time.time()) // HOUR * HOUR - DAY
    sampled = dict(sampled_alb(hour - 10 * HOUR, hour), start=hour,
                   end=hour + latency_hours * HOUR)
    failures = []
    at, got, rc = None, {}, None
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_standin(standin_py, tmp, dict(
            scenario(token, {"series": QUIET_ALB, "sampled": [sampled]}), clock_skew_s=2 * DAY))
        set_ecs_env(base, tmp, token)
        config = "ingest_delay: %ds\n%s" % (INGEST_DELAY, cloudwatch_config(
            base, "5s", "  period: 60s\n  settle: 30s\n  every: 20s\n"))
        d = Daemon(exe, tmp, rules=RULES, extra_config=config)
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
                at, got = read(d, base, hour)
            finally:
                rc = d.stop()
        finally:
            stats = standin_stats(base)
            stop_standin(proc)
        if rc != 0:
            failures.append("serve exited %r:\n%s" % (rc, d.log_text()[-3000:]))
        if stats["rejected"]:
            failures.append("stand-in rejected requests: %r" % stats["rejected"])
    return hour, at, got, stats, failures, json.dumps(sampled, sort_keys=True)


def check_against_truth(standin_py, spec, start, length, got, label, failures, suffix=""):
    """got's p95 and p99 (the objectives named so, + suffix) within TOLERANCE of the nearest
    ranks of [start, start + length)."""
    values = load_standin(standin_py).sampled_period(spec, start, length)
    for name, p in (("p95" + suffix, 95), ("p99" + suffix, 99)):
        want = nearest_rank(values, p) * 1e6
        have = got.get(name)
        if not isinstance(have, (int, float)):
            failures.append("%s %s: %r" % (label, name, have))
            continue
        err = have / want - 1
        print("%s %s %.1f us, truth %.1f us (%+.3f %%)" % (label, name, have, want, 100 * err))
        if abs(err) > TOLERANCE:
            failures.append("%s %s off by %+.3f %%" % (label, name, 100 * err))


def report(failures):
    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0
