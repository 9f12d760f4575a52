"""Helpers shared by the interop and conformance drivers (python3 standard library only).

Runs `slawatch hdr --json` and the Java reference (Interop.java against Java HdrHistogram),
parses both outputs and compares them key by key. Every failure is collected with both sides
shown, so a run reports all mismatches, not just the first.
"""

import json
import os
import subprocess
import sys

# The keys `slawatch hdr --json` prints, in order.
STATS_KEYS = ('total_count', 'overflow_count', 'min', 'max', 'mean',
              'p50', 'p90', 'p95', 'p99', 'p99.9')
# Keys that are null exactly when the histogram is empty.
NULLABLE_KEYS = STATS_KEYS[2:]
MEAN_REL_TOL = 1e-9


class CommandFailed(Exception):
    pass


def _fmt_cmd(cmd):
    return ' '.join(str(c) for c in cmd)


def run(cmd, stdin_path=None):
    """Run cmd; return (rc, stdout, stderr) as text. stdin is the file or /dev/null."""
    try:
        with open(stdin_path if stdin_path else os.devnull, 'rb') as stdin:
            p = subprocess.run([str(c) for c in cmd], stdin=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, check=False)
    except OSError as e:
        raise CommandFailed('%s\n  could not run: %s' % (_fmt_cmd(cmd), e))
    return (p.returncode, p.stdout.decode('utf-8', 'replace'),
            p.stderr.decode('utf-8', 'replace'))


def run_json(cmd, stdin_path=None):
    """Run cmd, which must exit 0 and print exactly one JSON object; return it."""
    rc, out, err = run(cmd, stdin_path)
    where = _fmt_cmd(cmd) + (' < ' + stdin_path if stdin_path else '')
    if rc != 0:
        raise CommandFailed('%s\n  exited %d\n  stdout: %s\n  stderr: %s'
                            % (where, rc, out.strip()[:2000], err.strip()[:2000]))
    try:
        obj = json.loads(out)
    except ValueError as e:
        raise CommandFailed('%s\n  printed no single JSON value (%s)\n  stdout: %r'
                            % (where, e, out[:2000]))
    if not isinstance(obj, dict):
        raise CommandFailed('%s\n  printed JSON that is not an object: %r' % (where, out[:2000]))
    return obj


class Java:
    """The reference: `java -cp CLASSES:JAR Interop MODE ...`."""

    def __init__(self, java, classes, jar):
        self.base = [java, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
                     '-cp', classes + os.pathsep + jar, 'Interop']

    def json(self, *args):
        return run_json(self.base + list(args))

    def stats(self, log, tag=None):
        return self.json('stats', log, *([tag] if tag is not None else []))

    def info(self, log):
        return self.json('info', log)


class Slawatch:
    def __init__(self, exe):
        self.exe = exe

    def hdr_json(self, path=None, tag=None, stdin_path=None):
        cmd = [self.exe, 'hdr', '--json']
        if tag is not None:
            cmd += ['--tag', tag]
        if path is not None:
            cmd.append(path)
        return run_json(cmd, stdin_path)

    def run(self, *args, stdin_path=None):
        return run([self.exe] + list(args), stdin_path)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def shape_problems(obj):
    """Ways obj departs from the stats JSON contract (keys, types, nulls)."""
    probs = []
    missing = [k for k in STATS_KEYS if k not in obj]
    extra = [k for k in obj if k not in STATS_KEYS]
    if missing:
        probs.append('missing keys %s' % missing)
    if extra:
        probs.append('unexpected keys %s' % extra)
    for k in ('total_count', 'overflow_count'):
        if k in obj and not (_is_int(obj[k]) and obj[k] >= 0):
            probs.append('%s is %r, not a non-negative integer' % (k, obj[k]))
    empty = obj.get('total_count') == 0
    for k in NULLABLE_KEYS:
        if k not in obj:
            continue
        v = obj[k]
        if empty:
            if v is not None:
                probs.append('%s is %r for an empty histogram, not null' % (k, v))
        elif k == 'mean':
            if not _is_num(v):
                probs.append('mean is %r, not a number' % (v,))
        elif not _is_int(v):
            probs.append('%s is %r, not an integer' % (k, v))
    return probs


def diff_stats(left, right, skip=()):
    """Keys whose values differ: integers exactly, mean within MEAN_REL_TOL relative."""
    bad = []
    for k in STATS_KEYS:
        if k in skip:
            continue
        a, b = left.get(k, '<missing>'), right.get(k, '<missing>')
        if k == 'mean' and _is_num(a) and _is_num(b):
            same = a == b or abs(a - b) <= MEAN_REL_TOL * max(abs(a), abs(b))
        else:
            same = type(a) is type(b) and a == b
        if not same:
            bad.append(k)
    return bad


class Report:
    """Collects check results; prints `ok`/`FAIL` lines and a summary."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print('ok   %s' % what)

    def fail(self, what, detail):
        self.failed += 1
        print('FAIL %s' % what)
        for line in detail.rstrip('\n').split('\n'):
            print('     ' + line)
        sys.stdout.flush()

    def check(self, what, cond, detail=''):
        if cond:
            self.ok(what)
        else:
            self.fail(what, detail or 'condition false')
        return cond

    def compare(self, what, left_name, left, right_name, right, skip=(), shape=()):
        """Compare two stats objects. shape: names ('left'/'right') to hold to the contract."""
        probs = []
        for side, name, obj in (('left', left_name, left), ('right', right_name, right)):
            if side in shape:
                probs += ['%s: %s' % (name, p) for p in shape_problems(obj)]
        keys = diff_stats(left, right, skip)
        if not probs and not keys:
            self.ok(what)
            return True
        lines = list(probs)
        if keys:
            lines.append('differing keys: %s' % ', '.join(keys))
            width = max(len(left_name), len(right_name))
            for k in keys:
                lines.append('  %-14s %s = %r' % (k, left_name.ljust(width),
                                                  left.get(k, '<missing>')))
                lines.append('  %-14s %s = %r' % ('', right_name.ljust(width),
                                                  right.get(k, '<missing>')))
        lines.append('%s: %s' % (left_name, json.dumps(left, sort_keys=False)))
        lines.append('%s: %s' % (right_name, json.dumps(right, sort_keys=False)))
        self.fail(what, '\n'.join(lines))
        return False

    def attempt(self, what, fn, *args, **kwargs):
        """Call fn; on CommandFailed record a failure and return None."""
        try:
            return fn(*args, **kwargs)
        except CommandFailed as e:
            self.fail(what, str(e))
            return None

    def finish(self):
        print('%s: %d passed, %d failed' % (self.name, self.passed, self.failed))
        return 1 if self.failed else 0
