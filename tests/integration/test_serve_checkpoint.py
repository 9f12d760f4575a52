#!/usr/bin/env python3
"""The evaluator's checkpoint across restarts of `slawatch serve`.

Usage: test_serve_checkpoint.py SLAWATCH

Pushed intervals (api/blue good, api/green failing, so its rollback trigger latches, web good)
are evaluated; SIGTERM writes DATA/evaluator.ckpt. A start on the same directory must say in its
log that it loaded the checkpoint and answer /api/v1/status with the same objective values and
samples and the same trigger latched after the deployment mark. Intervals pushed after that are
added on top. Then the checkpoint is damaged (one byte) and the rules changed (one more
objective): each start says why it rebuilt from the store instead, and the answers are the same
as from the checkpoint (the store holds every interval; the windows are an hour long).
"""
import os
import sys
import tempfile

from serve_util import FAILURES, RULES, check, Daemon, push_intervals, wait_until

GOOD = {"requests": 1000, "errors": 2, "latency_us": [5000, 20000, 60000, 90000]}
BAD = {"requests": 1000, "errors": 300, "latency_us": [5000, 20000, 60000, 90000]}


def batches(k):
    return [{"service": "api", "env": "blue", **GOOD}, {"service": "api", "env": "green", **BAD},
            {"service": "web", **GOOD}]


def answers(d):
    """What must survive a restart: per series its objectives' values and samples and its
    triggers' latches (fired after the deployment mark: the mark survived too)."""
    status, doc = d.get_json("/api/v1/status")
    check(status == 200, f"/api/v1/status: HTTP {status}")
    out = {}
    for s in doc["services"]:
        key = (s["name"], s.get("env"))
        out[key] = ([(o["name"], o["measured"], o["samples"]) for o in s["objectives"]],
                    [(t["name"], t["fired"], t.get("at")) for t in s["triggers"]])
    return out


def start_log(d):
    """Start d and return what it logged about its evaluator's start: the daemon writes that
    line after it answers /-/ready, so it is polled for."""
    log_before = len(d.log_text())
    d.start()
    def logged():
        log = d.log_text()[log_before:]
        return ("evaluator loaded from its checkpoint" in log
                or "evaluator rebuilt from the store" in log) and log
    return wait_until("the start's evaluator line", logged)


def restart(d):
    rc = d.stop()
    check(rc == 0, f"SIGTERM: exit {rc}")
    return start_log(d)


def run(slawatch, tmp):
    d = Daemon(slawatch, tmp).start()
    try:
        push_intervals(d, batches, 6)
        status, _, _ = d.post("/api/v1/deployments",
                              b'{"service": "api", "env": "green"}')
        check(status in (200, 201), f"deployment mark: HTTP {status}")
        push_intervals(d, batches, 4)
        before = answers(d)
        check(any(t[1] for t in before[("api", "green")][1]),
              f"api/green's trigger latched before the stop: {before[('api', 'green')]}")

        log = restart(d)
        check(os.path.exists(os.path.join(d.data, "evaluator.ckpt")), "no evaluator.ckpt")
        check("evaluator loaded from its checkpoint" in log,
              "the start after SIGTERM did not load the checkpoint:\n" + log)
        after = answers(d)
        check(after == before, f"after the restart {after}\nbefore it {before}")
        push_intervals(d, batches, 3)
        grown = answers(d)
        check(grown[("web", None)][0][0][2] > before[("web", None)][0][0][2],
              f"web's samples did not grow after the restart: {grown[('web', None)]}")

        for what, reason in (("damaged", "damaged"), ("rules", "other rules")):
            rc = d.stop()
            check(rc == 0, f"SIGTERM: exit {rc}")
            path = os.path.join(d.data, "evaluator.ckpt")
            if what == "damaged":
                with open(path, "r+b") as f:
                    f.seek(200)
                    b = f.read(1)
                    f.seek(200)
                    f.write(bytes([b[0] ^ 0x01]))
            else:
                with open(d.rules_path, "w") as f:
                    f.write(RULES.replace("objectives:\n", "objectives:\n"
                                          "  - name: availability-10m\n"
                                          "    objective: availability >= 90%\n"
                                          "    window: 10m\n"))
            log = start_log(d)
            check("evaluator rebuilt from the store" in log and reason in log,
                  f"{what}: the start did not say it rebuilt because of {reason!r}:\n" + log)
            rebuilt = answers(d)
            for key, (objectives, triggers) in grown.items():
                got = rebuilt[key]
                mine = [o for o in got[0] if o[0] != "availability-10m"]
                check(mine == objectives and got[1] == triggers,
                      f"{what}: {key} rebuilt {got}, from the checkpoint {grown[key]}")
    finally:
        d.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="sw-ckpt-") as tmp:
        run(sys.argv[1], tmp)
        if FAILURES:
            print("--- slawatch log ---\n" + open(os.path.join(tmp, "slawatch.log")).read()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
