#!/usr/bin/env python3
"""What scraping costs `slawatch serve`: N targets x S series every I seconds.

Usage: bench_scrape.py SLAWATCH SCRAPE_SERVER [--targets 1000] [--series 1000]
                       [--interval 15] [--warmup 20] [--seconds 60]

scrape_server (C, one epoll loop) serves the same text exposition on every path; the daemon
has one job whose targets are 127.0.0.1:PORT with N different metrics_paths (set through the
`__metrics_path__` group label), and rules whose selectors match every series, so each body is
parsed, matched and committed. After the warm-up (a full interval: baselines set, connections
open) the daemon's CPU time (utime + stime of /proc/PID/stat, every thread) is read over the
measured seconds. Prints `key value unit` lines; exits 1 if a target was down at the end or
the daemon did not exit 0 on SIGTERM (a sanitizer build's report is printed then).
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: bench
    sli:
      requests: {prometheus: 'bench_requests_total{job="bench"}'}
      errors: {prometheus: 'bench_requests_total{job="bench",code=~"5.."}'}
      latency: {prometheus: 'bench_duration_seconds{job="bench"}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def metrics(url):
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        return r.read().decode()


def total(text, name):
    return sum(float(m.group(1)) for m in
               re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def config(tmp, port, server_port, args):
    groups = "".join(f"      - {{targets: ['127.0.0.1:{server_port}'], "
                     f"labels: {{__metrics_path__: /m/{i}}}}}\n" for i in range(args.targets))
    with open(os.path.join(tmp, "rules.yaml"), "w") as f:
        f.write(RULES)
    path = os.path.join(tmp, "config.yaml")
    with open(path, "w") as f:
        f.write(f"listen: 127.0.0.1:{port}\ndata_dir: {tmp}/data\nrules_files: [rules.yaml]\n"
                f"log_level: warn\nscrape_configs:\n  - job_name: bench\n"
                f"    scrape_interval: {args.interval}s\n    static_configs:\n{groups}")
    return path


def wait_ready(url, proc):
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"slawatch serve exited {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("slawatch serve not ready after 30 s")


def measure(url, pid, args):
    time.sleep(args.warmup)
    m0, c0, t0 = total(metrics(url), "slawatch_prometheus_samples_total"), cpu_seconds(pid), \
        time.monotonic()
    time.sleep(args.seconds)
    c1, t1 = cpu_seconds(pid), time.monotonic()
    text = metrics(url)
    samples = total(text, "slawatch_prometheus_samples_total") - m0
    up = total(text, "slawatch_scrape_up")
    return (c1 - c0) / (t1 - t0), samples / (t1 - t0), up


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("slawatch")
    ap.add_argument("server")
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--interval", type=int, default=15)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    server_port, port = free_port(), free_port()
    server = subprocess.Popen([args.server, str(server_port), str(args.series)],
                              stdout=subprocess.PIPE, text=True)
    body_bytes = int(server.stdout.readline().split()[1])
    with tempfile.TemporaryDirectory(prefix="sw-bench-scrape-") as tmp:
        log = open(os.path.join(tmp, "slawatch.log"), "wb")
        d = subprocess.Popen([args.slawatch, "serve", "--config",
                              config(tmp, port, server_port, args)],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, d)
            share, samples_per_s, up = measure(url, d.pid, args)
        finally:
            d.terminate()
            rc = d.wait(30)
            server.terminate()
            server.wait()
            log.close()
            if rc != 0:  # a sanitizer build reports here, so show why
                with open(log.name, errors="replace") as f:
                    sys.stderr.write(f.read()[-4000:])
    print(f"slawatch.scrape_cpu_share_of_one_core {share:.4f} ratio")
    print(f"slawatch.scrape_scrapes_per_second {samples_per_s / args.series:.2f} scrapes/s")
    print(f"slawatch.scrape_samples_per_second {samples_per_s:.0f} samples/s")
    print(f"slawatch.scrape_body_bytes {body_bytes} bytes")
    print(f"slawatch.scrape_targets_up {up:.0f} targets")
    return 0 if up == args.targets and rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
