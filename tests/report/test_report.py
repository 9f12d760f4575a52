#!/usr/bin/env python3
"""The monthly report of the recorded month (record_month.c) against figures computed here by
hand from the month's description, then the HTML page rendered by headless Chromium: its text
and the number of chart elements. The screenshot stays in the build directory as an artefact.

usage: test_report.py SLAWATCH RECORD_MONTH RULES BUILD_DIR
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

SLAWATCH, RECORD, RULES, OUT = sys.argv[1:5]

# ---- the recorded month, by hand (UTC, October 2026: 31 days) ----
MINUTES = 31 * 24 * 60                # 44640
MAINT = 60                            # Oct 10 02:00-03:00, excluded
GAP = 6 * 60                          # Oct 20 00:00-06:00, no data
INCIDENT = 30                         # Oct 14 13:00-13:30: 6000 of 60000 fail, all at 2.5 s
DATA = MINUTES - MAINT - GAP          # 44220 minutes with data outside maintenance
REQUESTS = DATA * 60000               # 2,653,200,000
ERRORS = (DATA - INCIDENT) * 30 + INCIDENT * 6000   # 1,505,700
COVERAGE = DATA / (MINUTES - MAINT)   # 0.99192
AVAILABILITY = 1 - ERRORS / REQUESTS  # 0.9994325
ALLOWED_MIN = 0.001 * MINUTES         # 44.64 minutes
DOWNTIME_MIN = ERRORS / REQUESTS * DATA   # 25.09 minutes
BUDGET_LEFT = 1 - ERRORS / (0.001 * REQUESTS)  # 0.4325
# Latency: a normal minute holds 94 values at 200 ms, 4 at 450 ms, 2 at 1.2 s; the incident's
# 100 at 2.5 s. Over the month: P95 falls in the 450 ms values, P99 in the 1.2 s ones.
N_NORMAL = DATA - INCIDENT
COUNTS = [(200000, 94 * N_NORMAL), (450000, 4 * N_NORMAL), (1200000, 2 * N_NORMAL),
          (2500000, 100 * INCIDENT)]


def percentile(p):
    total = sum(c for _, c in COUNTS)
    rank, seen = p / 100 * total, 0
    for v, c in COUNTS:
        seen += c
        if seen >= rank:
            return v
    raise AssertionError("empty")


P95, P99 = percentile(95), percentile(99)   # 450 ms, 1.2 s
WEB_COVERAGE = 16 * 1440 / MINUTES          # web started on Oct 16: 51.6 %
SEPT_AVAILABILITY = 1 - 6 / 60000           # api's September: 99.99 %

failures = []


def check(what, got, want, rel=0.0):
    ok = got == want if rel == 0 else abs(got - want) <= rel * abs(want)
    if not ok:
        failures.append(f"{what}: got {got!r}, want {want!r}")


def run(*args, ok=True):
    p = subprocess.run([SLAWATCH, *args], capture_output=True, text=True, timeout=120)
    if ok and p.returncode != 0:
        raise SystemExit(f"slawatch {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def check_json(data):
    rep = json.loads(run("report", "--data", data, "--month", "2026-10", "--format",
                         "json").stdout)
    # The headline names the missed count too (issue 20: "4 of 10 met" hid the one missed).
    check("summary", rep["summary"], {"met": 4, "missed": 1, "no_verdict": 5, "judged": 5,
                                      "commitments": 10,
                                      "headline": "4 met, 1 missed, 5 without a verdict"})
    api = next(s for s in rep["services"] if s["name"] == "api")
    check("requests", api["requests"], REQUESTS)
    check("errors", api["errors"], ERRORS)
    check("coverage", api["coverage"], COVERAGE, 1e-9)
    check("p95", api["p95_us"], P95, 0.001)
    check("p99", api["p99_us"], P99, 0.001)
    obj = {o["name"]: o for o in api["objectives"]}
    check("availability", obj["availability"]["measured"], AVAILABILITY, 1e-9)
    check("availability met", obj["availability"]["met"], True)
    check("allowed downtime", obj["availability"]["allowed_downtime_s"] / 60, ALLOWED_MIN, 1e-9)
    check("downtime", obj["availability"]["downtime_s"] / 60, DOWNTIME_MIN, 1e-9)
    check("budget left", obj["availability"]["budget_remaining"], BUDGET_LEFT, 1e-9)
    check("p99 missed", obj["latency-p99"]["met"], False)
    check("p95 met", obj["latency-p95"]["met"], True)
    check("throughput", (obj["throughput"]["measured"], obj["throughput"]["samples"]),
          (1.0, DATA))
    check("previous month", obj["availability"]["previous"]["measured"], SEPT_AVAILABILITY,
          1e-9)
    # The P99's why: requests over 1 s, 2 a normal minute and 100 an incident minute, so the
    # incident's hour holds 30 x 100 + 30 x 2 of them; no other hour is remarkable.
    over = 2 * N_NORMAL + 100 * INCIDENT
    why = obj["latency-p99"]["why"]
    check("p99 why", (why["unit"], why["total"], [(p["start"], p["end"], p["bad"])
                                                   for p in why["periods"]]),
          ("requests over 1 s", over,
           [("2026-10-14T13:00:00Z", "2026-10-14T14:00:00Z", 30 * 100 + 30 * 2)]))
    check("p99 sentence", obj["latency-p99"]["sentence"].startswith(
        "latency-p99: missed. P99 was 1.2 s against 1 s, worse by 200 ms; %.2f %% of the "
        "requests over 1 s from 14 Oct 13:00-14:00, when rollback trigger ErrorRateSpike fired "
        "on green (13:02) and alert ErrorRateHigh fired (13:05)" % (100 * 3060 / over)), True)
    check("met availability says its budget", obj["availability"]["sentence"].endswith(
        "; %.2f %% of the error budget left." % (100 * BUDGET_LEFT)), True)
    check("worst hour", api["worst_hours"][0]["start"], "2026-10-14T13:00:00Z")
    check("worst hour errors", api["worst_hours"][0]["errors"], 30 * 6000 + 30 * 30)
    check("worst hour bad minutes", api["worst_hours"][0]["bad_minutes"], 30)
    check("worst day", api["worst_days"][0]["day"], 14)
    # No padding: a normal hour's 1,800 failed requests are 0.12 % of the month's, a normal
    # day's 43,200 are 2.9 %, under three times an even share (3/31): only the incident stands out.
    check("no quiet periods listed", (len(api["worst_hours"]), len(api["worst_days"])), (1, 1))
    check("events", [(e["kind"], e["name"], e["fired_at"], e["resolved_at"])
                     for e in api["events"]],
          [("trigger", "ErrorRateSpike", "2026-10-14T13:02:00Z", None),
           ("alert", "ErrorRateHigh", "2026-10-14T13:05:00Z", "2026-10-14T13:31:00Z")])
    web = next(s for s in rep["services"] if s["name"] == "web")
    check("web coverage", web["coverage"], WEB_COVERAGE, 1e-9)
    check("web verdicts", [o["met"] for o in web["objectives"]], [None] * 5)


def check_other_formats(data):
    csv = run("report", "--data", data, "--month", "2026-10", "--format", "csv").stdout
    rows = csv.strip().splitlines()
    check("csv rows", len(rows), 1 + 2 * 31)
    day14 = next(r for r in rows if r.startswith('"api",2026-10-14'))
    check("csv Oct 14 errors", int(day14.split(",")[3]), (1440 - 30) * 30 + 30 * 6000)
    md = run("report", "--data", data, "--month", "2026-10", "--format", "md").stdout
    check("markdown tally", "**4 met, 1 missed, 5 without a verdict**" in md, True)
    check("markdown numbers for people", "Requests: 2.65 G, failed: 1.51 M" in md
          and REQUESTS == 2653200000 and ERRORS == 1505700, True)


def check_bad_input(data, tmp):
    cases = [
        (["--month", "2025-10"], "no rules were recorded"),
        (["--month", "2025-10", "--rules", RULES], "no data"),
        (["--month", "2026-10", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["--month", "2026-10", "-o", "/nonexistent/dir/r.html"], "cannot write"),
        (["--month", "2026-13"], "not YYYY-MM"),
        (["--month", "2026-10", "--service", "nope"], "not in the rules"),
    ]
    for args, text in cases:
        p = run("report", "--data", data, *args, ok=False)
        check(f"{args} fails", p.returncode != 0, True)
        check(f"{args} says why", text in p.stderr, True)
    future = run("report", "--data", data, "--month", "2099-01", ok=False)
    check("future month", "has not started" in future.stderr and future.returncode != 0, True)


def charts_of(dom, kind):
    """The SVG charts of one kind (the chart module's class after "sw-chart"), in page order."""
    return [m.group(0) for m in re.finditer(r'<svg class="sw-chart[^"]*\b%s".*?</svg>' % kind,
                                           dom, re.S)]


def hover_items(svg, tag, cls):
    """Elements of a class carrying a hover <title> (legend swatches have none)."""
    return re.findall(r'<%s class="%s[^"]*"([^>]*)><title>([^<]*)</title>' % (tag, cls), svg)


def check_charts(dom):
    """Per service (api 31 days with requests, web 16): a bar and two latency points per day
    with requests, a burn-down line inside the plot, 31 x 24 heatmap cells; every chart with
    value and time axes and its unit."""
    avail, lat, budget = (charts_of(dom, k) for k in ("availability", "latency", "budget"))
    heat = charts_of(dom, "heatmap")
    check("charts per kind", [len(avail), len(lat), len(budget), len(heat)], [2, 2, 2, 2])
    bars = [b for svg in avail for b in hover_items(svg, "rect", "sw-bar")]
    check("availability bars", len(bars), 31 + 16)
    # No day's bar is flat: the floor follows the data (the old chart cut it at 99 %).
    heights = [float(re.search(r'height="([0-9.]+)"', attrs).group(1)) for attrs, _ in bars]
    check("every bar has a height", min(heights) >= 1.0, True)
    # Oct 14's incident: (1410 x 30 + 30 x 6000) of 86.4 million requests failed: 99.743 %.
    check("incident day's hover value", any("2026-10-14 00:00: 99.743%" in t for _, t in bars),
          True)
    points = sum(len(re.findall(r'class="sw-pt"><title>', svg)) for svg in lat)
    check("latency points", points, 2 * (31 + 16))
    for svg in budget:
        line = re.search(r'<path class="sw-line" d="([^"]*)"', svg).group(1)
        ys = [float(y) for y in re.findall(r'[ML][0-9.]+ (-?[0-9.]+)', line)]
        check("burn-down drawn", len(ys) > 1, True)
        # The plot area of a 200-unit-high chart: y from 26 to 178 (chart.h's pads).
        check("burn-down inside the chart", all(26.0 <= y <= 178.0 for y in ys), True)
    for svg in avail + lat + budget:
        check("value axis unit", re.search(r'class="sw-unit"[^>]*>(%|ms)</text>', svg)
              is not None, True)
        check("time axis", ">Oct 1</text>" in svg and ">Oct 29</text>" in svg, True)
    cells = sum(len(hover_items(svg, "rect", "sw-cell")) for svg in heat)
    check("heatmap cells", cells, 2 * 31 * 24)


def check_chromium(data, tmp):
    chromium = "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit("chromium is not installed (Debian package chromium)")
    html = os.path.join(tmp, "report.html")
    run("report", "--data", data, "--month", "2026-10", "-o", html)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + tmp + "/chr",
             "--window-size=900,3000"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", "file://" + html], capture_output=True,
                         text=True, timeout=120).stdout
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", dom, flags=re.S))
    check("page tally", re.search(r"4 met, 1 missed, 5 without a verdict", text) is not None,
          True)
    missed = re.search(r'<ul id="missed">(.*?)</ul>', dom, re.S)
    check("the first screen says what was missed and why",
          missed is not None and "P99 was 1.2 s against 1 s, worse by 200 ms" in missed.group(1)
          and "ErrorRateSpike" in missed.group(1), True)
    check("low coverage stated", "Data covers only 51.6% of the month" in text, True)
    check("maintenance shown", "database migration" in text, True)
    check("alert shown", "ErrorRateHigh" in text and "14 Oct 13:05" in text, True)
    check_charts(dom)
    check("nothing external", re.search(r'(src|href)="(https?:)?//', dom) is None, True)
    shot = os.path.join(OUT, "report.png")
    subprocess.run([chromium, *flags, "--screenshot=" + shot, "file://" + html],
                   capture_output=True, timeout=120)
    check("screenshot written", os.path.getsize(shot) > 10000, True)


def older_store(data, tmp):
    """A copy of the store as a slawatch before minute counts on hour rows left it (schema 1,
    nor the later policy_override of deployments, window_stats and recent rows): the report reads the
    minutes from the 1-minute rows instead and must say the same."""
    old = os.path.join(tmp, "data-schema1")
    shutil.copytree(data, old)
    db = sqlite3.connect(os.path.join(old, "slawatch.db"))
    db.executescript("DROP VIEW intervals; INSERT INTO series_rows SELECT * FROM recent_rows;"
                     "DROP TABLE recent_rows; ALTER TABLE series_rows RENAME TO intervals;"
                     "DELETE FROM meta WHERE key = 'recent_from_ms';"
                     "ALTER TABLE intervals DROP COLUMN minutes;"
                     "ALTER TABLE deployments DROP COLUMN policy_override;"
                     "DROP TABLE window_stats;"
                     "UPDATE schema_version SET version = 1;")
    db.close()
    return old


def fnv1a64(name):
    """FNV-1a 64 of the UTF-8 name (the FNV spec's offset basis and prime): docs/scaling.md."""
    h = 14695981039346656037
    for b in name.encode("utf-8"):
        h = ((h ^ b) * 1099511628211) % (1 << 64)
    return h


def check_shards(data, tmp):
    """With a sharded configuration, "every service" is every service of that shard."""
    for index in range(3):
        cfg = os.path.join(tmp, f"shard{index}.yaml")
        with open(cfg, "w") as f:
            f.write(f"data_dir: {data}\nrules_files: [{RULES}]\n"
                    f"shard: {{count: 3, index: {index}}}\n")
        want = [s for s in ("api", "web") if fnv1a64(s) % 3 == index]
        p = run("report", "--config", cfg, "--month", "2026-10", "--format", "json",
                ok=bool(want))
        if want:
            check(f"shard {index} of 3 reports", [s["name"] for s in
                                                  json.loads(p.stdout)["services"]], want)
        else:
            check(f"shard {index} of 3, owning nothing, says so",
                  (p.returncode, "owns none of the services" in p.stderr), (1, True))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        subprocess.run([RECORD, data, RULES], check=True, timeout=240)
        check_json(data)
        check_json(older_store(data, tmp))
        check_other_formats(data)
        check_bad_input(data, tmp)
        check_shards(data, tmp)
        check_chromium(data, tmp)
    for f in failures:
        print("FAIL", f)
    print(f"{'ok' if not failures else 'failed'}: {len(failures)} failures")
    sys.exit(1 if failures else 0)


main()
