"""A scrape target for the `slawatch serve` scrape tests (Python 3 stdlib only).

TargetServer answers GET on 127.0.0.1 with whatever its route function returns for the path
and headers, gzips the body when the route asks for it and the client accepts gzip, and logs
every request (time, path, user agent, whether the answer was gzipped) so a test can tell which
scraper came when. Optionally it speaks TLS with a certificate the test made.
"""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import gzip
import os
import ssl
import subprocess
import threading
import time

from serve_util import free_port

TEXT = "text/plain; version=0.0.4"


class Reply:
    def __init__(self, body, status=200, ctype=TEXT, gzip_ok=False, delay_s=0.0, headers=None):
        self.body = body if isinstance(body, bytes) else body.encode()
        self.status, self.ctype, self.gzip_ok, self.delay_s = status, ctype, gzip_ok, delay_s
        self.headers = headers or {}


class TargetServer:
    """route(path, headers) -> Reply, called on the server's threads."""

    def __init__(self, route, tls=None):
        self.route = route
        self.lock = threading.Lock()
        self.hits = []  # (monotonic-free wall time, path, user agent, gzipped)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                r = owner.route(self.path, self.headers)
                body = r.body
                zipped = r.gzip_ok and "gzip" in (self.headers.get("Accept-Encoding") or "")
                if zipped:
                    body = gzip.compress(body)
                with owner.lock:
                    owner.hits.append((time.time(), self.path,
                                       self.headers.get("User-Agent") or "", zipped))
                if r.delay_s:
                    time.sleep(r.delay_s)
                try:
                    self.send_response(r.status)
                    self.send_header("Content-Type", r.ctype)
                    self.send_header("Content-Length", str(len(body)))
                    if zipped:
                        self.send_header("Content-Encoding", "gzip")
                    for k, v in r.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the scraper gave up (timeout): what the test wants

            def log_message(self, *args):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.srv.daemon_threads = True
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.address = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def hits_by(self, agent_prefix, path=None, since=0.0):
        with self.lock:
            return [h for h in self.hits if h[2].startswith(agent_prefix) and h[0] >= since
                    and (path is None or h[1] == path)]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def make_tls(tmp, name):
    """A CA and a server certificate for name signed by it, with the openssl CLI.
    Returns (ca_file, (cert_file, key_file))."""
    p = lambda f: os.path.join(tmp, f)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    with open(p("ext.cnf"), "w") as f:
        f.write(f"subjectAltName=DNS:{name}\n")
    for cmd in (["req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2",
                 "-subj", "/CN=slawatch test CA"],
                ["req", *ec, "-keyout", p("srv.key"), "-out", p("srv.csr"), "-subj", f"/CN={name}"],
                ["x509", "-req", "-in", p("srv.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                 "-CAcreateserial", "-out", p("srv.pem"), "-days", "2", "-extfile", p("ext.cnf")]):
        subprocess.run(["/usr/bin/openssl", *cmd], check=True, capture_output=True)
    return p("ca.pem"), (p("srv.pem"), p("srv.key"))


def metric(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())))
