#!/usr/bin/env python3
"""The credential chain (cw_tool creds) against the stand-in on 127.0.0.1: environment keys,
shared credentials and config files with a profile, the ECS endpoint (FULL_URI with the token
literal and from a file, a wrong token), IMDSv2 (credentials and region), and refresh of
short-lived ECS credentials while signed GetMetricData requests keep being accepted by the
stand-in's botocore check. Every run sets the endpoint variables or AWS_EC2_METADATA_DISABLED,
so nothing leaves this machine; secrets and tokens must not appear in any output.

    test_creds_standin.py CW_TOOL STANDIN_PY
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request

STATIC_ID, STATIC_SECRET = "AKIDSTANDINSTATIC01", "s3cr3t/STATIC+key0000000000000000000000000"
ECS_TOKEN = "ecs-auth-t0ken-do-not-print"


class Standin:
    def __init__(self, script, scenario, tmp):
        path = os.path.join(tmp, "scenario-%d.json" % id(self))
        with open(path, "w") as f:
            json.dump(scenario, f)
        self.proc = subprocess.Popen([sys.executable, script, "--scenario", path],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = "http://127.0.0.1:%d" % self.port

    def stats(self):
        with urllib.request.urlopen(self.url + "/_standin/stats", timeout=5) as r:
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(tool, home, env, *args):
    """cw_tool with only the given environment (plus HOME and PATH): nothing leaks in."""
    full = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": home,
            "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials")}
    full.update(env)
    if "AWS_EC2_METADATA_SERVICE_ENDPOINT" not in full:
        full["AWS_EC2_METADATA_DISABLED"] = "true"
    p = subprocess.run([tool, "creds"] + list(args), env=full, capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def fields(line):
    return dict(part.split("=", 1) for part in line.split())


class Checker:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s %s" % (name, detail))

    def no_secrets(self, name, text, secrets):
        for s in secrets:
            self.check(name + " hides secrets", s not in text, "found a secret in output")


def test_env_and_files(c, tool, home, url):
    env = {"AWS_ACCESS_KEY_ID": STATIC_ID, "AWS_SECRET_ACCESS_KEY": STATIC_SECRET,
           "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_CLOUDWATCH": url}
    rc, out, err = run(tool, home, env, "--call")
    f = fields(out.strip()) if rc == 0 else {}
    c.check("env", rc == 0 and f["source"] == "env" and f["status"] == "200", out + err)
    c.no_secrets("env", out + err, [STATIC_SECRET])

    wrong = dict(env, AWS_SECRET_ACCESS_KEY="wrong" + STATIC_SECRET[5:])
    rc, out, err = run(tool, home, wrong, "--call")
    c.check("env wrong secret rejected", rc == 0 and fields(out.strip())["status"] == "403", out + err)

    creds = os.path.join(home, "credentials")
    with open(creds, "w") as f:
        f.write("[default]\naws_access_key_id = WRONG\naws_secret_access_key = x\n\n"
                "[team]\naws_access_key_id=%s\naws_secret_access_key = %s\n" % (STATIC_ID, STATIC_SECRET))
    config = os.path.join(home, "config")
    with open(config, "w") as f:
        f.write("[profile team]\nregion = eu-west-1\n")
    files = {"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_CONFIG_FILE": config,
             "AWS_PROFILE": "team", "AWS_ENDPOINT_URL": url}
    rc, out, err = run(tool, home, files, "--call")
    f = fields(out.strip()) if rc == 0 else {}
    c.check("shared credentials file + profile + config region",
            rc == 0 and f["source"] == "shared-credentials-file" and f["status"] == "200", out + err)

    with open(creds, "w") as f:
        f.write("[team]\naws_access_key_id = %s\n" % STATIC_ID)
    rc, out, err = run(tool, home, files)
    c.check("partial profile is an error", rc == 1 and "aws_secret_access_key" in err, err)
    c.check("partial profile names the file", "shared credentials file [team]" in err, err)


def test_ecs(c, tool, home, standin_script, tmp):
    s = Standin(standin_script, {"static_credentials": [], "region": "eu-west-1",
                                 "ecs": {"path": "/v2/credentials/abc", "token": ECS_TOKEN,
                                         "ttl_s": 3}}, tmp)
    try:
        base = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": s.url + "/v2/credentials/abc",
                "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_CLOUDWATCH": s.url}
        rc, out, err = run(tool, home, dict(base, AWS_CONTAINER_AUTHORIZATION_TOKEN=ECS_TOKEN),
                           "--call")
        f = fields(out.strip()) if rc == 0 else {}
        c.check("ecs literal token", rc == 0 and f["source"] == "ecs" and f["token"] == "yes"
                and f["status"] == "200", out + err)

        token_file = os.path.join(tmp, "ecs-token")
        with open(token_file, "w") as fh:
            fh.write(ECS_TOKEN + "\n")
        rc, out, err = run(tool, home, dict(base, AWS_CONTAINER_AUTHORIZATION_TOKEN="ignored",
                                            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token_file))
        c.check("ecs token file wins", rc == 0 and fields(out.strip())["source"] == "ecs", out + err)

        rc, out, err = run(tool, home, dict(base, AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong-" + ECS_TOKEN))
        c.check("ecs wrong token is an error", rc == 1 and "HTTP 401" in err, err)
        c.no_secrets("ecs wrong token", out + err, [ECS_TOKEN])

        rc, out, err = run(tool, home, dict(base, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1/creds"))
        c.check("ecs full uri off loopback refused", rc == 1 and "FULL_URI" in err, err)

        # Credentials live 3 s and are refreshed 2 s early: 5 rounds over ~3.5 s need fresh ones.
        before = s.stats()["ecs"]
        rc, out, err = run(tool, home, dict(base, AWS_CONTAINER_AUTHORIZATION_TOKEN=ECS_TOKEN),
                           "--call", "--count", "6", "--interval-ms", "700", "--refresh-early", "2")
        rounds = [fields(l) for l in out.splitlines()]
        stats = s.stats()
        c.check("ecs refresh: every call accepted", rc == 0 and len(rounds) == 6
                and all(r["status"] == "200" for r in rounds), out + err)
        c.check("ecs refresh: new keys fetched", len({r["key_id"] for r in rounds}) >= 3
                and stats["ecs"] - before >= 3, json.dumps(stats))
        c.check("ecs refresh: nothing expired", "ExpiredTokenException" not in stats["rejected"],
                json.dumps(stats))
        c.no_secrets("ecs refresh", out + err, [ECS_TOKEN])
    finally:
        s.stop()


def test_imds(c, tool, home, standin_script, tmp):
    s = Standin(standin_script, {"region": "ap-southeast-2", "imds": {"role": "sw-role"}}, tmp)
    try:
        env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": s.url, "AWS_ENDPOINT_URL": s.url}
        rc, out, err = run(tool, home, env, "--call")
        f = fields(out.strip()) if rc == 0 else {}
        stats = s.stats()
        c.check("imds credentials and region", rc == 0 and f["source"] == "imds"
                and f["status"] == "200", out + err)
        c.check("imds used session tokens", stats["imds_token"] >= 2 and stats["imds_creds"] == 1
                and stats["imds_region"] == 1 and not stats["rejected"], json.dumps(stats))

        rc, out, err = run(tool, home, dict(env, AWS_EC2_METADATA_DISABLED="true"))
        c.check("imds disabled: no credentials", rc == 1 and "no AWS credentials" in err, err)
        c.check("imds disabled: no request", s.stats()["imds_token"] == stats["imds_token"])

        with socket.socket() as closed:  # a port nothing listens on once closed
            closed.bind(("127.0.0.1", 0))
            gone = "http://127.0.0.1:%d" % closed.getsockname()[1]
        rc, out, err = run(tool, home, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": gone,
                                        "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": s.url})
        c.check("imds unreachable: the chain's message, not the connection's",
                rc == 1 and "no AWS credentials found (tried: env, shared files (profile "
                "default), ECS, IMDS)" in err, err)
    finally:
        s.stop()


def main():
    tool, standin_script = sys.argv[1], sys.argv[2]
    c = Checker()
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        s = Standin(standin_script, {"region": "eu-west-1", "static_credentials": [
            {"AccessKeyId": STATIC_ID, "SecretAccessKey": STATIC_SECRET}]}, tmp)
        try:
            test_env_and_files(c, tool, home, s.url)
        finally:
            s.stop()
        test_ecs(c, tool, home, standin_script, tmp)
        test_imds(c, tool, home, standin_script, tmp)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
