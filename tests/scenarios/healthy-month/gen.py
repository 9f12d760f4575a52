#!/usr/bin/env python3
"""healthy-month: October 2026 for service `api`, one line per hour (length_s 3600).

Every hour is identical: 3,600,000 requests (1000/s), 360 errors (0.01 %), 360 health probes
(one every 10 s), all ok, and a 100-value latency sample: 94 x 120 ms, 4 x 300 ms, 2 x 700 ms.
Usage: gen.py [OUTPUT] (default: standard output). See README.md for the hand derivation."""
import datetime
import json
import sys

START = datetime.datetime(2026, 10, 1, tzinfo=datetime.timezone.utc)
HOURS = 31 * 24  # October has 31 days: 744 hours
LATENCY_US = [120000] * 94 + [300000] * 4 + [700000] * 2


def lines():
    for h in range(HOURS):
        start = START + datetime.timedelta(hours=h)
        yield json.dumps({
            "service": "api",
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "length_s": 3600,
            "requests": 3600000,
            "errors": 360,
            "latency_us": LATENCY_US,
            "health": [1] * 360,
        }, separators=(",", ":"))


def main():
    out = open(sys.argv[1], "w") if len(sys.argv) > 1 else sys.stdout
    with out:
        for line in lines():
            out.write(line + "\n")


if __name__ == "__main__":
    main()
