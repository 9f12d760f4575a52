#!/usr/bin/env python3
"""incident-page: two hours of 10 s intervals for service `api` from 2026-10-05T00:00:00Z.

Every interval: 1000 requests, one health probe (ok), a 5-value latency sample of 100 ms.
00:00:00-00:59:50 (360 intervals): 0 errors. 01:00:00-01:59:50 (360 intervals): 50 errors (5 %).
Usage: gen.py [OUTPUT] (default: standard output). See README.md for the hand derivation."""
import datetime
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import recording  # noqa: E402  (tests/scenarios/recording.py)

START = datetime.datetime(2026, 10, 5, tzinfo=datetime.timezone.utc)
INTERVALS = 720          # 2 h of 10 s intervals
INCIDENT_FROM = 360      # interval index of 01:00:00


def lines():
    for i in range(INTERVALS):
        start = START + datetime.timedelta(seconds=10 * i)
        errors = 50 if i >= INCIDENT_FROM else 0
        yield recording.interval(start, 10, 1000, errors, [100000] * 5, [1])


if __name__ == "__main__":
    recording.write(lines())
