"""Command-line papercuts: a mistyped command gets a suggestion; `slawatch version`, `--version`
and every command's --version agree with the project's version (meson.build); `--help`, `-h`
and `slawatch help COMMAND` print the same usage for every command; `check` never says ok for a
configuration whose rules fail, and lists errors in file order (as `serve` names the first);
`report` refuses to pour HTML onto a terminal.

    test_cli.py SLAWATCH MESON_BUILD
"""
import os
import pathlib
import pty
import re
import subprocess
import sys
import tempfile

EXE = os.path.abspath(sys.argv[1])
VERSION = re.search(r"version\s*:\s*'([^']+)'", pathlib.Path(sys.argv[2]).read_text()).group(1)
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    if not ok:
        failures.append(name)


def run(*args, cwd=None):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def typos():
    for typo, meant in (("dmeo", "demo"), ("serv", "serve"), ("chekc", "check"),
                        ("reprot", "report"), ("verison", "version")):
        p = run(typo)
        check(f"{typo}: usage exit", p.returncode == 2, p.returncode)
        check(f"{typo}: did you mean {meant}", f"did you mean `{meant}`?" in p.stderr, p.stderr)
    p = run("xyzzy")
    check("nonsense: no suggestion", p.returncode == 2 and "did you mean" not in p.stderr,
          p.stderr)


def commands():
    p = run("--help")
    return re.findall(r"^  ([a-z-]+)\s", p.stdout, re.M)


def versions(names):
    want = f"slawatch {VERSION}\n"
    for args in (["version"], ["--version"], *[[n, "--version"] for n in names]):
        p = run(*args)
        check(f"{' '.join(args)} prints {want.strip()}", p.returncode == 0 and p.stdout == want,
              (p.returncode, p.stdout, p.stderr))


def helps(names):
    for name in names:
        outputs = [run(name, "--help"), run(name, "-h"), run("help", name)]
        first = outputs[0].stdout
        check(f"{name}: --help is its usage", first.startswith(f"usage: slawatch {name}"),
              first[:80])
        check(f"{name}: -h and help {name} say the same",
              all(o.returncode == 0 and o.stdout == first for o in outputs),
              [(o.returncode, o.stderr) for o in outputs])
        check(f"{name}: lists -h, --help, --version", "  -h, --help, --version\n" in first)
        bad = run(name, "--no-such-option")
        check(f"{name}: unknown option named as slawatch {name}",
              bad.returncode != 0 and bad.stderr.startswith(f"slawatch {name}: "), bad.stderr[:80])


RULES_OUT_OF_ORDER = """version: 1
services:
  - name: api
    sli:
      requests: {push: true}
      errors: {push: true}
alerts:
  - name: Burn
    burn_rate: 14.4
    objective: nope
    long: 1h
    short: 5m
objectives:
  - name: availability
    objective: availability >= 99.9%
    window: 1x
"""


def line_numbers(stderr, name):
    return [int(m) for m in re.findall(rf"{re.escape(name)}:(\d+):\d+: error:", stderr)]


def check_command(tmp):
    (tmp / "rules.yaml").write_text(RULES_OUT_OF_ORDER)
    (tmp / "config.yaml").write_text("listen: 127.0.0.1:0\ndata_dir: data\n"
                                     "rules_files: [rules.yaml]\n")
    p = run("check", "config.yaml", cwd=tmp)
    check("config with bad rules: exit 1", p.returncode == 1, p.returncode)
    check("config with bad rules: no ok", "ok" not in p.stdout, p.stdout)
    check("config with bad rules: says the config is invalid because of them",
          "config.yaml: error: its rules file" in p.stderr, p.stderr)
    # The cross-reference on line 10 is found after the window on line 16.
    check("rules errors in file order", line_numbers(p.stderr, "rules.yaml") == [10, 16],
          p.stderr)
    serve = run("serve", "--config", "config.yaml", cwd=tmp)
    check("serve names the first in file order", serve.returncode == 1
          and "rules.yaml:10:16:" in serve.stderr and serve.stderr.count("\n") == 1,
          serve.stderr)
    # Unknown keys are found after the values of known ones.
    (tmp / "bad.yaml").write_text("listen: 127.0.0.1:0\nbogus: 1\nlog_level: loud\n"
                                  "rules_files: [rules.yaml]\n")
    p = run("check", "bad.yaml", cwd=tmp)
    check("config errors in file order", line_numbers(p.stderr, "bad.yaml") == [2, 3], p.stderr)
    (tmp / "good.yaml").write_text(RULES_OUT_OF_ORDER.replace("nope", "availability")
                                   .replace("1x", "30d"))
    (tmp / "config.yaml").write_text("listen: 127.0.0.1:0\ndata_dir: data\n"
                                     "rules_files: [good.yaml]\n")
    p = run("check", "config.yaml", cwd=tmp)
    check("config with good rules: ok for both", p.returncode == 0
          and p.stdout.count(": ok (") == 2 and "config.yaml: ok" in p.stdout, p.stdout)


def report_on_terminal(tmp):
    leader, follower = pty.openpty()
    p = subprocess.run([EXE, "report", "--data", str(tmp / "none"), "--month", "2026-01"],
                       stdout=follower, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(follower)
    os.set_blocking(leader, False)
    try:
        shown = os.read(leader, 65536)
    except (BlockingIOError, OSError):
        shown = b""
    os.close(leader)
    check("report to a terminal: refused", p.returncode == 2, p.returncode)
    check("report to a terminal: suggests -o", "-o report.html" in p.stderr, p.stderr)
    check("report to a terminal: nothing shown", b"<" not in shown, shown[:80])
    piped = run("report", "--data", str(tmp / "none"), "--month", "2026-01")
    check("report to a pipe: not refused for it", "terminal" not in piped.stderr, piped.stderr)
    md = subprocess.run([EXE, "report", "--data", str(tmp / "none"), "--month", "2026-01",
                         "--format", "md"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        text=True, timeout=60)
    check("markdown is fine anywhere", "terminal" not in md.stderr, md.stderr)


def main():
    names = [n for n in commands() if n not in ("version", "help")]
    check("commands listed", len(names) >= 10 and "demo" in names, names)
    typos()
    versions(names)
    helps(names)
    with tempfile.TemporaryDirectory() as tmp:
        check_command(pathlib.Path(tmp))
        report_on_terminal(pathlib.Path(tmp))
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
