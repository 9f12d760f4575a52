#!/usr/bin/env python3
"""`slawatch serve` against malformed framing and slow clients (RFC 9112), over raw sockets.

Usage: test_serve_http_framing.py SLAWATCH

Checks:
- request smuggling: differing duplicate Content-Length, Content-Length with
  Transfer-Encoding, and "Transfer-Encoding :" (whitespace before the colon), each followed on
  the same connection by a pipelined GET, are answered 400 once and the connection is closed:
  the pipelined request is never served. Identical duplicate Content-Length stays accepted.
- header timeout: a client trickling its headers a byte at a time (each byte well inside the
  idle timeout) has its connection closed once http.header_timeout has passed.
- slowloris: 1,100 connections from 127.0.0.2 trickling headers; meanwhile the gate still
  answers a client on 127.0.0.1 every time (per-client connection limit + header timeout).
"""
import os
import resource
import socket
import sys
import tempfile
import threading
import time

from serve_util import FAILURES, check, Daemon, http, wait_until

HEADER_TIMEOUT_S = 2
PER_CLIENT = 64
SLOWLORIS = 1100
CONFIG = (f"http:\n  timeout: 10s\n  header_timeout: {HEADER_TIMEOUT_S}s\n"
          f"  max_connections_per_client: {PER_CLIENT}\n")
SMUGGLED = b"GET /api/v1/gate?service=web HTTP/1.1\r\nHost: x\r\n\r\n"



def exchange(port, data, timeout=5.0):
    """Send data on a fresh connection; everything read until the server closes (or timeout),
    and whether it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
        return out, False


def status_lines(raw):
    return [line for line in raw.split(b"\n") if line.startswith(b"HTTP/1.")]


def check_smuggling(d):
    cases = {
        "differing Content-Length":
            b"POST /api/v1/gate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\nContent-Length: 7\r\n\r\n{}" + SMUGGLED,
        "Content-Length with Transfer-Encoding":
            b"POST /api/v1/gate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
        "Transfer-Encoding with a space before the colon":
            b"POST /api/v1/gate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + SMUGGLED,
        "Transfer-Encoding with a space before the colon, no Content-Length":
            b"POST /api/v1/gate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
        "GET with Content-Length and Transfer-Encoding":
            b"GET /api/v1/gate?service=web HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    }
    for name, data in cases.items():
        raw, closed = exchange(d.port, data)
        lines = status_lines(raw)
        check(len(lines) == 1 and b" 400 " in lines[0],
              f"{name}: want one 400 answer, got {lines!r}")
        check(b"error" in raw, f"{name}: the 400 has no JSON error: {raw[-200:]!r}")
        check(closed, f"{name}: the connection stayed open after the 400")
    # Two identical Content-Length values frame the body unambiguously (RFC 9112, 6.3).
    body = b'{"name":"web"}'
    raw, _ = exchange(d.port, b"POST /api/v1/gate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Content-Type: application/json\r\n"
                      + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), len(body))
                      + body)
    lines = status_lines(raw)
    check(len(lines) == 1 and (b" 200 " in lines[0] or b" 412 " in lines[0]),
          f"identical duplicate Content-Length: want the gate's answer, got {lines!r}")


def closed_by_server(s):
    """True once the server has closed s (EOF or reset); False while it is open."""
    try:
        return s.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def check_header_timeout(d):
    """One byte of headers every 0.3 s: MHD's idle timeout (10 s) never fires; the header
    timeout must."""
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"GET /api/v1/gate?service=web HTTP/1.1\r\n")
    trickle = b"X-Slow: " + b"a" * 200
    sent = [0]

    def trickled_and_closed():
        if closed_by_server(s):
            return True
        if sent[0] < len(trickle):
            try:
                s.sendall(trickle[sent[0]:sent[0] + 1])
            except (BrokenPipeError, ConnectionResetError):
                return True
            sent[0] += 1
        return False
    try:
        wait_until("the server to close a connection trickling its headers",
                   trickled_and_closed, timeout=30, step=0.3)
    except TimeoutError as e:
        check(False, str(e))
    check(sent[0] < len(trickle), "the whole trickled header went through before the close")
    s.close()


def open_slow(port, n):
    """n connections from 127.0.0.2, each with a request line and the start of a header."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    return socks


def trickle(socks, stop):
    """A byte on every still-open slow connection every 0.5 s until stop is set."""
    first = True
    while not stop.wait(0 if first else 0.5):
        for s in socks:
            try:
                s.send(b"GET /api/v1/gate?service=web HTTP/1.1\r\nX-A: " if first else b"a")
            except OSError:
                pass
        first = False


def check_slowloris(d):
    socks = open_slow(d.port, SLOWLORIS)
    stop = threading.Event()
    t = threading.Thread(target=trickle, args=(socks, stop))
    t.start()
    answered = failed = 0
    try:
        # Longer than the header timeout, so the slow connections come back and are dropped
        # again while the gate is asked.
        end = time.monotonic() + 3 * HEADER_TIMEOUT_S
        while time.monotonic() < end:
            try:
                status, _, _ = http("GET", d.url + "/api/v1/gate?service=web", timeout=5)
                ok = status == 200
            except OSError:
                ok = False
            answered += ok
            failed += not ok
            time.sleep(0.1)
    finally:
        stop.set()
        t.join()
        for s in socks:
            s.close()
    check(failed == 0 and answered > 0,
          f"under a {SLOWLORIS}-connection slowloris the gate answered {answered} times "
          f"and failed {failed} times")


def main():
    slawatch = sys.argv[1]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = SLOWLORIS + 512
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(slawatch, tmp, extra_config=CONFIG)
        d.start()
        try:
            check_smuggling(d)
            check_header_timeout(d)
            check_slowloris(d)
            check(d.get("/-/healthy")[0] == 200, "the daemon is unhealthy after the abuse")
        finally:
            rc = d.stop()
        check(rc == 0, f"slawatch serve exited {rc}")
        if FAILURES:
            sys.stderr.write(d.log_text()[-3000:])
    for f in FAILURES:
        print("FAIL:", f)
    print("ok" if not FAILURES else f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
