#!/usr/bin/env python3
"""`slawatch check` on services judged per label value (`by`).

Usage: test_check_by.py SLAWATCH

A file with `by: [route]` on a service whose objective comes from a profile with a 30-day
window: check accepts it, and `--explain` shows the label, the default cap (100) and the
default time a value is kept (the 30-day window: a value silent that long has nothing left in
any window); check of a configuration reading it accepts it, as serve does. Then a file with one mistake of each kind `by` can make, every one reported at the
line and column counted by hand from the text, and the exit status 1.
"""
import os
import subprocess
import sys
import tempfile

FAILURES = []

SLI = ("    sli:\n"
       "      requests: {prometheus: 'http_requests_total{job=\"pay\"}'}\n"
       "      errors: {prometheus: 'http_requests_total{job=\"pay\",code=~\"5..\"}'}\n")
# Lines: 1 version, 2 profiles, 3 rolling, 4 objectives, 5 availability, 6 services, 7 checkout,
# 8 profile, 9 by, 10-12 sli.
GOOD = ("version: 1\n"
        "profiles:\n"
        "  rolling:\n"
        "    objectives:\n"
        "      - {name: availability, objective: availability >= 99.9%, window: 30d}\n"
        "services:\n"
        "  - name: checkout\n"
        "    profile: rolling\n"
        "    by: [route]\n" + SLI)
# Lines: 1 version, 2 services, 3 a, 4 by (two labels), 5 by_limit 0, 6-8 sli, 9 b, 10 by,
# 11 sli, 12 requests from CloudWatch, 13 errors pushed.
BAD = ("version: 1\n"
       "services:\n"
       "  - name: a\n"
       "    by: [route, method]\n"
       "    by_limit: 0\n" + SLI +
       "  - name: b\n"
       "    by: [route]\n"
       "    sli:\n"
       "      requests: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: x}}}\n"
       "      errors: {push: true}\n")
# A by_idle shorter than the month an objective covers (checked once the file compiles, against
# the service's resolved objectives). Lines: 1 version, 2 services, 3 c, 4 by, 5 by_idle.
SHORT = ("version: 1\n"
         "services:\n"
         "  - name: c\n"
         "    by: [route]\n"
         "    by_idle: 1d\n" + SLI +
         "objectives:\n"
         "  - {name: availability, objective: availability >= 99.9%}\n")


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30)


def expect(what, ok, detail):
    if not ok:
        FAILURES.append(f"{what}: {detail}")


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-check-by-") as tmp:
        good, bad = os.path.join(tmp, "good.yaml"), os.path.join(tmp, "bad.yaml")
        short = os.path.join(tmp, "short.yaml")
        for path, text in ((good, GOOD), (bad, BAD), (short, SHORT)):
            with open(path, "w") as f:
                f.write(text)

        r = run(exe, "check", "--explain", "checkout", good)
        want_by = f"by: route, at most 100 values, each kept 30d after its last data  " \
                  f"[the service, {good}:9:10]\n"
        expect("explain shows by", r.returncode == 0 and want_by in r.stdout,
               f"exit {r.returncode}\n{r.stdout}{r.stderr}")

        # A configuration: what serve would do, which judges checkout per route.
        config = os.path.join(tmp, "config.yaml")
        with open(config, "w") as f:
            f.write(f"listen: 127.0.0.1:9\ndata_dir: {tmp}/data\nrules_files: [good.yaml]\n")
        r = run(exe, "check", config)
        expect("check of a configuration accepts by", r.returncode == 0,
               f"exit {r.returncode}\n{r.stdout}{r.stderr}")

        r = run(exe, "check", bad)
        wants = [
            f"{bad}:4:9: error: expected exactly one label in by",
            f"{bad}:5:15: error: expected a number of label values of at least 1 for by_limit",
            f"{bad}:12:17: error: expected a prometheus source for sli requests of a service "
            "with by: [route], found cloudwatch",
            f"{bad}:13:15: error: expected a prometheus source for sli errors of a service with "
            "by: [route], found push",
        ]
        expect("bad by: exit 1", r.returncode == 1, f"exit {r.returncode}\n{r.stderr}")
        for w in wants:
            expect(f"bad by: says {w!r}", w in r.stdout + r.stderr, r.stdout + r.stderr)

        r = run(exe, "check", short)
        want = f"{short}:5:14: error: expected by_idle of at least 31d"
        expect("short by_idle", r.returncode == 1 and want in r.stdout + r.stderr,
               f"exit {r.returncode}\n{r.stdout}{r.stderr}")
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: check of by")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
