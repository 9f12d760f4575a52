#!/usr/bin/env python3
"""The deploy gate and the daemon under load: `slawatch serve` with 100 services (blue and green
each) fed one interval of pushed traffic, then `wrk` (Debian package) on loopback asking random
services' gate verdicts. Prints one `key value unit` line per figure: gate requests per second
and latency percentiles from wrk, the daemon's resident memory, and its last evaluation tick
(evaluation, store write and rendering /metrics in all three formats).

    python3 bench/gate_wrk.py [BUILD_DIR] [SECONDS]
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SERVICES = 100
RULES_HEAD = """version: 1
base_interval: 10s
min_requests: 100
services:
"""
RULES_TAIL = """objectives:
  - {name: availability, objective: availability >= 99.9%, window: month}
  - {name: latency-p95, objective: p95 <= 500ms, window: month}
alerts:
  - {name: ErrorRateHigh, when: error_rate > 1%, for: 5m, severity: critical}
  - {name: ErrorBudgetBurn1h, burn_rate: 14.4, objective: availability, long: 1h, short: 5m,
     severity: critical}
rollback_triggers:
  - {name: ErrorRateSpike, when: error_rate > 5%, for: 2m}
gate:
  window: 10m
  checks: ['error_rate <= 1%', 'p95 <= 500ms']
  compare: {baseline: blue, max_error_rate_increase: 0.5%}
"""
LUA = """math.randomseed(42)
request = function()
  local i = math.random(%d)
  local env = (math.random(2) == 1) and "blue" or "green"
  return wrk.format("GET", "/api/v1/gate?service=svc" .. i .. "&env=" .. env .. "&window=10m")
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def wait_for(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if pred():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def metric(text, name):
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else float("nan")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    seconds = sys.argv[2] if len(sys.argv) > 2 else "10"
    tmp = tempfile.mkdtemp(prefix="slawatch-bench-")
    rules = RULES_HEAD + "".join(
        f"  - name: svc{i}\n    environments: [blue, green]\n    sli: {{requests: {{push: true}}}}\n"
        for i in range(1, SERVICES + 1)) + RULES_TAIL
    open(os.path.join(tmp, "rules.yaml"), "w").write(rules)
    port = free_port()
    open(os.path.join(tmp, "slawatch.yaml"), "w").write(
        f"listen: 127.0.0.1:{port}\ndata_dir: data\nrules_files: [rules.yaml]\nlog_level: warn\n")
    open(os.path.join(tmp, "gate.lua"), "w").write(LUA % SERVICES)
    base = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen([os.path.join(build, "slawatch"), "serve", "--config",
                              os.path.join(tmp, "slawatch.yaml")])
    try:
        if not wait_for(lambda: urllib.request.urlopen(base + "/-/ready").status == 200, 20):
            sys.exit("slawatch serve did not become ready")
        for i in range(1, SERVICES + 1):
            for env in ("blue", "green"):
                post(base + "/api/v1/ingest", {"service": f"svc{i}", "env": env,
                                               "requests": 12000, "errors": 6,
                                               "latency_us": [80000 + 37 * k for k in range(500)]})
        # The batch lands in the interval in flight; wait until a tick has closed it.
        def evaluated():
            body = urllib.request.urlopen(base + "/api/v1/gate?service=svc1&env=green").read()
            return json.loads(body)["verdict"] != "inconclusive"
        if not wait_for(evaluated, 25):
            sys.exit("no verdict after two ticks")
        out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s",
                              os.path.join(tmp, "gate.lua"), base], capture_output=True,
                             text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))
        print(f"gate_requests_per_second {rps:.0f} req/s")
        for p in ("50", "90", "99"):
            m = re.search(r"^\s+%s%%\s+(\S+?)(us|ms|s)\s*$" % p, out, re.M)
            scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
            print(f"gate_latency_p{p} {float(m.group(1)) * scale:.3f} ms")
        rss_kb = int(open(f"/proc/{serve.pid}/status").read().split("VmRSS:")[1].split()[0])
        print(f"serve_resident_memory {rss_kb / 1024:.1f} MiB")
        text = urllib.request.urlopen(base + "/metrics").read().decode()
        print(f"evaluation_tick {metric(text, 'slawatch_evaluation_duration_seconds') * 1e3:.2f} ms")
        print(f"store_write {metric(text, 'slawatch_store_write_duration_seconds') * 1e3:.2f} ms")
        print(f"metrics_body {len(text)} bytes")
        for line in text.splitlines():  # builds that report the whole tick, by stage
            if line.startswith("slawatch_tick_"):
                name, value = line.rsplit(" ", 1)
                print(f"{name} {float(value) * 1e3:.2f} ms")
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
