#!/usr/bin/env python3
"""`slawatch backfill --source cloudwatch` against the stand-in on 127.0.0.1.

The range covers two UTC days older than 15 days (the stand-in, like CloudWatch, answers
nothing there unless the period is 5 minutes) and three younger (1 minute). The test computes
every minute's requests and errors from the scenario's formulas at the period the day's age
calls for, then:
  1. starts a backfill with slow answers and SIGKILLs it once two days are stored;
  2. re-runs it: the stored days are skipped (one request per remaining day), and the store's
     1-minute rows equal the scenario exactly (nothing missing, nothing counted twice; a
     5-minute period split evenly over its minutes, the remainder first);
  3. re-runs it again: nothing is fetched;
  4. asks for a --from older than 455 days: refused with a clear message, nothing fetched;
  5. --period 15m over two young days stores the 15-minute figures; --period 2m from days
     older than 15 days and 7m (not dividing a day) are refused;
  6. `slawatch report` of the first month, without --rules: the rules backfill read with are
     in the store.

    test_backfill.py SLAWATCH STANDIN_PY
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cw_test_util import (DAY, FN, alb_counts, alb_sli, iso, scenario as standin_scenario,  # noqa: E402
                          series, set_ecs_env, start_standin as start_conf)

MARGIN = 3600  # slawatch takes ages an hour older (cmd_backfill.c), so does the test
ECS_TOKEN = "ecs-token-for-backfill-test"
REQ = {"base": 1000, "step": 37, "mod": 101}
T5XX = {"base": 3, "step": 5, "mod": 7}
E5XX = {"base": 1, "step": 1, "mod": 3}
INV = {"base": 501, "step": 11, "mod": 13}
ERR = {"base": 0, "step": 1, "mod": 4}

RULES = """version: 1
base_interval: 10s
services:
  - name: web
""" + alb_sli("requests", "errors") + """  - name: fn
    sli:
      requests: {cloudwatch: {preset: lambda, dimensions: {FunctionName: checkout}}}
      errors: {cloudwatch: {namespace: AWS/Lambda, metric: Errors, stat: Sum,
                            dimensions: {FunctionName: checkout}}}
objectives:
  - name: availability
    objective: availability >= 99%
"""


def formula(spec, t, period):
    return spec["base"] + ((t // period) * spec["step"]) % spec["mod"]


def scenario(slow_s):
    return standin_scenario(ECS_TOKEN, {
        "series": alb_counts(REQ, T5XX, E5XX) + [series("Invocations", INV, FN, "AWS/Lambda"),
                                                 series("Errors", ERR, FN, "AWS/Lambda")],
        "slow_s": slow_s}, ttl_s=3600)


def period_at(now, start):
    age = now - start + MARGIN
    return 60 if age <= 15 * DAY else 300 if age <= 63 * DAY else 3600


def expected(days, now, fixed_period=None):
    """{service: {minute start s: (requests, errors)}} from the formulas."""
    want = {"web": {}, "fn": {}}
    for day in days:
        period = fixed_period or period_at(now, day)
        for p in range(day, day + DAY, period):
            per = {"web": (formula(REQ, p, period),
                           formula(T5XX, p, period) + formula(E5XX, p, period)),
                   "fn": (formula(INV, p, period), formula(ERR, p, period))}
            k = period // 60
            for svc, (req, err) in per.items():
                for i in range(k):  # even split, the remainder one each to the earliest
                    want[svc][p + 60 * i] = (req // k + (i < req % k), err // k + (i < err % k))
    return want


def period_checks(exe, tmp, base, days, now, failures):
    """--period: 15m over the young days stores the 15-minute figures split over minutes; a
    period CloudWatch no longer keeps at --from's age, or one not dividing a day, is refused."""
    cfg = os.path.join(tmp, "config-period.yaml")
    with open(cfg, "w") as f:
        f.write("data_dir: %s\nrules_files: [rules.yaml]\ningest_delay: 5m\ncloudwatch:\n"
                "  region: eu-west-1\n  endpoint_url: %s\n  timeout: 5s\n"
                % (os.path.join(tmp, "data-period"), base))
    young = days[2:4]
    done = subprocess.run(backfill_cmd(exe, cfg, young[0], young[-1] + DAY) +
                          ["--period", "15m"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        failures.append("--period 15m: rc %d, %s" % (done.returncode, done.stderr))
    else:
        compare(expected(young, now, 900), stored(os.path.join(tmp, "data-period",
                                                                "slawatch.db")), failures)
    for period, words in (("2m", "multiples of 300 s"), ("7m", "divides a day")):
        bad = subprocess.run(backfill_cmd(exe, cfg, days[0], days[1]) + ["--period", period],
                             capture_output=True, text=True, timeout=60)
        if bad.returncode != 2 or words not in bad.stderr:
            failures.append("--period %s: rc %d, %s" % (period, bad.returncode, bad.stderr))


def stored(db_path):
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT s.service, i.start_ms, i.requests, i.errors FROM intervals i "
                       "JOIN series s ON s.id = i.series_id "
                       "WHERE i.resolution_ms = 60000").fetchall()
    con.close()
    out = {}
    for service, start, req, err in rows:
        out.setdefault(service, {})[start // 1000] = (req, err)
    return out


def standin_stats(base):
    with urllib.request.urlopen(base + "/_standin/stats", timeout=5) as r:
        return json.load(r)


def start_standin(standin_py, tmp, slow_s):
    return start_conf(standin_py, tmp, scenario(slow_s), "scenario-%s" % slow_s)


def set_env(base, tmp):
    set_ecs_env(base, tmp, ECS_TOKEN)


def write_config(tmp, base):
    path = os.path.join(tmp, "config-%d.yaml" % abs(hash(base)))
    with open(path, "w") as f:
        f.write("data_dir: %s\nrules_files: [rules.yaml]\ningest_delay: 5m\ncloudwatch:\n  region: eu-west-1\n"
                "  endpoint_url: %s\n  timeout: 5s\n" % (os.path.join(tmp, "data"), base))
    return path


def backfill_cmd(exe, config, start, end):
    return [exe, "backfill", "--source", "cloudwatch", "--from", iso(start), "--to", iso(end),
            "--config", config]


def killed_run(exe, config, start, end, failures):
    """Run until two days are stored, then SIGKILL; the lines it logged."""
    proc = subprocess.Popen(backfill_cmd(exe, config, start, end), stderr=subprocess.PIPE,
                            text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if chunks("".join(lines), "stored") == 2:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    if proc.returncode != -signal.SIGKILL:
        failures.append("first run was not killed midway (rc %r): %s" % (
            proc.returncode, "".join(lines)))


def compare(want, got, failures):
    for svc in want:
        have = got.get(svc, {})
        missing = sorted(set(want[svc]) - set(have))
        extra = sorted(set(have) - set(want[svc]))
        wrong = [t for t in want[svc] if t in have and have[t] != want[svc][t]]
        if missing or extra or wrong:
            failures.append("%s: %d minutes missing (first %s), %d extra, %d wrong (first %s: "
                            "%r, scenario %r)" % (
                                svc, len(missing), missing[:1], len(extra), len(wrong),
                                wrong[:1], have.get(wrong[0]) if wrong else None,
                                want[svc].get(wrong[0]) if wrong else None))


def chunks(text, what):
    """How many chunk lines say what ("stored" or "already stored")."""
    return sum(1 for line in text.splitlines()
               if line.startswith("slawatch backfill: chunk ") and line.split(" period ")[1]
               .split(" ", 1)[1].startswith(what))


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    failures = []
    now = int(time.time())
    first_young = -(-(now - 15 * DAY + MARGIN) // DAY) * DAY  # first day of 1-minute data
    days = [first_young + k * DAY for k in range(-2, 3)]
    start, end = days[0], days[-1] + DAY
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.yaml"), "w") as f:
            f.write(RULES)
        standin, base = start_standin(standin_py, tmp, 0.4)
        set_env(base, tmp)
        config = write_config(tmp, base)
        try:
            killed_run(exe, config, start, end, failures)
            before = standin_stats(base)["gmd_requests"]
            second = subprocess.run(backfill_cmd(exe, config, start, end),
                                    capture_output=True, text=True, timeout=60)
            after = standin_stats(base)
            third = subprocess.run(backfill_cmd(exe, config, start, end),
                                   capture_output=True, text=True, timeout=60)
            old = subprocess.run(backfill_cmd(exe, config, now - 460 * DAY, now - 450 * DAY),
                                 capture_output=True, text=True, timeout=60)
            period_checks(exe, tmp, base, days, now, failures)
            final = standin_stats(base)
            report = subprocess.run([exe, "report", "--month", time.strftime("%Y-%m", time.gmtime(
                start)), "--data", os.path.join(tmp, "data"), "--format", "json"],
                capture_output=True, text=True, timeout=60)
        finally:
            standin.terminate()
            standin.wait(timeout=10)
        skipped = chunks(second.stderr, "already stored")
        if second.returncode != 0 or skipped < 2:
            failures.append("re-run rc %d, %d days skipped:\n%s" % (
                second.returncode, skipped, second.stderr))
        if after["gmd_requests"] - before != len(days) - skipped:
            failures.append("re-run made %d requests for %d days to fetch" % (
                after["gmd_requests"] - before, len(days) - skipped))
        if third.returncode != 0 or chunks(third.stderr, "already stored") != len(days):
            failures.append("third run fetched again:\n" + third.stderr)
        if old.returncode != 1 or "455 days" not in old.stderr:
            failures.append("a --from past 455 days: rc %d, %s" % (old.returncode, old.stderr))
        if report.returncode != 0 or '"web"' not in report.stdout:
            failures.append("report after backfill (no --rules): rc %d, %s" % (
                report.returncode, report.stderr))
        if final["gmd_requests"] != after["gmd_requests"] + 2:
            failures.append("the third run or the refused ones sent requests (%d, %d)" % (
                final["gmd_requests"], after["gmd_requests"]))
        if after["rejected"]:
            failures.append("stand-in rejected requests: %r" % after["rejected"])
        db = os.path.join(tmp, "data", "slawatch.db")
        if os.path.exists(db):
            compare(expected(days, now), stored(db), failures)
        else:
            failures.append("no store was written")
        print("days %s..%s periods %s; re-run skipped %d; stand-in %s" % (
            iso(start), iso(end), [period_at(now, d) for d in days], skipped, json.dumps(final)))
    for f in failures:
        print("FAIL", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
