"""`slawatch check` and `slawatch serve` refuse a configuration whose health values, read
through `prometheus_query`, can arrive after their interval is taken (they would be dropped).

    test_check_arrivals.py SLAWATCH

The thresholds come from the arrival bound written out here, not from slawatch: a query poll
reads up to now - lag and then waits `every` (default: the base interval); a page is one query
per distinct selector, sent one after the other, each answered within `timeout`. The value
of the interval ending at T is read by the first poll starting at or after T + lag, which may
start a page plus `every` after the poll before it, and commits a page later:

    arrival = lag + every + 2 x queries x timeout

An interval is taken base/10 + the longest scrape or probe timeout + ingest_delay after it
ends. The smallest ingest_delay check accepts is therefore arrival - base/10 - longest timeout;
one millisecond less is refused at every prometheus health source's FILE:LINE:COL (the `{` of
its mapping, found in the text here), and serve refuses it in one line, exit 1, creating no
data directory.
"""
import os
import re
import subprocess
import sys
import tempfile

EXE = os.path.abspath(sys.argv[1])
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    if not ok:
        failures.append(name)


REQUESTS = 'http_requests_total{job="app"}'
ERRORS = 'http_requests_total{job="app",code=~"5.."}'
LATENCY = 'http_request_duration_seconds{job="app"}'
HEALTH_API = 'up{job="api"}'
HEALTH_WEB = 'up{job="web"}'
PROBE_TIMEOUT_MS = 3000
SCRAPE_TIMEOUT_MS = 2000

RULES = f"""version: 1
base_interval: 1s
min_requests: 1
services:
  - name: api
    sli:
      requests: {{prometheus: '{REQUESTS}'}}
      errors: {{prometheus: '{ERRORS}'}}
      latency: {{prometheus: '{LATENCY}'}}
      health: {{prometheus: '{HEALTH_API}'}}
  - name: web
    sli:
      requests: {{prometheus: '{REQUESTS}'}}
      health:
        prometheus: '{HEALTH_WEB}'
  - name: db
    sli:
      requests: {{push: true}}
      health: {{probe: {{url: 'http://127.0.0.1:9/health', timeout: {PROBE_TIMEOUT_MS}ms}}}}
objectives:
  - name: availability
    objective: availability >= 99%
    window: 1h
"""
BASE_MS = 1000


def bucket_selector(sel):
    """A classic histogram's buckets: the family name with _bucket, the matchers kept."""
    name, rest = sel.split("{", 1)
    return f"{name}_bucket{{{rest}"


# The query source sends each distinct selector once; a latency family as its buckets.
QUERIES = len({REQUESTS, ERRORS, bucket_selector(LATENCY), HEALTH_API, HEALTH_WEB, REQUESTS})


def health_positions():
    """(line, col) of each prometheus health source's mapping, 1-based, from the text."""
    lines = RULES.split("\n")
    out = []
    for i, line in enumerate(lines):
        if line.strip().startswith("health:") and "probe" not in line:
            col = line.index("health:") + len("health:")
            rest = line[col:]
            if rest.strip():
                out.append((i + 1, col + len(rest) - len(rest.lstrip()) + 1))
            else:  # a block mapping: its first key on the next line
                nxt = lines[i + 1]
                out.append((i + 2, len(nxt) - len(nxt.lstrip()) + 1))
    return out


def duration_ms(text):
    """A Prometheus duration (1h2m3s4ms) in milliseconds."""
    units = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    parts = re.findall(r"(\d+)(ms|s|m|h|d)", text)
    if "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * units[u] for n, u in parts)


def config(ingest_delay_ms, lag_ms, every_ms, timeout_ms, query=True):
    every = f"  every: {every_ms}ms\n" if every_ms is not None else ""
    q = (f"prometheus_query:\n  url: http://127.0.0.1:9\n  lag: {lag_ms}ms\n{every}"
         f"  timeout: {timeout_ms}ms\n") if query else ""
    return (f"listen: 127.0.0.1:0\ndata_dir: data\nrules_files: [rules.yaml]\n{q}"
            f"ingest_delay: {ingest_delay_ms}ms\n"
            "scrape_configs:\n  - job_name: app\n    scrape_interval: 5s\n"
            f"    scrape_timeout: {SCRAPE_TIMEOUT_MS}ms\n"
            "    static_configs:\n      - targets: ['127.0.0.1:9']\n")


def threshold_ms(lag_ms, every_ms, timeout_ms):
    arrival = lag_ms + (every_ms if every_ms is not None else BASE_MS) + \
        2 * QUERIES * timeout_ms
    return arrival - BASE_MS // 10 - max(PROBE_TIMEOUT_MS, SCRAPE_TIMEOUT_MS)


def run(args, cwd):
    return subprocess.run([EXE] + args, cwd=cwd, capture_output=True, text=True, timeout=30)


def case(tmp, name, lag_ms, every_ms, timeout_ms):
    need = threshold_ms(lag_ms, every_ms, timeout_ms)
    d = os.path.join(tmp, name)
    os.makedirs(d)
    with open(os.path.join(d, "rules.yaml"), "w") as f:
        f.write(RULES)
    cfg = os.path.join(d, "slawatch.yaml")
    positions = health_positions()

    with open(cfg, "w") as f:
        f.write(config(need - 1, lag_ms, every_ms, timeout_ms))
    r = run(["check", "slawatch.yaml"], d)
    errors = [l for l in r.stderr.splitlines() if ": error: " in l]
    check(f"{name}: check refuses ingest_delay {need - 1} ms (exit 1)", r.returncode == 1,
          f"exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}")
    got = [tuple(map(int, m.groups())) for m in
           (re.match(r"\./rules\.yaml:(\d+):(\d+): error: ", l) for l in errors) if m]
    check(f"{name}: one error at each prometheus health source {positions}",
          got == positions and len(errors) == len(positions), f"errors {errors}")
    for line in errors:
        m = re.search(r"raise ingest_delay to at least (\S+) ", line)
        check(f"{name}: the error names the ingest_delay that suffices ({need} ms)",
              m is not None and duration_ms(m.group(1)) == need, line)
        check(f"{name}: the error names what else to lower",
              "lower the query's lag, every or timeout" in line, line)

    r = run(["serve", "--config", "slawatch.yaml"], d)
    lines = r.stderr.splitlines()
    line, col = positions[0]
    check(f"{name}: serve refuses it in one line, exit 1",
          r.returncode == 1 and len(lines) == 1 and
          lines[0].startswith(f"slawatch serve: ./rules.yaml:{line}:{col}: health via "
                              "prometheus_query"), f"exit {r.returncode}, stderr {r.stderr!r}")
    check(f"{name}: the refused serve made no data directory",
          not os.path.exists(os.path.join(d, "data")))

    with open(cfg, "w") as f:
        f.write(config(need, lag_ms, every_ms, timeout_ms))
    r = run(["check", "slawatch.yaml"], d)
    check(f"{name}: check accepts ingest_delay {need} ms", r.returncode == 0 and
          "slawatch.yaml: ok (configuration" in r.stdout, f"exit {r.returncode}, {r.stderr!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="sw-arrivals-") as tmp:
        case(tmp, "every-given", lag_ms=2000, every_ms=3000, timeout_ms=1500)
        case(tmp, "every-default", lag_ms=30000, every_ms=None, timeout_ms=700)
        # Without the query source the same health selectors come from scrapes or remote
        # write, whose arrival no setting here bounds: nothing is refused.
        d = os.path.join(tmp, "no-query")
        os.makedirs(d)
        with open(os.path.join(d, "rules.yaml"), "w") as f:
            f.write(RULES)
        with open(os.path.join(d, "slawatch.yaml"), "w") as f:
            f.write(config(0, 0, None, 1000, query=False))
        r = run(["check", "slawatch.yaml"], d)
        check("no-query: accepted with ingest_delay 0s", r.returncode == 0, r.stderr)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
