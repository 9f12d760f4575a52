#!/usr/bin/env python3
"""A repository of OpenSLO files, checked by `slawatch check` and loaded by `slawatch serve`.

Usage: test_serve_openslo.py SLAWATCH OPENSLO_DIR

OPENSLO_DIR is tests/data/openslo: checkout/ holds a Service, three SLIs (good/total,
bad/total, a latency threshold) and four SLOs (three by indicatorRef, one inline) in three
files; payments/payments.yaml a second team's Service with its own SLI and two SLOs.

- `slawatch check` takes the three checkout files as one set (exit 0, one summary line); alone,
  slos.yaml is refused at each indicatorRef and service it cannot resolve, with FILE:LINE:COL;
  with payments.yaml added the set has two services, and `check --explain` gives each only the
  objectives of its own SLOs.
- `slawatch serve` with `rules_files` the three checkout files and payments.yaml, its clock
  (Debian's faketime) starting 2 s before a month starts, is fed by remote write (requests by
  status code and a latency histogram for each service's job, built here). Once it has
  evaluated 30 s into the month, each service's objectives in /api/v1/status are its own SLOs',
  each one's `met` and `measured` what this test works out from the data it sent and the
  OpenSLO targets (rules/OPENSLO.md's table), and /metrics agrees: the same traffic meets
  checkout's targets and misses payments' stricter ones.
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile

import rw_util
from serve_util import (FAILURES, LIBFAKETIME, check, evaluated_at, FakeClockDaemon,
                        scalar_metrics, wait_until)
from test_serve_verdict_rule import epoch

FILES = ["services.yaml", "slis.yaml", "slos.yaml"]
BASE_S = 10  # OpenSLO sets take the rules' default base_interval
INTERVALS = 5  # intervals with data from the month's start
PER_INTERVAL = {"200": 992, "500": 8}  # requests by status code
FAST, SLOW = 980, 20  # latencies per interval: in le="0.05", in +Inf (read as 1 s)
LE = ["0.05", "0.25", "1", "+Inf"]

# The SLOs of checkout/slos.yaml as rules/OPENSLO.md maps them: (sli, op, target).
OBJECTIVES = {
    "checkout-availability": ("availability", ">=", 0.99),    # good/total, target 0.99
    "checkout-errors": ("error_rate", "<=", 1 - 0.995),       # bad/total, targetPercent 99.5
    "checkout-latency": ("p95", "<=", 0.5),                   # lte 0.5 on _seconds, target 0.95
    "checkout-three-nines": ("availability", ">=", 0.999),    # inline good/total, target 0.999
}
# payments/payments.yaml's SLOs, fed the same traffic under job="payments".
PAYMENTS = {
    "payments-latency": ("p99", "<=", 0.3),                   # lte 0.3 on _seconds, target 0.99
    "payments-errors": ("error_rate", "<=", 1 - 0.999),       # inline bad/total, 99.9 %
}
SERVICES = {"checkout": OBJECTIVES, "payments": PAYMENTS}


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def check_cli(slawatch, repo):
    paths = [os.path.join(repo, "checkout", f) for f in FILES]
    rc, out, err = run([slawatch, "check"] + paths)
    check(rc == 0 and err == "", f"check of the checkout set: exit {rc}, stderr {err!r}")
    # One line per file, then the set: one service (api's SLOs and SLIs only resolve together).
    want = "3 rules files: ok together (1 service)\n"
    check(out.endswith(want) and out.count("\n") == 4, f"check summary {out!r}, want {want!r}")

    # slos.yaml alone: its references point into files not given. Lines counted in the file.
    rc, out, err = run([slawatch, "check", paths[2]])
    want = "".join(f"{paths[2]}:{line}:17: error: expected the name of a kind: SLI of the set "
                   f"for indicatorRef, found '{name}'\n"
                   for line, name in [(7, "checkout-success"), (21, "checkout-errors"),
                                      (35, "checkout-latency")])
    check(rc == 1 and out == "" and err == want, f"slos.yaml alone: exit {rc}, {err!r}")

    # A second team's Service and SLOs: one set of two services, each with its own objectives.
    payments = os.path.join(repo, "payments", "payments.yaml")
    rc, out, err = run([slawatch, "check"] + paths + [payments])
    want = "4 rules files: ok together (2 services)\n"
    check(rc == 0 and out.endswith(want), f"with payments.yaml: exit {rc}, {out!r} {err!r}")
    for service, objectives in SERVICES.items():
        rc, out, err = run([slawatch, "check", "--explain", service] + paths + [payments])
        got = explained_objectives(out)
        check(rc == 0 and got == sorted(objectives),
              f"--explain {service}: exit {rc}, objectives {got}, want {sorted(objectives)} "
              f"{err!r}")


def explained_objectives(text):
    """The objective names `check --explain` lists under `objectives:`."""
    names, inside = [], False
    for line in text.splitlines():
        if not line.startswith("  "):
            inside = line == "objectives:"
        elif inside:
            names.append(line.strip().split(":")[0])
    return sorted(names)


def remote_write_body(month_start):
    """Every sample of the test, for each service's job: a zero at the month's start, then one
    per interval."""
    series = []
    for job in SERVICES:
        series += job_series(month_start, job)
    return rw_util.snappy_block(rw_util.write_request(series))


def job_series(month_start, job):
    series = []
    for code, n in PER_INTERVAL.items():
        samples = [(0.0, int(month_start * 1000) + 500)]
        samples += [(float(n * (k + 1)), int((month_start + k * BASE_S + 5) * 1000))
                    for k in range(INTERVALS)]
        series.append(([("__name__", "http_requests_total"), ("code", code),
                        ("job", job)], samples))
    cumulative = {"0.05": FAST, "0.25": FAST, "1": FAST, "+Inf": FAST + SLOW}
    for le in LE:
        samples = [(0.0, int(month_start * 1000) + 500)]
        samples += [(float(cumulative[le] * (k + 1)), int((month_start + k * BASE_S + 5) * 1000))
                    for k in range(INTERVALS)]
        series.append(([("__name__", "http_request_duration_seconds_bucket"), ("job", job),
                        ("le", le)], samples))
    return series


def truth(intervals, objectives):
    """Each objective's (met, measured) from what was sent over the intervals judged."""
    requests = sum(PER_INTERVAL.values()) * intervals
    errors = PER_INTERVAL["500"] * intervals
    measured = {"availability": 1 - errors / requests, "error_rate": errors / requests}
    # pNN: the smallest latency with NN % of requests at or below it. FAST of FAST + SLOW are
    # at most 0.05 s; the rest are read as 1 s, the +Inf bucket's lower bound.
    out = {}
    for name, (sli, op, target) in objectives.items():
        if sli.startswith("p"):
            at_most = 0.05 if FAST / (FAST + SLOW) >= int(sli[1:]) / 100 else 1.0
            out[name] = (at_most <= target, None)
        else:
            v = measured[sli]
            out[name] = ((v >= target) if op == ">=" else (v <= target), v)
    return out


def objectives_of(d, service="checkout"):
    status, doc = d.get_json("/api/v1/status")
    for s in doc.get("services", []) if status == 200 else []:
        if s["name"] == service:
            return {o["name"]: o for o in s["objectives"]}
    return {}


def check_reload(d, tmp, want):
    """A broken file keeps the whole old set, naming its place; a fixed set applies whole."""
    slis = os.path.join(tmp, "slis.yaml")
    with open(slis) as f:
        text = f.read()
    first_sli = text.split("---\n")[0]
    with open(slis, "a") as f:  # the first SLI again: its name is at line len + 1 (---) + 4
        f.write("---\n" + first_sli)
    where = f"{slis}:{text.count(chr(10)) + 5}:9: expected a unique SLI name, found " \
            f"'checkout-success' again (first at {slis}:4:9)"
    st, _, body = d.post("/-/reload")
    check(st == 500 and where in body.decode(), f"reload of a broken set: {st} {body!r}, "
                                                f"want 500 with {where!r}")
    got = objectives_of(d)
    check({n: o["met"] for n, o in got.items()} == {n: m for n, (m, _) in want.items()},
          f"after a failed reload: {got}")
    with open(slis, "w") as f:
        f.write(text)
    slos = os.path.join(tmp, "slos.yaml")
    with open(slos) as f:
        text = f.read()
    with open(slos, "w") as f:  # checkout-errors: error_rate <= 1% instead of 0.5 %
        f.write(text.replace("targetPercent: 99.5", "targetPercent: 99"))
    st, _, body = d.post("/-/reload")
    check(st == 200, f"reload of the fixed set: {st} {body!r}")
    errors_rate = want["checkout-errors"][1]
    o = wait_until("checkout-errors judged against 1 %",
                   lambda: (lambda o: o if o.get("target") == 0.01 else None)(
                       objectives_of(d).get("checkout-errors", {})), 20)
    check(o.get("met") is (errors_rate <= 0.01),
          f"checkout-errors after reload: {o}, want met {errors_rate <= 0.01}")


def check_service(service, got, want, metrics):
    """One service's objectives in /api/v1/status (got) and /metrics against want."""
    check(sorted(got) == sorted(want), f"{service}: objectives {sorted(got)}, want {sorted(want)}")
    for name, (met, measured) in want.items():
        o = got.get(name, {})
        check(o.get("met") is met, f"{service} {name}: met {o.get('met')}, want {met} ({o})")
        if measured is not None:
            check(o.get("measured") is not None and
                  math.isclose(o["measured"], measured, rel_tol=1e-9),
                  f"{service} {name}: measured {o.get('measured')}, want {measured}")
        labels = frozenset({("service", service), ("objective", name), ("window", "month")})
        m = metrics.get(("slawatch_objective_met", labels))
        check(m == (1 if met else 0),
              f"{service} {name}: slawatch_objective_met {m}, want {met}")
    print(f"{service} objectives:", {n: (o.get("met"), o.get("measured")) for n, o in got.items()})


def check_serve(slawatch, repo, tmp):
    month_start = epoch("2026-12-01T00:00:00Z")
    d = FakeClockDaemon(slawatch, tmp, month_start - 2)
    for f in FILES:
        shutil.copy(os.path.join(repo, "checkout", f), tmp)
    shutil.copy(os.path.join(repo, "payments", "payments.yaml"), tmp)
    with open(d.config_path, "w") as f:
        f.write(f"listen: 127.0.0.1:{d.port}\ndata_dir: {d.data}\n"
                f"rules_files: [{', '.join(FILES)}, payments.yaml]\nlog_level: info\n"
                "remote_write_receiver:\n  enabled: true\n")
    rc, out, err = run([slawatch, "check", d.config_path])
    check(rc == 0 and "4 rules files: ok together (2 services)\n" in out
          and f"{d.config_path}: ok (configuration" in out,
          f"check of the configuration: exit {rc}, {out!r} {err!r}")
    try:
        d.start()
        st, _, body = d.post("/api/v1/write", remote_write_body(month_start), rw_util.HEADERS)
        check(st == 204, f"remote write: HTTP {st} {body!r}")
        look_at = month_start + 3 * BASE_S
        at = wait_until("evaluation 30 s into the month",
                        lambda: (lambda t: t if t >= look_at else 0)(evaluated_at(d)), 60)
        intervals = int((at - month_start) // BASE_S)
        check(1 <= intervals <= INTERVALS, f"evaluated at {at}: {intervals} intervals")
        status, doc = d.get_json("/api/v1/status")
        check(status == 200, f"/api/v1/status: HTTP {status}")
        services = {s["name"]: s for s in doc.get("services", [])}
        check(sorted(services) == sorted(SERVICES),
              f"services {sorted(services)}, want {sorted(SERVICES)}")
        metrics = scalar_metrics(d.get("/metrics")[2].decode())
        for service, objectives in SERVICES.items():
            got = {o["name"]: o for o in services.get(service, {}).get("objectives", [])}
            check_service(service, got, truth(intervals, objectives), metrics)
        check_reload(d, tmp, truth(intervals, OBJECTIVES))
    finally:
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
        if FAILURES:
            print("--- slawatch log ---\n" + d.log_text()[-3000:])


def main():
    slawatch, repo = sys.argv[1], sys.argv[2]
    if not os.access(LIBFAKETIME, os.R_OK):
        print(f"FAIL: {LIBFAKETIME} is missing (Debian package libfaketime)")
        return 1
    check_cli(slawatch, repo)
    with tempfile.TemporaryDirectory(prefix="sw-openslo-") as tmp:
        check_serve(slawatch, repo, tmp)
    if FAILURES:
        return 1
    print("OpenSLO repository: checked as one set, served with every objective as computed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
