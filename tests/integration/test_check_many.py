#!/usr/bin/env python3
"""`slawatch check` over several rules files and `check --explain SERVICE`.

Usage: test_check_many.py SLAWATCH

A profiles file and two teams' files checked together: the summary per file, then the
resolved commitments of one service with where each entry came from (lines and columns counted
by hand from the texts below). Then the cross-file errors, each naming both places: a service
defined in two files, an unknown profile, a cycle of profiles; and an unknown --explain service.
Last, a sharded configuration whose rules_files are a pattern matching two files: `check`
lists each shard's services over both files, by FNV-1a 64 as the test computes it.
"""
import os
import subprocess
import sys
import tempfile

FAILURES = []

# Lines: 1 version, 2 profiles, 3 tier1, 4 objectives, 5 availability, 6 p99, 7 alerts, 8 Burn.
PROFILES = """version: 1
profiles:
  tier1:
    objectives:
      - {name: availability, objective: availability >= 99.95%}
      - {name: latency_p99, objective: p99 <= 300ms}
    alerts:
      - {name: Burn, burn_rate: 14.4, objective: availability, long: 1h, short: 5m, severity: critical}
"""
SLI = "    sli: {requests: {push: true}, errors: {push: true}}\n"
# Lines: 1 version, 2 rollback_triggers, 3 Spike, 4 services, 5 checkout, 6 sli, 7 profile,
# 8 drop, 9 gate, 10 objectives, 11 availability.
TEAM_A = ("version: 1\n"
          "rollback_triggers:\n"
          "  - {name: Spike, when: error_rate > 5%, over: 1m, for: 2m}\n"
          "services:\n"
          "  - name: checkout\n" + SLI +
          "    profile: tier1\n"
          "    drop: [latency_p99]\n"
          "    gate: {window: 5m, checks: [error_rate <= 1%]}\n"
          "    objectives:\n"
          "      - {name: availability, objective: availability >= 99.9%}\n")
TEAM_B = "version: 1\nservices:\n  - name: importer\n" + SLI


def fnv1a64(name):
    """FNV-1a 64 with the published offset basis and prime (docs/scaling.md)."""
    h = 14695981039346656037
    for byte in name.encode():
        h = ((h ^ byte) * 1099511628211) % (1 << 64)
    return h


def check_shard_listing(exe, tmp):
    teams = os.path.join(tmp, "teams")
    os.mkdir(teams)
    names = {"a.yaml": ["payments", "catalog", "login"], "b.yaml": ["search", "cart", "admin"]}
    for file, services in names.items():
        with open(os.path.join(teams, file), "w") as f:
            f.write("version: 1\nservices:\n" +
                    "".join(f"  - name: {s}\n" + SLI for s in services) +
                    "objectives:\n  - {name: availability, objective: availability >= 99%}\n")
    everyone = names["a.yaml"] + names["b.yaml"]
    for index in (0, 1):
        config = os.path.join(tmp, f"shard{index}.yaml")
        with open(config, "w") as f:
            f.write(f"data_dir: {tmp}/data{index}\nrules_files: [teams/*.yaml]\n"
                    f"shard: {{count: 2, index: {index}}}\n")
        r = run(exe, "check", config)
        mine = sorted(s for s in everyone if fnv1a64(s) % 2 == index)
        head = f"{config}: shard index {index} of count 2 owns {len(mine)} of 6 services:"
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(head)]
        got = sorted(lines[0][len(head):].split()) if len(lines) == 1 else None
        expect(f"shard {index} listing over two files", r.returncode == 0 and got == mine,
               f"exit {r.returncode}, want {head} {mine}\n{r.stdout}{r.stderr}")


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30)


def expect(what, ok, detail):
    if not ok:
        FAILURES.append(f"{what}: {detail}")


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-check-many-") as tmp:
        paths = {}
        for name, text in (("base.yaml", PROFILES), ("a.yaml", TEAM_A), ("b.yaml", TEAM_B)):
            paths[name] = os.path.join(tmp, name)
            with open(paths[name], "w") as f:
                f.write(text)
        base, a, b = paths["base.yaml"], paths["a.yaml"], paths["b.yaml"]
        r = run(exe, "check", base, a, b)
        want = (f"{base}: ok (rules: 0 services)\n{a}: ok (rules: 1 service)\n"
                f"{b}: ok (rules: 1 service)\n3 rules files: ok together (2 services)\n")
        expect("check of three files", r.returncode == 0 and r.stdout == want,
               f"exit {r.returncode}\n{r.stdout}{r.stderr}")

        r = run(exe, "check", "--explain", "checkout", base, a, b)
        explain = "\n".join([
            f"service checkout ({a}:5:5)",
            "profiles: tier1",
            "objectives:",
            f"  availability: availability >= 99.9% over month, events  [the service, {a}:11:9]",
            "alerts:",
            "  Burn: burn rate 14.4 of availability over 1h and 5m, critical  "
            f"[profile tier1, {base}:8:9]",
            "rollback triggers:",
            f"  Spike: error_rate > 5% over 1m for 2m  [the top level, {a}:3:5]",
            f"gate: window 5m, checks error_rate <= 1%  [the service, {a}:9:11]", ""])
        expect("check --explain checkout", r.returncode == 0 and r.stdout == want + explain,
               f"exit {r.returncode}\n{r.stdout}{r.stderr}")

        r = run(exe, "check", "--explain", "nope", base, a, b)
        expect("--explain of an unknown service", r.returncode == 1 and "nope" in r.stderr,
               f"exit {r.returncode}\n{r.stderr}")

        twice = os.path.join(tmp, "twice.yaml")
        with open(twice, "w") as f:
            f.write("version: 1\nservices:\n  - name: web\n" + SLI + "  - name: importer\n" + SLI)
        r = run(exe, "check", base, b, twice)
        want_err = (f"{twice}:5:5: error: service 'importer' is defined twice: here and at "
                    f"{b}:3:5")
        expect("a service in two files", r.returncode == 1 and want_err in r.stderr,
               f"exit {r.returncode}\n{r.stderr}")

        unknown = os.path.join(tmp, "unknown.yaml")
        with open(unknown, "w") as f:
            f.write("version: 1\nservices:\n  - name: web\n" + SLI + "    profile: tier2\n")
        r = run(exe, "check", base, unknown)
        want_err = f"{unknown}:5:14: error: unknown profile 'tier2' for service 'web'"
        expect("an unknown profile", r.returncode == 1 and want_err in r.stderr,
               f"exit {r.returncode}\n{r.stderr}")

        cycle = os.path.join(tmp, "cycle.yaml")
        with open(cycle, "w") as f:
            f.write("version: 1\nprofiles:\n  x: {extends: tier1}\n  tier0: {extends: [x, tier0]}\n")
        r = run(exe, "check", base, cycle, b)
        want_err = f"{cycle}:4:24: error: profiles extend one another in a cycle"
        expect("a profile extending itself", r.returncode == 1 and want_err in r.stderr,
               f"exit {r.returncode}\n{r.stderr}")

        check_shard_listing(exe, tmp)
    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: check over several files and --explain")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
