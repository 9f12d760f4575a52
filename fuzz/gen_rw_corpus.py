#!/usr/bin/env python3
"""Seeds for fuzz_remote_write, written from the remote-write 1.0 wire facts (protobuf by hand,
snappy as literals plus one back-reference) with nothing from slawatch; deterministic.

usage: fuzz/gen_rw_corpus.py fuzz/corpus/remote_write
"""
import os
import struct
import sys


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def zz(n):
    return (n << 1) ^ (n >> 63)


def ld(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def label(k, v):
    return ld(1, ld(1, k.encode()) + ld(2, v.encode()))


def sample(v, ts):
    return ld(2, varint(1 << 3 | 1) + struct.pack("<d", v) + varint(2 << 3) + varint(ts))


def span(off, length):
    return varint(1 << 3) + varint(zz(off)) + varint(2 << 3) + varint(length)


def packed(field, items):
    return ld(field, b"".join(items))


def histogram(int_counts=True):
    h = b""
    if int_counts:
        h += varint(1 << 3) + varint(11)                          # count_int
        h += varint(6 << 3) + varint(1)                           # zero_count_int
        h += packed(12, [varint(zz(d)) for d in (1, 2, -1, 3)])   # positive_deltas
    else:
        h += varint(2 << 3 | 1) + struct.pack("<d", 9.5)          # count_float
        h += varint(7 << 3 | 1) + struct.pack("<d", 0.5)          # zero_count_float
        h += packed(13, [struct.pack("<d", c) for c in (1.0, 2.5, 0.0, 5.5)])
    h += varint(3 << 3 | 1) + struct.pack("<d", 2.75)             # sum
    h += varint(4 << 3) + varint(zz(3))                           # schema 3
    h += varint(5 << 3 | 1) + struct.pack("<d", 1e-3)             # zero_threshold
    h += ld(11, span(-2, 2)) + ld(11, span(1, 2))
    h += varint(14 << 3) + varint(1 if int_counts else 3)         # reset hint YES / GAUGE
    h += varint(15 << 3) + varint(1760000000000)
    return ld(4, h)


def series(name, n, extra=()):
    ls = [("__name__", name), ("instance", "10.0.0.1:9100"), ("job", "api")] + list(extra)
    body = b"".join(label(k, v) for k, v in sorted(ls))
    return ld(1, body + b"".join(sample(float(i * 3), 1760000000000 + i * 15000) for i in range(n)))


def snappy(raw, with_copy=False):
    out = bytearray(varint(len(raw)))
    i = 0
    while i < len(raw):
        if with_copy and i >= 8 and i + 4 <= len(raw) and raw[i:i + 4] == raw[i - 8:i - 4]:
            out += bytes([(4 - 1) << 2 | 2]) + struct.pack("<H", 8)  # copy 4 bytes, offset 8
            i += 4
            continue
        k = min(60, len(raw) - i) if not with_copy else 1
        out.append((k - 1) << 2)
        out += raw[i:i + k]
        i += k
    return bytes(out)


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    counter = series("http_requests_total", 3, [("code", "500")])
    bucket = series("http_request_duration_seconds_bucket", 2, [("le", "0.25")])
    native = ld(1, label("__name__", "rpc_seconds") + label("job", "x") + histogram(True)
                + histogram(False))
    seeds = {
        "empty": snappy(b""),
        "counter": snappy(counter),
        "counter-copies": snappy(counter + bucket, with_copy=True),
        "native": snappy(native),
        "metadata": snappy(counter + ld(3, varint(1 << 3) + varint(1) + ld(2, b"http_requests_total"))),
        "no-name": snappy(ld(1, label("job", "a") + sample(1, 1))),
        "repeated-label": snappy(ld(1, label("a", "1") + label("__name__", "x") + label("a", "2"))),
        "truncated": snappy(counter)[:-5],
        "bad-preamble": b"\xff\xff\xff\xff\xff\xff",
        "bad-copy-offset": b"\x08\x00a\x0a\x05\x00",
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
