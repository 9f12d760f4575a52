#!/usr/bin/python3
"""Write the checkpoint reader's seeds from include/slawatch/ckpt.h's layout, with hashlib (not
with core/), so tests/unit/test_ckpt.c can also check the reader and the digest against them:
  /usr/bin/python3 fuzz/gen_ckpt_corpus.py fuzz/corpus/ckpt
"""
import hashlib
import os
import struct
import sys

MAGIC = b"SWCKPT\r\n"
# What the seeds were built from; test_ckpt.c computes the digest of the same inputs.
RULES_TEXT = b"objectives: []\n"
BASE_MS = 10000
VERSION = 3  # SW_CKPT_VERSION


def digest(rules, base_ms, shard_count, shard_index):
    tag = b"slawatch inputs\0"
    fixed = tag + struct.pack("<qIIQ", base_ms, shard_count, shard_index, len(rules))
    return hashlib.sha256(fixed + rules).digest()


def checkpoint(dig, store_until_ms, evaluated_ms, payload, version=VERSION):
    head = MAGIC + struct.pack("<II", version, 0) + dig
    head += struct.pack("<qqQ", store_until_ms, evaluated_ms, len(payload))
    return head + hashlib.sha256(head + payload).digest() + payload


def main(out):
    os.makedirs(out, exist_ok=True)
    dig = digest(RULES_TEXT, BASE_MS, 0, 0)
    payload = bytes(range(256)) * 4
    seeds = {
        "valid": checkpoint(dig, 1_700_000_000_000, 1_699_999_990_000, payload),
        "valid-empty": checkpoint(dig, 0, 0, b""),
        "other-version": checkpoint(dig, 1_700_000_000_000, 0, payload, version=VERSION - 1),
        "other-inputs": checkpoint(digest(RULES_TEXT, 60000, 0, 0), 0, 0, payload),
        "ahead-of-store": checkpoint(dig, 2**62, 0, payload),
    }
    seeds["torn"] = seeds["valid"][:-100]
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
