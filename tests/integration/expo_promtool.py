#!/usr/bin/env python3
"""promtool (Prometheus 2.42) judges slawatch's /metrics expositions.

`promtool check metrics` parses and lints the 0.0.4 text format; any exit status other than 0
or any line it prints fails the test. It has no OpenMetrics parser: it would read an
OpenMetrics counter (family `x`, samples `x_total`) as an untyped `x_total` without help. So
OpenMetrics output is checked twice: its counter-free part by `check metrics` (TYPE, UNIT, HELP,
histograms, `# EOF`), and all of it by the strict OpenMetrics parser behind
`promtool tsdb create-blocks-from openmetrics`, which needs a timestamp on every sample: the
test appends one, changing nothing else. Two broken expositions prove both checks can fail.

Usage: expo_promtool.py EXPO_SAMPLE
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

def run(cmd, stdin=b""):
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace").strip()


def check_metrics(promtool, text):
    """None when promtool accepts text silently, else what it said."""
    rc, said = run([promtool, "check", "metrics"], text)
    return None if rc == 0 and not said else f"exit {rc}: {said or '(no output)'}"


def parse_openmetrics(promtool, text):
    """None when the strict OpenMetrics parser reads text, else what it said."""
    stamped = b"\n".join(
        line if not line or line.startswith(b"#") else line + b" 1700000000"
        for line in text.split(b"\n"))
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "exposition.txt"
        src.write_bytes(stamped)
        rc, said = run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(src),
                        str(Path(tmp) / "blocks")])
    return None if rc == 0 else f"exit {rc}: {said}"


def main():
    sample = sys.argv[1]
    promtool = "/usr/bin/promtool"  # Debian's, not whatever is first on PATH
    if not os.access(promtool, os.X_OK):
        # A skipped test tests nothing: the peer is a Debian package .ci/install-deps installs.
        sys.exit("promtool not installed (Debian package prometheus)")

    def expo(*args):
        return subprocess.run([sample, *args], check=True, stdout=subprocess.PIPE).stdout

    text = expo("text")
    om = expo("openmetrics")
    om_no_counters = expo("openmetrics", "--no-counters")
    assert text.count(b"_bucket{") > 40 and b"# EOF" in om, "sample exposition too small"

    problems = {
        "0.0.4: promtool check metrics": check_metrics(promtool, text),
        "OpenMetrics without counters: promtool check metrics":
            check_metrics(promtool, om_no_counters),
        "OpenMetrics: strict parser": parse_openmetrics(promtool, om),
    }
    # The checks must be able to fail: an unterminated label value, a missing # EOF.
    broken_text = text.replace(b'service="api"', b'service="api', 1)
    rejected = "promtool accepted it"
    problems["negative: unterminated label value rejected"] = (
        rejected if check_metrics(promtool, broken_text) is None else None)
    problems["negative: OpenMetrics without # EOF rejected"] = (
        rejected if parse_openmetrics(promtool, om.replace(b"# EOF\n", b"")) is None else None)

    failed = {k: v for k, v in problems.items() if v is not None}
    for check in problems:
        print(f"{'FAIL' if check in failed else 'ok  '} {check}")
        if check in failed:
            print("     " + failed[check].replace("\n", "\n     "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
