#!/usr/bin/env python3
"""Randomised SigV4 cross-check: botocore's SigV4Auth and slawatch (cw_tool sign) sign the same
random requests (methods, paths with reserved and UTF-8 characters, encoded queries with
repeated names, headers with odd case and blank runs, bodies, session tokens, times, regions,
services); the headers each adds must be identical.

    botocore_crosscheck.py CW_TOOL [COUNT] [SEED]
"""
import datetime
import json
import random
import subprocess
import sys
from unittest import mock
from urllib.parse import quote

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PATH_CHARS = "abcXYZ019-._~ !$&'()*+,;=:@%" + "\u00e9\u4e2d"
QUERY_CHARS = "abcXYZ019-._~ /?&=+%\u00e9"
VALUE_CHARS = "abc XYZ 019 ,;:=/\"'()\u0021"


def rand_text(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_path(rng):
    segments = [quote(rand_text(rng, PATH_CHARS, 0, 6), safe="") for _ in range(rng.randint(0, 4))]
    return "/" + "/".join(segments) + ("/" if rng.random() < 0.3 else "")


def rand_query(rng):
    """Canonically encoded pairs (botocore sorts them as given; slawatch decodes and re-encodes)."""
    names = [quote(rand_text(rng, QUERY_CHARS, 1, 5), safe="-_.~") for _ in range(rng.randint(1, 3))]
    pairs = []
    for _ in range(rng.randint(0, 5)):
        pairs.append(rng.choice(names) + "=" + quote(rand_text(rng, QUERY_CHARS, 0, 6), safe="-_.~"))
    return "&".join(pairs)


def rand_headers(rng, host):
    headers = [("Host", host)]
    used = {"host"}
    for _ in range(rng.randint(0, 6)):
        name = rand_text(rng, "abcdefxyzABCXYZ-", 1, 10).strip("-") or "x"
        if name.lower() in used or name.lower() in botocore.auth.SIGNED_HEADERS_BLACKLIST:
            continue
        used.add(name.lower())
        value = rng.choice(["", " "]) + rand_text(rng, VALUE_CHARS, 0, 12) + rng.choice(["", "  "])
        headers.append((name, value))
    rng.shuffle(headers)
    return headers


def rand_request(rng):
    host = rng.choice(["monitoring.us-east-1.amazonaws.com", "127.0.0.1:8443", "example.com"])
    token = rng.choice([None, "IQoJb3JpZ2luX2VjE" + rand_text(rng, "abcdefXYZ0189+/=", 20, 400)])
    return {
        "method": rng.choice(["GET", "POST", "PUT", "DELETE"]),
        "path": rand_path(rng),
        "query": rand_query(rng) if rng.random() < 0.6 else "",
        "headers": rand_headers(rng, host),
        "body": rand_text(rng, VALUE_CHARS + "{}[]\n", 0, 300) if rng.random() < 0.5 else "",
        "time": rng.randint(0, 4102444800),
        "region": rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1"]),
        "service": rng.choice(["monitoring", "logs", "sts", "service"]),
        "access_key_id": rng.choice(["AKIDEXAMPLE", "ASIA" + rand_text(rng, "ABCDEF0123456789", 16, 16)]),
        "secret": rand_text(rng, "abcdefXYZ0189+/", 40, 40),
        "token": token,
    }


class _FrozenClock:
    """Stands in for the datetime module botocore.auth imported: datetime.utcnow() answers
    the request's time, everything else is the real datetime."""

    def __init__(self, moment):
        class FrozenDatetime(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return moment

        self.datetime = FrozenDatetime

    def __getattr__(self, name):
        return getattr(datetime, name)


def signing_time(moment):
    """Make botocore sign at moment. botocore 1.31 and later read the time through
    botocore.auth.get_current_datetime(); Debian 12's 1.29 calls datetime.datetime.utcnow() on
    the datetime module botocore.auth imported."""
    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch("botocore.auth.get_current_datetime", return_value=moment)
    return mock.patch("botocore.auth.datetime", _FrozenClock(moment))


def botocore_headers(rq):
    url = "https://%s%s" % (dict((k.lower(), v) for k, v in rq["headers"])["host"], rq["path"])
    if rq["query"]:
        url += "?" + rq["query"]
    request = AWSRequest(method=rq["method"], url=url, headers=dict(rq["headers"]),
                         data=rq["body"].encode())
    moment = datetime.datetime.fromtimestamp(rq["time"], datetime.timezone.utc).replace(tzinfo=None)
    signer = botocore.auth.SigV4Auth(Credentials(rq["access_key_id"], rq["secret"], rq["token"]),
                                     rq["service"], rq["region"])
    with signing_time(moment):
        signer.add_auth(request)
    added = {"authorization", "x-amz-date", "x-amz-security-token"}
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() in added}
    # Had the clock not been frozen, botocore would have signed at the present moment.
    if headers.get("x-amz-date") != moment.strftime("%Y%m%dT%H%M%SZ"):
        sys.exit("botocore %s did not sign at the given time: X-Amz-Date %s, wanted %s"
                 % (botocore.__version__, headers.get("x-amz-date"),
                    moment.strftime("%Y%m%dT%H%M%SZ")))
    return headers


def main():
    tool = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20260818
    rng = random.Random(seed)
    requests = [rand_request(rng) for _ in range(count)]
    lines = "".join(json.dumps(rq) + "\n" for rq in requests)
    out = subprocess.run([tool, "sign"], input=lines.encode(), capture_output=True, check=True,
                         timeout=60).stdout.decode().splitlines()
    if len(out) != count:
        print("cw_tool answered %d lines for %d requests" % (len(out), count))
        return 1
    failures = 0
    for i, (rq, line) in enumerate(zip(requests, out)):
        got = json.loads(line)
        want = botocore_headers(rq)
        mine = {k.lower(): v for k, v in got.get("headers", [])}
        if mine != want:
            failures += 1
            if failures <= 3:
                print("request %d differs:\n  request %s\n  botocore %s\n  slawatch %s"
                      % (i, json.dumps(rq), want, got))
    print("%d passed, %d failed" % (count - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
