#!/usr/bin/env python3
"""The live pin through serve: an hour's latency, polled minute by minute, is pinned in the
evaluator's windows once CloudWatch answers the hour as one period.

Hour X (a day ago) holds the only latency there is (the stand-in's sampled ALB, drawn per minute,
60 ... 240 values a minute, 12 % from a slow mode: the incident hour of test_serve_pinned.py);
request counts run throughout. `slawatch backfill` stores the three hours before X (so the
objectives' 2-hour window has data enough for a verdict), then `slawatch serve` runs under
libfaketime from just after X at 90 times real speed (cw_live_util): it polls X's minutes as
they settle, then asks X as one period (Period 3600) and pins its windows. Once the evaluator
has passed X's end after that fetch, /api/v1/status' P95 and P99 over 2 hours (X whole, nothing
else with latency) must be within 0.1 % of the truth computed here from the drawn values; the
minutes alone miss X's P99 by about 1.2 %. About 50 s.

    test_serve_pin_live.py SLAWATCH STANDIN_PY
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cw_live_util import (HOUR, SPEED, check_against_truth, report, run_live,  # noqa: E402
                          standin_stats, status_at)
from serve_util import evaluated_at, wait_until  # noqa: E402

ECS_TOKEN = "ecs-token-for-live-pin"
BASE = 60


def read_after_pin(d, base, hour):
    wait_until("serve to ask hour X as one period",
               lambda: [hour, hour + HOUR] in standin_stats(base)["hour_ranges"],
               timeout=3 * HOUR / SPEED + 30, step=0.2)
    # Pins queued by that fetch are applied by the first tick at or past X's end.
    after = max(evaluated_at(d), hour + HOUR) + 3 * BASE
    wait_until("serve to evaluate past the pinned hour",
               lambda: evaluated_at(d) >= after, timeout=30, step=0.2)
    return status_at(d)


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    hour, _, got, _, failures, spec = run_live(exe, standin_py, ECS_TOKEN, 1, read_after_pin)
    check_against_truth(standin_py, spec, hour, HOUR, got, "2-hour window", failures)
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
