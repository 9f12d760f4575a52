#!/usr/bin/env python3
"""`slawatch backfill --config` whose rules_files is a pattern matching two teams' files (web's
ALB in one, the Lambda fn in the other), as serve reads them: one day three days old is fetched
from the stand-in at 1 hour for both services, and `slawatch report --format json` of its month,
without --rules (the rules backfill read are in the store, as the bundle of both files), gives
each service the stand-in's request and error totals and its own objective only.

    test_backfill_rules_files.py SLAWATCH STANDIN_PY
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cw_test_util import (DAY, FN, HOUR, alb_counts, alb_sli, child_env,  # noqa: E402
                          cloudwatch_config, iso, scenario, series, start_standin as start_conf,
                          stop_standin)

ECS_TOKEN = "ecs-token-for-rules-files-backfill"
REQ = {"base": 1000, "step": 37, "mod": 101}
T5XX = {"base": 3, "step": 5, "mod": 7}
INV = {"base": 501, "step": 11, "mod": 13}
ERR = {"base": 0, "step": 1, "mod": 4}
WEB = """version: 1
services:
  - name: web
""" + alb_sli("requests", "errors") + """    objectives:
      - {name: web-availability, objective: availability >= 99%}
"""
FN_RULES = """version: 1
services:
  - name: fn
    sli:
      requests: {cloudwatch: {preset: lambda, dimensions: {FunctionName: checkout}}}
      errors: {cloudwatch: {namespace: AWS/Lambda, metric: Errors, stat: Sum,
                            dimensions: {FunctionName: checkout}}}
    objectives:
      - {name: fn-availability, objective: availability >= 95%}
"""
FAILURES = []


def check(ok, msg):
    if not ok:
        FAILURES.append(msg)
        print("FAIL: " + msg)


def formula(spec, t, period):
    return spec["base"] + ((t // period) * spec["step"]) % spec["mod"]


def start_standin(standin_py, tmp):
    return start_conf(standin_py, tmp, scenario(ECS_TOKEN, {"series": alb_counts(REQ, T5XX) + [
        series("Invocations", INV, FN, "AWS/Lambda"), series("Errors", ERR, FN, "AWS/Lambda")]}))


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    day = int(time.time()) // DAY * DAY - 3 * DAY
    with tempfile.TemporaryDirectory() as tmp:
        standin, base = start_standin(standin_py, tmp)
        env = child_env(base, tmp, ECS_TOKEN)
        os.mkdir(os.path.join(tmp, "rules.d"))
        for name, text in (("web.yaml", WEB), ("fn.yaml", FN_RULES)):
            with open(os.path.join(tmp, "rules.d", name), "w") as f:
                f.write(text)
        config = os.path.join(tmp, "config.yaml")
        data = os.path.join(tmp, "data")
        with open(config, "w") as f:
            f.write("data_dir: %s\nrules_files: [rules.d/*.yaml]\ningest_delay: 5m\n"
                    "store:\n  retention: {base: 1h, 1m: 1d, 1h: 400d, 1d: 5y}\n%s"
                    % (data, cloudwatch_config(base, "5s")))
        try:
            fill = subprocess.run([exe, "backfill", "--source", "cloudwatch", "--from", iso(day),
                                   "--to", iso(day + DAY), "--config", config],
                                  capture_output=True, text=True, timeout=120, env=env)
            check(fill.returncode == 0, "backfill: rc %d %s" % (fill.returncode, fill.stderr))
            month = time.strftime("%Y-%m", time.gmtime(day))
            report = subprocess.run([exe, "report", "--month", month, "--data", data,
                                     "--format", "json"], capture_output=True, text=True,
                                    timeout=60, env=env)
        finally:
            stop_standin(standin)
    check(report.returncode == 0, "report: %s" % report.stderr)
    doc = json.loads(report.stdout or "{}")
    services = {s["name"]: s for s in doc.get("services", [])}
    hours = range(day, day + DAY, HOUR)
    want = {"web": (sum(formula(REQ, t, HOUR) for t in hours),
                    sum(formula(T5XX, t, HOUR) for t in hours), ["web-availability"]),
            "fn": (sum(formula(INV, t, HOUR) for t in hours),
                   sum(formula(ERR, t, HOUR) for t in hours), ["fn-availability"])}
    check(sorted(services) == sorted(want), "report's services: %r" % sorted(services))
    for name, (req, err, objectives) in want.items():
        svc = services.get(name, {})
        check((svc.get("requests"), svc.get("errors")) == (req, err),
              "%s totals %r/%r, stand-in %d/%d" % (name, svc.get("requests"), svc.get("errors"),
                                                   req, err))
        got = [o.get("name") for o in svc.get("objectives", [])]
        check(got == objectives, "%s objectives %r, want %r" % (name, got, objectives))
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
