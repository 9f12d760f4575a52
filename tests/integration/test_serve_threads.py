#!/usr/bin/env python3
"""The daemon's threads are named and its background threads yield the CPU to the gate's.

Usage: test_serve_threads.py SLAWATCH UNIT

`slawatch serve` is started with `background_nice: 7` and a remote-write destination (a closed
port on 127.0.0.1, so its sender thread exists), then with `background_nice: 0`. Each thread's
name, nice value and scheduling policy are read from the kernel (/proc/PID/task/TID/stat, not
from the daemon): the threads that answer the gate (libmicrohttpd's pool, `MHD-worker`), the
tick (the main thread), the ingest workers, the probe, scrape and watchdog threads keep the
daemon's niceness and SCHED_OTHER; the render workers, the rollup thread and the remote-write
sender are SCHED_BATCH at the setting's steps above it; the report workers at nice 19. With 0,
the background threads but the report workers stay at the gate's priority. A value outside
0..19 refuses the start with one line naming the key and where it is.

Then the daemon is started once more under the system call filter of the shipped systemd unit
(UNIT, dist/slawatch.service.in): its SystemCallFilter= lines, in order, expanded by Debian's
`systemd-analyze syscall-filter` and loaded with libseccomp (python3-seccomp) before exec, denied
calls failing with the unit's SystemCallErrorNumber. The threads must be lowered there too.
"""
import errno
import os
import subprocess
import sys
import tempfile

import seccomp

from serve_util import FAILURES, check, Daemon, free_port, wait_until

SCHED_OTHER, SCHED_BATCH = 0, 3
NICE_MAX = 19

# Threads that must never be lowered (prefixes of their names).
GATE_SIDE = ("MHD-worker", "sw-ingest-", "sw-probe", "sw-scrape", "sw-http-watch")
# Background threads lowered by background_nice.
BACKGROUND = ("sw-render-", "sw-rollup", "sw-rw-send")
REPORT = "sw-report-"


def threads(pid):
    """{tid: (name, nice, policy)} as the kernel has them."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue  # a thread that has just ended
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        # proc(5): field 19 is nice, field 41 policy; fields[0] here is field 3 (state).
        out[int(tid)] = (name, int(fields[16]), int(fields[38]))
    return out


def expected_threads_started(pid):
    """Every kind of thread this configuration starts is there, named."""
    names = [n for n, _, _ in threads(pid).values()]
    kinds = GATE_SIDE + BACKGROUND + (REPORT,)
    return all(any(n.startswith(k) for n in names) for k in kinds) and names


def syscall_set(names):
    """The system calls of names (calls and @groups), groups expanded by systemd itself."""
    out = set()
    for name in names:
        if not name.startswith("@"):
            out.add(name)
            continue
        listing = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name],
                                 capture_output=True, text=True, check=True).stdout
        members = [line.strip() for line in listing.splitlines()[1:]
                   if line.strip() and not line.strip().startswith("#")]
        out |= syscall_set(members)
    return out


def unit_filter(unit):
    """A libseccomp filter doing what the unit's SystemCallFilter= lines do (systemd.exec(5):
    the first line decides allow- or deny-listing, later lines add or remove calls)."""
    lines, error = [], errno.EPERM
    with open(unit) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key == "SystemCallFilter":
                lines.append(value.split())
            elif key == "SystemCallErrorNumber":
                error = getattr(errno, value.strip())
    check(lines and not lines[0][0].startswith("~"), f"{unit}: no allow-listing SystemCallFilter")
    allowed = set()
    for words in lines:
        deny = words[0].startswith("~")
        calls = syscall_set([words[0].lstrip("~")] + words[1:])
        allowed = allowed - calls if deny else allowed | calls
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(error))
    for call in sorted(allowed):
        try:
            f.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError):
            pass  # a call this architecture does not have
    return f


def check_priorities(slawatch, tmp, setting, seccomp_filter=None):
    closed = free_port()  # nothing listens: the sender only retries
    extra = (f"background_nice: {setting}\n"
             f"remote_write:\n  - url: http://127.0.0.1:{closed}/api/v1/write\n")
    d = Daemon(slawatch, tmp, extra_config=extra)
    d.start(preexec_fn=seccomp_filter.load if seccomp_filter is not None else None)
    try:
        wait_until("every thread to be started and named",
                   lambda: expected_threads_started(d.proc.pid))
        found = threads(d.proc.pid)
        base = found[d.proc.pid][1]  # the main thread (the tick): the daemon's niceness
        lowered = min(NICE_MAX, base + setting)
        for tid, (name, nice, policy) in sorted(found.items()):
            if tid == d.proc.pid or name.startswith(GATE_SIDE):
                want = (base, SCHED_OTHER)
            elif name.startswith(BACKGROUND):
                want = (lowered, SCHED_BATCH) if setting > 0 else (base, SCHED_OTHER)
            elif name.startswith(REPORT):
                want = (NICE_MAX, SCHED_BATCH)
            else:
                check(False, f"background_nice {setting}: thread {tid} named {name!r}, "
                      "which is not one of the daemon's names")
                continue
            check((nice, policy) == want,
                  f"background_nice {setting}: {name} (tid {tid}) at nice {nice} policy "
                  f"{policy}, want nice {want[0]} policy {want[1]}")
        check(found[d.proc.pid][2] == SCHED_OTHER, "the tick thread is not SCHED_OTHER")
    finally:
        rc = d.stop()
    check(rc == 0, f"background_nice {setting}: serve exited {rc}")
    check("cannot lower" not in d.log_text(),
          f"background_nice {setting}: the daemon could not lower its threads: "
          + d.log_text()[-2000:])


def check_refused(slawatch, tmp, value):
    d = Daemon(slawatch, tmp, extra_config=f"background_nice: {value}\n")
    p = subprocess.run([slawatch, "serve", "--config", d.config_path], capture_output=True,
                       timeout=20)
    out = (p.stdout + p.stderr).decode(errors="replace").strip().splitlines()
    check(p.returncode == 1, f"background_nice {value}: exit {p.returncode}, want 1")
    check(len(out) == 1 and "background_nice" in out[0] and d.config_path in out[0],
          f"background_nice {value}: want one line naming the key and the file, got {out}")
    check(not os.path.exists(d.data), f"background_nice {value}: the data directory was made")


def main():
    slawatch, unit = sys.argv[1], sys.argv[2]
    for setting in (7, 0):
        with tempfile.TemporaryDirectory(prefix="sw-threads-") as tmp:
            check_priorities(slawatch, tmp, setting)
    with tempfile.TemporaryDirectory(prefix="sw-threads-unit-") as tmp:
        check_priorities(slawatch, tmp, 7, unit_filter(unit))
    for value in ("20", "-1", "ten"):
        with tempfile.TemporaryDirectory(prefix="sw-threads-bad-") as tmp:
            check_refused(slawatch, tmp, value)
    if not FAILURES:
        print("ok: gate threads at the daemon's priority, background threads lowered as set")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
