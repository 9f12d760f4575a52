#!/usr/bin/env python3
"""Resident memory of `slawatch serve` per service: the production rules' objectives, alerts,
rollback triggers and gate (rules/production.yaml) for N services of two environments (blue,
green) fed by push, each series getting REQUESTS requests with as many log-normal latencies
(median 80 ms, sigma 0.5) in every 10 s base interval. After WARMUP intervals have been taken
and evaluated, VmRSS is read from /proc; the per-service figure is the slope between the two
service counts, so what the daemon holds regardless of services (code, SQLite, thread stacks)
drops out. Prints `key value unit` lines.

    python3 bench/mem_serve.py BUILD_DIR [N_SMALL N_LARGE [INTERVALS [REQUESTS]]]
"""
import http.client
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rules_for(n, first=0):
    """The production rules for services svc{first} .. svc{first + n - 1}."""
    text = open(os.path.join(ROOT, "rules", "production.yaml")).read()
    head, rest = text.split("services:\n", 1)
    tail = rest[rest.index("\n# The SLA"):]
    services = "".join(
        f"  - name: svc{i}\n    environments: [blue, green]\n"
        f"    sli: {{requests: {{push: true}}, errors: {{push: true}}, latency: {{push: true}}}}\n"
        for i in range(first, first + n))
    return head + "services:\n" + services + tail


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def wait_for(what, cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}")


def ready(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/-/ready")
        return c.getresponse().status == 200
    except OSError:
        return False


def push_interval(conn, n, requests, rng):
    for i in range(n):
        for env in ("blue", "green"):
            lat = [max(1, int(math.exp(rng.gauss(math.log(80000), 0.5)))) for _ in range(requests)]
            body = json.dumps({"service": f"svc{i}", "env": env, "requests": requests,
                               "errors": rng.randrange(2), "latency_us": lat})
            conn.request("POST", "/api/v1/ingest", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                sys.exit(f"ingest answered {resp.status}")


def measure(build, n, intervals, requests):
    tmp = tempfile.mkdtemp(prefix="slawatch-bench-mem-")
    serve = None
    try:
        open(os.path.join(tmp, "rules.yaml"), "w").write(rules_for(n))
        port = free_port()
        open(os.path.join(tmp, "slawatch.yaml"), "w").write(
            f"listen: 127.0.0.1:{port}\ndata_dir: data\nrules_files: [rules.yaml]\n"
            "log_level: error\n")
        serve = subprocess.Popen([os.path.join(build, "slawatch"), "serve", "--config",
                                  os.path.join(tmp, "slawatch.yaml")])
        wait_for("serve to be ready", lambda: ready(port), 30)
        rng = random.Random(42)
        # One batch per series early in each interval, then wait for the next interval (on a
        # new connection: the daemon closes idle ones).
        for _ in range(intervals + 1):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            push_interval(conn, n, requests, rng)
            conn.close()
            now = time.time()
            time.sleep(10 - now % 10 + 0.5)
        time.sleep(2)  # the last interval's tick
        return rss_kib(serve.pid)
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    small = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    large = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    intervals = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    requests = int(sys.argv[5]) if len(sys.argv) > 5 else 250
    r_small = measure(build, small, intervals, requests)
    r_large = measure(build, large, intervals, requests)
    per_service = (r_large - r_small) / (large - small)
    print(f"slawatch.mem.rss_{small}_services {r_small} KiB")
    print(f"slawatch.mem.rss_{large}_services {r_large} KiB")
    print(f"slawatch.mem.rss_per_service {per_service:.1f} KiB")
    print(f"slawatch.mem.rss_per_series {per_service / 2:.1f} KiB")


if __name__ == "__main__":
    main()
