#!/usr/bin/env python3
"""`slawatch export` of the store export_fixture.c writes, checked against what this test works
out from the fixture's description (its header comment): the CSV rows, the errors, and, with
Java HdrHistogram (tests/interop's Interop class), the .hlog as Java's HistogramLogReader reads
it: intervals, tags, times, counts, max, and the percentiles of the merged intervals.

usage: test_export.py SLAWATCH FIXTURE [JAVA CLASSES JAR]
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

SLAWATCH, FIXTURE = sys.argv[1:3]
JAVA = sys.argv[3:6] if len(sys.argv) == 6 else None

T0_MS = 1790812800000          # 2026-10-01T00:00:00Z
FROM, TO = "2026-10-01T00:00:00Z", "2026-10-01T00:05:00Z"
ENV_ROWS = {"blue": 12, "green": 11}

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")


def near(what, got, want, rel=0.001):
    """HDR precision: 3 significant digits, values reported as their bucket's highest."""
    if got is None or not (want <= got <= want * (1 + rel)):
        failures.append(f"{what}: got {got!r}, want {want} (+{rel:.1%})")


def latency_values(env, k):
    """The fixture's latency of row k, as (value_us, count) pairs; None for green's k = 5."""
    if env == "green" and k == 5:
        return None
    scale = 2 if env == "green" else 1
    return [((k + 1) * 1000 * scale, 90), (250000 * scale, k % 4 + 1)]


def percentile(pairs, p):
    """HdrHistogram's definition: the value at rank round(p% of the count), at least 1."""
    pairs = sorted(pairs)
    total = sum(c for _, c in pairs)
    rank, seen = max(1, int(p / 100 * total + 0.5)), 0
    for v, c in pairs:
        seen += c
        if seen >= rank:
            return v
    raise AssertionError("empty")


def slawatch(data, *args):
    return subprocess.run([SLAWATCH, "export", "--data", data, *args], capture_output=True,
                          text=True, timeout=60)


def check_csv(data):
    p = slawatch(data, "--service", "api", "--from", FROM, "--to", TO, "--format", "csv")
    check("csv exit", (p.returncode, p.stderr.strip()), (0, "slawatch export: 23 intervals"))
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    check("csv rows", len(rows), 23)
    got = {(r["env"], r["start"]): r for r in rows}
    for env, n in ENV_ROWS.items():
        for k in range(n):
            start = f"2026-10-01T00:{k * 10 // 60:02d}:{k * 10 % 60:02d}Z"
            r = got.get((env, start))
            if r is None:
                failures.append(f"csv: no row {env} {start} (have {sorted(got)[:3]}...)")
                continue
            check(f"csv {env} {k}", (r["length_s"], int(r["requests"]), int(r["errors"]),
                                     int(r["probes"]), int(r["probe_failures"]), r["has_data"]),
                  ("10.000", 100 + k, k % 3, 2, 1 if k % 2 else 0, "1"))
    out = os.path.join(os.path.dirname(data), "web.csv")
    p = slawatch(data, "--service", "web", "--from", FROM, "--to", TO, "--format", "csv",
                 "-o", out)
    check("csv -o exit", p.returncode, 0)
    with open(out) as f:
        check("csv -o rows", [(r["env"], r["requests"]) for r in csv.DictReader(f)],
              [("", "10")] * 3)


def check_errors(data, tmp):
    cases = [
        (["--service", "nope", "--from", FROM, "--to", TO, "--format", "csv"], 1,
         "unknown service 'nope'"),
        (["--service", "api", "--env", "red", "--from", FROM, "--to", TO, "--format", "csv"], 1,
         "no environment 'red'"),
        (["--service", "api", "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-02T00:00:00Z",
          "--format", "csv"], 1, "has no intervals stored between"),
        (["--service", "api", "--from", TO, "--to", FROM, "--format", "csv"], 2,
         "empty time range"),
        (["--service", "api", "--from", FROM, "--to", FROM, "--format", "csv"], 2,
         "empty time range"),
        (["--service", "api", "--from", "yesterday", "--to", TO, "--format", "csv"], 2,
         "not an RFC 3339 time"),
        (["--service", "api", "--from", FROM, "--to", TO, "--hlog", "/nonexistent/d/x.hlog"], 2,
         "cannot write /nonexistent/d/x.hlog"),
        (["--service", "api", "--from", FROM, "--to", TO, "--format", "json"], 2,
         "--format must be csv"),
        (["--service", "api", "--from", FROM, "--to", TO], 2, "give one of --hlog"),
    ]
    for args, code, text in cases:
        p = slawatch(data, *args)
        check(f"{args} exit", p.returncode, code)
        check(f"{args} says '{text}' ({p.stderr.strip()[:120]})", text in p.stderr, True)
    p = subprocess.run([SLAWATCH, "export", "--data", os.path.join(tmp, "none"), "--service",
                        "api", "--from", FROM, "--to", TO, "--format", "csv"],
                       capture_output=True, text=True, timeout=60)
    check("no store", (p.returncode, "no store in" in p.stderr), (2, True))


def java_json(*args):
    java, classes, jar = JAVA
    p = subprocess.run([java, "-XX:+UseSerialGC", "-cp", classes + os.pathsep + jar, "Interop",
                        *args], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit(f"Interop {args}: {p.stderr}")
    return json.loads(p.stdout)


def check_hlog_intervals(log):
    info = java_json("info", log)
    want = [(env, k) for k in range(12) for env in ("blue", "green")
            if k < ENV_ROWS[env] and latency_values(env, k) is not None]
    got = sorted(((iv["tag"], (iv["start_ms"] - T0_MS) // 10000), iv) for iv in info["intervals"])
    check("hlog intervals", [g[0] for g in got], sorted(want))
    for (env, k), iv in got:
        pairs = latency_values(env, k)
        check(f"hlog {env} {k} count", iv["total_count"], sum(c for _, c in pairs))
        check(f"hlog {env} {k} times", (iv["start_ms"], iv["end_ms"]),
              (T0_MS + k * 10000, T0_MS + (k + 1) * 10000))
        near(f"hlog {env} {k} max", iv["max"], max(v for v, _ in pairs))


def check_hlog_percentiles(log, env):
    pairs = [pv for k in range(ENV_ROWS[env]) for pv in (latency_values(env, k) or [])]
    stats = java_json("stats", log, env)
    check(f"{env} merged count", stats["total_count"], sum(c for _, c in pairs))
    for key, p in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        near(f"{env} merged {key}", stats[key], percentile(pairs, p))


def check_hlog(data, tmp):
    log = os.path.join(tmp, "api.hlog")
    p = slawatch(data, "--service", "api", "--from", FROM, "--to", TO, "--hlog", log)
    check("hlog exit", (p.returncode, p.stderr.strip()), (0, "slawatch export: 22 intervals"))
    check_hlog_intervals(log)
    for env in ENV_ROWS:
        check_hlog_percentiles(log, env)
    green = os.path.join(tmp, "green.hlog")
    slawatch(data, "--service", "api", "--env", "green", "--from", FROM, "--to", TO,
             "--hlog", green)
    check("--env green tags", java_json("info", green)["tags"], ["green"])
    web = os.path.join(tmp, "web.hlog")
    slawatch(data, "--service", "web", "--from", FROM, "--to", TO, "--hlog", web)
    check("untagged web", java_json("info", web)["tags"], [None])


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        subprocess.run([FIXTURE, data], check=True, timeout=60)
        check_csv(data)
        check_errors(data, tmp)
        if JAVA is not None:
            check_hlog(data, tmp)
    for f in failures:
        print("FAIL", f)
    print(f"{'ok' if not failures else 'failed'}: {len(failures)} failures")
    sys.exit(1 if failures else 0)


main()
