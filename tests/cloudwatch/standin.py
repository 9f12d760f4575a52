#!/usr/bin/env python3
"""A CloudWatch stand-in for tests, on 127.0.0.1 only.

It speaks the AWS JSON 1.0 protocol of GetMetricData (X-Amz-Target
GraniteServiceVersion20100801.GetMetricData) and checks every request's SigV4 signature with
botocore, an implementation independent of slawatch. It also serves the credential endpoints
of the chain: the ECS container endpoint (Authorization token checked), EC2 instance
metadata with IMDSv2 session tokens, and STS AssumeRole (Query protocol, form body, XML
answer; signature checked with botocore for service "sts"). Each credential request issues a fresh key pair that
expires after the scenario's ttl_s, so refresh can be tested with short-lived credentials.

    standin.py [--scenario FILE]      prints "PORT" on stdout once listening

Scenario (JSON, every key optional):
    {"static_credentials": [{"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ...}],
     "region": "eu-west-1",              # signing region expected, served by IMDS placement
     "ecs": {"path": "/creds", "token": "t", "ttl_s": 3600},
     "imds": {"role": "slawatch-role", "ttl_s": 3600},
     "sts": {"roles": {"<role arn>": {"signers": [key id, ...],   # who may assume it; absent:
                                      "external_id": "x"}},       # any known key
             "ttl_s": 3600,
             "fault": "malformed" | "expired" | "deny"},  # broken XML, an Expiration in the
                                     # past, or 403 AccessDenied for every call
     "metrics": {"<query id>": {"Timestamps": [...], "Values": [...]}},
     "clock_skew_s": 300,                # how far X-Amz-Date may be from this clock (a client
                                         # under a fake clock in the past needs more)
     "cloudwatch": {...}}                # generated series and injected faults, below

"cloudwatch" (GetMetricData by metric rather than by query id; every key optional):
    "series": [{"namespace", "metric", "dimensions": {name: value}, "stat",
                "value": {"base": B, "step": S, "mod": M}}]   # value at period start t:
                                     # B + ((t // period) * S) % M
    "latency": [{"namespace", "metric", "dimensions", "median": X, "sigma": Y,
                 "count": {"base", "step", "mod"}}]  # pNN / PR(:T) / SampleCount / Sum /
                                     # Min / Max of a log-normal: exact (statistics.NormalDist)
    "sampled": [{"namespace", "metric", "dimensions", "seed": S, "median": X, "sigma": Y,
                 "rate": [LO, HI], "incidents": [{"start": T0, "end": T1, "share": F,
                                                  "median": X, "sigma": Y}]}]
                          # (and "origin": T, the draws seeded by t - T, default 0; "start"
                          # and "end": values only in minutes inside [start, end))
                          # latency values drawn per minute (sampled_minute(): LO...HI values,
                          # log-normal, a share F from the incident's mode while it lasts);
                          # every statistic of any period is the drawn values' (nearest-rank
                          # percentiles, PR(:T), SampleCount, Sum, Minimum, Maximum)
    "ingest_delay_s": D   # periods ending less than D ago answer half their value (late data)
    "page_size": N        # datapoints per result per page; more come with NextToken and
                          # StatusCode PartialData
    "throttle": [k, ...]  # the k-th GetMetricData requests (1-based) get ThrottlingException
    "fail500": [k, ...]   # ... get HTTP 500 InternalServiceFault
    "expire_after": N     # an issued key expires (ExpiredTokenException) after N accepted calls
    "slow_s": S           # every answer waits S seconds
    "fault_rates": {"seed": N, "throttle": p, "fail500": p, "result_error": p, "reset": p,
                    "truncate": p}  # each GetMetricData request, drawn with a seeded random
                          # stream: ThrottlingException, HTTP 500, one result with StatusCode
                          # InternalError, the connection closed without an answer, or the
                          # answer cut in half (Content-Length of the part sent)
Like CloudWatch, a query whose StartTime is too old for its period (1-minute data is kept 15
days, 5-minute 63, 1-hour 455) answers no datapoints.

GET /_standin/stats answers counters as JSON (requests per endpoint, key ids that signed
accepted requests, rejections by reason; "sts_calls": each AssumeRole's signing key id, role,
session name, external id and duration; "gmd_ranges": each GetMetricData page's
[StartTime, EndTime]; "hour_ranges": those of the pages that ask Period 3600; "long_ranges":
[StartTime, EndTime, Period] of those that ask a Period over a minute).

Datapoints start at StartTime rounded down as CloudWatch rounds it (to the minute when under 15
days old, to 5 minutes under 63 days, else to the hour; for periods under a minute to the
period) and follow every Period from there, so a Period of 6 hours asked from 13:07 answers
[13:07, 19:07).
"""
import argparse
import bisect
import datetime
import functools
import hmac
import json
import math
import random
import secrets
import socket
import urllib.parse
import uuid
from xml.sax.saxutils import escape
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TARGET_PREFIX = "GraniteServiceVersion20100801."
JSON_10 = "application/x-amz-json-1.0"
CLOCK_SKEW_S = 300


class State:
    """Credentials the stand-in knows (static and issued) and the counters tests read."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.lock = threading.Lock()
        self.keys = {}  # access key id -> (secret, token, expires_unix or None)
        for c in scenario.get("static_credentials", []):
            self.keys[c["AccessKeyId"]] = (c["SecretAccessKey"], c.get("Token"), None)
        self.imds_tokens = {}  # token -> expiry
        self.stats = {"ecs": 0, "sts": 0, "imds_token": 0, "imds_role": 0, "imds_creds": 0,
                      "imds_region": 0, "cloudwatch_ok": 0, "rejected": {}, "keys_used": [],
                      "gmd_requests": 0, "throttled": 0, "fail500": 0, "expired": 0,
                      "partial_pages": 0, "datapoints": 0, "faults": {}, "sts_calls": [],
                      "gmd_ranges": [], "hour_ranges": [], "long_ranges": []}
        self.fault_rng = None
        self.key_calls = {}  # issued key id -> accepted GetMetricData calls

    def count(self, name):
        with self.lock:
            self.stats[name] += 1

    def reject(self, reason):
        with self.lock:
            self.stats["rejected"][reason] = self.stats["rejected"].get(reason, 0) + 1

    def issue(self, ttl_s):
        key_id = "ASIA" + secrets.token_hex(8).upper()
        secret = secrets.token_urlsafe(30)
        token = "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(200)
        expires = time.time() + ttl_s
        with self.lock:
            self.keys[key_id] = (secret, token, expires)
        expiration = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc)
        return {"AccessKeyId": key_id, "SecretAccessKey": secret, "Token": token,
                "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, SignedHeaders=a;b, Signature=x'."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return None
    fields = {}
    for part in rest.split(","):
        name, _, val = part.strip().partition("=")
        fields[name] = val
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or "SignedHeaders" not in fields:
        return None
    return {"key_id": scope[0], "date": scope[1], "region": scope[2], "service": scope[3],
            "signed": fields["SignedHeaders"].split(";"), "signature": fields.get("Signature", "")}


def botocore_signature(auth, secret, token, method, url, headers, body, amz_date):
    """The signature botocore computes over exactly the headers the client signed."""
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials("unused", secret, token), auth["service"], auth["region"])
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    @property
    def state(self):
        return self.server.state

    def reply(self, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def aws_error(self, status, error_type, message):
        self.state.reject(error_type)
        self.reply(status, json.dumps({"__type": error_type, "message": message}), JSON_10)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))

    # ---- credential endpoints ----

    def ecs(self):
        conf = self.state.scenario.get("ecs", {})
        want = conf.get("token")
        got = self.headers.get("Authorization")
        if want is not None and (got is None or not hmac.compare_digest(got, want)):
            self.state.reject("ecs_unauthorized")
            return self.reply(401, json.dumps({"message": "bad authorization token"}))
        self.state.count("ecs")
        creds = self.state.issue(conf.get("ttl_s", 3600))
        creds["RoleArn"] = "arn:aws:iam::123456789012:role/slawatch"
        self.reply(200, json.dumps(creds))

    def imds_token_ok(self):
        token = self.headers.get("X-aws-ec2-metadata-token")
        with self.state.lock:
            expiry = self.state.imds_tokens.get(token) if token else None
        if expiry is None or expiry < time.time():
            self.state.reject("imds_unauthorized")
            self.reply(401, "", "text/plain")
            return False
        return True

    def imds_get(self):
        conf = self.state.scenario.get("imds", {})
        role = conf.get("role", "slawatch-role")
        base = "/latest/meta-data/iam/security-credentials/"
        if not self.imds_token_ok():
            return
        if self.path == base:
            self.state.count("imds_role")
            return self.reply(200, role, "text/plain")
        if self.path == base + role:
            self.state.count("imds_creds")
            creds = self.state.issue(conf.get("ttl_s", 3600))
            creds.update({"Code": "Success", "Type": "AWS-HMAC",
                          "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            return self.reply(200, json.dumps(creds))
        if self.path == "/latest/meta-data/placement/region":
            self.state.count("imds_region")
            return self.reply(200, self.state.scenario.get("region", "us-east-1"), "text/plain")
        self.reply(404, "", "text/plain")

    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token":
            return self.reply(404, "", "text/plain")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self.state.reject("imds_bad_ttl")
            return self.reply(400, "", "text/plain")
        token = secrets.token_urlsafe(40)
        with self.state.lock:
            self.state.imds_tokens[token] = time.time() + int(ttl)
        self.state.count("imds_token")
        self.reply(200, token, "text/plain",
                   [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])

    def do_GET(self):
        if self.path == "/_standin/stats":
            with self.state.lock:
                return self.reply(200, json.dumps(self.state.stats))
        if self.path == self.state.scenario.get("ecs", {}).get("path", "/creds"):
            return self.ecs()
        if self.path.startswith("/latest/"):
            return self.imds_get()
        self.reply(404, "", "text/plain")

    # ---- CloudWatch ----

    def verify_sigv4(self, body, service="monitoring", required_headers=("x-amz-target",)):
        """None when the request is signed right, else (status, error type, message)."""
        auth = parse_authorization(self.headers.get("Authorization", ""))
        self.signer = auth["key_id"] if auth else None
        if auth is None:
            return 403, "IncompleteSignatureException", "malformed Authorization header"
        for required in ("host", "x-amz-date") + tuple(required_headers):
            if required not in auth["signed"]:
                return 403, "IncompleteSignatureException", required + " is not signed"
        with self.state.lock:
            known = self.state.keys.get(auth["key_id"])
        if known is None:
            return 403, "UnrecognizedClientException", "The security token included in the request is invalid."
        secret, token, expires = known
        if token is not None and self.headers.get("X-Amz-Security-Token") != token:
            return 403, "UnrecognizedClientException", "The security token included in the request is invalid."
        if token is not None and "x-amz-security-token" not in auth["signed"]:
            return 403, "IncompleteSignatureException", "x-amz-security-token is not signed"
        limit = self.state.scenario.get("cloudwatch", {}).get("expire_after")
        with self.state.lock:
            used = self.state.key_calls.get(auth["key_id"], 0)
        if expires is not None and limit is not None and used >= limit:
            with self.state.lock:
                self.state.stats["expired"] += 1
            return 400, "ExpiredTokenException", "The security token included in the request is expired"
        if expires is not None and time.time() > expires:
            return 400, "ExpiredTokenException", "The security token included in the request is expired"
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return 403, "IncompleteSignatureException", "bad X-Amz-Date"
        skew = self.state.scenario.get("clock_skew_s", CLOCK_SKEW_S)
        if abs(time.time() - signed_at) > skew or auth["date"] != amz_date[:8]:
            return 403, "InvalidSignatureException", "Signature expired"
        want_region = self.state.scenario.get("region")
        if (want_region and auth["region"] != want_region) or auth["service"] != service:
            return 403, "InvalidSignatureException", "Credential should be scoped to a valid region/service"
        headers = {name: self.headers.get(name) for name in auth["signed"]}
        if any(v is None for v in headers.values()):
            return 403, "IncompleteSignatureException", "a signed header is missing"
        url = "http://%s%s" % (self.headers.get("Host"), self.path)
        want = botocore_signature(auth, secret, token, self.command, url, headers, body, amz_date)
        if not hmac.compare_digest(want, auth["signature"]):
            return 403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
        with self.state.lock:
            self.state.key_calls[auth["key_id"]] = self.state.key_calls.get(auth["key_id"], 0) + 1
            if auth["key_id"] not in self.state.stats["keys_used"]:
                self.state.stats["keys_used"].append(auth["key_id"])
        return None

    def series_of(self, query):
        """Timestamps and values of one MetricDataQuery over the request's range."""
        fixed = self.state.scenario.get("metrics", {}).get(query.get("Id"))
        if fixed is not None:
            return fixed.get("Timestamps", []), fixed.get("Values", [])
        stat = query["MetricStat"]
        metric, period = stat["Metric"], stat["Period"]
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        value = generator(self.state.scenario.get("cloudwatch", {}), metric["Namespace"],
                          metric["MetricName"], dims, stat["Stat"], period)
        if value is None or not retained(self.range[0], period):
            return [], []
        delay = self.state.scenario.get("cloudwatch", {}).get("ingest_delay_s", 0)
        first = rounded_start(self.range[0], period)
        ts, vs = [], []
        for t in range(first, int(self.range[1]), period):
            if t + period > time.time():
                break  # not begun or still running: CloudWatch has nothing final yet
            v = value(t)
            if v is None:
                continue  # no values in the period: CloudWatch has no datapoint
            ts.append(t)
            vs.append(v / 2 if t + period > time.time() - delay else v)
        return ts, vs

    def get_metric_data(self, request):
        """Each query's series, page_size datapoints per result per page (NextToken)."""
        queries = request.get("MetricDataQueries", [])
        ids = [q.get("Id") for q in queries]
        if not 0 < len(queries) <= 500 or len(set(ids)) != len(ids):
            return None, "1 to 500 queries with unique Ids"
        for q in queries:
            stat = q.get("MetricStat", {})
            if not isinstance(stat.get("Period"), int) or stat["Period"] < 1 or "Stat" not in stat:
                return None, "query %s: Period and Stat are required" % q.get("Id")
        self.range = (request.get("StartTime", 0), request.get("EndTime", 0))
        with self.state.lock:
            self.state.stats["gmd_ranges"].append(list(self.range))
            if any(q["MetricStat"]["Period"] == 3600 for q in queries):
                self.state.stats["hour_ranges"].append(list(self.range))
            for period in sorted({q["MetricStat"]["Period"] for q in queries}):
                if period > 60:
                    self.state.stats["long_ranges"].append(list(self.range) + [period])
        page_size = self.state.scenario.get("cloudwatch", {}).get("page_size", 1 << 30)
        offset = int(request.get("NextToken", "tok-0")[4:])
        results, more = [], False
        for query in queries:
            ts, vs = self.series_of(query)
            rest = len(ts) > offset + page_size
            more = more or rest
            with self.state.lock:
                self.state.stats["datapoints"] += len(ts[offset:offset + page_size])
            results.append({"Id": query["Id"], "Label": query.get("Label", query["Id"]),
                            "Timestamps": ts[offset:offset + page_size],
                            "Values": vs[offset:offset + page_size],
                            "StatusCode": "PartialData" if rest else "Complete"})
        answer = {"MetricDataResults": results, "Messages": []}
        if more:
            answer["NextToken"] = "tok-%d" % (offset + page_size)
            self.state.count("partial_pages")
        return answer, None

    def random_fault(self, conf):
        """The fault the seeded stream draws for this request, or None."""
        rates = conf.get("fault_rates")
        if not rates:
            return None
        with self.state.lock:
            if self.state.fault_rng is None:
                self.state.fault_rng = random.Random(rates.get("seed", 1))
            draw = self.state.fault_rng.random()
        for name in ("throttle", "fail500", "result_error", "reset", "truncate"):
            draw -= rates.get(name, 0)
            if draw < 0:
                with self.state.lock:
                    self.state.stats["faults"][name] = self.state.stats["faults"].get(name, 0) + 1
                return name
        return None

    def injected_fault(self):
        """Throttling or a 500 for the k-th GetMetricData request, as the scenario says; a
        random fault (fault_rates) is kept in self.fault for the answer."""
        conf = self.state.scenario.get("cloudwatch", {})
        with self.state.lock:
            self.state.stats["gmd_requests"] += 1
            k = self.state.stats["gmd_requests"]
        time.sleep(conf.get("slow_s", 0))
        self.fault = self.random_fault(conf)
        if self.fault == "throttle":
            self.aws_error(400, "ThrottlingException", "Rate exceeded")
            return True
        if self.fault == "fail500":
            self.aws_error(500, "InternalServiceFault", "injected failure")
            return True
        if self.fault == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if k in conf.get("throttle", []):
            self.state.count("throttled")
            self.aws_error(400, "ThrottlingException", "Rate exceeded")
            return True
        if k in conf.get("fail500", []):
            self.state.count("fail500")
            self.aws_error(500, "InternalServiceFault", "injected failure")
            return True
        return False

    # ---- STS ----

    def sts_error(self, status, code, message):
        self.state.reject("sts_" + code)
        self.reply(status, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                   "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                   "<RequestId>%s</RequestId></ErrorResponse>" % (code, escape(message), uuid.uuid4()),
                   "text/xml")

    def sts(self, body):
        """AssumeRole: the form checked field by field, the signer checked against the role."""
        failure = self.verify_sigv4(body, "sts", ())
        if failure is not None:
            return self.sts_error(403, failure[1], failure[2])
        try:
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True,
                                         strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            return self.sts_error(400, "MalformedInput", "body is not a form")
        form = {k: v[0] for k, v in form.items()}
        conf = self.state.scenario.get("sts", {})
        if form.get("Action") != "AssumeRole" or form.get("Version") != "2011-06-15":
            return self.sts_error(400, "InvalidAction", "expected Action=AssumeRole&Version=2011-06-15")
        role = conf.get("roles", {}).get(form.get("RoleArn"))
        session = form.get("RoleSessionName", "")
        if not 2 <= len(session) <= 64 or not all(c.isalnum() or c in "+=,.@-_" for c in session):
            return self.sts_error(400, "ValidationError", "bad RoleSessionName")
        with self.state.lock:
            self.state.stats["sts_calls"].append(
                {"signer": self.signer, "role": form.get("RoleArn"), "session": session,
                 "external_id": form.get("ExternalId"), "duration": form.get("DurationSeconds")})
        if (role is None or conf.get("fault") == "deny"
                or ("signers" in role and self.signer not in role["signers"])
                or role.get("external_id") != form.get("ExternalId")):
            return self.sts_error(403, "AccessDenied", "User: %s is not authorized to perform: "
                                  "sts:AssumeRole" % self.signer)
        creds = self.state.issue(conf.get("ttl_s", 3600))
        if conf.get("fault") == "expired":
            creds["Expiration"] = "2020-01-01T00:00:00Z"
        xml = ('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
               "  <AssumeRoleResult>\n    <AssumedRoleUser><AssumedRoleId>AROA3XFRBF535PLBIFPI4:%s"
               "</AssumedRoleId><Arn>%s</Arn></AssumedRoleUser>\n    <Credentials>\n"
               "      <AccessKeyId>%s</AccessKeyId>\n      <SecretAccessKey>%s</SecretAccessKey>\n"
               "      <SessionToken>%s</SessionToken>\n      <Expiration>%s</Expiration>\n"
               "    </Credentials>\n  </AssumeRoleResult>\n  <ResponseMetadata><RequestId>%s"
               "</RequestId></ResponseMetadata>\n</AssumeRoleResponse>\n") % (
            escape(session), escape(form["RoleArn"]), creds["AccessKeyId"],
            escape(creds["SecretAccessKey"]), escape(creds["Token"]), creds["Expiration"],
            uuid.uuid4())
        if conf.get("fault") == "malformed":
            xml = xml.replace("</SecretAccessKey>", "</SecretKey>")
        self.state.count("sts")
        self.reply(200, xml, "text/xml")

    def do_POST(self):
        body = self.body()
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return self.sts(body)
        failure = self.verify_sigv4(body)
        if failure is not None:
            return self.aws_error(*failure)
        target = self.headers.get("X-Amz-Target", "")
        if self.headers.get("Content-Type") != JSON_10 or not target.startswith(TARGET_PREFIX):
            return self.aws_error(400, "UnknownOperationException", "expected the JSON 1.0 protocol")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self.aws_error(400, "SerializationException", "body is not JSON")
        if target != TARGET_PREFIX + "GetMetricData":
            return self.aws_error(400, "UnknownOperationException", "unsupported operation " + target)
        if self.injected_fault():
            return
        answer, problem = self.get_metric_data(request)
        if problem is not None:
            return self.aws_error(400, "InvalidParameterValue", problem)
        if self.fault == "result_error" and answer["MetricDataResults"]:
            answer["MetricDataResults"][0].update(
                {"StatusCode": "InternalError", "Timestamps": [], "Values": [],
                 "Messages": [{"Code": "InternalError",
                               "Value": "An internal error occurred, retry the request"}]})
        body = json.dumps(answer)
        if self.fault == "truncate":
            body = body[:len(body) // 2]
        self.state.count("cloudwatch_ok")
        self.reply(200, body, JSON_10)


def retained(start, period):
    """CloudWatch's retention: periods under a minute (high-resolution data) for 3 hours; a
    StartTime older than 15 days needs a period that is a multiple of 5 minutes, older than 63
    days of 1 hour, else no datapoints; nothing past 455 days."""
    age = time.time() - start
    if period < 60:
        return age <= 3 * 3600
    for max_age, step in ((15 * 86400, 60), (63 * 86400, 300), (455 * 86400, 3600)):
        if age <= max_age:
            return period % step == 0
    return False


def rounded_start(start, period):
    """StartTime as CloudWatch rounds it down: for periods under a minute (high resolution) to
    the period's division of the minute, else by its age, to 1 minute (up to 15 days), 5 minutes
    (up to 63 days) or 1 hour."""
    age = time.time() - start
    step = 60 if age <= 15 * 86400 else 300 if age <= 63 * 86400 else 3600
    return int(start) // min(step, period) * min(step, period)


def formula(spec, t, period):
    return spec["base"] + ((t // period) * spec["step"]) % spec["mod"]


def generator(conf, namespace, metric, dims, stat, period):
    """value(t) for a metric and statistic of the scenario, or None when it has none."""
    def same(entry):
        return (entry["namespace"], entry["metric"], entry.get("dimensions", {})) == \
            (namespace, metric, dims)
    for entry in conf.get("series", []):
        if same(entry) and entry["stat"] == stat:
            return lambda t, e=entry: formula(e["value"], t, period)
    for entry in conf.get("sampled", []):
        if same(entry):
            spec = json.dumps(entry, sort_keys=True)
            return lambda t, e=spec: sampled_stat(sampled_period(e, t, period), stat)
    for entry in conf.get("latency", []):
        if not same(entry):
            continue
        dist = statistics.NormalDist(math.log(entry["median"]), entry["sigma"])
        quantile = {"Minimum": 0.0001, "Maximum": 0.9999}.get(stat)
        if stat.startswith("p"):
            quantile = float(stat[1:]) / 100
        if stat == "SampleCount":
            return lambda t, e=entry: formula(e["count"], t, period)
        if stat == "Sum":  # SampleCount times the log-normal's mean
            mean = entry["median"] * math.exp(entry["sigma"] ** 2 / 2)
            return lambda t, e=entry, m=mean: formula(e["count"], t, period) * m
        if stat.startswith("PR(:") and stat.endswith(")"):
            rank = 100 * dist.cdf(math.log(float(stat[4:-1])))
            return lambda t, r=rank: r
        if quantile is not None:
            return lambda t, q=quantile: math.exp(dist.inv_cdf(q))
    return None


@functools.lru_cache(maxsize=4096)
def sampled_minute(spec, t):
    """The values of the minute starting at t, sorted: drawn from a stream seeded by the
    scenario's seed and t, so a test computes the same values (its truth) with this function."""
    conf = json.loads(spec)
    if not conf.get("start", t) <= t < conf.get("end", t + 1):
        return ()
    rng = random.Random("%s:%d" % (conf["seed"], t - conf.get("origin", 0)))
    lo, hi = conf["rate"]
    slow = next((i for i in conf.get("incidents", []) if i["start"] <= t < i["end"]), None)
    values = []
    for _ in range(rng.randint(lo, hi)):
        mode = slow if slow is not None and rng.random() < slow["share"] else conf
        values.append(rng.lognormvariate(math.log(mode["median"]), mode["sigma"]))
    return tuple(sorted(values))


@functools.lru_cache(maxsize=1024)
def sampled_period(spec, t, period):
    """Every drawn value of [t, t + period), sorted."""
    if period == 60:
        return sampled_minute(spec, t)
    return tuple(sorted(v for m in range(t, t + period, 60) for v in sampled_minute(spec, m)))


def sampled_stat(values, stat):
    """One CloudWatch statistic of a set of values (None when the set is empty)."""
    n = len(values)
    if n == 0:
        return None
    if stat == "SampleCount":
        return float(n)
    if stat == "Sum":
        return math.fsum(values)
    if stat in ("Minimum", "Maximum"):
        return values[0] if stat == "Minimum" else values[-1]
    if stat.startswith("PR(:") and stat.endswith(")"):
        return 100.0 * bisect.bisect_right(values, float(stat[4:-1])) / n
    if stat.startswith("p"):  # nearest rank: the ceil(p/100 n)-th value
        return values[max(1, math.ceil(float(stat[1:]) / 100 * n - 1e-9)) - 1]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario")
    args = parser.parse_args()
    scenario = {}
    if args.scenario:
        with open(args.scenario) as f:
            scenario = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(scenario)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
