#!/usr/bin/env python3
"""healthy-month: October 2026 for service `api`, one line per hour (length_s 3600).

Every hour is identical: 3,600,000 requests (1000/s), 360 errors (0.01 %), 360 health probes
(one every 10 s), all ok, and a 100-value latency sample: 94 x 120 ms, 4 x 300 ms, 2 x 700 ms.
Usage: gen.py [OUTPUT] (default: standard output). See README.md for the hand derivation."""
import datetime
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import recording  # noqa: E402  (tests/scenarios/recording.py)

START = datetime.datetime(2026, 10, 1, tzinfo=datetime.timezone.utc)
HOURS = 31 * 24  # October has 31 days: 744 hours
LATENCY_US = [120000] * 94 + [300000] * 4 + [700000] * 2


def lines():
    for h in range(HOURS):
        start = START + datetime.timedelta(hours=h)
        yield recording.interval(start, 3600, 3600000, 360, LATENCY_US, [1] * 360)


if __name__ == "__main__":
    recording.write(lines())
