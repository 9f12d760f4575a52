#!/usr/bin/env python3
"""bench_check: `slawatch check` over an organisation's rules files.

Usage: bench_check.py SLAWATCH [FILES [SERVICES]]   (defaults 200 files, 2,000 services)

Writes FILES rules files into a temporary directory: one of shared profiles (tier1 with three
objectives, a burn-rate alert and a gate; batch with one objective) and FILES - 1 teams' files
whose SERVICES services (spread evenly) each use a profile, every third one also overriding an
objective and dropping another, every fifth one adding its own alert. Then times
`slawatch check` over all of them together (the best of 5 runs, wall clock, process start
included) and prints `key value unit` lines.
"""
import os
import subprocess
import sys
import tempfile
import time

PROFILES = """version: 1
base_interval: 10s
profiles:
  tier1:
    objectives:
      - {name: availability, objective: availability >= 99.95%}
      - {name: latency_p99, objective: p99 <= 300ms}
      - {name: latency_p95, objective: p95 <= 150ms}
    alerts:
      - {name: BurnFast, burn_rate: 14.4, objective: availability, long: 1h, short: 5m, severity: critical}
    gate: {window: 10m, checks: [error_rate <= 1%, p99 <= 300ms]}
  batch:
    objectives:
      - {name: availability, objective: availability >= 99%}
"""


def service(i):
    name = f"svc-{i:05d}"
    text = (f"  - name: {name}\n"
            f"    profile: {'tier1' if i % 2 == 0 else 'batch'}\n"
            "    sli:\n"
            f"      requests: {{prometheus: 'http_requests_total{{job=\"{name}\"}}'}}\n"
            f"      errors: {{prometheus: 'http_requests_total{{job=\"{name}\",code=~\"5..\"}}'}}\n"
            f"      latency: {{prometheus: 'http_request_duration_seconds{{job=\"{name}\"}}'}}\n")
    if i % 3 == 0:
        text += "    objectives:\n      - {name: availability, objective: availability >= 99.9%}\n"
        if i % 2 == 0:
            text += "    drop: [latency_p95]\n"
    if i % 5 == 0:
        text += ("    alerts:\n"
                 "      - {name: ErrorRateHigh, when: error_rate > 5%, over: 5m, for: 10m}\n")
    return text


def main():
    exe = sys.argv[1]
    n_files = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    n_services = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    with tempfile.TemporaryDirectory(prefix="sw-bench-check-") as tmp:
        paths = [os.path.join(tmp, "00-profiles.yaml")]
        with open(paths[0], "w") as f:
            f.write(PROFILES)
        teams = n_files - 1
        for t in range(teams):
            path = os.path.join(tmp, f"team-{t:04d}.yaml")
            with open(path, "w") as f:
                f.write("version: 1\nservices:\n")
                for i in range(t, n_services, teams):
                    f.write(service(i))
            paths.append(path)
        best = None
        for _ in range(5):
            t0 = time.perf_counter()
            r = subprocess.run([exe, "check", *paths], capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if r.returncode != 0:
                print(r.stderr[:2000], file=sys.stderr)
                return 1
            best = dt if best is None else min(best, dt)
        size = sum(os.path.getsize(p) for p in paths)
    print(f"slawatch.check.files {n_files} files")
    print(f"slawatch.check.services {n_services} services")
    print(f"slawatch.check.bytes {size} bytes")
    print(f"slawatch.check.wall {best * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
