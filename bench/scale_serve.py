#!/usr/bin/env python3
"""The scaling benchmark (issue 21): `slawatch serve` with rules/production.yaml's objectives,
alerts, rollback triggers and gate for N services of two environments (blue, green), every series
pushed 250 requests with 250 log-normal latencies (median 80 ms, sigma 0.5) early in each 10 s
base interval (mem_serve.py's rules and traffic).

    python3 bench/scale_serve.py BUILD_DIR tick N [N ...] [--intervals K] [--warmup W]
                                 [--http-threads T] [--store DIR | --days D]
                                 [--background-nice B] [--thread-waits]
                                 [--load-nice L] [--own-session]
    python3 bench/scale_serve.py BUILD_DIR startup N [--days D] [--store DIR]

`tick`: after two warm-up intervals, K measured intervals (default 4). The tick's cost is read
from the CPU time of the daemon's tick thread (the main thread, /proc/PID/task/PID/stat), so it
does not depend on the daemon's self-metrics; the whole process's CPU (ingest and scrapes
included) is printed beside it. /metrics is fetched once an interval, after the tick, and timed;
a separate process asks a random service's green gate (window 10m) every 10 ms on a keep-alive
connection through the measured intervals (its own process, so this one's pushing does not
delay its clock), counting 503s (busy) and requests unanswered within 30 s; another, the
pipelines, marks a deployment of PIPELINES services' green environment and then asks their
gates in turn every 10 ms, as `slawatch gate --wait` polls: gate_pipeline_* once a pipeline's
answer has shown its mark, gate_pipeline_before_mark_* before (the tick thread applies marks
between ticks). VmRSS is read at the end; with several N, the slope between consecutive
sizes is the memory per service without what the daemon holds whatever the services.

With --store DIR (a store `bench_scale_store DIR N 30` wrote, for one N) or --days D (one
bench_scale_store writes first), the steady state: serve starts on a copy of that store (the
same services, environments and traffic as the pushes), rebuilt from it, is stopped cleanly and
started again from its checkpoint, as a long-running install restarts, and only then are the
intervals pushed and measured as above: windows a month old rather than two intervals young.
steady_store_age is how long before the start the store's last rows were written (the windows
of an hour or less hold only the rows of the hour before it); W warm-up intervals (default 2).

`startup`: bench_scale_store writes D days (default 30) of rows for N services (1 d and 1 h
rows, the last two hours at 1 m and 10 s), then serve is started on that store and timed until
/-/ready answers 200 (the windows rebuilt from the store); then it is stopped with SIGTERM (which
writes the evaluator's checkpoint) and started again, timed the same way (loaded from the
checkpoint). --store DIR copies a store bench_scale_store wrote before instead of writing one.
--http-threads T sets `http.threads` (default: the daemon's, 2 x cores): with 1, every
connection (the scrape's, the probes', the pushes') shares one pool thread, so whatever runs on
it holds the gate up in every run rather than in the runs where a probe happens to share the
scrape's thread.
--background-nice B sets `background_nice` (trees that have it). --thread-waits prints, per kind
of thread (its name without the number; the main thread is "tick"), its CPU per measured
interval and its mean wait in the run queue per time it ran (/proc/PID/task/TID/schedstat): how
long the gate's pool threads (MHD-worker) wait for a CPU once woken; and the random probe's
slowest 1 % of requests taken apart (gate_tail_*): of each one's wall time, how long the
daemon's pool threads waited runnable for a CPU and ran (their schedstat read by the probe
before and after the request), how long the probe itself waited for a CPU, and the rest (a
lock, the loopback, the probe's own Python); and gate_less_probe_wait_*: the random probe's
percentiles with each request's own run-queue wait taken off, the latency a client on another
machine would see (the probe is a process on the daemon's cores, waiting for them too).
--load-nice L runs the pushes and the scrapes (this process, once serve is ready) at nice L: they
stand for other machines, whose CPU on this one's cores is the benchmark's, not the daemon's.
The probes keep the priority they are started with (their wall time is the measurement).
--own-session starts serve in a session of its own (setsid): with the kernel's autogroups that is
a scheduling group of its own, as systemd's service cgroup gives the installed daemon, so the
CPU of the pushes, scrapes and probes is not charged to the daemon's group when the kernel
shares the CPUs between groups (without it they are one group, all of this session).

Prints `key value unit` lines.
"""
import http.client
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mem_serve import free_port, ready, rules_for, rss_kib, wait_for  # noqa: E402

BASE_S = 10
REQUESTS = 250
WARMUP = 2
POOL = 32
GATE_EVERY_S = 0.01
PIPELINE = 64
PIPELINES = 20


def thread_cpu_s(pid, tid):
    fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency_pool(rng):
    return [",".join(str(max(1, int(math.exp(rng.gauss(math.log(80000), 0.5)))))
                     for _ in range(REQUESTS)) for _ in range(POOL)]


def ingest_request(service, env, errors, latencies):
    body = (f'{{"service":"svc{service}","env":"{env}","requests":{REQUESTS},'
            f'"errors":{errors},"latency_us":[{latencies}]}}').encode()
    return (b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\n\r\n" + body)


def read_responses(sock, count, pending):
    """Reads count HTTP responses; returns their status codes and what is left over."""
    statuses = []
    while len(statuses) < count:
        head_end = pending.find(b"\r\n\r\n")
        if head_end >= 0:
            head = pending[:head_end].decode("latin-1")
            m = re.search(r"(?i)\r\ncontent-length:\s*(\d+)", head)
            end = head_end + 4 + (int(m.group(1)) if m else 0)
            if len(pending) >= end:
                statuses.append(int(head.split(" ", 2)[1]))
                pending = pending[end:]
                continue
        chunk = sock.recv(1 << 16)
        if not chunk:
            sys.exit("the daemon closed the ingest connection")
        pending += chunk
    return statuses, pending


def push_interval(port, n, pool, rng):
    """One batch per series, pipelined PIPELINE requests at a time on one connection."""
    series = [(i, env) for i in range(n) for env in ("blue", "green")]
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        pending = b""
        for at in range(0, len(series), PIPELINE):
            part = series[at:at + PIPELINE]
            sock.sendall(b"".join(ingest_request(i, env, rng.randrange(2), rng.choice(pool))
                                  for i, env in part))
            statuses, pending = read_responses(sock, len(part), pending)
            if any(s != 200 for s in statuses):
                sys.exit(f"ingest answered {sorted(set(statuses))}")


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(math.ceil(p * len(sorted_values))) - 1)]


def pool_tids(pid):
    """The daemon's HTTP pool threads (libmicrohttpd names them MHD-worker)."""
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if open(f"/proc/{pid}/task/{tid}/comm").read().startswith("MHD-worker"):
                out.append(tid)
        except OSError:
            continue
    return out


def schedstats(paths):
    """[(ns on a CPU, ns runnable waiting)] of each schedstat file in paths."""
    out = []
    for path in paths:
        try:
            fields = open(path).read().split()
        except OSError:
            fields = (0, 0)  # a thread that ended
        out.append((int(fields[0]), int(fields[1])))
    return out


def own_thread(deltas):
    """Which pool thread serves the probe's connection: the one that ran during the most
    requests (it runs for every one; the pushes' thread only while they last)."""
    counts = [0] * len(deltas[0]) if deltas else []
    for row in deltas:
        for i, (run, _) in enumerate(row):
            counts[i] += run > 0
    return counts.index(max(counts)) if counts else None


def gate_probe(port, n, seconds, serve_pid=0):
    """Runs as its own process: one line per gate request, its latency in ms and its status
    (0: no answer within 30 s, the connection dropped and made anew); with serve_pid, beside
    them the ms the pool thread serving the probe's connection ran and waited for a CPU during
    the request, and the ms this probe waited for one."""
    pool = [f"/proc/{serve_pid}/task/{t}/schedstat" for t in pool_tids(serve_pid)] \
        if serve_pid else []
    own = ["/proc/thread-self/schedstat"]
    deltas = []
    rng = random.Random(7)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    end = time.monotonic() + seconds
    out = []
    next_at = time.monotonic()
    while time.monotonic() < end:
        path = f"/api/v1/gate?service=svc{rng.randrange(n)}&env=green&window=10m"
        pool_before, own_before = schedstats(pool), schedstats(own)[0]
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        wall = (time.perf_counter() - t0) * 1e3
        pool_after, own_after = schedstats(pool), schedstats(own)[0]
        deltas.append([(a[0] - b[0], a[1] - b[1]) for a, b in zip(pool_after, pool_before)])
        out.append((wall, status, (own_after[1] - own_before[1]) / 1e6))
        if status not in (0, 200, 503):
            sys.exit(f"gate answered {status}")
        next_at += GATE_EVERY_S
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the probe's pace, not a wait for a condition
    mine = own_thread(deltas)
    print("\n".join(f"{v:.4f} {status} {d[mine][0] / 1e6:.4f} {d[mine][1] / 1e6:.4f} {own:.4f}"
                    if mine is not None else f"{v:.4f} {status}"
                    for (v, status, own), d in zip(out, deltas)))


def pipeline_probe(port, n, seconds):
    """Runs as its own process: marks PIPELINES services' green deployments, then asks their
    gates in turn; the same lines as gate_probe."""
    services = random.Random(11).sample(range(n), min(PIPELINES, n))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in services:
        conn.request("POST", "/api/v1/deployments", f'{{"service":"svc{i}","env":"green"}}')
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit(f"marking svc{i}: HTTP {resp.status}")
    out = []
    end = time.monotonic() + seconds
    next_at = time.monotonic()
    k = 0
    applied = set()  # pipelines whose gate answer has shown their mark
    while time.monotonic() < end:
        svc = services[k % len(services)]
        k += 1
        path = f"/api/v1/gate?service=svc{svc}&env=green&window=10m"
        t0 = time.perf_counter()
        was_applied = svc in applied
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            status = resp.status
            if b'"window_limited_by":"deployment"' in body:
                applied.add(svc)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        out.append(((time.perf_counter() - t0) * 1e3, status, int(was_applied)))
        next_at += GATE_EVERY_S
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the probe's pace, not a wait for a condition
    print("\n".join(f"{v:.4f} {status} {a}" for v, status, a in out))


def gate_figures(key, answers):
    gate = sorted(float(v) for v, _ in answers) or [math.nan]
    print(f"{key}_requests {len(answers)} requests")
    print(f"{key}_503 {sum(s == '503' for _, s in answers)} answers")
    print(f"{key}_unanswered {sum(s == '0' for _, s in answers)} requests")
    print(f"{key}_p50 {percentile(gate, 0.50):.3f} ms")
    print(f"{key}_p99 {percentile(gate, 0.99):.3f} ms")
    print(f"{key}_max {gate[-1]:.3f} ms")


def gate_tail(key, answers):
    """The random probe's slowest 1 % taken apart (means over them, ms): the CPU and run-queue
    wait of the pool thread serving the probe during each request (the pushes' reading
    included when they share it), the probe's own run-queue wait, and the rest."""
    rows = sorted((tuple(float(x) for x in a[2:5]) + (float(a[0]),) for a in answers
                   if len(a) >= 5), key=lambda r: r[3])
    tail = rows[len(rows) - max(1, len(rows) // 100):] if rows else []
    if not tail:
        return
    mean = [sum(r[i] for r in tail) / len(tail) for i in range(4)]
    print(f"{key}.gate_tail_requests {len(tail)} requests")
    print(f"{key}.gate_tail_wall {mean[3]:.3f} ms")
    print(f"{key}.gate_tail_pool_cpu {mean[0]:.3f} ms")
    print(f"{key}.gate_tail_pool_runqueue_wait {mean[1]:.3f} ms")
    print(f"{key}.gate_tail_probe_runqueue_wait {mean[2]:.3f} ms")
    print(f"{key}.gate_tail_rest {mean[3] - mean[0] - mean[1] - mean[2]:.3f} ms")
    median = rows[len(rows) // 2]
    print(f"{key}.gate_median_pool_cpu {median[0]:.3f} ms")
    net = sorted(r[3] - r[2] for r in rows)
    print(f"{key}.gate_less_probe_wait_p50 {percentile(net, 0.50):.3f} ms")
    print(f"{key}.gate_less_probe_wait_p99 {percentile(net, 0.99):.3f} ms")
    print(f"{key}.gate_less_probe_wait_max {net[-1]:.3f} ms")


def scrape_metrics(port):
    """(wall ms, body bytes, status); status 0 when no answer came within 120 s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        body = resp.read()
        status = resp.status
    except (OSError, http.client.HTTPException) as e:
        body, status = str(e).encode(), 0
    elapsed = time.perf_counter() - t0
    conn.close()
    if status != 200:
        print(f"/metrics answered {status}: {body[:200]!r}", file=sys.stderr)
    return elapsed * 1e3, len(body), status


FILE_SERVICES = 1000  # a rules file lists at most 1,000 services: teams' files, as users split
HTTP_THREADS = 0  # --http-threads; 0: the daemon's default
BACKGROUND_NICE = None  # --background-nice; None: not written
LOAD_NICE = 0  # --load-nice: the pushes' and scrapes' niceness
OWN_SESSION = False  # --own-session: serve in a scheduling group (autogroup) of its own
THREAD_WAITS = False  # --thread-waits: each kind of thread's CPU and run-queue wait


def thread_schedstats(pid):
    """{tid: (kind, cpu ns, ns waited runnable, times run)} from /proc/PID/task/TID/schedstat;
    kind is the thread's name without its number, the main thread's "tick"."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            run = [int(v) for v in open(f"/proc/{pid}/task/{tid}/schedstat").read().split()]
        except OSError:
            continue  # the thread has ended
        out[tid] = ("tick" if tid == str(pid) else re.sub(r"-\d+$", "", name), *run[:3])
    return out


def print_thread_waits(key, before, after, intervals):
    """Per kind of thread: CPU per interval and the mean wait in the run queue per run."""
    kinds = {}
    for tid, (kind, *now) in after.items():
        was = before.get(tid, (kind, 0, 0, 0))[1:]
        total = kinds.setdefault(kind, [0, 0, 0])
        for i in range(3):
            total[i] += now[i] - was[i]
    for kind, (cpu, wait, runs) in sorted(kinds.items()):
        print(f"{key}.thread.{kind}.cpu_per_interval {cpu / intervals / 1e6:.1f} ms")
        print(f"{key}.thread.{kind}.wait_per_run {wait / max(runs, 1) / 1e3:.1f} us")


def write_config(tmp, n, port):
    os.makedirs(os.path.join(tmp, "rules.d"), exist_ok=True)
    for k, first in enumerate(range(0, n, FILE_SERVICES)):
        with open(os.path.join(tmp, "rules.d", f"team{k:03d}.yaml"), "w") as f:
            f.write(rules_for(min(FILE_SERVICES, n - first), first))
    open(os.path.join(tmp, "slawatch.yaml"), "w").write(
        f"listen: 127.0.0.1:{port}\ndata_dir: data\nrules_files: [rules.d/*.yaml]\n"
        "log_level: error\n" + (f"http:\n  threads: {HTTP_THREADS}\n" if HTTP_THREADS else "")
        + (f"background_nice: {BACKGROUND_NICE}\n" if BACKGROUND_NICE is not None else ""))


def start_serve(build, tmp, port):
    serve = subprocess.Popen([os.path.join(build, "slawatch"), "serve", "--config",
                              os.path.join(tmp, "slawatch.yaml")], start_new_session=OWN_SESSION)
    return serve


def wait_ready(serve, port, seconds):
    def up():
        if serve.poll() is not None:
            sys.exit(f"slawatch serve exited with status {serve.returncode}")
        return ready(port)
    wait_for("serve to be ready", up, seconds)


def stop_serve(serve):
    if serve is not None:
        serve.terminate()
        serve.wait(120)


def sleep_to_interval(offset_s):
    """Until offset_s into the next base interval: the data is dated by the clock."""
    time.sleep(BASE_S - time.time() % BASE_S + offset_s)


def store_age_s(data):
    """Seconds since the store's files were last written: how far its last rows are behind."""
    return time.time() - max(os.path.getmtime(os.path.join(data, f)) for f in os.listdir(data))


def start_steady(build, tmp, n, port, key, store, days):
    """serve as a long-running install has it: on a 30-day store for the same services (a copy
    of store, or one bench_scale_store writes), rebuilt, stopped cleanly (the checkpoint is
    written) and started again from its checkpoint. Returns the running serve."""
    data = os.path.join(tmp, "data")
    fill_store(build, data, n, days, store)
    print(f"{key}.steady_store_age {store_age_s(data):.0f} s")
    serve = timed_start(build, tmp, port, f"{key}.steady_rebuild")
    stop_serve(serve)
    return timed_start(build, tmp, port, f"{key}.steady_from_checkpoint")


def at_load_nice(fn, *args):
    """fn(*args) on a thread of its own at LOAD_NICE steps lower (Linux's nice is per thread:
    serve and the probes, started from this one, keep theirs); its result."""
    if not LOAD_NICE:
        return fn(*args)
    result = []

    def run():
        os.nice(LOAD_NICE)
        try:
            result.append((fn(*args), None))
        except BaseException as e:  # sys.exit included: raised again on the calling thread
            result.append((None, e))
    t = threading.Thread(target=run)
    t.start()
    t.join()
    value, error = result[0]
    if error is not None:
        raise error
    return value


def tick_run(build, n, intervals, steady):
    """steady: None (serve starts empty) or (store, days) for start_steady."""
    tmp = tempfile.mkdtemp(prefix="slawatch-bench-scale-")
    serve = probe = pipelines = None
    key = f"slawatch.scale.{n}_services"
    try:
        port = free_port()
        write_config(tmp, n, port)
        if steady is None:
            serve = start_serve(build, tmp, port)
            wait_ready(serve, port, 120)
        else:
            serve = start_steady(build, tmp, n, port, key, *steady)
        rng = random.Random(42)
        pool = latency_pool(rng)
        scrapes = []
        cpu = []
        waits = []
        for k in range(WARMUP + intervals + 1):
            sleep_to_interval(0.2)
            if k == WARMUP:
                probe = subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), "--gate-probe", str(port),
                     str(n), str(intervals * BASE_S), str(serve.pid if THREAD_WAITS else 0)],
                    stdout=subprocess.PIPE, text=True)
                pipelines = subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), "--pipeline-probe", str(port),
                     str(n), str(intervals * BASE_S)], stdout=subprocess.PIPE, text=True)
            if k >= WARMUP:
                cpu.append((thread_cpu_s(serve.pid, serve.pid), process_cpu_s(serve.pid)))
                waits.append(thread_schedstats(serve.pid) if THREAD_WAITS else {})
            if k > WARMUP:
                scrapes.append(at_load_nice(scrape_metrics, port))
            if k < WARMUP + intervals:
                at_load_nice(push_interval, port, n, pool, rng)
        rss = rss_kib(serve.pid)
        answers = [line.split() for line in probe.communicate(timeout=120)[0].splitlines()]
        polled = [line.split() for line in pipelines.communicate(timeout=120)[0].splitlines()]
        tick_cpu = (cpu[-1][0] - cpu[0][0]) / intervals
        all_cpu = (cpu[-1][1] - cpu[0][1]) / intervals
        times = sorted(s[0] for s in scrapes if s[2] == 200) or [math.nan]
        print(f"{key}.tick_thread_cpu_per_tick {tick_cpu * 1e3:.1f} ms")
        print(f"{key}.tick_thread_cpu_per_service {tick_cpu / n * 1e6:.1f} us")
        print(f"{key}.process_cpu_per_interval {all_cpu * 1e3:.1f} ms")
        print(f"{key}.process_cpu_per_service {all_cpu / n * 1e6:.1f} us")
        print(f"{key}.rss {rss} KiB")
        print(f"{key}.rss_per_service {rss / n:.1f} KiB")
        print(f"{key}.metrics_scrape_median {times[len(times) // 2]:.1f} ms")
        print(f"{key}.metrics_scrape_max {times[-1]:.1f} ms")
        print(f"{key}.metrics_size {scrapes[-1][1]} bytes")
        print(f"{key}.metrics_failed {sum(s[2] != 200 for s in scrapes)} scrapes")
        gate_figures(f"{key}.gate", [a[:2] for a in answers])
        if THREAD_WAITS:
            print_thread_waits(key, waits[0], waits[-1], intervals)
            gate_tail(key, answers)
        # Until the tick thread has applied a mark (after the tick in progress), a pipeline's
        # questions may wait for that tick; once an answer has shown the mark, the rest are
        # prepared by every tick.
        gate_figures(f"{key}.gate_pipeline_before_mark", [a[:2] for a in polled if a[2] == "0"])
        gate_figures(f"{key}.gate_pipeline", [a[:2] for a in polled if a[2] == "1"])
        print(f"{key}.load_nice {LOAD_NICE} nice")
        print(f"{key}.own_session {int(OWN_SESSION)} bool")
        print(f"{key}.load_1m {os.getloadavg()[0]:.1f} runnable")
        sys.stdout.flush()
        return rss
    finally:
        for p in (probe, pipelines):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        stop_serve(serve)
        shutil.rmtree(tmp, ignore_errors=True)


def timed_start(build, tmp, port, key):
    """Start serve, time it to ready, print wall, CPU, RSS and the load average; return it."""
    t0 = time.monotonic()
    serve = start_serve(build, tmp, port)
    wait_ready(serve, port, 900)
    elapsed = time.monotonic() - t0
    print(f"{key} {elapsed:.2f} s")
    print(f"{key}.cpu {process_cpu_s(serve.pid):.2f} s")
    print(f"{key}.rss {rss_kib(serve.pid)} KiB")
    print(f"{key}.load_1m {os.getloadavg()[0]:.1f} runnable")
    sys.stdout.flush()
    return serve


def fill_store(build, data, n, days, store):
    """The data directory: a copy of store, or (None) a store bench_scale_store writes."""
    if store is not None:
        shutil.copytree(store, data)
        return
    os.mkdir(data)
    subprocess.run([os.path.join(build, "bench", "bench_scale_store"), data, str(n), str(days)],
                   check=True)


def startup_run(build, n, days, store):
    """Start on the store (rebuilt from it), stop cleanly (the checkpoint is written), start
    again (loaded from the checkpoint). store: a bench_scale_store directory to copy, or None
    to write one."""
    tmp = tempfile.mkdtemp(prefix="slawatch-bench-scale-")
    serve = None
    try:
        port = free_port()
        write_config(tmp, n, port)
        data = os.path.join(tmp, "data")
        fill_store(build, data, n, days, store)
        key = f"slawatch.scale.startup_{days}d_{n}_services"
        serve = timed_start(build, tmp, port, key)
        t0 = time.monotonic()
        stop_serve(serve)
        serve = None
        print(f"{key}.stop_with_checkpoint {time.monotonic() - t0:.2f} s")
        ckpt = os.path.join(data, "evaluator.ckpt")
        print(f"{key}.checkpoint_size {os.path.getsize(ckpt)} bytes")
        serve = timed_start(build, tmp, port, key + ".from_checkpoint")
    finally:
        stop_serve(serve)
        shutil.rmtree(tmp, ignore_errors=True)


def option(args, name, default):
    if name in args:
        i = args.index(name)
        value = int(args[i + 1])
        del args[i:i + 2]
        return value
    return default


def main():
    args = sys.argv[1:]
    if args and args[0] == "--gate-probe":
        gate_probe(int(args[1]), int(args[2]), float(args[3]), int(args[4]))
        return
    if args and args[0] == "--pipeline-probe":
        pipeline_probe(int(args[1]), int(args[2]), float(args[3]))
        return
    if len(args) < 3 or args[1] not in ("tick", "startup"):
        sys.exit(__doc__)
    global HTTP_THREADS, WARMUP
    intervals = option(args, "--intervals", 4)
    HTTP_THREADS = option(args, "--http-threads", 0)
    global THREAD_WAITS, BACKGROUND_NICE, LOAD_NICE, OWN_SESSION
    OWN_SESSION = "--own-session" in args
    if OWN_SESSION:
        args.remove("--own-session")
    BACKGROUND_NICE = option(args, "--background-nice", None)
    LOAD_NICE = option(args, "--load-nice", 0)
    THREAD_WAITS = "--thread-waits" in args
    if THREAD_WAITS:
        args.remove("--thread-waits")
    WARMUP = option(args, "--warmup", WARMUP)
    steady_days = "--days" in args
    days = option(args, "--days", 30)
    store = None
    if "--store" in args:
        i = args.index("--store")
        store = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    build, mode, sizes = os.path.abspath(args[0]), args[1], [int(a) for a in args[2:]]
    if mode == "startup":
        for n in sizes:
            startup_run(build, n, days, store)
        return
    steady = (store, days) if store is not None or steady_days else None
    if store is not None and len(sizes) > 1:
        sys.exit("--store holds one size's services: give one N")
    rss = [tick_run(build, n, intervals, steady) for n in sizes]
    for (a, ra), (b, rb) in zip(zip(sizes, rss), zip(sizes[1:], rss[1:])):
        print(f"slawatch.scale.rss_per_service_{a}_to_{b} {(rb - ra) / (b - a):.1f} KiB")


if __name__ == "__main__":
    main()
