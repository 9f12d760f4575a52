#!/usr/bin/env python3
"""`slawatch backfill` finishes a month under CloudWatch's transient faults, in one run.

Two stand-ins serve the same scenario (an ALB and a Lambda function, 30 UTC days ending two
days ago: 5-minute periods older than 15 days, 1-minute younger); one injects, per
GetMetricData request from a seeded stream, 30 % throttling, 10 % HTTP 500, 5 % results with
StatusCode InternalError, 2 % connections reset and 2 % answers cut in half. The backfill
against the faulty one must exit 0 in one run and store exactly the rows (byte for byte) that
the run against the clean one stored. Then a permanent error (a key the stand-in does not
know: UnrecognizedClientException) gives up at once: exit 1, the metric, an ISO time and
"1 try" in the message.

    test_backfill_faults.py SLAWATCH STANDIN_PY
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_backfill import (DAY, RULES, backfill_cmd, scenario, set_env,  # noqa: E402
                           standin_stats)
from cw_test_util import start_standin  # noqa: E402

FAULTS = {"seed": 7, "throttle": 0.30, "fail500": 0.10, "result_error": 0.05, "reset": 0.02,
          "truncate": 0.02}


def start(standin_py, tmp, name, faults):
    conf = scenario(0)
    if faults:
        conf["cloudwatch"]["fault_rates"] = faults
    return start_standin(standin_py, tmp, conf, name)


def config(tmp, name, base):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write("data_dir: %s\nrules_files: [rules.yaml]\ningest_delay: 5m\ncloudwatch:\n"
                "  region: eu-west-1\n  endpoint_url: %s\n  timeout: 5s\n"
                % (os.path.join(tmp, "data-" + name), base))
    return path


def rows(tmp, name):
    con = sqlite3.connect(os.path.join(tmp, "data-" + name, "slawatch.db"))
    out = con.execute("SELECT s.service, i.* FROM intervals i JOIN series s ON s.id = i.series_id "
                      "ORDER BY s.service, i.resolution_ms, i.start_ms").fetchall()
    con.close()
    return out


def run(exe, tmp, standin_py, name, faults, start_s, end_s):
    proc, base = start(standin_py, tmp, name, faults)
    try:
        set_env(base, tmp)
        cfg = config(tmp, name, base)
        done = subprocess.run(backfill_cmd(exe, cfg, start_s, end_s), capture_output=True,
                              text=True, timeout=600)
        return done, standin_stats(base), cfg
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    failures = []
    now = int(time.time())
    end_s = (now // DAY - 2) * DAY
    start_s = end_s - 30 * DAY
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.yaml"), "w") as f:
            f.write(RULES)
        clean, _, _ = run(exe, tmp, standin_py, "clean", None, start_s, end_s)
        faulty, stats, _ = run(exe, tmp, standin_py, "faulty", FAULTS, start_s, end_s)
        if clean.returncode != 0:
            failures.append("clean run rc %d:\n%s" % (clean.returncode, clean.stderr[-2000:]))
        if faulty.returncode != 0:
            failures.append("faulty run rc %d:\n%s" % (faulty.returncode, faulty.stderr[-3000:]))
        for kind in FAULTS:
            if kind != "seed" and not stats["faults"].get(kind):
                failures.append("no %s fault was injected: %r" % (kind, stats["faults"]))
        if not failures:
            want, got = rows(tmp, "clean"), rows(tmp, "faulty")
            if not want or want != got:
                failures.append("stored rows differ: %d clean, %d under faults" % (
                    len(want), len(got)))
        proc, base = start(standin_py, tmp, "denied", None)
        try:
            set_env(base, tmp)
            os.environ.update({"AWS_ACCESS_KEY_ID": "AKIAUNKNOWN000000000",
                               "AWS_SECRET_ACCESS_KEY": "not-a-key"})
            denied = subprocess.run(backfill_cmd(exe, config(tmp, "denied", base), start_s,
                                                 start_s + DAY), capture_output=True, text=True,
                                    timeout=60)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_s))
        if denied.returncode != 1 or "1 try" not in denied.stderr or day not in denied.stderr \
                or "AWS/" not in denied.stderr:
            failures.append("denied: rc %d, %s" % (denied.returncode, denied.stderr))
        print("faults injected %s; %d requests; faulty run's last line: %s" % (
            stats["faults"], stats["gmd_requests"], faulty.stderr.strip().splitlines()[-1:]))
    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
