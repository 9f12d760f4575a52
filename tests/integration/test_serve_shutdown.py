#!/usr/bin/env python3
"""SIGTERM records no false events.

Usage: test_serve_shutdown.py SLAWATCH

A late source (pushes stamped 3.5 s in the past, as remote write or a query source delivers)
feeds service `web` 50 % errors, with `ingest_delay: 5s` so every push lands in an open
interval. ErrorRateHigh (error_rate > 10 % over 2 s) fires, and so does the rollback trigger
ErrorRateSpike; the error rate never drops: the source keeps pushing until the daemon has
exited, and none of its pushes before SIGTERM may be refused as late. The daemon is stopped
with SIGTERM while the alert fires. The store must then hold the two firings and no "resolved"
event: the intervals the final evaluation would have judged are the ones whose data had not
arrived yet (they are not complete under ingest_delay), and a window without data says nothing
about the error rate; they are stored, not judged.
"""
import os
import sqlite3
import sys
import tempfile
import threading
import time

from serve_util import FAILURES, check, Daemon, evaluated_at, rfc3339, wait_until

LAG_S = 3.5


def events(data_dir, service):
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'slawatch.db')}?mode=ro", uri=True)
    try:
        return con.execute("SELECT kind, name, state, value FROM events WHERE service = ? "
                           "ORDER BY at_ms, id", (service,)).fetchall()
    finally:
        con.close()


def alert_state(d, service, name):
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        raise OSError(f"/api/v1/status: HTTP {status}")
    for s in doc["services"]:
        if s["name"] == service:
            return next(a["state"] for a in s["alerts"] if a["name"] == name)
    return None


def run(slawatch, tmp):
    d = Daemon(slawatch, tmp, extra_config="ingest_delay: 5s\n")
    stop, stopping = threading.Event(), threading.Event()
    refused = []
    started = None

    def push():
        while not stop.is_set():
            if time.time() - LAG_S < started + 1:
                stop.wait(0.05)  # intervals before the daemon started are closed: wait them out
                continue
            try:
                status, body = d.ingest({"service": "web", "requests": 200, "errors": 100,
                                         "at": rfc3339(time.time() - LAG_S)})
            except OSError:
                return  # the daemon has stopped listening
            if status != 200 and not stopping.is_set():
                refused.append((status, body))  # at SIGTERM intervals close: told, not lost
            stop.wait(0.2)

    pusher = threading.Thread(target=push, daemon=True)
    try:
        d.start()
        started = time.time()
        pusher.start()
        wait_until("ErrorRateHigh firing for web",
                   lambda: alert_state(d, "web", "ErrorRateHigh") == "firing", 30)
        fired_at = evaluated_at(d)
        wait_until("two more evaluations", lambda: evaluated_at(d) >= fired_at + 2, 10)
        stopping.set()
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
    finally:
        stop.set()
        pusher.join()
        d.stop()
    check(not refused, f"pushes refused: {refused[:3]}")
    got = events(d.data, "web")
    want = [("alert", "ErrorRateHigh", "firing"), ("trigger", "ErrorRateSpike", "firing")]
    check(sorted(e[:3] for e in got) == want,
          f"events of web after SIGTERM {got}, want only {want} (the error rate never dropped)")
    print(f"events of web: {got}")


def main():
    with tempfile.TemporaryDirectory(prefix="sw-shutdown-") as tmp:
        run(sys.argv[1], tmp)
        if FAILURES:
            print("--- slawatch log ---\n" + open(os.path.join(tmp, "slawatch.log")).read()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
