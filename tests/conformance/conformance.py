#!/usr/bin/env python3
"""Conformance of `slawatch hdr` with the shared HdrHistogram corpus (shared/conformance/hdr).

usage: conformance.py --slawatch EXE --java JAVA --classes DIR --jar JAR --helpers DIR
                      --hdr-dir DIR CHECK

CHECK is one of:
  logs     every .hlog under --hdr-dir (V0, V1, V2, tagged, BaseTime, header-less, trailing
           blanks): `slawatch hdr --json FILE` equals Java HdrHistogram 2.1.11 reading FILE
           (Interop.java `stats`), for the merge of all intervals and for each tag; a few
           files also through stdin and with CR LF line ends.
  invalid  the malformed interval lines test_tagged_*.txt: slawatch exits 1 and names the file
           and line 1 on stderr.

Java 2.1.11 reads every .hlog here, V0 and V1 included (Interop.java drops blank lines first:
2.1.11's log scanner throws on the trailing blank line of hiccup.140623.1028.10646.hlog).
Exits 1 on any mismatch, printing both sides.
"""

import argparse
import os
import re
import sys
import tempfile


# Read through stdin as well: content detection must work without a file name, and on a
# log that has no header lines at all.
STDIN_LOGS = ('HdrHistogramJS/jHiccup-no-header-2.0.7S.logV2.hlog',
              'HdrHistogram_c/jHiccup-2.0.1.logV0.hlog')

# Also read with every line ending in CR LF (the format accepts both line ends); compared with
# Java reading the original file.
CRLF_LOGS = ('HdrHistogram_c/jHiccup-2.0.7S.logV3.hlog',
             'HdrHistogram_c/jHiccup-2.0.1.logV0.hlog')

# Malformed interval lines (HdrHistogram_c test data); each file is a single line.
INVALID_GLOB = re.compile(r'^test_tagged_.*\.txt$')


def find_files(root, pred):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            if pred(f):
                out.append(os.path.join(d, f))
    return sorted(out)


def check_logs(a, hdrcheck, rep):
    with tempfile.TemporaryDirectory(prefix='slawatch-conformance-') as tmp:
        _check_logs(a, hdrcheck, rep, tmp)


def _check_logs(a, hdrcheck, rep, tmp):
    java = hdrcheck.Java(a.java, a.classes, a.jar)
    sw = hdrcheck.Slawatch(a.slawatch)
    logs = find_files(a.hdr_dir, lambda f: f.endswith('.hlog'))
    rep.check('found .hlog files under %s' % a.hdr_dir, len(logs) >= 10,
              'only %d: %r' % (len(logs), logs))
    for path in logs:
        rel = os.path.relpath(path, a.hdr_dir)
        info = rep.attempt('%s: java info' % rel, java.info, path)
        if info is None:
            continue
        # Java is the reference here; a file it reads as nothing would compare vacuously.
        if not rep.check('%s: Java reads intervals from it' % rel, len(info['intervals']) > 0,
                         'java info: %r' % info):
            continue
        j = rep.attempt('%s: java stats' % rel, java.stats, path)
        s = rep.attempt('%s: slawatch hdr --json' % rel, sw.hdr_json, path)
        if j is not None and s is not None:
            rep.compare('%s: merge of all %d intervals: slawatch == Java'
                        % (rel, len(info['intervals'])),
                        'slawatch', s, 'java', j, shape=('left',))
            if rel in STDIN_LOGS:
                s_in = rep.attempt('%s: slawatch hdr --json < FILE' % rel, sw.hdr_json,
                                   stdin_path=path)
                if s_in is not None:
                    rep.compare('%s: read from stdin: slawatch == Java' % rel,
                                'slawatch(stdin)', s_in, 'java', j, shape=('left',))
        crlf = None
        if rel in CRLF_LOGS:
            crlf = os.path.join(tmp, os.path.basename(path) + '.crlf')
            with open(path, 'rb') as src, open(crlf, 'wb') as dst:
                dst.write(src.read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n'))
            if j is not None:
                s_crlf = rep.attempt('%s: slawatch hdr --json (CR LF copy)' % rel, sw.hdr_json,
                                     crlf)
                if s_crlf is not None:
                    rep.compare('%s: CR LF line ends: slawatch == Java on the original' % rel,
                                'slawatch(crlf)', s_crlf, 'java', j, shape=('left',))
        tags = [t for t in info['tags'] if t is not None]
        for tag in tags + ['no-such-tag']:
            n = sum(1 for iv in info['intervals'] if iv['tag'] == tag)
            jt = rep.attempt('%s: java stats --tag %s' % (rel, tag), java.stats, path, tag)
            st = rep.attempt('%s: slawatch hdr --json --tag %s' % (rel, tag), sw.hdr_json, path,
                             tag=tag)
            if jt is not None and st is not None:
                rep.compare('%s: --tag %s (%d intervals): slawatch == Java' % (rel, tag, n),
                            'slawatch', st, 'java', jt, shape=('left',))
            if crlf is not None and jt is not None and tag != 'no-such-tag':
                sc = rep.attempt('%s: slawatch hdr --json --tag %s (CR LF copy)' % (rel, tag),
                                 sw.hdr_json, crlf, tag=tag)
                if sc is not None:
                    rep.compare('%s: CR LF line ends, --tag %s: slawatch == Java' % (rel, tag),
                                'slawatch(crlf)', sc, 'java', jt, shape=('left',))


def check_invalid(a, hdrcheck, rep):
    sw = hdrcheck.Slawatch(a.slawatch)
    files = find_files(a.hdr_dir, lambda f: INVALID_GLOB.match(f) is not None)
    rep.check('found test_tagged_*.txt files under %s' % a.hdr_dir, len(files) >= 4,
              'only %d: %r' % (len(files), files))
    for path in files:
        rel = os.path.relpath(path, a.hdr_dir)
        base = os.path.basename(path)
        for args in (['hdr', '--json', path], ['hdr', path]):
            what = '%s: slawatch %s' % (rel, ' '.join(args[:-1]))
            r = rep.attempt(what, sw.run, *args)
            if r is None:
                continue
            rc, out, err = r
            detail = 'exit %d\nstdout: %s\nstderr: %s' % (rc, out.strip()[:1000],
                                                          err.strip()[:1000])
            rep.check(what + ' exits 1', rc == 1, detail)
            rep.check(what + ' names the file and line 1 on stderr',
                      base in err and re.search(r':1:|\bline 1\b', err) is not None, detail)


CHECKS = {'logs': check_logs, 'invalid': check_invalid}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--slawatch', required=True)
    ap.add_argument('--java', required=True)
    ap.add_argument('--classes', required=True)
    ap.add_argument('--jar', required=True)
    ap.add_argument('--helpers', required=True,
                    help='directory of hdrcheck.py (tests/interop in the source tree)')
    ap.add_argument('--hdr-dir', required=True)
    ap.add_argument('check', choices=sorted(CHECKS))
    a = ap.parse_args()
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, a.helpers)
    import hdrcheck  # noqa: E402 (path given on the command line)
    rep = hdrcheck.Report('conformance-hdr-' + a.check)
    if not os.path.isdir(a.hdr_dir):
        rep.fail('conformance data', '%s is not a directory' % a.hdr_dir)
    else:
        CHECKS[a.check](a, hdrcheck, rep)
    return rep.finish()


if __name__ == '__main__':
    sys.exit(main())
