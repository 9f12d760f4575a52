#!/usr/bin/env python3
"""Run one recorded evaluation scenario.

usage: run_scenario.py SLAWATCH SCENARIO_DIR [INTERVALS]

A scenario folder holds rules.yaml, gen.py (the traffic generator), expected.json, README.md
(the hand derivation of every expected number), optionally `args` (extra arguments on one line,
e.g. `--at 2026-11-01T00:00:00Z`) and intervals.jsonl (gen.py's output, committed when small).
INTERVALS, when given, is the generated recording (Meson generates the large ones into the build
directory); otherwise the folder's intervals.jsonl is used, or gen.py is run into a temporary
directory. A committed intervals.jsonl must be exactly what gen.py writes.

Checks:
1. `slawatch eval --rules rules.yaml --intervals FILE --json [args]` exits 0 and every field of
   expected.json is in the output with the same value. expected.json is a subset: objects may
   leave keys out. Lists of objects that have a "name" are matched by name (and "env" for
   services) and must hold the same names as the output; other lists must match element by
   element. A named list whose first element is the string "..." is partial: the named objects
   must be there, others may be too. Numbers compare with a relative tolerance of 1e-9 (the output prints 10 significant
   digits); 0 and integers-as-written compare exactly through the same rule (rel_tol of 0 is 0).
   A number may be written {"approx": V, "rel_tol": T} where a README explains why exactness is
   impossible (none of the scenarios needs it so far).
2. checkpoints.json, when present: {"checkpoints": [{"at": TIME, "why": TEXT, "expected": {..}}]}
   (a checkpoint may add "args": [...], e.g. a `--deployment` mark).
   Each checkpoint replays the same recording up to TIME (`--json --at TIME`) and compares its
   output with `expected` as above: the moments just before and at a state change.
3. The table mode (same arguments without --json) exits 0 and names every expected service
   (and environment).
Expected values come from the README derivations, never from slawatch's output.
"""
import json
import math
import pathlib
import subprocess
import sys
import tempfile

REL_TOL = 1e-9


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def key_of(item):
    return (item.get("name"), item.get("env"))


def named_list(items):
    return all(isinstance(i, dict) and "name" in i for i in items)


def compare(want, got, path, problems):
    if isinstance(want, dict) and set(want) == {"approx", "rel_tol"}:
        if not is_number(got) or not math.isclose(want["approx"], got, rel_tol=want["rel_tol"]):
            problems.append((path, want, got))
        return
    if is_number(want):
        if not is_number(got) or not math.isclose(want, got, rel_tol=REL_TOL, abs_tol=0.0):
            problems.append((path, want, got))
        return
    if isinstance(want, dict):
        if not isinstance(got, dict):
            problems.append((path, want, got))
            return
        for k, v in want.items():
            if k not in got:
                problems.append((f"{path}.{k}", v, "<missing>"))
            else:
                compare(v, got[k], f"{path}.{k}", problems)
        return
    if isinstance(want, list):
        if not isinstance(got, list):
            problems.append((path, want, got))
            return
        partial = bool(want) and want[0] == "..."
        if partial:
            want = want[1:]
        if want and named_list(want) and named_list(got):
            got_by_key = {key_of(g): g for g in got}
            want_keys = [key_of(w) for w in want]
            if not partial and sorted(map(str, want_keys)) != sorted(map(str, got_by_key)):
                problems.append((f"{path}[names]", want_keys, list(got_by_key)))
            for k in want_keys:
                if partial and k not in got_by_key:
                    problems.append((f"{path}[names]", f"includes {k}", list(got_by_key)))
            for w in want:
                k = key_of(w)
                label = k[0] if k[1] is None else f"{k[0]}/{k[1]}"
                if k in got_by_key:
                    compare(w, got_by_key[k], f"{path}[{label}]", problems)
            return
        if len(want) != len(got):
            problems.append((f"{path}[len]", len(want), len(got)))
            return
        for i, (w, g) in enumerate(zip(want, got)):
            compare(w, g, f"{path}[{i}]", problems)
        return
    if want != got or type(want) is not type(got):
        problems.append((path, want, got))


def generate(case, out_path):
    subprocess.run([sys.executable, str(case / "gen.py"), str(out_path)], check=True, timeout=300)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    exe, case = sys.argv[1], pathlib.Path(sys.argv[2])
    problems = []
    with tempfile.TemporaryDirectory(prefix="scenario-") as tmp:
        committed = case / "intervals.jsonl"
        if len(sys.argv) == 4:
            intervals = pathlib.Path(sys.argv[3])
        elif committed.exists():
            intervals = committed
            fresh = pathlib.Path(tmp) / "fresh.jsonl"
            generate(case, fresh)
            if fresh.read_bytes() != committed.read_bytes():
                problems.append(("intervals.jsonl", "what gen.py writes", "something else: "
                                 "regenerate it with gen.py"))
        else:
            intervals = pathlib.Path(tmp) / "intervals.jsonl"
            generate(case, intervals)
        extra = (case / "args").read_text().split() if (case / "args").exists() else []
        base = [exe, "eval", "--rules", str(case / "rules.yaml"), "--intervals", str(intervals)]
        want = json.loads((case / "expected.json").read_text())

        proc = run(base + ["--json"] + extra)
        got = None
        if proc.returncode != 0:
            problems.append(("json exit status", 0, proc.returncode))
        else:
            try:
                got = json.loads(proc.stdout)
            except json.JSONDecodeError as e:
                problems.append(("json output", "JSON", f"not JSON ({e})"))
        if got is not None:
            compare(want, got, "$", problems)

        checkpoints = case / "checkpoints.json"
        if checkpoints.exists():
            for cp in json.loads(checkpoints.read_text())["checkpoints"]:
                cp_proc = run(base + ["--json", "--at", cp["at"]] + cp.get("args", []))
                label = f"@{cp['at']}"
                if cp_proc.returncode != 0:
                    problems.append((f"{label} exit status", 0, cp_proc.returncode))
                    continue
                try:
                    compare(cp["expected"], json.loads(cp_proc.stdout), label, problems)
                except json.JSONDecodeError as e:
                    problems.append((label, "JSON", f"not JSON ({e})"))

        table = run(base + extra)
        if table.returncode != 0:
            problems.append(("table exit status", 0, table.returncode))
        for svc in want.get("services", []):
            for word in (svc.get("name"), svc.get("env")):
                if word and word not in table.stdout:
                    problems.append(("table output", f"mentions {word!r}", "does not"))
            if svc.get("env") and f"{svc['name']} env={svc['env']}" not in table.stdout:
                problems.append(("table output", f"a section for {svc['name']} env={svc['env']}",
                                 "none"))

    if problems:
        print(f"{case.name}: FAIL ({len(problems)} mismatches)")
        for path, w, g in problems:
            print(f"  {path}\n    expected: {json.dumps(w)}\n    got:      {json.dumps(g)}")
        print(f"--- slawatch eval --json stderr:\n{proc.stderr}")
        print(f"--- slawatch eval --json stdout:\n{proc.stdout}")
        print(f"--- table stdout:\n{table.stdout}\n--- table stderr:\n{table.stderr}")
        return 1
    print(f"{case.name}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
