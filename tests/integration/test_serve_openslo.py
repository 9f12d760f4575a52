#!/usr/bin/env python3
"""A repository of OpenSLO files, checked by `slawatch check` and loaded by `slawatch serve`.

Usage: test_serve_openslo.py SLAWATCH OPENSLO_DIR

OPENSLO_DIR is tests/data/openslo: checkout/ holds a Service, three SLIs (good/total,
bad/total, a latency threshold) and four SLOs (three by indicatorRef, one inline) in three
files; payments/payments.yaml a second Service with an SLO.

- `slawatch check` takes the three checkout files as one set (exit 0, one summary line); alone,
  slos.yaml is refused at each indicatorRef and service it cannot resolve, with FILE:LINE:COL;
  with payments.yaml added it is refused at the payments SLO naming both SLOs (this rule set
  applies its objectives to every service, so a set's SLOs must be for one service).
- `slawatch serve` with `rules_files` the three checkout files, its clock (Debian's faketime)
  starting 2 s before a month starts, is fed by remote write (requests by status code and a
  latency histogram, built here). Once it has evaluated 30 s into the month, each objective's
  `met` and `measured` in /api/v1/status must be what this test works out from the data it
  sent and the OpenSLO targets (rules/OPENSLO.md's table), and /metrics must agree.
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile

import rw_util
from serve_util import FAILURES, check, scalar_metrics, wait_until
from test_serve_verdict_rule import LIBFAKETIME, FakeClockDaemon, epoch

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

    # A second service's SLO: refused where it names its service, with the first SLO's place.
    payments = os.path.join(repo, "payments", "payments.yaml")
    rc, out, err = run([slawatch, "check"] + paths + [payments])
    want = (f"{payments}:12:12: error: SLO 'payments-latency' is for service 'payments', but "
            f"SLO 'checkout-availability' ({paths[2]}:4:9) is for service 'checkout': slawatch "
            "applies a rule set's objectives to every service, so the SLOs of one set must all "
            "be for one service\n")
    check(rc == 1 and out == "" and err == want, f"with payments.yaml: exit {rc}, {err!r}")


def remote_write_body(month_start):
    """Every sample of the test: a zero at the month's start, then one per interval."""
    series = []
    for code, n in PER_INTERVAL.items():
        samples = [(0.0, int(month_start * 1000) + 500)]
        samples += [(float(n * (k + 1)), int((month_start + k * BASE_S + 5) * 1000))
                    for k in range(INTERVALS)]
        series.append(([("__name__", "http_requests_total"), ("code", code),
                        ("job", "checkout")], samples))
    cumulative = {"0.05": FAST, "0.25": FAST, "1": FAST, "+Inf": FAST + SLOW}
    for le in LE:
        samples = [(0.0, int(month_start * 1000) + 500)]
        samples += [(float(cumulative[le] * (k + 1)), int((month_start + k * BASE_S + 5) * 1000))
                    for k in range(INTERVALS)]
        series.append(([("__name__", "http_request_duration_seconds_bucket"), ("job", "checkout"),
                        ("le", le)], samples))
    return rw_util.snappy_block(rw_util.write_request(series))


def truth(intervals):
    """Each objective's (met, measured) from what was sent over the intervals judged."""
    requests = sum(PER_INTERVAL.values()) * intervals
    errors = PER_INTERVAL["500"] * intervals
    measured = {"availability": 1 - errors / requests, "error_rate": errors / requests}
    # p95: the smallest latency with 95 % of requests at or below it. FAST of FAST + SLOW are
    # at most 0.05 s; the rest are read as 1 s, the +Inf bucket's lower bound.
    p95_at_most = 0.05 if FAST / (FAST + SLOW) >= 0.95 else 1.0
    out = {}
    for name, (sli, op, target) in OBJECTIVES.items():
        if sli == "p95":
            out[name] = (p95_at_most <= target, None)
        else:
            v = measured[sli]
            out[name] = ((v >= target) if op == ">=" else (v <= target), v)
    return out


def objectives_of(d):
    status, doc = d.get_json("/api/v1/status")
    for s in doc.get("services", []) if status == 200 else []:
        if s["name"] == "checkout":
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


def check_serve(slawatch, repo, tmp):
    month_start = epoch("2026-12-01T00:00:00Z")
    d = FakeClockDaemon(slawatch, tmp, month_start - 2)
    for f in FILES:
        shutil.copy(os.path.join(repo, "checkout", f), tmp)
    with open(d.config_path, "w") as f:
        f.write(f"listen: 127.0.0.1:{d.port}\ndata_dir: {d.data}\n"
                f"rules_files: [{', '.join(FILES)}]\nlog_level: info\n"
                "remote_write_receiver:\n  enabled: true\n")
    rc, out, err = run([slawatch, "check", d.config_path])
    check(rc == 0 and "3 rules files: ok together (1 service)\n" in out
          and f"{d.config_path}: ok (configuration" in out,
          f"check of the configuration: exit {rc}, {out!r} {err!r}")
    try:
        d.start()
        st, _, body = d.post("/api/v1/write", remote_write_body(month_start), rw_util.HEADERS)
        check(st == 204, f"remote write: HTTP {st} {body!r}")
        look_at = month_start + 3 * BASE_S
        at = wait_until("evaluation 30 s into the month",
                        lambda: (lambda t: t if t >= look_at else 0)(d.evaluated_at()), 60)
        intervals = int((at - month_start) // BASE_S)
        check(1 <= intervals <= INTERVALS, f"evaluated at {at}: {intervals} intervals")
        want = truth(intervals)
        status, doc = d.get_json("/api/v1/status")
        check(status == 200, f"/api/v1/status: HTTP {status}")
        services = {s["name"]: s for s in doc.get("services", [])}
        check(list(services) == ["checkout"], f"services {list(services)}, want ['checkout']")
        got = {o["name"]: o for o in services.get("checkout", {}).get("objectives", [])}
        check(sorted(got) == sorted(OBJECTIVES), f"objectives {sorted(got)}")
        metrics = scalar_metrics(d.get("/metrics")[2].decode())
        for name, (met, measured) in want.items():
            o = got.get(name, {})
            check(o.get("met") is met, f"{name}: met {o.get('met')}, want {met} ({o})")
            if measured is not None:
                check(o.get("measured") is not None and
                      math.isclose(o["measured"], measured, rel_tol=1e-9),
                      f"{name}: measured {o.get('measured')}, want {measured}")
            window = "month"
            labels = frozenset({("service", "checkout"), ("objective", name), ("window", window)})
            m = metrics.get(("slawatch_objective_met", labels))
            check(m == (1 if met else 0), f"{name}: slawatch_objective_met {m}, want {met}")
        print("objectives:", {n: (o.get("met"), o.get("measured")) for n, o in got.items()})
        check_reload(d, tmp, want)
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
