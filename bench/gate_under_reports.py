#!/usr/bin/env python3
"""The deploy gate while monthly reports are being built: `slawatch serve` on the 50-service
October 2026 store of bench_report, 8 clients asking GET /api/v1/report for the whole month
back to back (each request in another time zone, so no answer comes from the report cache),
and one client asking the gate every 10 ms on a keep-alive connection (each report client is
a process of its own, so none shares the gate client's interpreter lock). Prints `key value
unit` lines: the gate's latency percentiles with no report running (10 s) and under the 8
report clients, how the report requests were answered while the gate was measured (200, or 503
with Retry-After past the report workers and their queue), and the machine's 1-minute load
average before and after, since on a shared machine other jobs' load shows in the gate's tail.

    build/bench/bench_report 42 0 /tmp/store          # once: the store (a few minutes)
    /usr/bin/python3 bench/gate_under_reports.py [BUILD_DIR] STORE_DIR [SECONDS]

The daemon opens STORE_DIR itself (it records its rules and a few intervals there), so point
it at a store kept for benchmarks.
"""
import http.client
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SERVICES = 50
REPORT_CLIENTS = 8
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney",
         "Europe/London", "America/Los_Angeles", "Asia/Kolkata", "Africa/Cairo",
         "America/Sao_Paulo", "Europe/Berlin", "Asia/Singapore", "Pacific/Auckland",
         "Europe/Madrid", "America/Chicago", "Asia/Dubai"]
RULES_TAIL = """objectives:
  - {name: availability, objective: availability >= 99.9%}
  - {name: latency-p95, objective: p95 <= 500ms}
gate:
  window: 10m
  checks: ['error_rate <= 1%', 'p95 <= 500ms']
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def put(key, value, unit):
    print(f"slawatch.gate_under_reports.{key:<24} {value:14.3f} {unit}", flush=True)


def gate_latencies(port, seconds):
    """Gate GETs every 10 ms for seconds on one keep-alive connection; latencies in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        conn.request("GET", "/api/v1/gate?service=service-007")
        r = conn.getresponse()
        r.read()
        out.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise RuntimeError(f"gate: HTTP {r.status}")
        time.sleep(0.01)
    conn.close()
    return sorted(out)


def report_client(port, first_zone, stop, results):
    """One report client, in its own process: threads of the measuring process would share its
    interpreter lock, and reading 5 MB answers would delay the gate client's timing by up to the
    interpreter's switch interval (5 ms) each time."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    i = first_zone
    while not stop.is_set():
        zone = ZONES[i % len(ZONES)]
        i += REPORT_CLIENTS
        try:
            conn.request("GET", f"/api/v1/report?month=2026-10&format=html&tz={zone}",
                         headers={"Connection": "close"})
            r = conn.getresponse()
            r.read()
            status = r.status
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            status = type(e).__name__
            conn.close()
        if not stop.is_set():  # answers after the measurement are not counted
            results.put(status)
        if status == 503:
            stop.wait(0.5)
    conn.close()


def main():
    args = sys.argv[1:]
    build = args.pop(0) if len(args) > 1 and os.path.isdir(os.path.join(args[0], "bench")) \
        else "build"
    store = args[0]
    seconds = float(args[1]) if len(args) > 1 else 20
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.yaml")
        with open(rules, "w") as f:
            f.write("version: 1\nbase_interval: 10s\nservices:\n")
            for s in range(SERVICES):
                f.write(f"  - {{name: service-{s:03d}, sli: {{requests: {{push: true}}, "
                        "errors: {push: true}, latency: {push: true}}}\n")
            f.write(RULES_TAIL)
        config = os.path.join(tmp, "config.yaml")
        with open(config, "w") as f:
            f.write(f"listen: 127.0.0.1:{port}\ndata_dir: {os.path.abspath(store)}\n"
                    f"rules_files: [{rules}]\nlog_level: warn\n")
        log = open(os.path.join(tmp, "log"), "wb")
        proc = subprocess.Popen([os.path.join(build, "slawatch"), "serve", "--config", config],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            end = time.monotonic() + 120
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", "/-/ready")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError("slawatch serve did not become ready")
                time.sleep(0.2)
            put("load_1m_before", os.getloadavg()[0], "runnable")
            idle = gate_latencies(port, min(seconds, 10))
            put("gate_p50_idle", percentile(idle, 50), "ms")
            put("gate_p99_idle", percentile(idle, 99), "ms")
            put("gate_max_idle", idle[-1], "ms")
            ctx = multiprocessing.get_context("fork")
            stop, results = ctx.Event(), ctx.Queue()
            clients = [ctx.Process(target=report_client, args=(port, k, stop, results))
                       for k in range(REPORT_CLIENTS)]
            for c in clients:
                c.start()
            time.sleep(1)  # every report client has asked
            busy = gate_latencies(port, seconds)
            stop.set()
            put("load_1m_after", os.getloadavg()[0], "runnable")
            # A client waiting for its last answer is stopped: that answer is not counted.
            counts = {}
            for c in clients:
                c.join(5)
                if c.is_alive():
                    c.terminate()
                    c.join()
            while not results.empty():
                status = results.get()
                counts[status] = counts.get(status, 0) + 1
            put("gate_p50_8_reports", percentile(busy, 50), "ms")
            put("gate_p99_8_reports", percentile(busy, 99), "ms")
            put("gate_max_8_reports", busy[-1], "ms")
            put("gate_requests", len(busy), "requests")
            put("reports_200", counts.get(200, 0), "requests")
            put("reports_503", counts.get(503, 0), "requests")
            put("reports_failed", sum(v for k, v in counts.items() if k not in (200, 503)),
                "requests")
            print("report answers:", counts, flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


if __name__ == "__main__":
    sys.exit(main())
