"""Fault injection at start-up: every way `slawatch serve` and `slawatch demo` can fail to start
ends with exactly one line on stderr naming what failed and where, exit status 1, and leaves
nothing behind (no data directory it created, no temporary directory, a store it refused
unchanged).

    test_startup_failures.py SLAWATCH

Permission failures need a user the kernel checks: as root the commands run as nobody
(setpriv, util-linux); otherwise as the caller, with the directory modes doing the refusing.
"""
import hashlib
import os
import pathlib
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile

EXE = os.path.abspath(sys.argv[1])
SETPRIV = "/usr/bin/setpriv"
NOBODY = 65534

RULES = """version: 1
base_interval: 1s
services:
  - name: api
    sli:
      requests: {push: true}
      errors: {push: true}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""

# Two problems: line 10 (column 13, after "    window: ") and line 14 (column 15).
RULES_TWO_ERRORS = """version: 1
base_interval: 1s
services:
  - name: api
    sli:
      requests: {push: true}
objectives:
  - name: availability
    objective: availability >= 99.9%
    window: 1x
alerts:
  - name: ErrorRateHigh
    when: error_rate > 1%
    severity: high
"""

# One SLO per route (line 7: by): valid rules, made invalid below by a cap of 0 on line 8.
RULES_BY = """version: 1
base_interval: 1s
services:
  - name: api
    sli:
      requests: {prometheus: 'http_requests_total{job="api"}'}
    by: [route]
"""

failures = []
case_dirs = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    if not ok:
        failures.append(name)


def unprivileged(cmd):
    """As root, run as nobody so directory permissions apply; otherwise as the caller."""
    if os.geteuid() != 0:
        return cmd
    if not os.access(SETPRIV, os.X_OK):
        sys.exit("setpriv (Debian util-linux) is needed to drop root for the permission cases")
    return [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Case:
    """A fresh, world-readable directory with a rules file and a configuration."""

    def __init__(self, name, rules=RULES, config_extra="", data=None):
        self.name = name
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="sw-start-"))
        self.dir.chmod(0o755)
        case_dirs.append(self.dir)
        self.tmp = self.dir / "tmp"  # TMPDIR of the command: must stay empty
        self.tmp.mkdir(mode=0o777)
        self.tmp.chmod(0o777)
        (self.dir / "rules.yaml").write_text(rules)
        self.data = data if data is not None else str(self.dir / "data")
        self.config = self.dir / "config.yaml"
        self.config.write_text(f"listen: 127.0.0.1:{free_port()}\ndata_dir: {self.data}\n"
                               f"rules_files: [rules.yaml]\n{config_extra}")

    def listing(self):
        return sorted(str(p.relative_to(self.dir)) for p in self.dir.rglob("*"))

    def run(self, *args, drop=False):
        cmd = [EXE, *args]
        env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(self.tmp), "LANG": "C.UTF-8"}
        return subprocess.run(unprivileged(cmd) if drop else cmd, cwd=self.dir, env=env,
                              capture_output=True, text=True, timeout=60)

    def expect_failure(self, args, wants, drop=False):
        """Exit 1, one line holding every string in wants, and the directory as it was."""
        before = self.listing()
        p = self.run(*args, drop=drop)
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        check(f"{self.name}: exit 1", p.returncode == 1, f"exit {p.returncode}: {p.stderr!r}")
        check(f"{self.name}: one line", len(lines) == 1, repr(p.stderr))
        for w in wants:
            check(f"{self.name}: says {w!r}", w in p.stderr, repr(p.stderr))
        check(f"{self.name}: nothing on stdout", p.stdout == "", repr(p.stdout))
        after = self.listing()
        check(f"{self.name}: nothing left behind", after == before,
              f"new: {sorted(set(after) - set(before))}, gone: {sorted(set(before) - set(after))}")


def serve(case):
    return ["serve", "--config", str(case.config)]


def digest(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def content(db):
    """The database's schema and rows. (SQLite may switch a refused file's header to WAL mode
    on opening it; what it holds must not change.)"""
    con = sqlite3.connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def rules_and_config():
    c = Case("bad rules", rules=RULES_TWO_ERRORS)
    c.expect_failure(serve(c), ["rules.yaml:10:13:", "window", "1 more", "slawatch check"])
    c = Case("by cap of 0", rules=RULES_BY + "    by_limit: 0\n")
    c.expect_failure(serve(c), ["rules.yaml:8:15:", "by_limit"])
    c = Case("missing rules file")
    (c.dir / "rules.yaml").unlink()
    c.expect_failure(serve(c), ["rules.yaml", "No such file"])
    c = Case("bad config", config_extra="log_levle: info\n")
    c.expect_failure(serve(c), ["config.yaml:4:1:", "log_levle"])
    c = Case("missing config")
    c.expect_failure(["serve", "--config", str(c.dir / "nope.yaml")], ["nope.yaml", "No such file"])
    for what, shard, where in (("count 0", "{count: 0, index: 0}", "4:16:"),
                               ("index at count", "{count: 2, index: 2}", "4:26:"),
                               ("negative index", "{count: 2, index: -1}", "4:26:"),
                               ("negative count", "{count: -2, index: 0}", "4:16:")):
        c = Case(f"shard {what}", config_extra=f"shard: {shard}\n")
        c.expect_failure(serve(c), [f"config.yaml:{where}", "shard"])


def data_directory():
    c = Case("data dir under a file")
    (c.dir / "file").write_text("")
    c.data = str(c.dir / "file" / "data")
    c.config.write_text(c.config.read_text().replace(str(c.dir / "data"), c.data))
    c.expect_failure(serve(c), [f"cannot create data directory {c.data}: Not a directory"])

    c = Case("data dir not creatable")
    parent = c.dir / "locked"
    parent.mkdir(mode=0o555)
    parent.chmod(0o555)
    c.config.write_text(c.config.read_text().replace(c.data, str(parent / "data")))
    c.expect_failure(serve(c), [f"cannot create data directory {parent / 'data'}: "
                                "Permission denied"], drop=True)

    c = Case("data dir not usable")
    os.mkdir(c.data, mode=0o700 if os.geteuid() == 0 else 0)
    os.chmod(c.data, 0o700 if os.geteuid() == 0 else 0)
    c.expect_failure(serve(c), [f"cannot use data directory {c.data}: Permission denied"],
                     drop=True)
    os.chmod(c.data, 0o700)


def store():
    c = Case("store from a newer version")
    os.mkdir(c.data)
    db = os.path.join(c.data, "slawatch.db")
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE schema_version(version INTEGER NOT NULL);"
                      "INSERT INTO schema_version VALUES(999);")
    con.close()
    before = content(db)
    c.expect_failure(serve(c), [db, "schema version 999 is newer"])
    check("newer store unchanged", content(db) == before)

    c = Case("store not a database")
    os.mkdir(c.data)
    db = os.path.join(c.data, "slawatch.db")
    pathlib.Path(db).write_bytes(b"this is no SQLite database, but it is 48 bytes long\n")
    before = digest(db)
    c.expect_failure(serve(c), [db, "not a database"])
    check("foreign file unchanged", digest(db) == before)


def network_and_files():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        c = Case("busy port")
        c.expect_failure([*serve(c), "--listen", f"127.0.0.1:{port}"],
                         [f"port {port}", "Address already in use"])
        c = Case("demo on a busy port")
        c.expect_failure(["demo", "--listen", f"127.0.0.1:{port}"],
                         [f"port {port}", "Address already in use"])
    c = Case("missing TLS certificate", config_extra="tls: {cert_file: tls.crt, key_file: tls.key}\n")
    c.expect_failure(serve(c), [f"cannot read TLS certificate {c.dir}/tls.crt: No such file"])
    c = Case("missing TLS key", config_extra="tls: {cert_file: tls.crt, key_file: tls.key}\n")
    (c.dir / "tls.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    c.expect_failure(serve(c), [f"cannot read TLS key {c.dir}/tls.key: No such file"])
    c = Case("missing token file", config_extra="auth: {token_file: token}\n")
    c.expect_failure(serve(c), [f"{c.dir}/token", "No such file"])
    c = Case("missing report mail password file",
             config_extra="report_schedule:\n  email: {url: 'smtp://127.0.0.1:25', "
                          "from: a@example.com, to: [b@example.com], username: u, "
                          "password_file: smtp-password}\n")
    c.expect_failure(serve(c), [f"cannot read email password_file {c.dir}/smtp-password: "
                                "No such file"])
    c = Case("demo data dir under a file")
    (c.dir / "file").write_text("")
    c.expect_failure(["demo", "--data", str(c.dir / "file" / "d")],
                     [f"cannot create data directory {c.dir}/file/d: Not a directory"])


def main():
    rules_and_config()
    data_directory()
    store()
    network_and_files()
    for d in case_dirs:
        for p in [d, *d.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(d)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
