#!/usr/bin/env python3
"""Bad and hostile writes to `slawatch serve` are refused whole and change nothing.

Usage: test_serve_abuse.py SLAWATCH

One daemon (base interval 1s, remote-write receiver on, a token file, a scrape job whose target carries credentials and answers 404). The test keeps its own totals of
what was accepted and checks, over real HTTP:
- time: 70 pushes dated 2099 are each refused with 400 naming the bound (now + 5m) and take
  nothing: current pushes still land; a push 4 minutes ahead is accepted; EMF Timestamps and
  deployment marks dated 2099 are refused the same way;
- a refused request applies nothing, for every write endpoint, each with its last item bad:
  EMF (last line dated 2099; counts that would pass 2^64), remote write (last series with a
  label value that is not UTF-8; last series dated 2099), the push body with "api\\u0000evil";
- remote write 2.0 (its Content-Type) gets 415;
- credentials in a scrape target's URL appear in no log line and no /metrics label;
- in the end the store's 1 s rows hold exactly what was accepted (sqlite3).
Then: a token file holding "correct horse battery staple" takes that whole line as the token
("correct" alone is refused); a data directory holding a zero-length slawatch.db makes `serve`
exit 1 with one line naming the file.
"""
import http.server as httpserver
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import rw_util
from serve_util import FAILURES, check, Daemon, free_port, http, rfc3339, wait_evaluated, wait_until

TOKEN = "abuse-test-token"
PASSPHRASE = "correct horse battery staple"
SECRET = "s3cret-pw"
Y2099_MS = 4070908800000  # 2099-01-01T00:00:00Z
COUNT_MAX = 2 ** 53
RULES = """version: 1
base_interval: 1s
services:
  - name: api
    environments: [blue, green]
    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}
  - name: app
    sli:
      requests: {prometheus: 'app_requests_total{job="app"}'}
      errors: {prometheus: 'app_requests_total{job="app",code=~"5.."}'}
      latency: {prometheus: 'app_duration_seconds{job="app"}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""


def serve_404():
    class H(httpserver.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass
    srv = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def emf_line(ts_ms, requests):
    return json.dumps({"_aws": {"Timestamp": ts_ms, "CloudWatchMetrics": [{
        "Namespace": "Shop", "Dimensions": [["Service", "Env"]],
        "Metrics": [{"Name": "Requests", "Unit": "Count"}]}]},
        "Service": "api", "Env": "blue", "Requests": requests})


def rw_post(d, series, content_type=None):
    headers = dict(rw_util.HEADERS)
    if content_type:
        headers["Content-Type"] = content_type
    status, _, body = http("POST", d.url + "/api/v1/write", rw_util.body(series),
                           headers=d.auth(headers))
    return status, body.decode(errors="replace")


def counter(value, ts_ms, **labels):
    names = [("__name__", "app_requests_total"), ("job", "app")] + list(labels.items())
    return (names, [(float(value), ts_ms)])


def check_token_file(slawatch):
    """The whole first line is the token: its first word alone is refused."""
    with tempfile.TemporaryDirectory(prefix="sw-token-") as tmp:
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(PASSPHRASE + "\n")
        d = Daemon(slawatch, tmp, rules=RULES, extra_config=f"auth:\n  token_file: {token_file}\n")
        try:
            d.start()
            d.token = "correct"
            status, _ = d.ingest({"service": "api", "env": "blue", "requests": 1})
            check(status == 401, f"first word of the token file as token: {status}, want 401")
            d.token = PASSPHRASE
            status, _ = d.ingest({"service": "api", "env": "blue", "requests": 1})
            check(status == 200, f"the token file's whole line as token: {status}, want 200")
        finally:
            d.stop(timeout=5)


def check_time_window(d, accepted):
    answers = []
    for k in range(70):
        status, body = d.ingest({"service": "api", "env": "blue", "requests": 1,
                                 "at": rfc3339(Y2099_MS / 1000 + k)})
        answers.append(status if b"now + 5m" in body else (status, body))
    check(answers == [400] * 70, f"70 pushes dated 2099: {answers[0]} ... {answers[-1]}, want "
                                 "400 naming now + 5m each")
    status, body = d.ingest({"service": "api", "env": "blue", "requests": 20})
    check(status == 200, f"current push after 70 dated 2099: {status} {body!r}, want 200")
    accepted["api"] += 20 if status == 200 else 0
    ahead = time.time() + 240
    status, body = d.ingest({"service": "api", "env": "green", "requests": 5,
                             "at": rfc3339(ahead)})
    check(status == 200, f"push 4 minutes ahead: {status} {body!r}, want 200")
    status, _, body = d.post("/api/v1/deployments", {"service": "api", "env": "blue",
                                                  "at": "2099-01-01T00:00:00Z"})
    check(status == 400 and b"now + 5m" in body,
          f"deployment mark dated 2099: {status} {body!r}, want 400 naming now + 5m")


def check_emf(d, accepted):
    now_ms = int(time.time() * 1000)
    good = emf_line(now_ms, 100)
    status, _, body = d.post("/api/v1/ingest/emf", (good + "\n" + emf_line(Y2099_MS, 1)).encode())
    check(status == 400 and b"now + 5m" in body,
          f"EMF with its last line dated 2099: {status} {body!r}, want 400 naming the bound")
    # 21 lines of 100 values of 2^53 each: 2100 * 2^53 passes 2^64 - 1 (2048 * 2^53).
    big = [emf_line(now_ms, [COUNT_MAX] * 100) for _ in range(21)]
    status, _, body = d.post("/api/v1/ingest/emf", ("\n".join([good] + big)).encode())
    check(status == 422 and b"2^64" in body,
          f"EMF counts passing 2^64: {status} {body!r}, want 422 naming 2^64")
    status, _, body = d.post("/api/v1/ingest/emf", good.encode())
    check(status == 200, f"good EMF line: {status} {body!r}")
    accepted["api"] += 100 if status == 200 else 0


def check_nul(d):
    status, _, body = d.post("/api/v1/ingest", b'{"service": "api\\u0000evil", "env": "blue", '
                                            b'"requests": 1000}')
    check(status == 400 and b"u0000" in body,
          f'push for "api\\u0000evil": {status} {body!r}, want 400 naming \\u0000')


def check_remote_write(d, accepted):
    now = int(time.time() * 1000)
    status, body = rw_post(d, [counter(1000, now, code="200")])
    check(status == 204, f"remote write baseline: {status} {body}")
    # Each bad request starts with a good sample of a new series: applied, it would count 700
    # at once, as its baseline came before.
    status, body = rw_post(d, [counter(0, now, code="200", instance="b")])
    check(status == 204, f"remote write second baseline: {status} {body}")
    bad_utf8 = [counter(700, now + 1, code="200", instance="b"),
                counter(5, now + 1, code="200", path=b"/a\xc0\xafb")]
    status, body = rw_post(d, bad_utf8)
    check(status == 400 and "UTF-8" in body, f"remote write, last label value not UTF-8: "
                                             f"{status} {body}, want 400 naming UTF-8")
    far = [counter(700, now + 2, code="200", instance="b"),
           counter(6, Y2099_MS, code="200", instance="c")]
    status, body = rw_post(d, far)
    check(status == 400 and "too far ahead" in body,
          f"remote write, last series dated 2099: {status} {body}, want 400")
    status, body = rw_post(d, [counter(700, now + 3, code="200", instance="b")],
                           "application/x-protobuf;proto=io.prometheus.write.v2.Request")
    check(status == 415, f"remote write 2.0 content type: {status} {body}, want 415")
    status, body = rw_post(d, [counter(1600, now + 4, code="200")])
    check(status == 204, f"remote write after the refused ones: {status} {body}")
    accepted["app"] += 600 if status == 204 else 0


def check_redacted(d, port):
    wait_until("a failed scrape logged", lambda: "scrape failed" in d.log_text(), timeout=15)
    check(SECRET not in d.log_text(), "the scrape target's password is in the log")
    label = f'instance="127.0.0.1:{port}"'.encode()
    body = wait_until("the scrape target in /metrics",
                      lambda: (lambda r: r[0] == 200 and label in r[2] and r[2])(d.get("/metrics")),
                      timeout=15)
    check(SECRET.encode() not in body, "the scrape target's password is in a /metrics label")


def stored(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT s.service, s.env, SUM(i.requests) FROM intervals i JOIN series s "
            "ON s.id = i.series_id WHERE i.resolution_ms = 1000 GROUP BY s.service, s.env"
        ).fetchall()
        marks = con.execute("SELECT COUNT(*) FROM deployments WHERE at_ms > ?",
                            (Y2099_MS - 1,)).fetchone()[0]
    finally:
        con.close()
    return {(svc, env or None): req for svc, env, req in rows}, marks


def check_empty_database(slawatch):
    with tempfile.TemporaryDirectory(prefix="sw-emptydb-") as tmp:
        d = Daemon(slawatch, tmp, rules=RULES)
        os.makedirs(d.data)
        open(os.path.join(d.data, "slawatch.db"), "w").close()
        p = subprocess.run([slawatch, "serve", "--config", d.config_path], capture_output=True,
                           timeout=20)
        out = (p.stdout + p.stderr).decode(errors="replace").strip().splitlines()
        check(p.returncode == 1, f"zero-length slawatch.db: exit {p.returncode}, want 1")
        check(len(out) == 1 and "slawatch.db" in out[0] and "0 bytes" in out[0],
              f"zero-length slawatch.db: output {out}, want one line naming the file")


def main():
    slawatch = sys.argv[1]
    target = serve_404()
    port = target.server_address[1]
    accepted = {"api": 0, "app": 0}
    with tempfile.TemporaryDirectory(prefix="sw-abuse-") as tmp:
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        d = Daemon(slawatch, tmp, rules=RULES, extra_config=(
            f"auth:\n  token_file: {token_file}\n"
            "remote_write_receiver:\n  enabled: true\n"
            "scrape_configs:\n  - job_name: node\n    scrape_interval: 1s\n"
            f"    static_configs:\n      - targets: ['scraper:{SECRET}@127.0.0.1:{port}']\n"))
        with open(d.config_path) as f:  # scrape failures are logged at debug
            text = f.read().replace("log_level: info", "log_level: debug")
        with open(d.config_path, "w") as f:
            f.write(text)
        try:
            d.start()
            d.token = TOKEN
            status, body = d.ingest({"service": "api", "env": "blue", "requests": 10})
            check(status == 200, f"push with the whole token: {status} {body!r}")
            accepted["api"] += 10 if status == 200 else 0
            check_time_window(d, accepted)
            check_emf(d, accepted)
            check_nul(d)
            check_remote_write(d, accepted)
            check_redacted(d, port)
            wait_evaluated(d, time.time() + 1.5)
            rc = d.stop()
            check(rc == 0, f"SIGTERM: exit {rc}")
        finally:
            d.stop(timeout=5)
            target.shutdown()
        got, marks = stored(os.path.join(d.data, "slawatch.db"))
        check(got.get(("api", "blue"), 0) == accepted["api"],
              f"api/blue stored {got.get(('api', 'blue'))} requests, accepted {accepted['api']}")
        check(got.get(("app", None), 0) == accepted["app"],
              f"app stored {got.get(('app', None))} requests, accepted {accepted['app']}")
        check(("api", "evil") not in got and marks == 0, f"refused data stored: {got}, {marks}")
        if FAILURES:
            print("--- slawatch log (tail) ---\n" + d.log_text()[-3000:])
    check_token_file(slawatch)
    check_empty_database(slawatch)
    if not FAILURES:
        print("ok: refused writes changed nothing; time, NUL, UTF-8, 2.0, secrets handled")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
