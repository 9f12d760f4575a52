#!/usr/bin/env python3
"""`slawatch serve` scrape jobs against targets that refuse, fail and move.

Usage: test_serve_scrape_targets.py SLAWATCH

One daemon (scrape_interval 1s) scrapes target servers run here:
- bearer and basic auth: the server answers 401 without the right Authorization header; the jobs
  with the credentials are up, the jobs without them (or with a wrong password) are down with
  reason http_status;
- TLS with a CA and a certificate for target.test made here with the openssl CLI: up with
  ca_file and server_name, down (connect) without the CA or with another server_name;
- file_sd: the targets file is rewritten (a target added, then the first removed) and the
  daemon scrapes what it lists, seen both in /metrics and in the servers' request logs;
- a flaky target whose counter sits at 100 and then serves, in turn, a body that does not parse,
  an answer slower than scrape_timeout and a gzipped body that is small on the wire but over
  body_size_limit decoded, each carrying a counter of 1,000,000: each is counted in
  slawatch_scrape_failures_total under its reason with slawatch_scrape_up 0, and once the target
  serves 105 again, the requests slawatch stored for it total exactly 5: nothing of the failed
  scrapes was applied.
"""
import base64
import json
import math
import os
import sqlite3
import sys
import tempfile
import threading
import time

from scrape_util import Reply, TargetServer, make_tls, metric
from serve_util import FAILURES, check, Daemon, scalar_metrics, wait_evaluated, wait_until

RULES = """version: 1
base_interval: 1s
min_requests: 1
services:
  - name: flaky
    sli:
      requests: {prometheus: 'flaky_requests_total{job="flaky"}'}
      errors: {prometheus: 'flaky_errors_total{job="flaky"}'}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""
TOKEN = "s3cret-token"
BASIC = ("scraper", "pa55word")
BIG = 1000000


def counter_text(name, value):
    return f"# TYPE {name} counter\n{name} {value}\n"


class Flaky:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode, self.value = "ok", 100
        self.good_replies = 0

    def set(self, mode, value=None):
        with self.lock:
            self.mode = mode
            self.value = value if value is not None else self.value

    def reply(self):
        with self.lock:
            mode, value = self.mode, self.value
            self.good_replies += mode == "ok"
        good = counter_text("flaky_requests_total", value) + counter_text("flaky_errors_total", 0)
        bad = counter_text("flaky_requests_total", BIG) + counter_text("flaky_errors_total", BIG)
        if mode == "parse":
            return Reply(bad + "flaky_requests_total{ 7\n")
        if mode == "timeout":
            return Reply(bad, delay_s=2.5)
        if mode == "too_big":  # ~40 KiB decoded, a few hundred bytes gzipped
            return Reply(bad + "# padding\n" * 4096, gzip_ok=True)
        return Reply(good)


def routes(flaky):
    basic = "Basic " + base64.b64encode(":".join(BASIC).encode()).decode()

    def route(path, headers):
        auth = headers.get("Authorization")
        if path == "/bearer":
            ok = auth == f"Bearer {TOKEN}"
        elif path == "/basic":
            ok = auth == basic
        elif path == "/flaky":
            return flaky.reply()
        else:
            ok = True
        if not ok:
            return Reply("unauthorized\n", status=401)
        return Reply(counter_text("up_requests_total", 1))
    return route


def job(name, target, extra=""):
    return (f"  - job_name: {name}\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
            f"    static_configs:\n      - targets: ['{target}']\n{extra}")


def config(tmp, main, tls, sd_file):
    with open(os.path.join(tmp, "token"), "w") as f:
        f.write(TOKEN + "\n")
    with open(os.path.join(tmp, "password"), "w") as f:
        f.write(BASIC[1] + "\n")
    ca = os.path.join(tmp, "ca.pem")
    jobs = [job("bearer", main, "    metrics_path: /bearer\n    bearer_token_file: token\n"),
            job("bearer_none", main, "    metrics_path: /bearer\n"),
            job("basic", main, "    metrics_path: /basic\n    basic_auth: {username: "
                f"{BASIC[0]}, password_file: password}}\n"),
            job("basic_wrong", main, "    metrics_path: /basic\n    basic_auth: {username: "
                f"{BASIC[0]}, password: wrong}}\n"),
            job("tls", tls, f"    scheme: https\n    tls_config: {{ca_file: {ca}, "
                "server_name: target.test}\n"),
            job("tls_no_ca", tls, "    scheme: https\n    tls_config: {server_name: target.test}\n"),
            job("tls_wrong_name", tls, f"    scheme: https\n    tls_config: {{ca_file: {ca}, "
                "server_name: other.test}\n"),
            job("flaky", main, "    metrics_path: /flaky\n    body_size_limit: 8KiB\n"),
            "  - job_name: sd\n    scrape_interval: 1s\n    file_sd_configs:\n"
            f"      - files: [{sd_file}]\n        refresh_interval: 1s\n"]
    return "ingest_delay: 1s\nscrape_configs:\n" + "".join(jobs)


def write_sd(path, targets):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        json.dump([{"targets": targets, "labels": {"team": "sd"}}], f)
    os.replace(tmp, path)


def scrape_metrics(d):
    return scalar_metrics(d.get("/metrics")[2].decode())


def up(d, job_name, instance):
    return metric(scrape_metrics(d), "slawatch_scrape_up", job=job_name, instance=instance)


def failures(d, job_name, instance, reason):
    return metric(scrape_metrics(d), "slawatch_scrape_failures_total", job=job_name,
                  instance=instance, reason=reason) or 0


def check_auth_tls(d, main, tls):
    wait_until("every static job scraped", lambda: all(
        up(d, j, a) is not None for j, a in (("bearer", main), ("bearer_none", main),
                                             ("basic", main), ("basic_wrong", main),
                                             ("tls", tls), ("tls_no_ca", tls),
                                             ("tls_wrong_name", tls))), 15)
    wait_until("the ups settled", lambda: all(
        up(d, j, a) == want for j, a, want in (("bearer", main, 1), ("bearer_none", main, 0),
                                               ("basic", main, 1), ("basic_wrong", main, 0),
                                               ("tls", tls, 1), ("tls_no_ca", tls, 0),
                                               ("tls_wrong_name", tls, 0))), 15)
    jobs = (("bearer", main, 1, None), ("bearer_none", main, 0, "http_status"),
            ("basic", main, 1, None), ("basic_wrong", main, 0, "http_status"),
            ("tls", tls, 1, None), ("tls_no_ca", tls, 0, "connect"),
            ("tls_wrong_name", tls, 0, "connect"))
    # A target's up reads 0 before its first scrape has finished too: wait for each failing
    # job's failure to be counted (a TLS job's first scrape can take seconds on a loaded
    # machine) before reading the figures once.
    wait_until("every failing job's failure counted", lambda: all(
        failures(d, j, a, reason) >= 1 for j, a, want_up, reason in jobs if not want_up), 30)
    m = scrape_metrics(d)
    for j, a, want_up, reason in jobs:
        got = metric(m, "slawatch_scrape_up", job=j, instance=a)
        check(got == want_up, f"job {j}: slawatch_scrape_up {got}, want {want_up}")
        if want_up:
            n = metric(m, "slawatch_scrape_samples", job=j, instance=a)
            check(n == 1, f"job {j}: slawatch_scrape_samples {n}, want 1")
        else:
            n = metric(m, "slawatch_scrape_failures_total", job=j, instance=a, reason=reason)
            check(n and n >= 1, f"job {j}: failures_total{{reason={reason}}} {n}, want >= 1")


def check_file_sd(d, sd_path, a, b):
    wait_until("file_sd target A scraped", lambda: up(d, "sd", a.address) == 1, 10)
    write_sd(sd_path, [a.address, b.address])
    wait_until("file_sd target B added", lambda: up(d, "sd", b.address) == 1, 10)
    write_sd(sd_path, [b.address])
    wait_until("file_sd target A removed", lambda: up(d, "sd", a.address) is None, 10)
    gone_at = time.time()
    wait_until("target B scraped on", lambda: len(b.hits_by("slawatch/", since=gone_at)) >= 3, 10)
    check(not a.hits_by("slawatch/", since=gone_at + 0.6),
          "target A scraped after it left the file_sd file")
    check(len(b.hits_by("slawatch/", since=gone_at)) >= 2, "target B not scraped on")
    check(up(d, "sd", b.address) == 1, "target B not up")


def check_failures(d, main, flaky):
    wait_until("flaky scraped at 100", lambda: up(d, "flaky", main) == 1 and
               metric(scrape_metrics(d), "slawatch_scrape_samples", job="flaky",
                      instance=main) == 2, 10)
    served = flaky.good_replies  # one more good scrape: the baseline of 100 is surely set
    wait_until("a second good scrape", lambda: flaky.good_replies > served, 10)
    for mode, reason in (("parse", "parse"), ("timeout", "timeout"),
                         ("too_big", "body_size_limit")):
        before = failures(d, "flaky", main, reason)
        flaky.set(mode)
        wait_until(f"a failed scrape counted as {reason}",
                   lambda: failures(d, "flaky", main, reason) >= before + 2, 10)
        check(up(d, "flaky", main) == 0, f"{mode}: slawatch_scrape_up not 0")
        check(metric(scrape_metrics(d), "slawatch_scrape_samples", job="flaky",
                     instance=main) == 0, f"{mode}: slawatch_scrape_samples not 0")
    flaky.set("ok", 105)
    wait_until("flaky up again", lambda: up(d, "flaky", main) == 1, 10)
    return time.time()


def stored_requests(data_dir, service):
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'slawatch.db')}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT COALESCE(SUM(i.requests), 0), COALESCE(SUM(i.errors), 0) FROM intervals i "
            "JOIN series s ON s.id = i.series_id WHERE s.service = ? AND i.resolution_ms = 1000 "
            "AND i.has_data = 1", (service,)).fetchone()
    finally:
        con.close()


def run(slawatch, tmp):
    flaky = Flaky()
    ca, cert = make_tls(tmp, "target.test")
    main = TargetServer(routes(flaky))
    tls = TargetServer(routes(flaky), tls=cert)
    sd_a = TargetServer(routes(flaky))
    sd_b = TargetServer(routes(flaky))
    sd_path = os.path.join(tmp, "sd.json")
    write_sd(sd_path, [sd_a.address])
    d = Daemon(slawatch, tmp, rules=RULES,
               extra_config=config(tmp, main.address, tls.address, sd_path))
    try:
        d.start()
        check_auth_tls(d, main.address, tls.address)
        check_file_sd(d, sd_path, sd_a, sd_b)
        done = check_failures(d, main.address, flaky)
        wait_evaluated(d, math.ceil(done) + 1)
        rc = d.stop()
        check(rc == 0, f"slawatch serve: SIGTERM -> exit {rc}, want 0")
        got = stored_requests(d.data, "flaky")
        check(tuple(got) == (5, 0), f"flaky requests/errors stored {tuple(got)}, want (5, 0): "
                                    "a failed scrape was applied")
        print(f"flaky stored requests/errors {tuple(got)}; sd hits A {len(sd_a.hits)}, "
              f"B {len(sd_b.hits)}; TLS hits {len(tls.hits)}")
    finally:
        d.stop()
        for s in (main, tls, sd_a, sd_b):
            s.close()
        if FAILURES:
            print("--- slawatch log ---\n" + d.log_text()[-4000:])


def main():
    with tempfile.TemporaryDirectory(prefix="sw-scrape-targets-") as tmp:
        run(sys.argv[1], tmp)
    for f in FAILURES:
        print("FAIL:", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
