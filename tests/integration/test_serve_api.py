#!/usr/bin/env python3
"""The HTTP API of `slawatch serve` over real HTTP, and `slawatch gate` against it.

Usage: test_serve_api.py SLAWATCH [--mark-right-after-bad-traffic]

One daemon (base interval 1s, gate window 1m, auth token file, max_body 4096) with good
traffic pushed for api/blue and web and bad traffic (30% errors) for api/green. Checks: the
gate GET (always 200 with a verdict: pass for blue, fail for green, inconclusive before data;
404 with the services list, 400 without env), the Flagger webhook (200 pass, 412 fail),
`slawatch gate` exit codes, the latched rollback trigger cleared by POST /api/v1/deployments,
auth (401 without or with a wrong token), 413 and 400 JSON errors, /-/healthy and /-/ready,
reload through POST /-/reload (broken rules: 500 and the old rules keep answering; fixed: 200
and the change visible in /api/v1/status) and SIGHUP, and SIGTERM -> exit 0.

The deployment mark is posted once the bad intervals have left the trigger's `over` window.
With --mark-right-after-bad-traffic it is posted at once, while they are still inside it: the
trigger, reset by the mark, is re-evaluated over intervals from before the mark and fires again
(evaluator/eval.c eval_conditions -> alert.c sw_alert_holds measure [t - over, t) with no regard
to the series' deployed_ms, unlike the gate's window). Meson runs that mode as should_fail until
the evaluator clips trigger windows at the mark.
"""
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

import serve_util
from serve_util import FAILURES, check, Daemon, push_intervals, rfc3339, wait_until

TOKEN = "s3cret-token"
RULES = serve_util.RULES.replace("gate:\n  window: 10s", "gate:\n  window: 1m")
NEW_OBJECTIVE = """  - name: latency-p95
    objective: p95 <= 500ms
    window: 1h
"""
# Per interval, three intervals: blue and web good, green bad.
GOOD = {"requests": 1000, "errors": 2, "latency_us": [5000, 20000, 60000, 90000]}
BAD = {"requests": 1000, "errors": 300, "latency_us": [5000, 20000, 60000, 90000]}
INTERVALS = 3



def json_error(what, status, headers, body, want_status, want_text=None):
    """An error reply: the status, a JSON body with `error` (containing want_text)."""
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    ok = (status == want_status and ctype.startswith("application/json")
          and isinstance(doc, dict) and isinstance(doc.get("error"), str)
          and (want_text is None or want_text in doc["error"]))
    check(ok, f"{what}: HTTP {status} {ctype} {body[:300]!r}, want {want_status} JSON error"
          + (f" containing {want_text!r}" if want_text else ""))
    return doc


def gate(d, service, env=None, window=None):
    q = f"/api/v1/gate?service={service}" + (f"&env={env}" if env else "") + \
        (f"&window={window}" if window else "")
    status, _, body = d.get(q)
    return status, json.loads(body)


def series_status(d, service, env):
    status, doc = d.get_json("/api/v1/status")
    for s in doc["services"]:
        if s["name"] == service and s.get("env") == env:
            return s
    return None


def trigger_fired(d, env):
    s = series_status(d, "api", env)
    return s is not None and any(t["fired"] for t in s["triggers"]
                                 if t["name"] == "ErrorRateSpike")


def push_traffic(d):
    return push_intervals(d, lambda k: [{"service": "api", "env": "blue", **GOOD},
                                        {"service": "api", "env": "green", **BAD},
                                        {"service": "web", **GOOD}], INTERVALS)


def check_ingest_errors(d):
    url = d.url + "/api/v1/ingest"
    batch = {"service": "web", "requests": 1}
    status, headers, body = serve_util.http("POST", url, batch)
    json_error("ingest without a token", status, headers, body, 401)
    check(any(k.lower() == "www-authenticate" for k in headers),
          "401 without WWW-Authenticate")
    status, headers, body = serve_util.http("POST", url, batch,
                                            {"Authorization": "Bearer wrong"})
    json_error("ingest with a wrong token", status, headers, body, 401)
    big = json.dumps({"service": "web", "latency_us": [100000] * 1000}).encode()
    check(len(big) > 4096, "the oversized body is not oversized")
    json_error("oversized ingest", *d.post("/api/v1/ingest", big), 413)
    json_error("malformed JSON", *d.post("/api/v1/ingest", b'{"service": "web", "requests": 1'),
               400, "syntax error")
    json_error("requests not a number", *d.post("/api/v1/ingest",
               {"service": "web", "requests": "many"}), 400, "requests")
    json_error("errors > requests", *d.post("/api/v1/ingest",
               {"service": "web", "requests": 1, "errors": 2}), 400, "errors")
    json_error("unknown field", *d.post("/api/v1/ingest",
               {"service": "web", "reqs": 1}), 400, "reqs")
    json_error("unknown service", *d.post("/api/v1/ingest", {"service": "nope"}), 404, "nope")
    json_error("too late", *d.post("/api/v1/ingest",
               {"service": "web", "requests": 1, "at": rfc3339(time.time() - 3600)}), 422)


def check_lookups(d):
    status, doc = gate(d, "api", "blue")
    check(status == 200 and doc.get("verdict") == "inconclusive",
          f"gate before any data: HTTP {status} {doc}, want 200 inconclusive")
    status, _, body = d.get("/api/v1/gate?service=nope")
    doc = json_error("gate for an unknown service", status, {"Content-Type":
                     "application/json"}, body, 404, "nope")
    check(doc is not None and sorted(doc.get("services", [])) == ["api", "web"],
          f"404 services list {doc}, want api and web")
    status, headers, body = d.get("/api/v1/gate?service=api")
    json_error("gate without env for api", status, headers, body, 400, "env")
    status, headers, body = d.get("/api/v1/gate?service=api&env=purple")
    json_error("gate for an unknown env", status, headers, body, 404, "purple")


def check_verdicts(d, slawatch):
    for env, want, req, err in (("blue", "pass", GOOD["requests"], GOOD["errors"]),
                                ("green", "fail", BAD["requests"], BAD["errors"])):
        status, doc = gate(d, "api", env)
        check(status == 200 and doc.get("verdict") == want,
              f"gate api/{env}: HTTP {status} verdict {doc.get('verdict')}, want {want}: {doc}")
        er = [c for c in doc.get("checks", []) if c["name"] == "error_rate"]
        check(len(er) == 1 and er[0]["samples"] == INTERVALS * req
              and math.isclose(er[0]["measured"], err / req, rel_tol=1e-9),
              f"gate api/{env} error_rate check {er}, want {err / req} over "
              f"{INTERVALS * req} samples")
        flagger = {"name": "api", "namespace": "prod", "phase": "Progressing",
                   "metadata": {"env": env}}
        status, _, body = d.post("/api/v1/gate", flagger)
        want_status = 200 if want == "pass" else 412
        check(status == want_status and json.loads(body).get("verdict") == want,
              f"POST /api/v1/gate (Flagger) api/{env}: HTTP {status}, want {want_status}: "
              f"{body[:200]!r}")
        r = subprocess.run([slawatch, "gate", "--server", d.url, "--service", "api", "--env", env],
                           capture_output=True, text=True, timeout=30)
        want_rc = 0 if want == "pass" else 1
        check(r.returncode == want_rc, f"slawatch gate api/{env}: exit {r.returncode}, want "
              f"{want_rc}\n{r.stdout}{r.stderr}")
    status, doc = gate(d, "web")
    check(status == 200 and doc.get("verdict") == "pass", f"gate web: {status} {doc}")
    check_window_clipped(d)


def check_window_clipped(d):
    """window=1h asked while latency is kept for the rules' 1m: the answer names the window it
    judged (1m), the one asked for and why they differ, and its checks cover that window."""
    status, doc = gate(d, "api", "blue", window="1h")
    ok = (status == 200 and doc.get("window") == "1m" and doc.get("window_requested") == "1h"
          and doc.get("window_limited_by") == "retention"
          and all(c.get("window") == "1m" for c in doc.get("checks", [])))
    check(ok, f"gate api/blue window=1h: HTTP {status} window {doc.get('window')!r} requested "
          f"{doc.get('window_requested')!r} limited by {doc.get('window_limited_by')!r}; want "
          "1m, 1h, retention")


def check_deployment(d, last_end, mark_right_away):
    check(trigger_fired(d, "green"), "ErrorRateSpike not fired for api/green after 30% errors")
    check(not trigger_fired(d, "blue"), "ErrorRateSpike fired for api/blue (0.2% errors)")
    if not mark_right_away:
        # Past the trigger's `over: 2s`: the condition no longer holds, the latch does.
        serve_util.wait_evaluated(d, last_end + 3, "the trigger's window to pass the bad traffic")
        check(trigger_fired(d, "green"), "ErrorRateSpike not latched once its condition ended")
    status, headers, body = serve_util.http("POST", d.url + "/api/v1/deployments",
                                            {"service": "api", "env": "green"})
    json_error("deployment without a token", status, headers, body, 401)
    json_error("deployment of an unknown service",
               *d.post("/api/v1/deployments", {"service": "nope"}), 404, "nope")
    status, _, body = d.post("/api/v1/deployments", {"service": "api", "env": "green"})
    check(status == 200 and json.loads(body).get("env") == "green",
          f"POST /api/v1/deployments: HTTP {status} {body!r}")
    try:
        wait_until("the trigger cleared by the deployment mark",
                   lambda: not trigger_fired(d, "green"), 5)
    except TimeoutError as e:
        FAILURES.append(str(e))
    status, doc = gate(d, "api", "green")
    check(status == 200 and doc.get("verdict") == "inconclusive",
          f"gate api/green right after the mark: {doc.get('verdict')}, want inconclusive "
          "(the window starts at the mark)")


def objective_names(d, service, env):
    s = series_status(d, service, env)
    return [o["name"] for o in s["objectives"]] if s else None


def check_reload(d):
    status, headers, body = serve_util.http("POST", d.url + "/-/reload")
    json_error("reload without a token", status, headers, body, 401)
    with open(d.rules_path, "w") as f:
        f.write(RULES.replace("base_interval: 1s", "base_interval: soon"))
    json_error("reload of broken rules", *d.post("/-/reload"), 500, "base_interval")
    status, doc = gate(d, "api", "blue")
    check(status == 200 and doc.get("verdict") == "pass",
          f"gate after a failed reload: HTTP {status} {doc.get('verdict')}, want pass")
    check(d.get("/-/ready")[0] == 200, "/-/ready not 200 after a failed reload")

    with open(d.rules_path, "w") as f:
        f.write(RULES.replace("objectives:\n", "objectives:\n" + NEW_OBJECTIVE))
    status, _, body = d.post("/-/reload")
    check(status == 200, f"reload of fixed rules: HTTP {status} {body!r}")
    names = objective_names(d, "api", "blue")
    check(names is not None and "latency-p95" in names,
          f"objectives after reload {names}, want latency-p95 among them")
    status, doc = gate(d, "api", "blue")
    check(status == 200 and doc.get("verdict") == "pass",
          f"gate after reload (rebuilt from the store): {doc.get('verdict')}, want pass")

    with open(d.rules_path, "w") as f:
        f.write(RULES.replace("objectives:\n", "objectives:\n" +
                              NEW_OBJECTIVE.replace("latency-p95", "latency-p95-sighup")))
    d.proc.send_signal(signal.SIGHUP)
    try:
        wait_until("the SIGHUP reload in /api/v1/status",
                   lambda: "latency-p95-sighup" in (objective_names(d, "api", "blue") or []), 10)
    except TimeoutError as e:
        FAILURES.append(str(e))
    metrics = serve_util.scalar_metrics(d.get("/metrics")[2].decode())
    reloads = metrics.get(("slawatch_reloads_total", frozenset()))
    errors = metrics.get(("slawatch_reload_errors_total", frozenset()))
    check(reloads == 2 and errors == 1,
          f"slawatch_reloads_total {reloads}, reload_errors_total {errors}; want 2 and 1")


def main():
    slawatch = sys.argv[1]
    mark_right_away = "--mark-right-after-bad-traffic" in sys.argv[2:]
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sw-api-") as tmp:
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        d = Daemon(slawatch, tmp, rules=RULES,
                   extra_config=f"auth:\n  token_file: {token_file}\nhttp:\n  max_body: 4096\n")
        try:
            d.start()
            check(d.get("/-/healthy")[0] == 200, "/-/healthy not 200")
            check(d.get("/-/ready")[0] == 200, "/-/ready not 200")
            check_lookups(d)
            d.token = TOKEN
            check_ingest_errors(d)
            last_end = push_traffic(d)
            wait_until("the pushed intervals closed", lambda: time.time() > last_end + 0.3 and
                       d.get_json("/api/v1/status")[1]["at"] >= rfc3339(last_end)[:19], 10)
            check_verdicts(d, slawatch)
            check_deployment(d, last_end, mark_right_away)
            check_reload(d)
        finally:
            rc = d.stop()
            check(rc == 0, f"SIGTERM -> exit {rc}, want 0")
            if FAILURES:
                print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    print(f"{time.monotonic() - t0:.1f}s")
    if not FAILURES:
        print("ok: the serve API over HTTP")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
