#!/usr/bin/env python3
"""Remote-write receive over HTTP: `slawatch serve` with the remote-write receiver taking
POST /api/v1/write from `wrk` (Debian package) on loopback, 4 connections, for SECONDS. The
bodies are the anchors' node-exporter WriteRequest (rw_500.pb or rw_2000.pb: one sample per
series, labels sorted) in 60 snappy-compressed copies dated a second apart around now, sent in
turn; rules select node_cpu_seconds_total as bench_rw's do, so every sample is decoded, mapped
and the selected ones committed. The daemon's CPU time (utime + stime of all its threads, from
/proc) over the run divides the samples acknowledged (2xx answers x samples per body).

    python3 bench/rw_wrk.py [BUILD_DIR] [SECONDS] [rw_500|rw_2000]

Inputs from $BENCH_DATA (default /tmp/slawatch-anchors/data, made by the anchors' run.sh).
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

COPIES = 60
RULES = """version: 1
base_interval: 10s
services:
  - name: node
    sli:
      requests: { prometheus: 'node_cpu_seconds_total{job="node"}' }
      errors: { prometheus: 'node_cpu_seconds_total{job="node",mode="iowait"}' }
objectives:
  - name: availability
    objective: availability >= 99.9%
    window: 30d
"""
LUA = """local bodies = {}
for i = 0, %d do
  local f = assert(io.open("%s/body_" .. i, "rb"))
  bodies[i + 1] = f:read("*all")
  f:close()
end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-protobuf"
wrk.headers["Content-Encoding"] = "snappy"
wrk.headers["X-Prometheus-Remote-Write-Version"] = "0.1.0"
request = function()
  n = n %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[n])
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    name = sys.argv[3] if len(sys.argv) > 3 else "rw_2000"
    data = os.environ.get("BENCH_DATA", "/tmp/slawatch-anchors/data")
    raw = os.path.join(data, name + ".pb")
    samples_per_body = int(name.split("_")[1])
    tmp = tempfile.mkdtemp(prefix="slawatch-bench-rw-")
    try:
        now_ms = int(time.time() * 1000)
        subprocess.run([os.path.join(build, "bench", "bench_rw"), "--bodies", raw, tmp,
                        str(COPIES), str(now_ms - COPIES * 500), "1000"], check=True)
        open(os.path.join(tmp, "rules.yaml"), "w").write(RULES)
        port = free_port()
        open(os.path.join(tmp, "slawatch.yaml"), "w").write(
            f"listen: 127.0.0.1:{port}\ndata_dir: data\nrules_files: [rules.yaml]\n"
            "log_level: warn\ningest_delay: 60s\nremote_write_receiver:\n  enabled: true\n"
            "  max_samples_per_second: 0\n")
        open(os.path.join(tmp, "rw.lua"), "w").write(LUA % (COPIES - 1, tmp))
        base = f"http://127.0.0.1:{port}"
        serve = subprocess.Popen([os.path.join(build, "slawatch"), "serve", "--config",
                                  os.path.join(tmp, "slawatch.yaml")], cwd=tmp)
        try:
            end = time.time() + 30
            while True:
                try:
                    if urllib.request.urlopen(base + "/-/ready").status == 200:
                        break
                except OSError:
                    pass
                if time.time() > end:
                    sys.exit("slawatch serve did not become ready")
                time.sleep(0.2)
            cpu0, t0 = cpu_seconds(serve.pid), time.monotonic()
            out = subprocess.run(["wrk", "-t2", "-c4", f"-d{seconds}s", "-s",
                                  os.path.join(tmp, "rw.lua"), base + "/api/v1/write"],
                                 capture_output=True, text=True, check=True).stdout
            cpu, wall = cpu_seconds(serve.pid) - cpu0, time.monotonic() - t0
            requests = int(re.search(r"(\d+) requests in", out).group(1))
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            refused = int(m.group(1)) if m else 0
            ok = requests - refused
            print(f"slawatch.rw_http.{name}.requests_2xx {ok} requests")
            print(f"slawatch.rw_http.{name}.requests_refused {refused} requests")
            print(f"slawatch.rw_http.{name}.daemon_cpu_share {cpu / wall:.3f} cores")
            print(f"slawatch.rw_http.{name}.samples_per_cpu_s "
                  f"{ok * samples_per_body / cpu:.0f} samples/s")
            print(f"slawatch.rw_http.{name}.load_1m {os.getloadavg()[0]:.1f} runnable")
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
