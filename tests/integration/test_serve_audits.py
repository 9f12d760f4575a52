#!/usr/bin/env python3
"""Gate audits of `slawatch serve`: an unauthenticated flood cannot grow the database.

Usage: test_serve_audits.py SLAWATCH

One daemon (base interval 1s) with store.audits.min_interval 1h. Checks, reading the audit
table with SQLite itself:
- 200 gate GETs from 127.0.0.1 and 200 from 127.0.0.3 (same question, same verdict) leave two
  rows: the first answer to the question and the first to the second caller; the other 398
  are counted in slawatch_gate_audits_skipped_total;
- a verdict change (inconclusive -> pass once traffic is pushed) is recorded although the
  caller was answered within min_interval;
- restarted with store.audits.max_rows 1, the oldest rows are pruned at start and counted in
  slawatch_store_records_pruned_total.
"""
import http.client
import os
import sqlite3
import sys
import tempfile

from serve_util import FAILURES, check, Daemon, push_intervals, scalar_metrics, wait_until

CONFIG = "store:\n  audits:\n    min_interval: 1h\n    max_per_minute: 1000\n"
GOOD = {"service": "web", "requests": 1000, "errors": 1, "latency_us": [5000, 20000]}
FLOOD = 200



def ask_gate(d, source, n):
    """n gate GETs for web on one keep-alive connection from source; the verdicts seen."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10,
                                      source_address=(source, 0))
    verdicts = set()
    for _ in range(n):
        conn.request("GET", "/api/v1/gate?service=web")
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"gate: HTTP {r.status} {body[:200]!r}")
        verdicts.add(body.split(b'"verdict":"')[1].split(b'"')[0].decode())
    conn.close()
    return verdicts


def audit_rows(d):
    db = sqlite3.connect(f"file:{os.path.join(d.data, 'slawatch.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT who, verdict FROM gate_audits ORDER BY id").fetchall()
    finally:
        db.close()


def metric(d, name):
    status, _, body = d.get("/metrics")
    if status != 200:
        raise OSError(f"/metrics: HTTP {status}")
    return scalar_metrics(body.decode()).get((name, frozenset()))


def answers_accounted(d, n):
    stored = metric(d, "slawatch_gate_audits_total") or 0
    skipped = metric(d, "slawatch_gate_audits_skipped_total") or 0
    return stored + skipped >= n and (stored, skipped)


def check_flood(d):
    before = ask_gate(d, "127.0.0.1", FLOOD) | ask_gate(d, "127.0.0.3", FLOOD)
    check(before == {"inconclusive"}, f"verdicts before traffic: {before}")
    stored, skipped = wait_until("every gate answer stored or skipped",
                                 lambda: answers_accounted(d, 2 * FLOOD))
    rows = audit_rows(d)
    callers = [who.split(":")[0] for who, _ in rows]
    check(callers == ["127.0.0.1", "127.0.0.3"],
          f"after {2 * FLOOD} identical answers to two callers: rows from {callers}")
    check((stored, skipped) == (2, 2 * FLOOD - 2), f"stored {stored}, skipped {skipped}")

    push_intervals(d, lambda k: [GOOD], 3)
    after = ask_gate(d, "127.0.0.1", 1)
    check(after == {"pass"}, f"verdict after good traffic: {after}")
    wait_until("the verdict change recorded", lambda: len(audit_rows(d)) >= 3)
    verdicts = [v for _, v in audit_rows(d)]
    check(verdicts == ["inconclusive", "inconclusive", "pass"], f"audited verdicts {verdicts}")


def check_retention(d):
    rows = audit_rows(d)
    with open(d.config_path, "a") as f:
        f.write("    max_rows: 1\n")
    d.start()
    wait_until("audits pruned to store.audits.max_rows", lambda: len(audit_rows(d)) == 1)
    check(audit_rows(d) == rows[-1:], f"the newest row is not the one kept: {audit_rows(d)}")
    pruned = wait_until("the pruned rows counted",
                        lambda: metric(d, "slawatch_store_records_pruned_total"))
    check(pruned == len(rows) - 1, f"slawatch_store_records_pruned_total {pruned}, "
          f"want {len(rows) - 1}")


def main():
    slawatch = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(slawatch, tmp, extra_config=CONFIG)
        d.start()
        try:
            check_flood(d)
            check(d.stop() == 0, "slawatch serve did not exit 0 on SIGTERM")
            check_retention(d)
        finally:
            rc = d.stop()
        check(rc in (0, None), f"slawatch serve exited {rc}")
        if FAILURES:
            sys.stderr.write(d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    print("ok" if not FAILURES else f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
