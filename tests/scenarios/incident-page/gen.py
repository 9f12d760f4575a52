#!/usr/bin/env python3
"""incident-page: two hours of 10 s intervals for service `api` from 2026-10-05T00:00:00Z.

Every interval: 1000 requests, one health probe (ok), a 5-value latency sample of 100 ms.
00:00:00-00:59:50 (360 intervals): 0 errors. 01:00:00-01:59:50 (360 intervals): 50 errors (5 %).
Usage: gen.py [OUTPUT] (default: standard output). See README.md for the hand derivation."""
import datetime
import json
import sys

START = datetime.datetime(2026, 10, 5, tzinfo=datetime.timezone.utc)
INTERVALS = 720          # 2 h of 10 s intervals
INCIDENT_FROM = 360      # interval index of 01:00:00


def lines():
    for i in range(INTERVALS):
        start = START + datetime.timedelta(seconds=10 * i)
        yield json.dumps({
            "service": "api",
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "length_s": 10,
            "requests": 1000,
            "errors": 50 if i >= INCIDENT_FROM else 0,
            "latency_us": [100000] * 5,
            "health": [1],
        }, separators=(",", ":"))


def main():
    out = open(sys.argv[1], "w") if len(sys.argv) > 1 else sys.stdout
    with out:
        for line in lines():
            out.write(line + "\n")


if __name__ == "__main__":
    main()
