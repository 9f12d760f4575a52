"""Shared by the scenarios' gen.py: one recorded interval as a JSON line (rules/README.md,
"Recorded intervals"), and writing a recording to a file or standard output."""
import datetime
import json
import sys


def interval(start, length_s, requests, errors, latency_us, health, env=None, service="api"):
    """One interval line; env is left out when None, as the format allows."""
    fields = {"service": service}
    if env is not None:
        fields["env"] = env
    fields.update({
        "start": start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "length_s": length_s,
        "requests": requests,
        "errors": errors,
        "latency_us": latency_us,
        "health": health,
    })
    return json.dumps(fields, separators=(",", ":"))


def write(lines):
    """Write the lines to sys.argv[1], or to standard output without an argument."""
    out = open(sys.argv[1], "w") if len(sys.argv) > 1 else sys.stdout
    with out:
        for text in lines:
            out.write(text + "\n")
