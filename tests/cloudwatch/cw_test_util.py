"""What the CloudWatch tests share: the ALB service's rules, the stand-in's scenario pieces
(count series, sampled latency), starting and stopping the stand-in, the ECS credentials that
point slawatch at it, and the truth's nearest-rank percentile."""
import importlib.util
import json
import math
import os
import subprocess
import sys
import time

DAY, HOUR = 86400, 3600
ALB = {"LoadBalancer": "app/web/0123456789abcdef"}
FN = {"FunctionName": "checkout"}
ELB = "AWS/ApplicationELB"
ZERO = {"base": 0, "step": 0, "mod": 1}
_ALB_SOURCE = "{cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/0123456789abcdef}}}"


def alb_sli(*kinds):
    """The `sli:` lines of the ALB service `web` reading each kind (requests, errors, ...)."""
    return "    sli:\n" + "".join("      %s: %s\n" % (k, _ALB_SOURCE) for k in kinds)


# web's requests, errors and latency from the ALB, judged by its P95 and P99 (the pinned tests).
ALB_LATENCY_RULES = ("version: 1\nbase_interval: 10s\nservices:\n  - name: web\n"
                     + alb_sli("requests", "errors", "latency")
                     + "objectives:\n  - name: p95\n    objective: p95 <= 500ms\n"
                       "  - name: p99\n    objective: p99 <= 1s\n")


def nearest_rank(values, p):
    """pXX of sorted values as CloudWatch gives it: the ceil(XX/100 N)-th."""
    return values[max(1, math.ceil(p / 100 * len(values) - 1e-9)) - 1]


def load_standin(path):
    """standin.py as a module (its sampled_period draws the same values it serves)."""
    spec = importlib.util.spec_from_file_location("standin", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def series(metric, value, dims=ALB, ns=ELB, stat="Sum"):
    """One generated series of the scenario: value is {base, step, mod} per period."""
    return {"namespace": ns, "metric": metric, "dimensions": dims, "stat": stat, "value": value}


def alb_counts(requests, target_5xx=ZERO, elb_5xx=ZERO):
    """The ALB's request count and its two 5xx counts."""
    return [series("RequestCount", requests), series("HTTPCode_Target_5XX_Count", target_5xx),
            series("HTTPCode_ELB_5XX_Count", elb_5xx)]


# The quiet ALB of the pinned tests: 150 ... 239 requests a minute, no errors.
QUIET_ALB = alb_counts({"base": 150, "step": 7, "mod": 90})


def sampled_alb(origin, incident_start, seed=18):
    """ALB latency drawn per minute by the stand-in (60 ... 240 values a minute, log-normal
    around 120 ms), with an incident hour from incident_start: 12 % of the requests from a slow
    mode around 900 ms."""
    return {"namespace": ELB, "metric": "TargetResponseTime", "dimensions": ALB, "seed": seed,
            "origin": origin, "median": 0.12, "sigma": 0.45, "rate": [60, 240],
            "incidents": [{"start": incident_start, "end": incident_start + HOUR,
                           "share": 0.12, "median": 0.9, "sigma": 0.25}]}


def scenario(token, cloudwatch, **ecs):
    """A stand-in scenario: CloudWatch's part and the ECS endpoint with its token."""
    return {"region": "eu-west-1", "ecs": dict({"path": "/creds", "token": token}, **ecs),
            "cloudwatch": cloudwatch}


def start_standin(standin_py, tmp, conf, name="scenario"):
    """The stand-in on a free port of 127.0.0.1 serving conf: (process, base URL)."""
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(conf, f)
    proc = subprocess.Popen([sys.executable, standin_py, "--scenario", path],
                            stdout=subprocess.PIPE, text=True)
    return proc, "http://127.0.0.1:%d" % int(proc.stdout.readline())


def stop_standin(proc):
    proc.terminate()
    proc.wait(timeout=10)


def ecs_env(base, tmp, token):
    """The variables that make slawatch take the stand-in's ECS credentials and nothing else."""
    return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token, "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
            "AWS_CONFIG_FILE": os.path.join(tmp, "none")}


def child_env(base, tmp, token):
    """A whole environment for a slawatch child: PATH, HOME in tmp and ecs_env."""
    return dict({"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": tmp},
                **ecs_env(base, tmp, token))


def set_ecs_env(base, tmp, token):
    """ecs_env in this process' environment (children inherit it), every other AWS source
    and endpoint removed."""
    os.environ.update(ecs_env(base, tmp, token))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
              "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH"):
        os.environ.pop(k, None)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def cloudwatch_config(base, timeout="30s", extra=""):
    """The configuration's cloudwatch section pointing at the stand-in."""
    return ("cloudwatch:\n  region: eu-west-1\n  endpoint_url: %s\n%s  timeout: %s\n"
            % (base, extra, timeout))
