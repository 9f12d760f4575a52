#!/usr/bin/env python3
"""exporters/grafana/slawatch.json queries only metrics slawatch exports: every metric name in
its PromQL (panel targets and template-variable queries) must be documented in docs/metrics.md
AND appear on the /metrics of a live `slawatch serve` that has evaluated pushed data, so neither
the dashboard nor the document can drift from the code. Also checks the dashboard has the
`service` and `env` variables and that every panel query filters on them.

usage: test_dashboard.py SLAWATCH DASHBOARD METRICS_MD SERVE_UTIL_DIR
"""
import json
import re
import sys
import tempfile

SLAWATCH, DASHBOARD, METRICS_MD, UTIL = sys.argv[1:5]
sys.path.insert(0, UTIL)
import serve_util  # noqa: E402

# PromQL words that look like identifiers but are not metric names.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan"}
HIST_SUFFIXES = ("_bucket", "_sum", "_count")

failures = []


def check(what, cond, detail=""):
    if not cond:
        failures.append(f"{what}{': ' + detail if detail else ''}")


def metric_names(expr):
    """The metric names an expression selects (PromQL lexed just enough for the dashboard)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                         # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                        # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                       # Grafana variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue                                         # a function or a keyword
        if re.match(r"\d", e[max(0, m.start() - 1):m.start()] or " "):
            continue                                         # part of a number: 1e3
        names.add(word)
    return names


def dashboard_queries(dash):
    """(where, expr) of every panel target and every query variable."""
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append((f"panel '{p['title']}' {t['refId']}", t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            inner = re.fullmatch(r"label_values\((.*),\s*\w+\)", q)
            out.append((f"variable {v['name']}", inner.group(1) if inner else q))
    return out


def documented_names():
    names = {}
    with open(METRICS_MD) as f:
        for line in f:
            m = re.match(r"\|\s*`(slawatch_\w+)`\s*\|\s*(\w+)\s*\|", line)
            if m:
                names[m.group(1)] = m.group(2)
    return names


def exported(name, table):
    """Is name a series of one of table's families ({family: type})?"""
    if name in table:
        return True
    for suffix in HIST_SUFFIXES:
        if name.endswith(suffix) and table.get(name[: -len(suffix)]) == "histogram":
            return True
    return False


def live_names(tmp):
    """Series names on /metrics after the daemon evaluated pushed data (alerts and triggers of
    serve_util's rules fire on the 50 % errors pushed)."""
    d = serve_util.Daemon(SLAWATCH, tmp)
    try:
        d.start()
        batch = [{"service": "api", "env": env, "requests": 200, "errors": 100,
                  "latency_us": [120000, 250000, 900000], "probes": [True, False]}
                 for env in ("blue", "green")]
        batch.append({"service": "web", "requests": 200, "errors": 0, "latency_us": [80000]})
        serve_util.push_intervals(d, lambda k: batch, 4)
        status, _, body = d.get("/metrics")
        check("/metrics answers 200", status == 200, str(status))
    finally:
        d.stop()
    names = {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split()
            names[family] = kind
        elif line and not line.startswith("#"):
            names.setdefault(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0), "sample")
    return names


def main():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    variables = {v["name"] for v in dash["templating"]["list"]}
    check("service and env variables", {"service", "env"} <= variables, str(variables))
    queries = dashboard_queries(dash)
    check("panels with queries", len(queries) >= 15, str(len(queries)))
    doc = documented_names()
    check("docs/metrics.md table read", len(doc) >= 40, str(len(doc)))
    with tempfile.TemporaryDirectory() as tmp:
        live = live_names(tmp)
    used = set()
    for where, expr in queries:
        names = metric_names(expr)
        check(f"{where} selects a metric", bool(names), expr)
        for name in names:
            used.add(name)
            check(f"{where}: {name} documented in docs/metrics.md", exported(name, doc))
            check(f"{where}: {name} on a live /metrics", exported(name, live))
        if where.startswith("panel"):
            check(f"{where} filters on $service and $env",
                  '$service' in expr and '$env' in expr, expr)
    for family in ("slawatch_sli_availability_ratio", "slawatch_error_budget_remaining_ratio",
                   "slawatch_error_budget_burn_rate", "slawatch_alert_firing",
                   "slawatch_rollback_trigger_fired", "slawatch_gate_verdict"):
        check(f"dashboard shows {family}", family in used)
    for f in failures:
        print("FAIL", f)
    print(f"{len(used)} metric names checked; {'ok' if not failures else 'failed'}: "
          f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


main()
