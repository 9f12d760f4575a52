#!/usr/bin/env python3
"""Remote-write conformance: libsnappy's and golang/snappy's test files through core/snappy
(the .rawsnappy decodes to the .txt, every baddata*.snappy is refused, the request body decodes
to the raw .pb.data), then the 1,148-series WriteRequest decoded by slawatch compared sample by
sample with protoc's own decode of the raw bytes (C++ protobuf, independent of protobuf-c).

usage: rw_conformance.py RW_DUMP PROTOC PROTO_DIR REMOTEWRITE_DIR
"""
import codecs
import math
import os
import subprocess
import sys


def run(args):
    p = subprocess.run(args, capture_output=True)
    sys.stderr.write(p.stderr.decode(errors="replace"))
    return p


def unquote(text):
    # protoc's text format: a double-quoted C-escaped byte string
    return codecs.escape_decode(text.strip()[1:-1].encode())[0].decode()


def protoc_samples(protoc, proto_dir, raw_path):
    with open(raw_path, "rb") as f:
        p = subprocess.run([protoc, "--proto_path=" + proto_dir,
                            "--decode=prometheus.WriteRequest", "prompb.proto"],
                           stdin=f, capture_output=True, check=True)
    out, labels, samples, stack, cur = [], [], [], [], {}
    for line in p.stdout.decode().splitlines():
        line = line.strip()
        if line.endswith("{"):
            stack.append(line[:-1].strip())
            cur = {}
            continue
        if line == "}":
            kind = stack.pop()
            if kind == "labels" and stack == ["timeseries"]:
                labels.append((cur.get("name", ""), cur.get("value", "")))
            elif kind == "samples":
                samples.append((float(cur.get("value", "0")), int(cur.get("timestamp", "0"))))
            elif kind == "timeseries":
                name = dict(labels).get("__name__", "")
                rest = [(k, v) for k, v in labels if k != "__name__"]
                out += [(name, tuple(rest), v, t) for v, t in samples]
                labels, samples = [], []
            cur = {}
            continue
        key, _, val = line.partition(":")
        cur[key.strip()] = unquote(val) if val.strip().startswith('"') else val.strip()
    return out


def slawatch_samples(rw_dump, body_path):
    p = run([rw_dump, "samples", body_path])
    if p.returncode != 0:
        return None
    out = []
    for line in p.stdout.decode().splitlines():
        name, labels, value, ts = line.split("\t")
        pairs = tuple(tuple(kv.split("=", 1)) for kv in labels.split("\x1f")) if labels else ()
        out.append((name, pairs, float(value), int(ts)))
    return out


def same(a, b):
    return a[:2] == b[:2] and a[3] == b[3] and (
        a[2] == b[2] or (math.isnan(a[2]) and math.isnan(b[2])))


def main():
    rw_dump, protoc, proto_dir, rw_dir = sys.argv[1:5]
    snappy_dir, grep_dir = os.path.join(rw_dir, "snappy"), os.path.join(rw_dir, "greptimedb")
    failed = 0
    txt = os.path.join(snappy_dir, "Isaac.Newton-Opticks.txt")
    failed += run([rw_dump, "snappy", txt + ".rawsnappy", txt]).returncode != 0
    bad = sorted(f for f in os.listdir(snappy_dir) if f.startswith("baddata"))
    for f in bad:
        failed += run([rw_dump, "reject", os.path.join(snappy_dir, f)]).returncode != 0
    body = os.path.join(grep_dir, "write_request.pb.snappy")
    raw = os.path.join(grep_dir, "write_request.pb.data")
    failed += run([rw_dump, "snappy", body, raw]).returncode != 0

    want = protoc_samples(protoc, proto_dir, raw)
    got = slawatch_samples(rw_dump, body)
    series = len({(n, l) for n, l, _, _ in want})
    print("protoc: %d samples of %d series; slawatch: %s samples" %
          (len(want), series, "no" if got is None else len(got)))
    if got is None or len(got) != len(want) or series != 1148:
        failed += 1
    else:
        diff = [i for i, (a, b) in enumerate(zip(got, want)) if not same(a, b)]
        for i in diff[:5]:
            print("sample %d: slawatch %r, protoc %r" % (i, got[i], want[i]))
        failed += bool(diff)
    print("%d baddata files, %s" % (len(bad), "FAILED" if failed else "all checks passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
