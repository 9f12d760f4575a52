#!/usr/bin/env python3
"""The deploy gate's error-budget policy on a running `slawatch serve`, with its override.

Usage: test_serve_budget_policy.py SLAWATCH

One daemon (base interval 1s) whose rules require 10 % of the availability objective's budget
(99 % over a rolling 20s) left before a deployment may pass. The test pushes 2,500 requests
with 24 errors into every second, so the budget left is, by its definition,
1 - errors / ((1 - 99 %) x requests) = 1 - 24/25 = 4 % in any window (the same share every
second). Checks:
- the gate of a marked deployment fails with "error budget exhausted: 4% left of
  availability, policy requires 10%" (the figures formatted from the test's own numbers), the
  check `error_budget:availability` carries that budget, and /api/v1/status shows the same
  budget; the gate's own error-rate check passes (the budget is the only reason);
- marks with a bad policy_override (a space, 33 characters, empty, a number) get 400 and
  apply nothing: no row in the store and the kept fail stays;
- a mark with "policy_override": "INC-123" passes the gate, which says so; the override is a
  gate audit row (verdict "override") and on the deployment row, and the month's report (JSON,
  Markdown and HTML) lists it; `slawatch gate` prints the budget check both times; after a
  restart the gate still shows it;
- a reload with `require_budget_remaining: 0%` is refused with FILE:LINE:COL and the rules in
  force keep answering.
"""
import datetime
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

from serve_util import FAILURES, check, Daemon, rfc3339, wait_until

TARGET = 0.99
POLICY = 0.10
REQUESTS, ERRORS = 2500, 24
SECONDS = 60  # pushed ahead at once: the daemon keeps intervals up to 5 minutes ahead open

RULES = f"""version: 1
base_interval: 1s
min_requests: 100
services:
  - name: web
    sli: {{requests: {{push: true}}, errors: {{push: true}}}}
objectives:
  - name: availability
    objective: availability >= {TARGET * 100:g}%
    window: 20s
gate:
  window: 10s
  min_requests: 100
  checks: [error_rate <= 5%]
  require_budget_remaining: {POLICY * 100:g}%
  budget_objectives: [availability]
"""


def pct(x):
    """A share as the gate writes it: 4 significant digits, then %."""
    return f"{x * 100:.4g}%"


def gate(d):
    status, doc = d.get_json("/api/v1/gate?service=web")
    if status != 200:
        raise OSError(f"gate: HTTP {status} {doc}")
    return doc


def check_named(doc, name):
    return next((c for c in doc["checks"] if c["name"] == name), None)


def db_rows(d, sql):
    db = sqlite3.connect(f"file:{os.path.join(d.data, 'slawatch.db')}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def push_ahead(d):
    first = math.floor(time.time()) + 1
    for k in range(SECONDS):
        status, body = d.ingest({"service": "web", "requests": REQUESTS, "errors": ERRORS,
                                 "at": rfc3339(first + k + 0.5)})
        if status != 200:
            raise RuntimeError(f"ingest: HTTP {status} {body!r}")


def gate_cli(d):
    """`slawatch gate` against the daemon: (exit status, the error_budget line it prints)."""
    proc = subprocess.run([d.exe, "gate", "--server", d.url, "--service", "web"],
                          capture_output=True, text=True, timeout=30)
    line = next((l for l in proc.stdout.splitlines() if "error_budget:availability" in l), "")
    return proc.returncode, " ".join(line.split())


def check_spent(d, left):
    want = f"error budget exhausted: {pct(left)} left of availability, policy requires {pct(POLICY)}"
    doc = wait_until("the gate's fail on the budget, kept for the deployment",
                     lambda: (g := gate(d))["failed_at"] is not None and g, timeout=45)
    check(doc["reason"].startswith("fail") and doc["reason"].endswith(want),
          f"reason {doc['reason']!r}, expected it to end with {want!r}")
    c = check_named(doc, "error_budget:availability")
    check(c is not None and abs(c["measured"] - left) < 1e-9 and c["threshold"] == POLICY
          and c["op"] == ">=" and c["verdict"] == "fail", f"budget check {c}")
    rc, line = gate_cli(d)
    want_line = f"FAIL error_budget:availability {pct(left)} (want >= {pct(POLICY)} left)"
    check(rc == 1 and line == want_line, f"slawatch gate: exit {rc}, {line!r}, expected {want_line!r}")
    rate = check_named(doc, "error_rate")
    check(rate is not None and rate["verdict"] == "pass", f"error_rate check {rate}")
    check("policy_override" not in doc, f"policy_override without an override: {doc}")
    _, status = d.get_json("/api/v1/status")
    web = next(s for s in status["services"] if s["name"] == "web")
    obj = web["objectives"][0]
    # Still met (99.04 % >= 99 %): the policy acts before the promise is broken.
    check(obj["met"] is True and abs(obj["measured"] - (1 - ERRORS / REQUESTS)) < 1e-9
          and abs(obj["budget_remaining"] - left) < 1e-9,
          f"status availability {obj}, expected budget_remaining {left}")
    return doc


def check_bad_overrides(d, failed_at):
    for bad, says in (("INC 123", "character ' '"), ("X" * 33, "33 characters"),
                      ("", "empty"), (123, "must be a string")):
        status, _, body = d.post("/api/v1/deployments", {"service": "web", "policy_override": bad})
        check(status == 400 and says in body.decode(errors="replace"),
              f"policy_override {bad!r}: HTTP {status} {body[:200]!r}")
    rows = db_rows(d, "SELECT COUNT(*) FROM deployments")[0][0]
    check(rows == 1, f"{rows} deployment rows after refused marks, expected the first one only")
    doc = gate(d)
    check(doc["verdict"] == "fail" and doc["failed_at"] == failed_at,
          f"after refused marks the kept fail changed: {doc['verdict']} {doc['failed_at']}")


def check_override(d):
    status, _, body = d.post("/api/v1/deployments", {"service": "web", "policy_override": "INC-123"})
    mark = json.loads(body)
    check(status == 200 and mark.get("policy_override") == "INC-123", f"override mark: {status} {body!r}")
    doc = wait_until("the gate to pass with the override",
                     lambda: (g := gate(d))["verdict"] == "pass" and g, timeout=20)
    check(doc["reason"].endswith("; error budget policy overridden by INC-123"),
          f"reason {doc['reason']!r}")
    check(doc.get("policy_override") == "INC-123", f"gate policy_override {doc.get('policy_override')}")
    rc, line = gate_cli(d)
    check(rc == 0 and line.startswith("ok error_budget:availability")
          and line.endswith("left, overridden by INC-123)"), f"slawatch gate: exit {rc}, {line!r}")
    c = check_named(doc, "error_budget:availability")
    check(c is not None and c["verdict"] == "pass" and c.get("overridden_by") == "INC-123"
          and c["measured"] < POLICY, f"overridden budget check {c}")
    audits = db_rows(d, "SELECT who, service, env, verdict, checks FROM gate_audits"
                        " WHERE verdict = 'override'")
    check(len(audits) == 1 and audits[0][1:4] == ("web", "", "override")
          and json.loads(audits[0][4]) == {"policy_override": "INC-123"} and audits[0][0],
          f"override audit rows {audits}")
    marks = db_rows(d, "SELECT policy_override FROM deployments ORDER BY at_ms")
    check(marks == [(None,), ("INC-123",)], f"deployment rows {marks}")
    return mark


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def check_report(d, mark):
    month = parse_time(mark["at"]).strftime("%Y-%m")
    status, doc = d.get_json(f"/api/v1/report?month={month}&format=json")
    web = next((s for s in doc.get("services", []) if s["name"] == "web"), {})
    listed = web.get("policy_overrides")
    check(status == 200 and listed is not None and len(listed) == 1
          and listed[0]["policy_override"] == "INC-123" and listed[0]["env"] == ""
          and listed[0]["by"] and parse_time(listed[0]["deployed_at"]) == parse_time(mark["at"]),
          f"JSON report {status}: policy_overrides {listed}")
    status, _, body = d.get(f"/api/v1/report?month={month}&format=md")
    text = body.decode()
    section = text.split("### Changes this month", 1)[-1].split("###", 1)[0]
    check(status == 200 and "### Changes this month" in text
          and "(error-budget policy overridden: INC-123)" in section,
          f"Markdown report {status}: section {section!r}")
    status, _, body = d.get(f"/api/v1/report?month={month}&format=html")
    changes = body.decode().split('<ul class="changes">', 1)[-1].split("</ul>", 1)[0]
    check(status == 200 and "(error-budget policy overridden: INC-123)" in changes,
          f"HTML report {status}: {changes[:300]!r}")


def check_restart(d):
    check(d.stop() == 0, "daemon did not stop cleanly")
    d.start()
    doc = wait_until("the gate after the restart", lambda: gate(d))
    check(doc.get("policy_override") == "INC-123",
          f"after a restart the gate shows policy_override {doc.get('policy_override')}")


def check_bad_reload(d):
    bad = RULES.replace(f"require_budget_remaining: {POLICY * 100:g}%", "require_budget_remaining: 0%")
    lines = bad.splitlines()
    line = next(i for i, l in enumerate(lines) if "require_budget_remaining" in l) + 1
    col = len("  require_budget_remaining: ") + 1
    with open(d.rules_path, "w") as f:
        f.write(bad)
    status, _, body = d.post("/-/reload")
    want = f"rules.yaml:{line}:{col}:"
    check(status == 500 and want in body.decode() and "require_budget_remaining" in body.decode(),
          f"reload of a 0% policy: HTTP {status} {body[:300]!r}, expected {want}")
    doc = gate(d)
    check(doc.get("policy_override") == "INC-123" and
          check_named(doc, "error_budget:availability") is not None,
          f"the rules in force changed after a refused reload: {doc}")


def main():
    exe = sys.argv[1]
    left = 1 - ERRORS / ((1 - TARGET) * REQUESTS)
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(exe, tmp, rules=RULES).start()
        try:
            status, _, body = d.post("/api/v1/deployments", {"service": "web"})
            check(status == 200, f"first mark: HTTP {status} {body!r}")
            push_ahead(d)
            doc = check_spent(d, left)
            check_bad_overrides(d, doc["failed_at"])
            mark = check_override(d)
            check_report(d, mark)
            check_restart(d)
            check_bad_reload(d)
        finally:
            d.stop()
            if FAILURES:
                print(d.log_text()[-3000:])
    print("FAILED" if FAILURES else "ok")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
