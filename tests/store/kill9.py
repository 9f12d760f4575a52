#!/usr/bin/env python3
"""kill -9 test of the store: start crash_writer, SIGKILL it at a random moment (it writes
intervals and runs rollups), reopen with `crash_writer check` (integrity_check, every acknowledged
interval present, rollups whole or absent); 20 rounds, each continuing from the last acknowledged
time. Usage: kill9.py CRASH_WRITER [ROUNDS]"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

T0 = 1_700_006_400_000  # a UTC midnight (ms)


def run_round(writer, store, start, rng):
    """Run the writer from start, kill it; return the highest acknowledged end."""
    proc = subprocess.Popen([writer, "write", store, str(start)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    acked = [start]

    def read():
        for line in proc.stdout:
            if line.startswith("acked ") and line.endswith("\n"):
                acked[0] = int(line.split()[1])

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(rng.uniform(0.05, 0.6))
    if proc.poll() is not None:
        sys.exit("crash_writer exited early: " + proc.stderr.read())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join()
    return acked[0]


def main():
    writer = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rng = random.Random(int(os.environ.get("KILL9_SEED", time.time_ns())))
    store = tempfile.mkdtemp(prefix="sw-kill9-")
    try:
        end = T0
        for i in range(rounds):
            end = run_round(writer, store, end, rng)
            check = subprocess.run([writer, "check", store, str(T0), str(end)],
                                   capture_output=True, text=True, timeout=60)
            if check.returncode != 0:
                sys.exit(f"round {i + 1}: check failed: {check.stderr.strip()}")
            print(f"round {i + 1}: acked up to {end} ({(end - T0) // 60000} min): "
                  f"{check.stdout.strip()}")
        if end == T0:
            sys.exit("the writer never acknowledged anything")
    finally:
        shutil.rmtree(store)


if __name__ == "__main__":
    main()
