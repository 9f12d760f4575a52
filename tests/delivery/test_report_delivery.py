#!/usr/bin/env python3
"""report_schedule delivers last month's report once, by mail and by webhook.

usage: test_report_delivery.py SLAWATCH RECORD_MONTH RULES SERVE_UTIL_DIR

The store is record_month's October 2026 (tests/report/). `slawatch serve` runs with Debian's
libfaketime preloaded, its clock starting a few seconds before 2026-11-01 06:00 UTC, the
schedule's time; its peers are started here on 127.0.0.1: an SMTP server (Debian's aiosmtpd)
that requires STARTTLS (a self-signed certificate made by openssl now, given to slawatch as its
CA) and AUTH, and an HTTP receiver for the webhook.

- sent: the SMTP server refuses the first message (451) and takes the retry; exactly one
  message arrives, for October (subject), to both recipients, over TLS, authenticated; its
  parts are the Markdown (text/plain), the HTML (text/html, the alternative) and the CSV
  attachment, which is `slawatch report --format csv` for October byte for byte; one webhook
  POST with the summary worked out by hand from record_month's month (api: availability, P95,
  error rate and throughput met, P99 missed; web: too little coverage, five without a verdict),
  a Slack `text` and the link to /reports; slawatch_report_deliveries_total counts it.
- a restart after sending sends nothing again.
- a restart before the time (stopped at 05:58, started again at 06:05) sends it then.

- in Europe/Berlin: 06:00 there is 05:00 UTC in November; the report arrives then, cut in
  Berlin (subject, and the CSV as `slawatch report --tz Europe/Berlin`); the webhook answers
  503 twice and takes the third POST.

And `slawatch report` without --month (its clock set by faketime as well) reports the last
month that has ended in its zone: October mid-November, and at 2026-11-01 00:30 UTC October in
UTC but September in America/New_York (still October 31 there), each the same CSV as with that
--month.
"""
import datetime
import email
import email.policy
import email.utils
import http.server
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading

SLAWATCH, RECORD, RULES, UTIL = sys.argv[1:5]
sys.path.insert(0, UTIL)
from serve_util import (LIBFAKETIME, FakeClockDaemon, free_port, scalar_metrics,  # noqa: E402
                        wait_until)

FROM = "slawatch@example.com"
TO = ["ops@example.com", "cto@example.com"]
USER, PASSWORD = "slawatch", "s3cret-pass"
# By hand from record_month.c (tests/report/test_report.py works the figures out): api met
# availability, p95, error rate and throughput, missed p99; web has 16 of 31 days: no verdict.
WANT_SERVICES = {"api": (4, 1, 0), "web": (0, 0, 5)}

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")
        print(f"FAIL {what}: got {got!r}, want {want!r}")


class MailHandler:
    """aiosmtpd handler: refuses the first `refuse` messages with 451, keeps the others."""

    def __init__(self, refuse=0):
        self.refuse = refuse
        self.attempts = 0
        self.messages = []  # (envelope from, recipients, bytes, over TLS, authenticated)

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts <= self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                              session.ssl is not None, session.authenticated))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


class SmtpServer:
    def __init__(self, tmp, handler):
        from aiosmtpd.controller import Controller
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem"))
        self.port = free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port,
                                     tls_context=ctx, require_starttls=True,
                                     authenticator=authenticator, auth_require_tls=True)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class HookReceiver:
    """Takes webhook POSTs; answers 503 to the first `refuse` of them (not kept)."""

    def __init__(self, refuse=0):
        self.bodies = []
        self.posts = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                receiver.posts += 1
                if receiver.posts <= refuse:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver.bodies.append((self.path, self.headers.get("Content-Type"), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class DeliveryDaemon(FakeClockDaemon):
    def __init__(self, tmp, start, smtp_port, hook_port, zone="UTC"):
        with open(os.path.join(tmp, "smtp-password"), "w") as f:
            f.write(PASSWORD + "\n")
        schedule = (
            "store:\n  retention:\n    1m: 400d\n"
            f"report_schedule:\n  day: 1\n  hour: 6\n  time_zone: {zone}\n"
            "  retry: {min_backoff: 1s, max_backoff: 2s}\n"
            "  email:\n"
            f"    url: smtp://127.0.0.1:{smtp_port}\n"
            f"    from: {FROM}\n    to: [{', '.join(TO)}]\n"
            f"    username: {USER}\n    password_file: smtp-password\n"
            "    ca_file: cert.pem\n"
            "  webhook:\n"
            f"    url: http://127.0.0.1:{hook_port}/hook\n")
        super().__init__(SLAWATCH, tmp, start, rules=open(RULES).read(), extra_config=schedule)

    def start(self, timeout=30):
        return super().start(timeout)

    def deliveries(self):
        _, _, text = self.get("/metrics")
        m = scalar_metrics(text.decode())
        return {(t, r): m.get(("slawatch_report_deliveries_total",
                               frozenset({("target", t), ("result", r)})))
                for t in ("email", "webhook") for r in ("sent", "failed", "skipped")}


def epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def cli_report(data, fmt, zone="UTC"):
    p = subprocess.run([SLAWATCH, "report", "--data", data, "--month", "2026-10", "--format",
                        fmt, "--tz", zone], capture_output=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit(f"slawatch report --format {fmt}: {p.stderr.decode()}")
    return p.stdout


def check_message(msg_tuple, data, link):
    mail_from, rcpts, raw, tls, authed = msg_tuple
    check("envelope from", mail_from, FROM)
    check("recipients", rcpts, TO)
    check("over STARTTLS", tls, True)
    check("authenticated", authed, True)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check("subject names October", "2026-10" in msg["Subject"], True)
    check("subject tally", "4 met, 1 missed, 5 without a verdict" in msg["Subject"], True)
    check("top type", msg.get_content_type(), "multipart/mixed")
    parts = list(msg.iter_parts())
    check("top parts", [p.get_content_type() for p in parts],
          ["multipart/alternative", "text/csv"])
    alt = list(parts[0].iter_parts())
    check("alternatives", [p.get_content_type() for p in alt], ["text/plain", "text/html"])
    md = cli_report(data, "md").decode()
    text = alt[0].get_content()
    check("text part is the Markdown report", text.startswith(md), True)
    check("text part links to the report", link in text[len(md):], True)
    html = alt[1].get_content()
    check("html part", html.lstrip().startswith("<!DOCTYPE html>"), True)
    check("csv filename", parts[1].get_filename(), "sla-report-2026-10.csv")
    check("csv attachment is the CSV report", parts[1].get_payload(decode=True),
          cli_report(data, "csv"))


def check_hook(bodies, link):
    check("one webhook POST", len(bodies), 1)
    if not bodies:
        return
    path, ctype, body = bodies[0]
    import json
    doc = json.loads(body)
    check("webhook path", path, "/hook")
    check("webhook content type", ctype, "application/json")
    check("webhook month", doc.get("month"), "2026-10")
    check("webhook totals", (doc.get("met"), doc.get("missed"), doc.get("no_verdict")), (4, 1, 5))
    check("webhook services", {s["name"]: (s["met"], s["missed"], s["no_verdict"])
                               for s in doc.get("services", [])}, WANT_SERVICES)
    check("webhook link", doc.get("url"), link)
    text = doc.get("text", "")
    check("slack text", all(w in text for w in ("2026-10", "latency-p99", link)), True)


def sent_and_retried(tmp, data_src):
    """Refused once, then sent once; then a restart sends nothing again."""
    os.makedirs(tmp)
    shutil.copytree(data_src, os.path.join(tmp, "data"))
    for f in ("cert.pem", "key.pem"):
        shutil.copy(os.path.join(os.path.dirname(tmp), f), tmp)
    handler = MailHandler(refuse=1)
    with SmtpServer(tmp, handler) as smtp, HookReceiver() as hook:
        d = DeliveryDaemon(tmp, epoch("2026-11-01T05:59:50Z"), smtp.port, hook.port)
        link = f"http://127.0.0.1:{d.port}/reports"
        try:
            d.start()
            wait_until("the report mail", lambda: handler.messages, 90)
            wait_until("the webhook", lambda: hook.bodies, 30)
            wait_until("the delivery counts", lambda: d.deliveries()[("email", "sent")] == 1, 30)
            counts = d.deliveries()
            check("email refused, then sent", (handler.attempts, len(handler.messages)), (2, 1))
            check("failed deliveries counted", counts[("email", "failed")], 1)
            check("webhook sent count", counts[("webhook", "sent")], 1)
            check("log says failed", "report delivery failed" in d.log_text(), True)
            # A reload replaces the daemon's configuration; the schedule keeps its own.
            check("reload", d.post("/-/reload")[0], 200)
        finally:
            check("serve exit status", d.stop(), 0)
        if handler.messages:
            check_message(handler.messages[0], d.data, link)
        check_hook(hook.bodies, link)
        # Restarted after it sent: nothing again.
        d.fake_start = epoch("2026-11-01T06:10:00Z")
        try:
            d.start()
            wait_until("the restart finds both delivered",
                       lambda: d.log_text().count("report already delivered") == 2, 30)
            # The counts appear in /metrics from the first tick after the schedule started.
            counts = wait_until("the delivery counts after the restart",
                                lambda: (lambda c: c if c[("email", "sent")] is not None
                                         else None)(d.deliveries()), 30)
            check("restart sends no mail", (len(handler.messages), counts[("email", "sent")]),
                  (1, 0))
            check("restart posts no webhook", len(hook.bodies), 1)
        finally:
            check("serve exit status after restart", d.stop(), 0)


def restart_before_sending(tmp, data_src):
    """Stopped before the time, started again after it: sent then, once."""
    os.makedirs(tmp)
    shutil.copytree(data_src, os.path.join(tmp, "data"))
    for f in ("cert.pem", "key.pem"):
        shutil.copy(os.path.join(os.path.dirname(tmp), f), tmp)
    handler = MailHandler()
    with SmtpServer(tmp, handler) as smtp, HookReceiver() as hook:
        d = DeliveryDaemon(tmp, epoch("2026-11-01T05:58:00Z"), smtp.port, hook.port)
        try:
            d.start()
        finally:
            check("serve exit status before the time", d.stop(), 0)
        check("nothing sent before the time", (len(handler.messages), len(hook.bodies)), (0, 0))
        d.fake_start = epoch("2026-11-01T06:05:00Z")
        try:
            d.start()
            wait_until("the report mail after the restart", lambda: handler.messages, 90)
            wait_until("the webhook after the restart", lambda: hook.bodies, 30)
        finally:
            check("serve exit status after the time", d.stop(), 0)
        subject = email.message_from_bytes(handler.messages[0][2],
                                           policy=email.policy.default)["Subject"]
        check("sent after the restart, for October", "2026-10" in subject, True)
        check("once", (len(handler.messages), len(hook.bodies)), (1, 1))


def report_at(data, fake_now, *args):
    """`slawatch report` run with its clock at fake_now (faketime), CSV on standard output."""
    env = dict(os.environ, LD_PRELOAD=LIBFAKETIME, FAKETIME="@" + fake_now)
    p = subprocess.run([SLAWATCH, "report", "--data", data, "--format", "csv", *args],
                       capture_output=True, timeout=120, env=env)
    if p.returncode != 0:
        raise SystemExit(f"slawatch report {args} at {fake_now}: {p.stderr.decode()}")
    return p.stdout


def last_complete_month(data):
    """Without --month, `slawatch report` reports the last month that has ended in --tz."""
    check("mid-November: October", report_at(data, "2026-11-15 12:00:00"),
          report_at(data, "2026-11-15 12:00:00", "--month", "2026-10"))
    # 2026-11-01 00:30 UTC is still October 31 in New York: September is the last complete one.
    check("just past October in UTC", report_at(data, "2026-11-01 00:30:00"),
          report_at(data, "2026-11-01 00:30:00", "--month", "2026-10"))
    check("still October in New York",
          report_at(data, "2026-11-01 00:30:00", "--tz", "America/New_York"),
          report_at(data, "2026-11-01 00:30:00", "--tz", "America/New_York", "--month",
                    "2026-09"))


def in_berlin(tmp, data_src):
    """Scheduled at 06:00 Europe/Berlin: 05:00 UTC in November (CET); the month cut in Berlin."""
    os.makedirs(tmp)
    shutil.copytree(data_src, os.path.join(tmp, "data"))
    for f in ("cert.pem", "key.pem"):
        shutil.copy(os.path.join(os.path.dirname(tmp), f), tmp)
    handler = MailHandler()
    with SmtpServer(tmp, handler) as smtp, HookReceiver(refuse=2) as hook:
        d = DeliveryDaemon(tmp, epoch("2026-11-01T04:59:50Z"), smtp.port, hook.port,
                            zone="Europe/Berlin")
        try:
            d.start()
            # Well before 06:00 UTC: a schedule read in UTC would still be waiting.
            wait_until("the report mail at 06:00 in Berlin", lambda: handler.messages, 60)
            wait_until("the webhook, refused twice", lambda: hook.bodies, 60)
            counts = wait_until("the webhook's counts",
                                lambda: (lambda c: c if c[("webhook", "sent")] == 1 else None)(
                                    d.deliveries()), 30)
            check("webhook refused twice, then taken once", (hook.posts, len(hook.bodies)),
                  (3, 1))
            check("webhook failures counted", counts[("webhook", "failed")], 2)
        finally:
            check("serve exit status in Berlin", d.stop(), 0)
        msg = email.message_from_bytes(handler.messages[0][2], policy=email.policy.default)
        check("Berlin subject", "SLA report 2026-10 (Europe/Berlin)" in msg["Subject"], True)
        csv = [p for p in msg.iter_attachments()]
        check("Berlin CSV is the report cut in Berlin",
              csv[0].get_payload(decode=True) if csv else None,
              cli_report(d.data, "csv", "Europe/Berlin"))
        date = email.utils.parsedate_to_datetime(msg["Date"])
        check("sent at 06:00 Berlin time, before 06:00 UTC",
              date < datetime.datetime(2026, 11, 1, 6, 0, tzinfo=datetime.timezone.utc), True)


def make_cert(tmp):
    """A self-signed certificate valid at the daemon's fake time (openssl under faketime too)."""
    env = dict(os.environ, LD_PRELOAD=LIBFAKETIME, FAKETIME="@2026-10-31 00:00:00")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", os.path.join(tmp, "key.pem"), "-out",
                    os.path.join(tmp, "cert.pem")], check=True, capture_output=True, timeout=60,
                   env=env)


def show_logs(tmp):
    for case in ("sent", "before", "berlin"):
        path = os.path.join(tmp, case, "slawatch.log")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                print(f"--- {case}: slawatch's log (last lines)\n" + "".join(f.readlines()[-40:]))


def main():
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError:
        print("FAIL: aiosmtpd is missing (Debian package python3-aiosmtpd)")
        return 1
    if not os.access(LIBFAKETIME, os.R_OK):
        print(f"FAIL: {LIBFAKETIME} is missing (Debian package libfaketime)")
        return 1
    tmp = tempfile.mkdtemp(prefix="sw-delivery-")
    try:
        make_cert(tmp)
        data = os.path.join(tmp, "recorded")
        subprocess.run([RECORD, data, RULES], check=True, timeout=240)
        last_complete_month(data)
        sent_and_retried(os.path.join(tmp, "sent"), data)
        restart_before_sending(os.path.join(tmp, "before"), data)
        in_berlin(os.path.join(tmp, "berlin"), data)
    except Exception:
        show_logs(tmp)
        raise
    finally:
        if failures:
            show_logs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'ok' if not failures else 'failed'}: {len(failures)} failures")
    return 1 if failures else 0


sys.exit(main())
