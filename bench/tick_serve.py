#!/usr/bin/env python3
"""What a tick of `slawatch serve` costs: the production rules for N services of two
environments fed by push as bench/mem_serve.py feeds them (REQUESTS log-normal latencies per
series per 10 s interval), /metrics scraped once per interval in text (as one Prometheus
would). After WARMUP intervals, the CPU time of the tick thread (the process' main thread:
utime + stime in /proc/PID/task/PID/stat) and of the whole process are read at the start and
end of MEASURE intervals; per tick = their growth / MEASURE. The process figure includes the
HTTP threads: ingest and the scrape's render. Prints `key value unit` lines; the
slawatch_tick_* self-metrics too when the build has them.

    python3 bench/tick_serve.py BUILD_DIR [N ...] [--warmup W] [--measure M] [--requests R]
"""
import argparse
import http.client
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mem_serve import free_port, push_interval, ready, rules_for, wait_for  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(stat_path):
    fields = open(stat_path).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def scrape(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.monotonic()
    c.request("GET", "/metrics")
    body = c.getresponse().read().decode()
    return body, time.monotonic() - t0


def self_metrics(body):
    out = {}
    for line in body.splitlines():
        if line.startswith("slawatch_tick_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def wait_next_interval():
    time.sleep(10 - time.time() % 10 + 0.5)


def measure(build, n, warmup, count, requests):
    tmp = tempfile.mkdtemp(prefix="slawatch-bench-tick-")
    serve = None
    try:
        open(os.path.join(tmp, "rules.yaml"), "w").write(rules_for(n))
        port = free_port()
        open(os.path.join(tmp, "slawatch.yaml"), "w").write(
            f"listen: 127.0.0.1:{port}\ndata_dir: data\nrules_files: [rules.yaml]\n"
            "log_level: error\n")
        serve = subprocess.Popen([os.path.join(build, "slawatch"), "serve", "--config",
                                  os.path.join(tmp, "slawatch.yaml")])
        wait_for("serve to be ready", lambda: ready(port), 60)
        rng = random.Random(42)
        tick_stat = f"/proc/{serve.pid}/task/{serve.pid}/stat"
        proc_stat = f"/proc/{serve.pid}/stat"
        start = None
        scrape_s = []
        for k in range(warmup + count + 1):
            # After the previous interval's tick: one scrape, then this interval's data.
            if k > 0:
                body, took = scrape(port)
                if k > warmup:
                    scrape_s.append(took)
            if k == warmup:
                start = (cpu_s(tick_stat), cpu_s(proc_stat))
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            push_interval(conn, n, requests, rng)
            conn.close()
            if k == warmup + count:
                end = (cpu_s(tick_stat), cpu_s(proc_stat))
                break
            wait_next_interval()
        return ((end[0] - start[0]) / count, (end[1] - start[1]) / count,
                sorted(scrape_s)[len(scrape_s) // 2], self_metrics(body))
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("services", nargs="*", type=int, default=[100, 1000])
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--measure", type=int, default=3)
    ap.add_argument("--requests", type=int, default=250)
    a = ap.parse_args()
    for n in a.services:
        tick, proc, scrape_s, selfm = measure(a.build, n, a.warmup, a.measure, a.requests)
        print(f"slawatch.tick.{n}_services.tick_thread_cpu_per_tick {tick * 1e3:.0f} ms")
        print(f"slawatch.tick.{n}_services.process_cpu_per_tick {proc * 1e3:.0f} ms")
        print(f"slawatch.tick.{n}_services.scrape_text_p50 {scrape_s * 1e3:.0f} ms")
        for name, v in sorted(selfm.items()):
            print(f"slawatch.tick.{n}_services.{name} {v * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
