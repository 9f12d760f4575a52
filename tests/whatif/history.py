"""Generated latency history for the what-if tests, and its truth computed here, independently
of slawatch: every request's latency is known, so the share of requests at or below a threshold
is exact and a percentile is an order statistic of the values.

slawatch answers percentiles from HDR histograms with 3 significant digits: HdrHistogram's value
at a percentile is the highest value equivalent to the bucket holding the rank, so it lies in
[v, v + width(v)) where v is the exact order statistic and width(v) the bucket's width:
2^max(0, floor(log2 v) - 10) (2048 sub-buckets, half of them per power of two above the first).
"""
import datetime
import json
import math

HOUR = 3600


def width(v):
    """The width of the 3-significant-digit HDR bucket holding v (lowest value 1)."""
    return 1 << max(0, int(math.floor(math.log2(v))) - 10)


def percentile(values, p):
    """HdrHistogram's rank for percentile p (rounded, at least 1) over the sorted values."""
    ordered = sorted(values)
    rank = max(1, int(p / 100 * len(ordered) + 0.5))
    return ordered[rank - 1]


def in_hdr_bucket(got, v):
    """Whether got is what an HDR histogram answers for the exact order statistic v."""
    return got is not None and v <= got < v + width(v)


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def line(service, start, length_s, values, errors=0, requests=None):
    """One recorded interval (rules/README.md, "Recorded intervals"); values None: no latency."""
    row = {"service": service, "start": rfc3339(start), "length_s": length_s,
           "requests": len(values) if requests is None else requests, "errors": errors}
    if values is not None:
        row["latency_us"] = values
    return json.dumps(row, separators=(",", ":"))


def away_from(v, thresholds, margin=2048):
    """Values near a threshold would share its HDR bucket, where 'at or below' is ambiguous:
    the generator keeps out of there so the exact share and slawatch's agree."""
    return all(abs(v - t) >= margin for t in thresholds)
