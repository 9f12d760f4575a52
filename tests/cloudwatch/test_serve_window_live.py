#!/usr/bin/env python3
"""A rolling window over an hour pinned whole through serve: at each poll CloudWatch answers the
2-hour window ending at the minute just settled as one period (Period 7200), and while the
evaluator's 2-hour windows end at that minute their percentiles are their sum conformed to it.

Latency runs from hour X (a day ago) on (the stand-in's sampled ALB, drawn per minute, 60 ... 240
values a minute, 12 % from a slow mode in X); request counts run throughout. `slawatch backfill`
stores the three hours before X (so the objectives' 2-hour window has data enough for a
verdict), then `slawatch serve` runs under libfaketime from just after X at 90 times real speed
(cw_live_util). Once the evaluation has passed X + 40 min, the first /api/v1/status evaluated at
a minute that is not on the hour (the window then holds only minutes of X: no settled hour is
pinned in it) must give P95 and P99 over 2 hours within 0.1 % of the truth computed here from the
drawn values of [X, that minute), and over 30 minutes within 0.1 % of those of its last 30
minutes. About 50 s.

    test_serve_window_live.py SLAWATCH STANDIN_PY
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cw_live_util import (HOUR, SPEED, check_against_truth, report, run_live,  # noqa: E402
                          status_at)
from cw_test_util import iso  # noqa: E402
from serve_util import evaluated_at, wait_until  # noqa: E402

ECS_TOKEN = "ecs-token-for-window-pin"
WINDOW = 2 * HOUR


def read_inside_hour(d, base, hour):
    """The first status evaluated in (X + 40 min, X + 1 h): not on the hour, X's minutes only."""
    wait_until("serve to evaluate past X + 30 min", lambda: evaluated_at(d) >= hour + 30 * 60,
               timeout=40 * 60 / SPEED + 60, step=0.2)
    found = []

    def inside():
        at, got = status_at(d)
        if hour + 40 * 60 < at < hour + HOUR:
            found.append((at, got))
        return bool(found) or at >= hour + HOUR
    wait_until("serve to evaluate inside hour X", inside, timeout=HOUR / SPEED + 60, step=0.1)
    return found[0] if found else (None, {})


def main():
    exe, standin_py = sys.argv[1], sys.argv[2]
    hour, at, got, stats, failures, spec = run_live(exe, standin_py, ECS_TOKEN, 2,
                                                    read_inside_hour)
    if at is None:
        failures.append("no status evaluated inside hour X")
    else:
        if [at - WINDOW, at, WINDOW] not in stats["long_ranges"]:
            failures.append("the 2-hour window ending %s was not asked as one period" % iso(at))
        if [at - 1800, at, 1800] not in stats["long_ranges"]:
            failures.append("the 30-minute window ending %s was not asked as one period" % iso(at))
        check_against_truth(standin_py, spec, hour, at - hour, got, "2-hour window to " + iso(at),
                            failures)
        check_against_truth(standin_py, spec, at - 1800, 1800, got, "30-minute window to "
                            + iso(at), failures, "-30m")
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
