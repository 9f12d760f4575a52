#!/usr/bin/env python3
"""bad-green-deploy: service `api`, environments blue (serving) and green (just deployed), 20
minutes of 10 s intervals from 2026-10-12T14:00:00Z. x below is seconds since 14:00:00; the
interval starting at x is [x, x+10).

blue, every interval: 2000 requests, 1 error (0.05 %), 10 latency values of 150 ms, probes ok.
green, every interval: 500 requests and 10 latency values, two health probes (one every 5 s):
  x in [0, 300):    0 errors, 150 ms; probes [1,1] except the failures below
  x in [300, 600):  40 errors (8 %), 150 ms
  x in [600, 1200): 0 errors, 2500 ms
  probes: x=60 [1,0], x=70 [0,0], x=80 [0,1], x=100 [1,0], x=110 [0,0], x=120 [0,0]
Usage: gen.py [OUTPUT] (default: standard output). See README.md for the hand derivation."""
import datetime
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import recording  # noqa: E402  (tests/scenarios/recording.py)

START = datetime.datetime(2026, 10, 12, 14, 0, tzinfo=datetime.timezone.utc)
INTERVALS = 120  # 20 minutes
GREEN_PROBES = {60: [1, 0], 70: [0, 0], 80: [0, 1], 100: [1, 0], 110: [0, 0], 120: [0, 0]}


def line(env, x, requests, errors, latency_us, health):
    start = START + datetime.timedelta(seconds=x)
    return recording.interval(start, 10, requests, errors, latency_us, health, env=env)


def lines():
    for i in range(INTERVALS):
        x = 10 * i
        yield line("blue", x, 2000, 1, [150000] * 10, [1, 1])
        errors = 40 if 300 <= x < 600 else 0
        latency = 2500000 if x >= 600 else 150000
        yield line("green", x, 500, errors, [latency] * 10, GREEN_PROBES.get(x, [1, 1]))


if __name__ == "__main__":
    recording.write(lines())
