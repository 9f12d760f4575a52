#!/usr/bin/env python3
"""What durability costs pushed data: `slawatch serve` (10 services, base interval 10s) taking
POST /api/v1/ingest batches from `wrk` (Debian package) on loopback, with 1 and 16 connections,
once with `ingest_sync: true` (each acknowledged batch's journal record is
fdatasync'd before the answer, concurrent requests sharing one sync) and once with
`ingest_sync: false` (the default: written to the journal, so kill -9 safe, synced per tick). Prints one
`key value unit` line per figure: requests per second and the p50/p99 latency from wrk.

    python3 bench/push_wrk.py [BUILD_DIR] [SECONDS]

A build without the journal can be measured the same way for comparison (its config does not
know `ingest_sync`): `PUSH_WRK_NO_SYNC_KEY=1 python3 bench/push_wrk.py OTHER_BUILD`.
"""
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

SERVICES = 10
RULES = "version: 1\nbase_interval: 10s\nservices:\n" + "".join(
    f"  - name: svc{i}\n    sli: {{requests: {{push: true}}, errors: {{push: true}},"
    f" latency: {{push: true}}}}\n" for i in range(1, SERVICES + 1)) + """objectives:
  - {name: availability, objective: availability >= 99.9%, window: 1h}
"""
LUA = """math.randomseed(42)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local i = math.random(%d)
  return wrk.format(nil, nil, nil, '{"service": "svc' .. i .. '", "requests": 100, ' ..
    '"errors": 1, "latency_us": [1830, 2400, 950]}')
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if urllib.request.urlopen(base + "/-/ready").status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def run(build, seconds, sync):
    tmp = tempfile.mkdtemp(prefix="slawatch-bench-push-")
    try:
        open(os.path.join(tmp, "rules.yaml"), "w").write(RULES)
        port = free_port()
        key = "" if os.environ.get("PUSH_WRK_NO_SYNC_KEY") else f"ingest_sync: {sync}\n"
        open(os.path.join(tmp, "slawatch.yaml"), "w").write(
            f"listen: 127.0.0.1:{port}\ndata_dir: data\nrules_files: [rules.yaml]\n"
            f"log_level: warn\n{key}")
        open(os.path.join(tmp, "push.lua"), "w").write(LUA % SERVICES)
        base = f"http://127.0.0.1:{port}"
        serve = subprocess.Popen([os.path.join(build, "slawatch"), "serve", "--config",
                                  os.path.join(tmp, "slawatch.yaml")])
        try:
            if not wait_ready(base, 20):
                sys.exit("slawatch serve did not become ready")
            for conns in (1, 16):
                out = subprocess.run(["wrk", "-t1" if conns == 1 else "-t2", f"-c{conns}",
                                      f"-d{seconds}s", "--latency", "-s",
                                      os.path.join(tmp, "push.lua"), base + "/api/v1/ingest"],
                                     capture_output=True, text=True, check=True).stdout
                if re.search(r"Non-2xx", out):
                    sys.exit("some pushes were refused:\n" + out)
                tag = f"{'sync' if sync == 'true' else 'nosync'}_c{conns}"
                rps = float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))
                print(f"slawatch.push.requests_per_second_{tag} {rps:.0f} req/s")
                for p in ("50", "99"):
                    m = re.search(r"^\s+%s%%\s+(\S+?)(us|ms|s)\s*$" % p, out, re.M)
                    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
                    print(f"slawatch.push.latency_p{p}_{tag} {float(m.group(1)) * scale:.3f} ms")
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    seconds = sys.argv[2] if len(sys.argv) > 2 else "5"
    for sync in ("true", "false"):
        run(build, seconds, sync)


if __name__ == "__main__":
    main()
