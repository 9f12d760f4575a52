"""`slawatch demo` teaches the product: before going live it writes the previous month (with an
incident) into its store, prints every URL worth opening and command lines with the binary's
real path (and those work while it runs), cleans its temporary directory on SIGTERM and Ctrl-C,
and a rerun on the same --data starts a fresh story, while a store it did not write is refused.

    test_demo.py SLAWATCH

The expected figures come from what the demo states (the month, the incident's start and its
90 minutes), checked against the report the store then yields.
"""
import datetime
import json
import os
import pathlib
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

EXE = os.path.abspath(sys.argv[1])
REAL = os.path.realpath(EXE)
INCIDENT_MINUTES = 90
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    if not ok:
        failures.append(name)


class Demo:
    """slawatch demo on a free port; its stdout read by a thread, so reads have a bound."""

    def __init__(self, tmp, *args):
        env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp), "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen([EXE, "demo", "--listen", "127.0.0.1:0", *args], cwd=tmp,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.intro = []

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def read_intro(self, bound_s=60):
        """Lines up to the script's first line (the intro's last), or None on exit/time-out."""
        deadline = time.monotonic() + bound_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.intro.append(line)
            if line.startswith("green was deployed"):
                return self.intro
        return None

    def stop(self, sig):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, self.proc.stderr.read()


def intro_facts(intro):
    text = "\n".join(intro)
    urls = dict(re.findall(r"^  (deploy gate|SLA report|status|metrics)\s+(http://\S+)$", text,
                           re.M))
    commands = [line.strip() for line in intro if line.startswith("  /")]
    data = re.search(r"^data in (\S+) ", text, re.M)
    history = re.search(r"through (\d{4}-\d{2}), with a (\d+)-minute incident at "
                        r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC", text)
    return urls, commands, data.group(1) if data else None, history


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


def report_json(month, data):
    p = subprocess.run([EXE, "report", "--data", data, "--month", month, "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    return json.loads(p.stdout) if p.returncode == 0 else None


def check_history(name, report, history):
    """The month's report shows the stated incident: its minutes bad, its alert, nothing else."""
    month, minutes, start = history.group(1), int(history.group(2)), history.group(3)
    check(f"{name}: the incident lasts {INCIDENT_MINUTES} minutes", minutes == INCIDENT_MINUTES)
    api = [s for s in report["services"] if s["name"] == "api"] if report else []
    check(f"{name}: report of {month} has api", len(api) == 1, report)
    if not api:
        return
    t0 = datetime.datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=datetime.timezone.utc)
    hours = {(t0 + datetime.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:00:00Z")
             for m in range(minutes)}
    bad = sum(h["bad_minutes"] for h in api[0]["worst_hours"] if h["start"] in hours)
    check(f"{name}: the incident's minutes are the bad ones", bad == minutes, api[0]["worst_hours"])
    check(f"{name}: only they", sum(d["bad_minutes"] for d in api[0]["days"]) == minutes)
    events = api[0]["events"]
    check(f"{name}: one alert, during the incident",
          len(events) == 1 and events[0]["name"] == "ErrorRateHigh"
          and start.replace(" ", "T") <= events[0]["fired_at"][:16], events)
    check(f"{name}: a whole month of data", api[0]["coverage"] == 1, api[0]["coverage"])


def live_run(tmp):
    d = Demo(tmp)
    intro = d.read_intro()
    check("intro printed", intro is not None, d.intro)
    if intro is None:
        d.stop(signal.SIGKILL)
        return
    urls, commands, data, history = intro_facts(intro)
    check("four URLs", set(urls) == {"deploy gate", "SLA report", "status", "metrics"}, urls)
    check("commands use the real path", len(commands) == 2
          and all(c.startswith(REAL + " ") for c in commands), commands)
    check("temporary data directory in TMPDIR", data is not None and data.startswith(str(tmp)),
          data)
    check("history stated", history is not None, intro)
    for what, url in urls.items():
        status, body = get(url)
        check(f"{what} answers", status == 200 and len(body) > 0, status)
    if history:
        status, html = get(urls["SLA report"])
        check("report page shows the incident's alert", "ErrorRateHigh" in html)
        check_history("live", report_json(history.group(1), data), history)
        report_cmd = next((c for c in commands if " report " in c), "")
        p = subprocess.run(report_cmd.split(), cwd=tmp, capture_output=True, timeout=120)
        check("printed report command works", p.returncode == 0
              and (tmp / "report.html").read_text().count("ErrorRateHigh") > 0, p.stderr)
        (tmp / "report.html").unlink(missing_ok=True)
    rc, err = d.stop(signal.SIGTERM)
    check("SIGTERM: exit 0", rc == 0, (rc, err))
    check("SIGTERM: temporary directory removed", list(tmp.iterdir()) == [],
          list(tmp.iterdir()))


def ctrl_c(tmp):
    d = Demo(tmp, "--speed", "100")
    check("Ctrl-C run started", d.read_intro() is not None, d.intro)
    rc, err = d.stop(signal.SIGINT)
    check("Ctrl-C: exit 0", rc == 0, (rc, err))
    check("Ctrl-C: temporary directory removed", list(tmp.iterdir()) == [], list(tmp.iterdir()))


def rerun(tmp):
    data = tmp / "kept"
    for run in ("first", "second"):
        d = Demo(tmp, "--data", str(data))
        intro = d.read_intro()
        rc, err = d.stop(signal.SIGTERM)
        check(f"{run} run on --data: exit 0", intro is not None and rc == 0, (rc, err))
        if intro is None:
            return
        _, _, _, history = intro_facts(intro)
        said_fresh = any("fresh story" in line for line in intro)
        check(f"{run} run says whether it replaced a story", said_fresh == (run == "second"),
              intro)
        check(f"{run} run: data kept", (data / "slawatch.db").exists())
        check_history(run, report_json(history.group(1), str(data)), history)


def foreign_store(tmp):
    data = tmp / "foreign"
    data.mkdir()
    db = data / "slawatch.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE precious(x)")
    con.commit()
    con.close()
    before = db.read_bytes()
    d = Demo(tmp, "--data", str(data))
    rc = d.proc.wait(timeout=60)
    err = d.proc.stderr.read()
    check("foreign store: exit 1", rc == 1, (rc, err))
    check("foreign store: says why in one line", err.count("\n") == 1 and str(data) in err
          and "did not write" in err, err)
    check("foreign store: untouched", db.read_bytes() == before and sorted(os.listdir(data)) ==
          ["slawatch.db"], os.listdir(data))


def main():
    for step in (live_run, ctrl_c, rerun, foreign_store):
        tmp = pathlib.Path(tempfile.mkdtemp(prefix="sw-demo-"))
        try:
            step(tmp)
        finally:
            shutil.rmtree(tmp)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
