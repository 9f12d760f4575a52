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

DAY, HOUR = 86400, 3600
ECS_TOKEN = "ecs-token-for-rules-files-backfill"
ALB = {"LoadBalancer": "app/web/0123456789abcdef"}
FN = {"FunctionName": "checkout"}
REQ = {"base": 1000, "step": 37, "mod": 101}
T5XX = {"base": 3, "step": 5, "mod": 7}
INV = {"base": 501, "step": 11, "mod": 13}
ERR = {"base": 0, "step": 1, "mod": 4}
ZERO = {"base": 0, "step": 0, "mod": 1}
WEB = """version: 1
services:
  - name: web
    sli:
      requests: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/0123456789abcdef}}}
      errors: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/0123456789abcdef}}}
    objectives:
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
    def series(ns, metric, dims, value):
        return {"namespace": ns, "metric": metric, "dimensions": dims, "stat": "Sum",
                "value": value}
    elb = "AWS/ApplicationELB"
    path = os.path.join(tmp, "scenario.json")
    with open(path, "w") as f:
        json.dump({"region": "eu-west-1", "ecs": {"path": "/creds", "token": ECS_TOKEN},
                   "cloudwatch": {"series": [
                       series(elb, "RequestCount", ALB, REQ),
                       series(elb, "HTTPCode_Target_5XX_Count", ALB, T5XX),
                       series(elb, "HTTPCode_ELB_5XX_Count", ALB, ZERO),
                       series("AWS/Lambda", "Invocations", FN, INV),
                       series("AWS/Lambda", "Errors", FN, ERR)]}}, f)
    standin = subprocess.Popen([sys.executable, standin_py, "--scenario", path],
                               stdout=subprocess.PIPE, text=True)
    return standin, "http://127.0.0.1:%d" % int(standin.stdout.readline())


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    day = int(time.time()) // DAY * DAY - 3 * DAY
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        standin, base = start_standin(standin_py, tmp)
        env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": tmp,
               "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds",
               "AWS_CONTAINER_AUTHORIZATION_TOKEN": ECS_TOKEN, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
               "AWS_CONFIG_FILE": os.path.join(tmp, "none")}
        os.mkdir(os.path.join(tmp, "rules.d"))
        for name, text in (("web.yaml", WEB), ("fn.yaml", FN_RULES)):
            with open(os.path.join(tmp, "rules.d", name), "w") as f:
                f.write(text)
        config = os.path.join(tmp, "config.yaml")
        data = os.path.join(tmp, "data")
        with open(config, "w") as f:
            f.write("data_dir: %s\nrules_files: [rules.d/*.yaml]\ningest_delay: 5m\n"
                    "store:\n  retention: {base: 1h, 1m: 1d, 1h: 400d, 1d: 5y}\n"
                    "cloudwatch:\n  region: eu-west-1\n  endpoint_url: %s\n  timeout: 5s\n"
                    % (data, base))
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
            standin.terminate()
            standin.wait(timeout=10)
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
