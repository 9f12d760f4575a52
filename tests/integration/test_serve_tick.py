#!/usr/bin/env python3
"""What a tick costs, as `slawatch serve` reports it, and answers computed once per tick.

Usage: test_serve_tick.py SLAWATCH

`slawatch serve` (base interval 1 s, pushed data for api/blue, api/green and web). Then:
- the tick is reported whole: slawatch_tick_stage_duration_seconds has exactly the stages
  ingest, store, evaluate, snapshot and publish, and they add up to
  slawatch_tick_duration_seconds (the snapshot included);
- a /metrics body is rendered once per tick and format: two scrapes of one tick (the same
  slawatch_evaluations_total) are the same body and count the same renders, a scrape after
  the next tick counts one render more, whatever the number of ticks in between (nothing
  renders what nobody asks for), and an OpenMetrics scrape counts in its own format;
- a gate question asked five times in one tick (the same evaluated_at) gets the same answer,
  computed once: slawatch_gate_computations_total grows by exactly 1.
"""
import sys
import tempfile

from serve_util import FAILURES, check, Daemon, push_intervals, scalar_metrics, wait_until

STAGES = {"ingest", "store", "evaluate", "snapshot", "publish"}
OPENMETRICS = {"Accept": "application/openmetrics-text; version=1.0.0"}


def scrape(d, headers=None):
    status, _, body = d.get("/metrics", headers)
    if status != 200:
        raise OSError(f"/metrics: HTTP {status}")
    return body.decode()


def value(m, name, **labels):
    return m.get((name, frozenset(labels.items())))


def evaluations(m):
    return value(m, "slawatch_evaluations_total")


def renders(m, fmt):
    return value(m, "slawatch_metrics_renders_total", format=fmt)


def stages_add_up(d):
    # A tick's figures are in the snapshots after it: wait for a few ticks to have run.
    wait_until("three ticks", lambda: evaluations(scalar_metrics(scrape(d))) >= 3)
    m = scalar_metrics(scrape(d))
    stages = {dict(labels)["stage"]: v for (name, labels), v in m.items()
              if name == "slawatch_tick_stage_duration_seconds"}
    tick = value(m, "slawatch_tick_duration_seconds")
    check(set(stages) == STAGES, f"tick stages {sorted(stages)}, want {sorted(STAGES)}")
    check(tick is not None and tick > 0, f"slawatch_tick_duration_seconds {tick}, want > 0")
    check(stages.get("snapshot", 0) > 0, f"snapshot stage {stages.get('snapshot')}, want > 0")
    total = sum(stages.values())
    check(tick is not None and abs(total - tick) <= 1e-6 + 1e-9 * tick,
          f"stages add up to {total} s, the tick is {tick} s")


def two_scrapes_of_one_tick(d):
    """Two text bodies of the same snapshot (retried while a tick falls between them)."""
    def pair():
        a, b = scrape(d), scrape(d)
        ma, mb = scalar_metrics(a), scalar_metrics(b)
        return (a, b, ma, mb) if evaluations(ma) == evaluations(mb) else None
    return wait_until("two scrapes within one tick", pair)


def renders_once_per_tick(d):
    a, b, ma, mb = two_scrapes_of_one_tick(d)
    check(a == b, "two scrapes of one tick gave different bodies")
    check(renders(ma, "text") is not None and renders(ma, "text") == renders(mb, "text"),
          f"text renders {renders(ma, 'text')} then {renders(mb, 'text')} within one tick, "
          "want one render")
    if renders(mb, "text") is None:
        return
    ticks = evaluations(mb)
    later = wait_until("the next tick",
                       lambda: (lambda m: m if evaluations(m) > ticks else None)(
                           scalar_metrics(scrape(d))))
    check(renders(later, "text") == renders(mb, "text") + 1,
          f"text renders {renders(mb, 'text')} then {renders(later, 'text')} after "
          f"{evaluations(later) - ticks:g} more ticks and one scrape, want one more")
    om_before = renders(later, "openmetrics")
    scrape(d, OPENMETRICS)
    scrape(d, OPENMETRICS)
    # The next text body is rendered after both OpenMetrics scrapes: one or two OpenMetrics
    # renders, as the two fell in one tick or two; never none.
    after = wait_until("a text body rendered after the OpenMetrics scrapes",
                       lambda: (lambda m: m if evaluations(m) > evaluations(later) else None)(
                           scalar_metrics(scrape(d))))
    grew = renders(after, "openmetrics") - om_before
    check(grew in (1, 2), f"OpenMetrics renders grew by {grew} for two scrapes, want 1 or 2")


def gate_once_per_tick(d):
    path = "/api/v1/gate?service=api&env=green&window=10m"

    def asked_in_one_tick():
        before = scalar_metrics(scrape(d))
        answers = [d.get(path) for _ in range(5)]
        bodies = {body for _, _, body in answers}
        if any(status != 200 for status, _, _ in answers):
            raise OSError(f"gate answered {[s for s, _, _ in answers]}")
        return (before, answers[0][2]) if len(bodies) == 1 else None
    before, body = wait_until("five gate answers of one tick", asked_in_one_tick)
    if value(before, "slawatch_gate_computations_total") is None:
        check(False, "no slawatch_gate_computations_total in /metrics")
        return
    ticks = evaluations(before)
    # Rendered after the questions: a body of a later tick.
    after = wait_until("a later tick's body",
                       lambda: (lambda m: m if evaluations(m) > ticks + 1 else None)(
                           scalar_metrics(scrape(d))))
    grew = value(after, "slawatch_gate_computations_total") - value(
        before, "slawatch_gate_computations_total")
    check(grew == 1, f"five gate questions in one tick computed {grew:g} answers, want 1 "
          f"(answer: {body[:120]!r})")


def run(slawatch, tmp):
    d = Daemon(slawatch, tmp)
    try:
        d.start()
        push_intervals(d, lambda k: [
            {"service": "api", "env": env, "requests": 200, "errors": 1,
             "latency_us": [20000] * 200} for env in ("blue", "green")] + [
            {"service": "web", "requests": 100, "errors": 0, "latency_us": [10000] * 100}], 2)
        stages_add_up(d)
        renders_once_per_tick(d)
        gate_once_per_tick(d)
    finally:
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")


def main():
    with tempfile.TemporaryDirectory(prefix="sw-tick-") as tmp:
        run(sys.argv[1], tmp)
    if FAILURES:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
