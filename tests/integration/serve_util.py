"""Shared helpers for the `slawatch serve` integration tests (Python 3 stdlib only).

A Daemon writes a configuration and a rules file into a temporary directory, starts
`slawatch serve` on 127.0.0.1 with a free port, waits (bounded) for /-/ready and stops it
(SIGTERM, then SIGKILL) when asked or when the test ends. HTTP helpers return
(status, headers, body) and never raise on an HTTP error status.
"""
import datetime
import math
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

# Two services: api deployed blue-green, web without environments; every SLI pushed.
RULES_HEAD = """version: 1
base_interval: 1s
min_requests: 100
services:
  - name: api
    environments: [blue, green]
    sli:
      requests: {push: true}
      errors: {push: true}
      latency: {push: true}
      health: {push: true}
  - name: web
    sli:
      requests: {push: true}
      errors: {push: true}
      latency: {push: true}
"""

RULES_BODY = """objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
alerts:
  - name: ErrorRateHigh
    when: error_rate > 10%
    over: 2s
    severity: critical
rollback_triggers:
  - name: ErrorRateSpike
    when: error_rate > 10%
    over: 2s
gate:
  window: 10s
  min_requests: 100
  checks:
    - error_rate <= 1%
    - p95 <= 500ms
"""

RULES = RULES_HEAD + RULES_BODY


# What a test found wrong: check() records it (and prints it); the test exits 1 when any is here.
FAILURES = []


def check(ok, msg):
    if not ok:
        FAILURES.append(msg)
        print("FAIL: " + msg)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rfc3339(t):
    """Seconds since the epoch -> RFC 3339 UTC with milliseconds."""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def http(method, url, body=None, headers=None, timeout=10):
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_until(what, pred, timeout=20, step=0.1):
    """Poll pred() until it returns something true; raise after timeout seconds."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = pred()
            if last:
                return last
        except (OSError, ValueError) as e:
            last = e
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Daemon:
    def __init__(self, exe, tmp, rules=RULES, extra_config="", port=None):
        self.exe = exe
        self.tmp = tmp
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = os.path.join(tmp, "data")
        self.rules_path = os.path.join(tmp, "rules.yaml")
        self.config_path = os.path.join(tmp, "config.yaml")
        self.log_path = os.path.join(tmp, "slawatch.log")
        self.token = None
        with open(self.rules_path, "w") as f:
            f.write(rules)
        with open(self.config_path, "w") as f:
            f.write(f"listen: 127.0.0.1:{self.port}\ndata_dir: {self.data}\n"
                    f"rules_files: [rules.yaml]\nlog_level: info\n{extra_config}")
        self.proc = None
        self.log = None

    def start(self, timeout=20, env=None, preexec_fn=None):
        """preexec_fn: run in the child before exec (e.g. loading a seccomp filter)."""
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.exe, "serve", "--config", self.config_path],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=preexec_fn)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"slawatch serve exited {self.proc.returncode}:\n"
                                   + self.log_text())
            return self.get("/-/ready")[0] == 200
        wait_until("slawatch /-/ready", ready, timeout)
        return self

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def auth(self, headers):
        h = dict(headers or {})
        if self.token is not None:
            h.setdefault("Authorization", f"Bearer {self.token}")
        return h

    def get(self, path, headers=None):
        return http("GET", self.url + path, headers=self.auth(headers))

    def post(self, path, body=None, headers=None):
        return http("POST", self.url + path, body if body is not None else b"",
                    headers=self.auth(headers))

    def get_json(self, path):
        status, _, body = self.get(path)
        return status, json.loads(body)

    def ingest(self, batch):
        status, _, body = self.post("/api/v1/ingest", batch)
        return status, body

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal the daemon and wait; returns its exit code (SIGKILL after timeout)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(sig)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "hung"
        self.proc = None
        self.log.close()
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)


# libfaketime preloaded into slawatch itself (the faketime wrapper would take SIGTERM).
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


class FakeClockDaemon(Daemon):
    """The daemon with its clock starting at fake_start (epoch seconds) under libfaketime."""

    def __init__(self, exe, tmp, start, **kwargs):
        super().__init__(exe, tmp, **kwargs)
        self.fake_start = start

    def start(self, timeout=20):
        when = datetime.datetime.fromtimestamp(self.fake_start, datetime.timezone.utc)
        return super().start(timeout, env=dict(
            os.environ, LD_PRELOAD=LIBFAKETIME, FAKETIME_DONT_FAKE_MONOTONIC="1",
            FAKETIME=when.strftime("@%Y-%m-%d %H:%M:%S")))


def evaluated_at(d):
    """The time of the daemon's last evaluation (the `at` of /api/v1/status), epoch seconds."""
    status, doc = d.get_json("/api/v1/status")
    if status != 200:
        raise OSError(f"/api/v1/status: HTTP {status}")
    return datetime.datetime.strptime(doc["at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def wait_evaluated(d, t, what="the daemon to evaluate past the pushed intervals"):
    """Poll until the daemon has closed and evaluated every interval ending by t."""
    wait_until(what, lambda: evaluated_at(d) >= t, timeout=max(10.0, t - time.time() + 10))


def push_intervals(d, batches, n, base_s=1):
    """Push batches(k) (a list of ingest bodies) into each of the n base intervals after the
    current one, all at once (the daemon keeps intervals ahead open), then wait until it has
    evaluated them. Returns the end of the last interval, epoch seconds."""
    first = math.floor(time.time() / base_s) * base_s + base_s
    for k in range(n):
        for batch in batches(k):
            status, body = d.ingest(dict(batch, at=rfc3339(first + k * base_s + base_s / 2)))
            if status != 200:
                raise RuntimeError(f"ingest {batch}: HTTP {status} {body!r}")
    end = first + n * base_s
    wait_evaluated(d, end)
    return end


def scalar_metrics(text):
    """Text exposition -> {(name, frozenset(labels)): value} (no escapes in our label values)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if "{" in head:
            name, _, rest = head.partition("{")
            labels = frozenset(tuple(kv.split("=", 1)) for kv in
                               rest.rstrip("}").replace('"', "").split(",") if kv)
        else:
            name, labels = head, frozenset()
        out[(name, labels)] = float(value)
    return out


# Prometheus (Debian package) as a test peer: scraping one target every second.
PROMETHEUS = "/usr/bin/prometheus"


def start_prometheus(tmp, target):
    """Prometheus scraping target (host:port) every second; (process, log file, base URL)."""
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n"
                f"    static_configs:\n      - targets: ['{target}']\n")
    log = open(os.path.join(tmp, "prometheus.log"), "wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}",
                             f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    prom = f"http://127.0.0.1:{port}"
    wait_until("prometheus /-/ready", lambda: proc.poll() is None and
               http("GET", prom + "/-/ready")[0] == 200, 30)
    return proc, log, prom


def stop(proc):
    """Terminate a peer, killing it if it lingers."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def promql(prom, q, t):
    """The value of instant query q at time t (epoch seconds), None when empty."""
    query = urllib.parse.urlencode({"query": q, "time": f"{t:.3f}"})
    status, _, body = http("GET", f"{prom}/api/v1/query?{query}")
    doc = json.loads(body)
    if status != 200 or doc.get("status") != "success":
        raise ValueError(f"query {q}: HTTP {status} {body[:300]!r}")
    r = doc["data"]["result"]
    return float(r[0]["value"][1]) if r else None
