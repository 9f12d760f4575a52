#!/usr/bin/env python3
"""History kept only per hour: `slawatch backfill` into a store that keeps 1-minute rows for a
day stores a day three days old at 1 hour (the stand-in answers 1-hour periods there), and
`slawatch report --format json` of its month gives the stand-in's request and error totals but
`bad_minutes` null (an hour's sums cannot say which minutes were bad), not 0, in the month,
the day and every hour-based period; CSV leaves the cell empty.

    test_backfill_hourly.py SLAWATCH STANDIN_PY
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cw_test_util import (DAY, HOUR, alb_counts, alb_sli, child_env,  # noqa: E402
                          cloudwatch_config, iso, scenario, start_standin, stop_standin)

ECS_TOKEN = "ecs-token-for-hourly-backfill"
REQ = {"base": 1000, "step": 37, "mod": 101}
T5XX = {"base": 3, "step": 5, "mod": 7}
RULES = """version: 1
base_interval: 10s
services:
  - name: web
""" + alb_sli("requests", "errors") + """objectives:
  - name: availability
    objective: availability >= 99%
"""
FAILURES = []


def check(ok, msg):
    if not ok:
        FAILURES.append(msg)
        print("FAIL: " + msg)


def formula(spec, t, period):
    return spec["base"] + ((t // period) * spec["step"]) % spec["mod"]


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    day = int(time.time()) // DAY * DAY - 3 * DAY
    with tempfile.TemporaryDirectory() as tmp:
        standin, base = start_standin(standin_py, tmp, scenario(
            ECS_TOKEN, {"series": alb_counts(REQ, T5XX)}))
        env = child_env(base, tmp, ECS_TOKEN)
        with open(os.path.join(tmp, "rules.yaml"), "w") as f:
            f.write(RULES)
        config = os.path.join(tmp, "config.yaml")
        data = os.path.join(tmp, "data")
        with open(config, "w") as f:
            f.write("data_dir: %s\nrules_files: [rules.yaml]\ningest_delay: 5m\n"
                    "store:\n  retention: {base: 1h, 1m: 1d, 1h: 400d, 1d: 5y}\n%s"
                    % (data, cloudwatch_config(base, "5s")))
        try:
            fill = subprocess.run([exe, "backfill", "--source", "cloudwatch", "--from", iso(day),
                                   "--to", iso(day + DAY), "--config", config],
                                  capture_output=True, text=True, timeout=120, env=env)
            check(fill.returncode == 0 and "period 3600s" in fill.stderr,
                  "backfill at 1 hour: rc %d %s" % (fill.returncode, fill.stderr))
            month = time.strftime("%Y-%m", time.gmtime(day))
            reports = {fmt: subprocess.run([exe, "report", "--month", month, "--data", data,
                                            "--format", fmt], capture_output=True, text=True,
                                           timeout=60, env=env) for fmt in ("json", "csv")}
        finally:
            stop_standin(standin)
    check(reports["json"].returncode == 0, "report: %s" % reports["json"].stderr)
    doc = json.loads(reports["json"].stdout or "{}")
    svc = next((s for s in doc.get("services", []) if s["name"] == "web"), {})
    want_req = sum(formula(REQ, t, HOUR) for t in range(day, day + DAY, HOUR))
    want_err = sum(formula(T5XX, t, HOUR) for t in range(day, day + DAY, HOUR))
    check(svc.get("counts_resolution") == "1h", "counts_resolution: %r" % svc.get("counts_resolution"))
    check((svc.get("requests"), svc.get("errors")) == (want_req, want_err),
          "month totals %r/%r, stand-in %d/%d" % (svc.get("requests"), svc.get("errors"),
                                                  want_req, want_err))
    check("bad_minutes" in svc and svc["bad_minutes"] is None,
          "month bad_minutes %r, expected null" % svc.get("bad_minutes"))
    days = [d for d in svc.get("days", []) if d["start"] == iso(day)]
    check(len(days) == 1 and days[0]["bad_minutes"] is None and days[0]["requests"] == want_req,
          "the backfilled day: %r" % days)
    others = [d for d in svc.get("days", []) if d["start"] != iso(day)]
    check(all(d["bad_minutes"] == 0 for d in others), "days without data must keep 0: %r" % [
        d["bad_minutes"] for d in others])
    check(all(p["bad_minutes"] is None for p in svc.get("worst_hours", []) + svc.get("worst_days", [])),
          "worst periods: %r" % [p["bad_minutes"] for p in svc.get("worst_hours", [])])
    rows = [r for r in csv.DictReader(io.StringIO(reports["csv"].stdout)) if r["date"] == iso(day)[:10]]
    check(len(rows) == 1 and rows[0]["bad_minutes"] == "", "CSV row: %r" % rows)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
