#!/usr/bin/env python3
"""promtool check metrics (Debian prometheus 2.42) and slawatch lint-metrics on the same text
expositions: the conformance promtext inputs (when given) and the lint-metrics golden inputs.
They must agree on valid/invalid (promtool: 1 parse error; 0 or 3 valid), and, for the lints
both implement, on which family gets which warning. Fails without promtool (Debian
prometheus)."""
import os
import pathlib
import re
import subprocess
import sys

COMPARABLE = re.compile(r'^(no help text|counter metrics should have "_total" suffix|'
                        r'non-counter metrics should not have "_total" suffix|use base unit .*)$')

PROMTOOL = "/usr/bin/promtool"  # Debian's, not whatever is first on PATH


def promtool(path):
    p = subprocess.run([PROMTOOL, "check", "metrics"], stdin=open(path, "rb"),
                       capture_output=True, text=True, timeout=60)
    lints = set()
    for line in p.stdout.splitlines() + p.stderr.splitlines():
        name, _, msg = line.partition(" ")
        if COMPARABLE.match(msg):
            lints.add((name, msg))
    return p.returncode != 1, lints


def slawatch(exe, path):
    p = subprocess.run([exe, "lint-metrics"], stdin=open(path, "rb"),
                       capture_output=True, text=True, timeout=60)
    lints = set()
    for line in p.stderr.splitlines():
        m = re.match(r"^<stdin>:\d+:\d+: warning: ([^:]+): (.*)$", line)
        if m and COMPARABLE.match(m.group(2)):
            lints.add((m.group(1), m.group(2)))
    return p.returncode == 0, lints


def main():
    if not os.access(PROMTOOL, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit("promtool not installed")
    exe, golden = sys.argv[1], pathlib.Path(sys.argv[2])
    inputs = sorted(golden.glob("*/input"))
    if len(sys.argv) > 3:
        inputs += sorted(p for p in pathlib.Path(sys.argv[3]).glob("*/*")
                         if p.is_file() and not p.name.endswith(".om.txt"))
    bad = 0
    for path in inputs:
        args = (path.parent / "args").read_text() if (path.parent / "args").exists() else ""
        if "--format" in args:
            continue  # promtool reads the text format only
        pv, pl = promtool(path)
        sv, sl = slawatch(exe, path)
        if pv != sv or pl != sl:
            bad += 1
            print(f"DISAGREE {path}: promtool valid={pv} {sorted(pl - sl)}; "
                  f"slawatch valid={sv} {sorted(sl - pl)}")
    print(f"{len(inputs) - bad} of {len(inputs)} inputs agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
