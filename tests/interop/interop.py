#!/usr/bin/env python3
"""Interoperability of `slawatch hdr` with Java HdrHistogram (the reference implementation).

usage: interop.py --slawatch EXE --java JAVA --classes DIR --jar JAR CHECK

CHECK is one of:
  values           slawatch `hdr --json VALUES` (file and stdin) equals Java recording the same
                   values into Histogram(1, 3600000000, 3)
  slawatch-writes  slawatch `hdr --write-hlog LOG VALUES`; Java reads LOG and its stats equal
                   slawatch's stats of VALUES; the log has the promised header lines
  java-writes      Java writes LOG from VALUES; slawatch `hdr --json LOG` equals Java's stats
  tagged           Java writes a multi-interval log with untagged intervals and two tags;
                   slawatch's merge of everything and each `--tag` selection equal Java's
  mixed-layout     as tagged, but beta.1 uses jHiccup's nanosecond layout (20000, 3.6e12, 2):
                   the merge of all re-records its buckets into the first interval's layout
  grown-range      intervals with lowest 1 and 3 digits whose highest trackable value grows
                   from 2 to 3.6e9, as an auto-resizing Java writer logs them (ycsb.logV1.hlog):
                   merging loses nothing, as in Java's HistogramLogProcessor
  edge-encodings   Java-written intervals with a normalizing index offset (shiftValuesLeft),
                   counts up to 2^61 (long varints) and counts above the header's highest
                   trackable value inside Java's counts array: slawatch reads what Java reads

Values are generated from a fixed seed. Exits 1, printing both sides, on any mismatch.
"""

import argparse
import math
import os
import random
import re
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hdrcheck  # noqa: E402

HIGHEST = 3600000000
SEED = 0x51A7A7C4

# Layout of the nanosecond intervals in mixed-layout: what jHiccup logs use.
NS_LAYOUT = (20000, 3600000000000, 2)


def lognormal_values(rng, n):
    """Latency-like microseconds: log-normal body, a heavy tail, zeros and overflows."""
    vals = []
    for _ in range(n):
        r = rng.random()
        if r < 0.02:
            vals.append(0)
        elif r < 0.04:
            vals.append(rng.randint(1, 64))
        elif r < 0.94:
            vals.append(int(rng.lognormvariate(math.log(1500.0), 1.1)))
        elif r < 0.995:
            vals.append(min(int(rng.lognormvariate(math.log(2.0e6), 2.0)), 2 ** 62))
        elif r < 0.998:
            # Above 3.6e9 but inside Java's counts array (which ends at 2^32 - 1): slawatch
            # must count these as overflow.
            vals.append(rng.randint(HIGHEST + 1, 2 ** 32 - 1))
        else:
            vals.append(rng.randint(2 ** 32, 2 ** 62))
    vals += [HIGHEST, HIGHEST - 1, HIGHEST + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 63 - 1]
    rng.shuffle(vals)
    return vals


def boundary_values(rng):
    """Values at and around every bucket and sub-bucket boundary up to the highest value."""
    vals = []
    for k in range(0, 33):
        for v in (2 ** k - 1, 2 ** k, 2 ** k + 1, 3 * 2 ** k // 2):
            if v >= 0:
                vals += [v] * rng.randint(1, 4)
    vals += [999, 1000, 1001, 2047, 2048, 2049, 4094, 4095, 4096, 4097, 999999, 1000000,
             HIGHEST - 1, HIGHEST, HIGHEST + 1]
    rng.shuffle(vals)
    return vals


def datasets():
    rng = random.Random(SEED)
    return [
        ('lognormal', lognormal_values(rng, 60000)),
        ('boundaries', boundary_values(rng)),
        ('uniform-small', [rng.randint(0, 5000) for _ in range(20000)]),
        ('constant', [777] * 1000),
        ('single-zero', [0]),
        ('single-highest', [HIGHEST]),
        ('overflow-only', [HIGHEST + 1, 2 ** 32 - 1, 2 ** 40]),
        ('empty', []),
    ]


def write_values(path, vals):
    with open(path, 'w', encoding='ascii') as f:
        for v in vals:
            f.write('%d\n' % v)


class Ctx:
    def __init__(self, args, tmp):
        self.tmp = tmp
        self.java = hdrcheck.Java(args.java, args.classes, args.jar)
        self.sw = hdrcheck.Slawatch(args.slawatch)
        self.rep = hdrcheck.Report('interop-' + args.check)

    def path(self, name):
        return os.path.join(self.tmp, name)


def check_values(c):
    for name, vals in datasets():
        vp = c.path(name + '.txt')
        write_values(vp, vals)
        j = c.rep.attempt('%s: java values' % name, c.java.json, 'values', vp)
        s = c.rep.attempt('%s: slawatch hdr --json FILE' % name, c.sw.hdr_json, vp)
        if j is not None and s is not None:
            c.rep.compare('%s: slawatch hdr --json FILE == Java recording the values' % name,
                          'slawatch', s, 'java', j, shape=('left',))
        s_in = c.rep.attempt('%s: slawatch hdr --json < FILE' % name, c.sw.hdr_json,
                             stdin_path=vp)
        if j is not None and s_in is not None:
            c.rep.compare('%s: slawatch hdr --json < FILE == Java recording the values' % name,
                          'slawatch(stdin)', s_in, 'java', j, shape=('left',))


HLOG_HEADER = [
    ('format version 1.3', re.compile(r'^#\[Histogram log format version 1\.3\]$')),
    ('StartTime', re.compile(r'^#\[StartTime: \d+(\.\d+)? \(seconds since epoch\).*\]$')),
    ('BaseTime', re.compile(r'^#\[BaseTime: \d+(\.\d+)? \(seconds since epoch\).*\]$')),
    ('legend', re.compile(r'^"StartTimestamp",')),
]
INTERVAL_RE = re.compile(r'^(Tag=[^,\s]+,)?\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?,(\S+)$')


def log_shape_problems(path):
    """How a slawatch-written log departs from: header lines, then exactly one V2 interval."""
    with open(path, 'r', encoding='ascii', errors='replace') as f:
        lines = [ln.rstrip('\r\n') for ln in f]
    probs = []
    pos = {}
    for what, rx in HLOG_HEADER:
        hits = [i for i, ln in enumerate(lines) if rx.search(ln)]
        if len(hits) != 1:
            probs.append('%d %s lines (want 1)' % (len(hits), what))
        else:
            pos[what] = hits[0]
    if len(pos) == len(HLOG_HEADER):
        order = [pos[w] for w, _ in HLOG_HEADER]
        if order != sorted(order):
            probs.append('header lines out of order (version, StartTime, BaseTime, legend)')
    intervals = [ln for ln in lines if ln and not ln.startswith('#') and not ln.startswith('"')]
    if len(intervals) != 1:
        probs.append('%d interval lines (want 1)' % len(intervals))
    for ln in intervals:
        m = INTERVAL_RE.match(ln)
        if not m:
            probs.append('malformed interval line: %r' % ln[:200])
        elif not m.group(5).startswith('HISTFA'):
            probs.append('payload is not V2 compressed base64 (HISTFA...): %r' % m.group(5)[:20])
    if probs:
        probs.append('log:\n' + '\n'.join('  ' + ln[:160] for ln in lines[:12]))
    return probs


def check_slawatch_writes(c):
    for name, vals in datasets():
        vp = c.path(name + '.txt')
        lp = c.path(name + '.slawatch.hlog')
        write_values(vp, vals)
        what = '%s: slawatch hdr --write-hlog' % name
        r = c.rep.attempt(what, c.sw.run, 'hdr', '--write-hlog', lp, vp)
        if r is None:
            continue
        rc, out, err = r
        if not c.rep.check(what + ' exits 0', rc == 0,
                           'exit %d\nstdout: %s\nstderr: %s' % (rc, out[:2000], err[:2000])):
            continue
        if not c.rep.check(what + ' creates the log', os.path.isfile(lp), lp + ' missing'):
            continue
        probs = log_shape_problems(lp)
        c.rep.check('%s: log has version 1.3, StartTime, BaseTime, legend, one V2 interval'
                    % name, not probs, '\n'.join(probs))
        s = c.rep.attempt('%s: slawatch hdr --json VALUES' % name, c.sw.hdr_json, vp)
        info = c.rep.attempt('%s: java info LOG' % name, c.java.info, lp)
        if info is not None:
            layouts = [(iv['lowest'], iv['highest'], iv['digits']) for iv in info['intervals']]
            c.rep.check('%s: Java reads one interval of layout (1, 3600000000, 3)' % name,
                        layouts == [(1, HIGHEST, 3)], 'Java read layouts %r' % layouts)
        j = c.rep.attempt('%s: java stats LOG' % name, c.java.stats, lp)
        if s is None or j is None:
            continue
        # The log holds only recorded values: its overflow count is 0 whatever VALUES had.
        c.rep.compare('%s: Java reading slawatch\'s log == slawatch hdr --json VALUES '
                      '(overflow_count aside)' % name,
                      'java(log)', j, 'slawatch(values)', s, skip=('overflow_count',),
                      shape=('right',))
        c.rep.check('%s: Java reads overflow_count 0 from the log' % name,
                    j.get('overflow_count') == 0, 'java: %r' % j)
        s_log = c.rep.attempt('%s: slawatch hdr --json LOG' % name, c.sw.hdr_json, lp)
        if s_log is not None:
            c.rep.compare('%s: slawatch reading its own log == Java reading it' % name,
                          'slawatch(log)', s_log, 'java(log)', j, shape=('left',))


def check_java_writes(c):
    for name, vals in datasets():
        vp = c.path(name + '.txt')
        lp = c.path(name + '.java.hlog')
        write_values(vp, vals)
        jw = c.rep.attempt('%s: java write VALUES LOG' % name, c.java.json, 'write', vp, lp)
        if jw is None:
            continue
        jr = c.rep.attempt('%s: java stats LOG' % name, c.java.stats, lp)
        if jr is not None:
            # Harness sanity: Java reads back what it wrote.
            c.rep.compare('%s: Java reading its own log == Java recording (overflow aside)'
                          % name, 'java(log)', jr, 'java(values)', jw, skip=('overflow_count',))
        s = c.rep.attempt('%s: slawatch hdr --json LOG' % name, c.sw.hdr_json, lp)
        if s is None:
            continue
        c.rep.compare('%s: slawatch reading Java\'s log == Java\'s stats (overflow aside)' % name,
                      'slawatch(log)', s, 'java(values)', jw, skip=('overflow_count',),
                      shape=('left',))
        c.rep.check('%s: slawatch reads overflow_count 0 from the log' % name,
                    s.get('overflow_count') == 0, 'slawatch: %r' % s)
        s_in = c.rep.attempt('%s: slawatch hdr --json < LOG' % name, c.sw.hdr_json,
                             stdin_path=lp)
        if s_in is not None:
            c.rep.compare('%s: slawatch reading Java\'s log on stdin == from the file' % name,
                          'slawatch(stdin)', s_in, 'slawatch(file)', s)


def lognormal(rng, median, sigma, n, cap):
    return [min(int(rng.lognormvariate(math.log(median), sigma)), cap) for _ in range(n)]


def tagged_spec(rng, mixed):
    """[(tag or None, layout or None, start_ms, end_ms, values)]: untagged, alpha, beta.1."""
    t0 = 1700000000000
    spec = []
    plan = ['-', 'alpha', 'beta.1', '-', 'beta.1', 'alpha', 'alpha', '-', 'beta.1', 'alpha']
    for i, tag in enumerate(plan):
        layout = None
        if tag == 'alpha':
            vals = lognormal(rng, 300.0, 0.6, rng.randint(500, 3000), HIGHEST)
            if i == 6:
                vals = []  # an empty interval
        elif tag == 'beta.1' and mixed:
            # nanoseconds in jHiccup's layout
            layout = NS_LAYOUT
            vals = lognormal(rng, 5.0e6, 1.5, 2000, 3 * 10 ** 9) + [0, 1, 19999, 20000, 3 * 10 ** 9]
        elif tag == 'beta.1':
            vals = lognormal(rng, 5.0e5, 2.0, 2000, HIGHEST) + [HIGHEST]
        else:
            vals = lognormal(rng, 4000.0, 1.0, 1500, HIGHEST) + [0]
        spec.append((None if tag == '-' else tag, layout, t0 + i * 1000, t0 + (i + 1) * 1000,
                     vals))
    return spec


def grown_spec(rng):
    """Intervals of one lowest (1) and digits (3) whose highest grows, as an auto-resizing
    Java writer produces (ycsb.logV1.hlog): the first interval has the smallest range."""
    t0 = 1700000000000
    spec = []
    plan = [('-', 2), ('grow', 4095), ('-', 524287), ('grow', 2097151), ('-', HIGHEST),
            ('grow', 65535)]
    for i, (tag, highest) in enumerate(plan):
        vals = lognormal(rng, highest / 8.0, 1.0, 1000, highest) + [0, highest]
        spec.append((None if tag == '-' else tag, (1, highest, 3), t0 + i * 1000,
                     t0 + (i + 1) * 1000, vals))
    return spec


def edge_spec(rng):
    """Encodings a Java writer can produce beyond plain recording: a non-zero normalizing
    index offset (shiftValuesLeft), counts needing 6- to 9-byte varints (a total near 2^61),
    and counts above the header's highest trackable value but inside Java's counts array."""
    t0 = 1700000000000
    ns_shifted = NS_LAYOUT + (5,)
    plan = [
        (None, None, lognormal(rng, 2000.0, 1.0, 1000, HIGHEST)),
        ('shifted', (1, HIGHEST, 3, 3), list(range(1, 5000, 7))),
        ('shifted', ns_shifted, lognormal(rng, 1.0e6, 1.0, 500, 10 ** 8) + [0, 20000]),
        ('huge', None, ['5*%d' % 2 ** 61, '123456*%d' % (2 ** 40 + 3),
                        '%d*%d' % (3 * 10 ** 9, 2 ** 33 + 1), '0*7']),
        ('huge', None, ['77*%d' % 2 ** 50, '%d*%d' % (HIGHEST, 2 ** 31 - 1)]),
        ('past-highest', None, [100, '4000000000!', '%d!' % (2 ** 32 - 1)]),
        ('past-highest', (1, 2, 3), [0, 1, 2, '1000!', '2047!']),
    ]
    return [(tag, layout, t0 + i * 1000, t0 + (i + 1) * 1000, vals)
            for i, (tag, layout, vals) in enumerate(plan)]


def write_spec(path, spec):
    """Spec lines for Interop.java write-intervals (layout: (lowest, highest, digits[, shift]));
    a value is an int or a string such as '5*1024' (with count) or '4000000000!' (unchecked)."""
    with open(path, 'w', encoding='ascii') as f:
        for tag, layout, start, end, vals in spec:
            f.write('@ %s %d %d%s\n' % (tag or '-', start, end,
                                          ''.join(' %d' % x for x in layout or ())))
            for v in vals:
                f.write('%s\n' % v)


def check_multi(c, spec, tags):
    """Java writes spec as one log; slawatch's merge of all and of each tag equal Java's.

    Java's merge is HistogramLogProcessor's: into a copy of the first selected interval
    (its lowest and digits) that auto-resizes, adding the others with add(), which re-records
    a bucket of another layout at its lowest equivalent value.
    """
    sp, lp = c.path('spec.txt'), c.path('multi.hlog')
    write_spec(sp, spec)
    if c.rep.attempt('java write-intervals', c.java.json, 'write-intervals', sp, lp) is None:
        return
    info = c.rep.attempt('java info LOG', c.java.info, lp)
    if info is None:
        return
    layouts = sorted(set((iv['lowest'], iv['highest'], iv['digits']) for iv in info['intervals']))
    c.rep.check('Java reads back %d intervals' % len(spec), len(info['intervals']) == len(spec),
                'java info: %r' % info)
    single_layout = len(set((lo, d) for lo, _, d in layouts)) == 1
    for tag in [None] + tags + ['no-such-tag']:
        sel = [iv for iv in spec if tag is None or iv[0] == tag]
        label = 'merge of all intervals' if tag is None else '--tag ' + tag
        j = c.rep.attempt('java stats LOG %s' % (tag or ''), c.java.stats, lp, tag)
        s = c.rep.attempt('slawatch hdr --json %sLOG' % ('--tag %s ' % tag if tag else ''),
                          c.sw.hdr_json, lp, tag=tag)
        if j is None or s is None:
            continue
        sel_layouts = sorted(set(tuple(iv[1] or (1, HIGHEST, 3))[:3] for iv in sel))
        c.rep.compare('%s (%d intervals; layouts %s): slawatch == Java'
                      % (label, len(sel), ', '.join('%d/%d/%d' % lay for lay in sel_layouts)),
                      'slawatch', s, 'java', j, shape=('left',))
        # Harness sanity: with one bucket structure, Java's merge of the selected intervals
        # equals Java recording the selected values directly.
        plain = all(isinstance(v, int) for iv in sel for v in iv[4])
        if (sel and plain and single_layout
                and all(iv[1] is None or (iv[1][0] == 1 and iv[1][2] == 3 and len(iv[1]) == 3)
                        for iv in sel)):
            vp = c.path('values-%s.txt' % (tag or 'all'))
            write_values(vp, [v for iv in sel for v in iv[4]])
            jv = c.rep.attempt('java values %s' % (tag or 'all'), c.java.json, 'values', vp)
            if jv is not None:
                c.rep.compare('harness: Java\'s %s == Java recording its values' % label,
                              'java(log)', j, 'java(values)', jv)


CHECKS = {
    'values': check_values,
    'slawatch-writes': check_slawatch_writes,
    'java-writes': check_java_writes,
    'tagged': lambda c: check_multi(c, tagged_spec(random.Random(SEED + 1), False),
                                    ['alpha', 'beta.1']),
    'mixed-layout': lambda c: check_multi(c, tagged_spec(random.Random(SEED + 2), True),
                                          ['alpha', 'beta.1']),
    'grown-range': lambda c: check_multi(c, grown_spec(random.Random(SEED + 3)), ['grow']),
    'edge-encodings': lambda c: check_multi(c, edge_spec(random.Random(SEED + 4)),
                                            ['shifted', 'huge', 'past-highest']),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--slawatch', required=True)
    ap.add_argument('--java', required=True)
    ap.add_argument('--classes', required=True)
    ap.add_argument('--jar', required=True)
    ap.add_argument('check', choices=sorted(CHECKS))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='slawatch-interop-') as tmp:
        c = Ctx(args, tmp)
        CHECKS[args.check](c)
        return c.rep.finish()


if __name__ == '__main__':
    sys.exit(main())
