#!/usr/bin/env python3
"""`slawatch gate` against a stand-in gate server (Python http.server on 127.0.0.1, free port).

Usage: test_gate.py SLAWATCH

The stand-in answers GET /api/v1/gate by the `service` parameter with canned answers: pass,
fail, inconclusive, an unknown service (404), a server error (500), garbage, and a sequence
inconclusive -> fail for --wait. Checks exit codes (0 pass, 1 fail, 2 inconclusive, 3 error)
and the key lines of the output.
"""
import http.server
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

CHECKS = [
    {"name": "error_rate", "measured": 0.002, "op": "<=", "threshold": 0.01, "samples": 1234,
     "window": "10m", "passed": True},
    {"name": "p95", "measured": 412000, "op": "<=", "threshold": 500000, "samples": 1234,
     "window": "10m", "passed": True},
    {"name": "p99", "measured": None, "op": "<=", "threshold": 1000000, "samples": 1234,
     "window": "10m", "passed": False},
    {"name": "p95_increase", "measured": 0.031, "op": "<=", "threshold": 0.2, "lower": -0.05,
     "upper": 0.12, "confidence": 0.99, "baseline_samples": 1300, "samples": 1234,
     "window": "4m", "verdict": "pass", "passed": True},
    {"name": "error_rate_increase", "measured": 0.004, "op": "<=", "threshold": 0.005,
     "lower": -0.001, "upper": 0.009, "confidence": 0.99, "baseline_samples": 1300,
     "samples": 1234, "more_samples": 5600, "window": "4m", "verdict": "inconclusive",
     "passed": False},
]


def answer(verdict, reason, checks=CHECKS):
    return {"service": "api", "env": "green", "window": "10m", "verdict": verdict,
            "reason": reason, "evaluated_at": "2026-10-01T10:00:00Z", "checks": checks}


FAIL_CHECKS = [dict(CHECKS[0], measured=0.023, passed=False), CHECKS[1]]
CANNED = {
    "pass": (200, answer("pass", "All 2 checks passed over 10m (1,234 requests).")),
    "fail": (200, answer("fail", "error_rate 2.3% > 1% over 10m (1,234 requests).",
                         FAIL_CHECKS)),
    "inconclusive": (200, answer("inconclusive", "Only 12 requests in 10m; 100 needed.")),
    "unknown": (404, {"error": "unknown service 'unknown'", "services": ["api", "web"]}),
    "broken": (500, {"error": "store unavailable"}),
}


class Gate(http.server.BaseHTTPRequestHandler):
    seen = []     # (raw query, Authorization header)
    seq_calls = 0

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        Gate.seen.append((url.query, self.headers.get("Authorization")))
        service = urllib.parse.parse_qs(url.query).get("service", [""])[0]
        if url.path != "/api/v1/gate":
            return self.reply(404, b"{}")
        if service == "garbage":
            return self.reply(200, b"<html>not json")
        if service == "seq":
            Gate.seq_calls += 1
            status, body = CANNED["inconclusive" if Gate.seq_calls < 2 else "fail"]
        else:
            status, body = CANNED.get(service, CANNED["pass"])
        self.reply(status, json.dumps(body).encode())

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


FAILURES = []


def run(slawatch, args, want_rc, out=(), err=(), env=None):
    r = subprocess.run([slawatch, "gate"] + args, capture_output=True, text=True, timeout=60,
                       env=env)
    what = " ".join(args)
    if r.returncode != want_rc:
        FAILURES.append(f"{what}: exit {r.returncode}, want {want_rc}\n{r.stdout}{r.stderr}")
    for line in out:
        if line not in r.stdout:
            FAILURES.append(f"{what}: stdout lacks {line!r}:\n{r.stdout}")
    for line in err:
        if line not in r.stderr:
            FAILURES.append(f"{what}: stderr lacks {line!r}:\n{r.stderr}")
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    slawatch = sys.argv[1]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gate)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    base = ["--server", url, "--env", "green", "--window", "10m", "--service"]
    clean_env = {"PATH": "/usr/bin:/bin"}

    run(slawatch, base + ["pass"], 0, env=clean_env,
        out=["gate api/green over 10m: PASS",
             "reason: All 2 checks passed over 10m (1,234 requests).",
             "error_rate", "0.2%", "(want <= 1%, 1234 samples over 10m)",
             "412ms", "(want <= 500ms", "n/a", "(want <= 1s",
             "ok   p95_increase", "(want <= 20%, 99% confidence: -5% .. 12%",
             "1234 vs 1300 samples over 4m)",
             "--   error_rate_increase", "about 5600 more each would decide over 4m)",
             "evaluated at 2026-10-01T10:00:00Z"])
    run(slawatch, base + ["fail"], 1, out=["FAIL", "reason: error_rate 2.3% > 1%", "2.3%"])
    run(slawatch, base + ["inconclusive"], 2, out=["INCONCLUSIVE", "Only 12 requests"])
    run(slawatch, base + ["unknown"], 3,
        err=["HTTP 404: unknown service 'unknown'", "known services: api web"])
    run(slawatch, base + ["broken"], 3, err=["HTTP 500: store unavailable"])
    run(slawatch, base + ["garbage"], 3, err=["not a gate verdict"])

    r = run(slawatch, base + ["pass", "--json"], 0)
    if json.loads(r.stdout) != CANNED["pass"][1]:
        FAILURES.append(f"--json: stdout is not the server's JSON:\n{r.stdout}")

    start = time.monotonic()
    run(slawatch, base + ["seq", "--wait", "30s"], 1, out=["FAIL"], err=["inconclusive"])
    if Gate.seq_calls != 2 or time.monotonic() - start > 15:
        FAILURES.append(f"--wait: {Gate.seq_calls} requests, want 2")
    start = time.monotonic()
    run(slawatch, base + ["inconclusive", "--wait", "3s"], 2, out=["INCONCLUSIVE"])
    if not 3 <= time.monotonic() - start < 15:
        FAILURES.append("--wait 3s did not wait about 3 s")

    # Values are percent-encoded; tokens come from the file or the environment.
    Gate.seen.clear()
    with tempfile.NamedTemporaryFile("w", suffix=".token") as tok:
        tok.write("file-token\n")
        tok.flush()
        run(slawatch, ["--server", url + "/", "--service", "a b&c/ü", "--token-file", tok.name],
            0)
    run(slawatch, ["--server", url, "--service", "api"], 0,
        env=dict(clean_env, SLAWATCH_TOKEN="env-token"))
    want = [("service=a%20b%26c%2F%C3%BC", "Bearer file-token"), ("service=api", "Bearer env-token")]
    if Gate.seen != want:
        FAILURES.append(f"requests seen {Gate.seen}, want {want}")

    run(slawatch, ["--server", f"http://127.0.0.1:{free_port()}", "--service", "api"], 3,
        err=["slawatch gate: GET http://127.0.0.1:"])
    run(slawatch, ["--service", "api"], 3, err=["usage: slawatch gate"])
    run(slawatch, ["--server", url, "--service", "api", "--wait", "soon"], 3, err=["--wait"])
    run(slawatch, ["--help"], 0, out=["Exit status: 0 pass, 1 fail, 2 inconclusive, 3 error"])
    run(slawatch, ["--version"], 0, out=["slawatch "])
    srv.shutdown()

    for f in FAILURES:
        print("FAIL:", f)
    if not FAILURES:
        print("ok: all gate cases")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
