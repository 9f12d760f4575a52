#!/usr/bin/env python3
"""Run one golden case: a folder holding `input`, optional `args` (one line of arguments),
and either `expected.json` (compared value by value: integers exactly, floats to 1e-12
relative) or `expected_exit` plus `expected_stderr` (lines that must each appear in stderr).
Expected values are worked out by hand in each case's README, never captured from slawatch."""
import json
import math
import pathlib
import subprocess
import sys


def same(want, got):
    if isinstance(want, float) or isinstance(got, float):
        return isinstance(got, (int, float)) and math.isclose(want, got, rel_tol=1e-12)
    return want == got and type(want) is type(got)


def main():
    exe, case = sys.argv[1], pathlib.Path(sys.argv[2])
    command = sys.argv[3]
    args = (case / "args").read_text().split() if (case / "args").exists() else []
    proc = subprocess.run([exe, command, *args, str(case / "input")],
                          capture_output=True, text=True, timeout=60)
    want_exit = int((case / "expected_exit").read_text()) if (case / "expected_exit").exists() else 0
    problems = []
    if proc.returncode != want_exit:
        problems.append(f"exit status {proc.returncode}, expected {want_exit}")
    if (case / "expected_stderr").exists():
        for needle in (case / "expected_stderr").read_text().splitlines():
            if needle.strip() and needle.strip() not in proc.stderr:
                problems.append(f"stderr lacks {needle.strip()!r}")
    if (case / "expected.json").exists():
        want = json.loads((case / "expected.json").read_text())
        try:
            got = json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            got = None
            problems.append(f"output is not JSON ({e})")
        if got is not None:
            if set(got) != set(want):
                problems.append(f"keys differ: {sorted(set(got) ^ set(want))}")
            for key in want:
                if key in got and not same(want[key], got[key]):
                    problems.append(f"{key}: got {got[key]!r}, expected {want[key]!r}")
    if problems:
        print(f"{case.name}: FAIL\n  " + "\n  ".join(problems))
        print(f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return 1
    print(f"{case.name}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
