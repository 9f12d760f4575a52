#!/usr/bin/env python3
"""Between boundaries the tick thread sleeps until it has work: it runs each tick when due,
and a deployment mark, a reload request or a signal wakes it at once, without a short poll.

Usage: test_serve_wake.py SLAWATCH

`slawatch serve` with a 10 s base interval, so a tick is due at each boundary plus the take
delay (a tenth of the interval: no probes, scrapes or ingest_delay). Then:
- idle: over 4 s away from any tick, the tick thread (the main thread) wakes at most a few
  times: its voluntary context switches, counted by the kernel, grow by at most 6 (a 50 ms
  poll made 80);
- the tick runs when due: /api/v1/status's evaluation time moves to the next boundary no
  earlier than boundary + 1 s and at most 1.5 s after it;
- a deployment mark is applied at once, not at the next boundary or wake-up: for three
  services marked one after the other just after a tick, the gate's answer says
  `window_limited_by: deployment` within 2 s of the mark's answer (the wait after a tick lasts
  5 s, so a mark that waited for it would show after about 5 s);
- POST /-/reload is answered within 4 s, twice, and SIGHUP reloads within 4 s, twice
  (slawatch_reloads_total): a reload writes and reads the store and took 3 s once under the
  full suite on a loaded machine, but one that waited for the wake-up after a tick would not
  start before 5 s;
- the same for signals the kernel hands to another thread than the tick thread (sent to one
  of the HTTP threads with tgkill): a SIGHUP reloads within 4 s, a SIGTERM stops within 2 s
  (the handler's flag alone is seen only at the next look, 5 s later);
- SIGTERM stops the daemon (exit 0) within 2 s.
"""
import ctypes
import os
import math
import signal
import sys
import tempfile
import time

from serve_util import FAILURES, Daemon, check, scalar_metrics, wait_until

BASE_S = 10
DELAY_S = BASE_S / 10
SERVICES = ["a", "b", "c"]
RULES = "version: 1\nbase_interval: 10s\nmin_requests: 100\nservices:\n" + "".join(
    f"  - name: {s}\n    environments: [blue, green]\n"
    "    sli: {requests: {push: true}, errors: {push: true}}\n" for s in SERVICES) + """\
gate:
  window: 10m
  min_requests: 100
  checks:
    - error_rate <= 1%
"""


def voluntary_switches(pid):
    with open(f"/proc/{pid}/task/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise OSError("no voluntary_ctxt_switches")


def seconds_to_next_tick():
    """Seconds from now to the next tick's due time (boundary + take delay)."""
    now = time.time()
    due = math.floor((now - DELAY_S) / BASE_S) * BASE_S + BASE_S + DELAY_S
    return due - now


def away_from_ticks(span):
    """Sleep until a tick has just passed and span seconds fit before the next."""
    if seconds_to_next_tick() < span + 1:
        time.sleep(seconds_to_next_tick() + 1)


def idle_wakes_few(d):
    away_from_ticks(4)
    before = voluntary_switches(d.proc.pid)
    time.sleep(4)
    woke = voluntary_switches(d.proc.pid) - before
    check(woke <= 6, f"the tick thread woke {woke} times in 4 idle seconds, want <= 6")


def status_at(d):
    status, doc = d.get_json("/api/v1/status")
    return doc["at"] if status == 200 else None


def tick_runs_when_due(d):
    if seconds_to_next_tick() < 1:
        time.sleep(2)
    before = status_at(d)
    due = time.time() + seconds_to_next_tick()
    wait_until("the next tick", lambda: status_at(d) != before, timeout=BASE_S + 5, step=0.02)
    late = time.time() - due
    check(-0.05 <= late <= 1.5, f"the tick ran {late:+.3f} s from its due time, want 0 to 1.5 s")


def gate_limited(d, service):
    status, doc = d.get_json(f"/api/v1/gate?service={service}&env=green")
    return status == 200 and doc.get("window_limited_by") == "deployment"


def marks_wake(d):
    for service in SERVICES:
        away_from_ticks(2)
        check(not gate_limited(d, service), f"{service}: limited by a deployment before its mark")
        status, _, body = d.post("/api/v1/deployments",
                                 f'{{"service":"{service}","env":"green"}}'.encode())
        t0 = time.monotonic()  # the mark is queued (and the tick woken) before the answer
        check(status == 200, f"mark {service}: HTTP {status} {body!r}")
        wait_until(f"{service}'s mark applied", lambda: gate_limited(d, service), timeout=15,
                   step=0.01)
        took = time.monotonic() - t0
        check(took < 2.0, f"{service}'s mark applied after {took:.3f} s, want < 2 s")


def reloads(d):
    return scalar_metrics(d.get("/metrics")[2].decode()).get(("slawatch_reloads_total",
                                                              frozenset()))


def reloads_wake(d):
    for _ in range(2):
        away_from_ticks(2)
        t0 = time.monotonic()
        status, _, body = d.post("/-/reload")
        took = time.monotonic() - t0
        check(status == 200, f"POST /-/reload: HTTP {status} {body!r}")
        check(took < 4.0, f"POST /-/reload answered after {took:.3f} s, want < 4 s")
    for _ in range(2):
        away_from_ticks(2)
        before = reloads(d)
        t0 = time.monotonic()
        d.proc.send_signal(signal.SIGHUP)
        wait_until("the SIGHUP reload", lambda: reloads(d) == before + 1, timeout=15, step=0.01)
        took = time.monotonic() - t0
        check(took < 4.0, f"SIGHUP reloaded after {took:.3f} s, want < 4 s")


def signal_other_thread(pid, sig):
    """sig to one of the daemon's threads that is not the tick (main) thread."""
    tid = next(int(t) for t in sorted(os.listdir(f"/proc/{pid}/task")) if int(t) != pid)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.tgkill(pid, tid, int(sig)) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill {pid} {tid}")


def other_thread_signals_wake(d):
    away_from_ticks(2)
    before = reloads(d)
    t0 = time.monotonic()
    signal_other_thread(d.proc.pid, signal.SIGHUP)
    wait_until("the SIGHUP reload", lambda: reloads(d) == before + 1, timeout=15, step=0.01)
    took = time.monotonic() - t0
    check(took < 4.0, f"SIGHUP to another thread reloaded after {took:.3f} s, want < 4 s")
    away_from_ticks(2)
    t0 = time.monotonic()
    signal_other_thread(d.proc.pid, signal.SIGTERM)
    rc = d.proc.wait(15)
    took = time.monotonic() - t0
    check(rc == 0, f"SIGTERM to another thread -> exit {rc}, want 0")
    check(took < 2.0, f"SIGTERM to another thread stopped the daemon after {took:.3f} s, "
          "want < 2 s")


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sw-wake-") as tmp:
        d = Daemon(exe, tmp, rules=RULES)
        try:
            d.start()
            wait_until("the first evaluation", lambda: status_at(d) is not None, timeout=BASE_S + 5)
            idle_wakes_few(d)
            tick_runs_when_due(d)
            marks_wake(d)
            reloads_wake(d)
            away_from_ticks(2)
            t0 = time.monotonic()
            rc = d.stop()
            took = time.monotonic() - t0
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            check(took < 2.0, f"SIGTERM stopped the daemon after {took:.3f} s, want < 2 s")
            d.start()
            wait_until("the first evaluation", lambda: status_at(d) is not None, timeout=BASE_S + 5)
            other_thread_signals_wake(d)
        finally:
            d.stop()
            if FAILURES:
                print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    if FAILURES:
        return 1
    print("ok: ticks when due, woken at once by marks, reloads and signals, idle otherwise")
    return 0


if __name__ == "__main__":
    sys.exit(main())
