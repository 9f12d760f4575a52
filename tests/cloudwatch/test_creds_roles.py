#!/usr/bin/env python3
"""Assume-role profiles and credential_process (cw_tool creds) against the stand-in on
127.0.0.1, whose STS endpoint checks each AssumeRole's SigV4 signature with botocore and
issues keys its CloudWatch endpoint then accepts: role_arn with a source_profile holding keys,
a chain of two roles, credential_source EcsContainer, external_id / role_session_name / duration_seconds, refresh of
short-lived role credentials, credential_process alone and as a role's source; and the bad
cases: malformed STS XML, AccessDenied, expired credentials, a process that fails, prints no
JSON or the wrong Version, a role without a source. Secrets never appear in any output.

    test_creds_roles.py CW_TOOL STANDIN_PY
"""
import json
import os
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_creds_standin import STATIC_ID, STATIC_SECRET, Checker, Standin, fields, run  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/slawatch-reader"
ROLE2 = "arn:aws:iam::210987654321:role/slawatch-cross-account"
ROLE3 = "arn:aws:iam::123456789012:role/slawatch-from-task"
PROC_ID, PROC_SECRET = "AKIDSTANDINPROCESS1", "pr0cess/SECRET+key000000000000000000000000"


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def process_script(tmp, name, body):
    """An executable Python script that prints body's output (runs under /usr/bin/python3)."""
    path = os.path.join(tmp, name)
    write(path, "#!/usr/bin/python3\nimport json, sys, time\n" + body, 0o700)
    return path


class Setup:
    """The shared files of one case and the environment pointing at the stand-in."""

    def __init__(self, home, url, credentials, config, profile="app"):
        write(os.path.join(home, "credentials"), credentials)
        write(os.path.join(home, "config"), config)
        self.env = {"AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
                    "AWS_CONFIG_FILE": os.path.join(home, "config"), "AWS_PROFILE": profile,
                    "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_STS": url,
                    "AWS_ENDPOINT_URL_CLOUDWATCH": url}


def test_roles(c, tool, home, standin, tmp):
    s = Standin(standin, {"region": "eu-west-1",
                          "static_credentials": [{"AccessKeyId": STATIC_ID,
                                                  "SecretAccessKey": STATIC_SECRET}],
                          "sts": {"ttl_s": 3, "roles": {
                              ROLE: {"signers": [STATIC_ID]},
                              ROLE2: {"external_id": "ext-42"}, ROLE3: {}}},
                          "ecs": {"path": "/ecs-creds", "token": "ecs-t"}}, tmp)
    try:
        files = Setup(home, s.url, "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                      % (STATIC_ID, STATIC_SECRET),
                      "[profile app]\nrole_arn = %s\nsource_profile = src\n"
                      "role_session_name = sla-reader\nduration_seconds = 900\n\n"
                      "[profile cross]\nrole_arn = %s\nsource_profile = app\n"
                      "external_id = ext-42\n\n[profile task]\nrole_arn = %s\n"
                      "credential_source = EcsContainer\n" % (ROLE, ROLE2, ROLE3))
        rc, out, err = run(tool, home, files.env, "--call")
        f = fields(out.strip()) if rc == 0 else {}
        stats = s.stats()
        c.check("assume role: CloudWatch accepts the role's keys", rc == 0
                and f.get("source") == "assume-role" and f.get("status") == "200"
                and f.get("token") == "yes", out + err)
        c.check("assume role: one AssumeRole signed with the source profile's key",
                stats["sts"] == 1 and stats["sts_calls"][0]["signer"] == STATIC_ID
                and f.get("key_id") in stats["keys_used"], json.dumps(stats))
        call = stats["sts_calls"][0] if stats["sts_calls"] else {}
        c.check("assume role: session name and duration sent",
                call.get("session") == "sla-reader" and call.get("duration") == "900", json.dumps(call))
        c.no_secrets("assume role", out + err, [STATIC_SECRET])

        rc, out, err = run(tool, home, dict(files.env, AWS_PROFILE="cross"), "--call")
        f = fields(out.strip()) if rc == 0 else {}
        calls = s.stats()["sts_calls"][1:]
        c.check("role chain: second role assumed with the first role's keys", rc == 0
                and f.get("status") == "200" and len(calls) == 2
                and calls[0]["role"] == ROLE and calls[1]["role"] == ROLE2
                and calls[1]["signer"].startswith("ASIA") and calls[1]["external_id"] == "ext-42",
                out + err + json.dumps(calls))

        before = len(s.stats()["sts_calls"])
        rc, out, err = run(tool, home, dict(files.env, AWS_PROFILE="task",
                                            AWS_CONTAINER_CREDENTIALS_FULL_URI=s.url + "/ecs-creds",
                                            AWS_CONTAINER_AUTHORIZATION_TOKEN="ecs-t"), "--call")
        f = fields(out.strip()) if rc == 0 else {}
        stats = s.stats()
        calls = stats["sts_calls"][before:]
        c.check("credential_source EcsContainer signs AssumeRole", rc == 0
                and f.get("status") == "200" and f.get("source") == "assume-role"
                and len(calls) == 1 and calls[0]["role"] == ROLE3 and stats["ecs"] == 1
                and calls[0]["signer"].startswith("ASIA"), out + err + json.dumps(calls))

        # Keys live 3 s and are refreshed 2 s early: 6 rounds over 3.5 s need new ones.
        before = s.stats()["sts"]
        rc, out, err = run(tool, home, files.env, "--call", "--count", "6", "--interval-ms", "700",
                           "--refresh-early", "2")
        rounds = [fields(line) for line in out.splitlines()]
        stats = s.stats()
        c.check("role refresh: every call accepted", rc == 0 and len(rounds) == 6
                and all(r["status"] == "200" for r in rounds), out + err)
        c.check("role refresh: AssumeRole called again", stats["sts"] - before >= 3
                and len({r["key_id"] for r in rounds}) >= 3, json.dumps(stats["sts"]))
        c.check("role refresh: nothing expired", "ExpiredTokenException" not in stats["rejected"],
                json.dumps(stats["rejected"]))

        bad = Setup(home, s.url, "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (STATIC_ID, STATIC_SECRET),
                    "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/other\n"
                    "source_profile = src\n\n[profile orphan]\nrole_arn = %s\n\n"
                    "[profile loop]\nrole_arn = %s\nsource_profile = loop\n" % (ROLE, ROLE))
        rc, out, err = run(tool, home, bad.env)
        c.check("role denied: STS's error named", rc == 1 and "STS AssumeRole (profile app)" in err
                and "HTTP 403 AccessDenied" in err, err)
        rc, out, err = run(tool, home, dict(bad.env, AWS_PROFILE="orphan"))
        c.check("role without a source", rc == 1 and "profile orphan: role_arn needs "
                "source_profile or credential_source" in err, err)
        rc, out, err = run(tool, home, dict(bad.env, AWS_PROFILE="loop"))
        c.check("role looping on itself", rc == 1 and "profile loop: source_profile names "
                "itself" in err, err)
    finally:
        s.stop()


def test_sts_faults(c, tool, home, standin, tmp):
    for fault, want in (("malformed", "malformed XML"), ("expired", "expired at 2020-01-01T00:00:00Z")):
        s = Standin(standin, {"region": "eu-west-1",
                              "static_credentials": [{"AccessKeyId": STATIC_ID,
                                                      "SecretAccessKey": STATIC_SECRET}],
                              "sts": {"fault": fault, "roles": {ROLE: {}}}}, tmp)
        try:
            files = Setup(home, s.url, "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                          % (STATIC_ID, STATIC_SECRET),
                          "[profile app]\nrole_arn = %s\nsource_profile = src\n" % ROLE)
            rc, out, err = run(tool, home, files.env)
            c.check("sts %s: clear error naming the source" % fault, rc == 1 and want in err
                    and ("STS AssumeRole (profile app)" in err or "assume-role (profile app)" in err),
                    err)
            c.check("sts %s: nothing printed" % fault, out == "", out)
        finally:
            s.stop()


def test_process(c, tool, home, standin, tmp):
    s = Standin(standin, {"region": "eu-west-1",
                          "static_credentials": [{"AccessKeyId": PROC_ID,
                                                  "SecretAccessKey": PROC_SECRET}],
                          "sts": {"roles": {ROLE: {"signers": [PROC_ID]}}}}, tmp)
    runs = os.path.join(tmp, "process-runs")
    good = process_script(tmp, "good-helper", (
        "open(%r, 'a').write('run\\n')\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': %r, 'SecretAccessKey': %r,\n"
        "    'Expiration': time.strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', time.gmtime(time.time() + 3))}))\n")
        % (runs, PROC_ID, PROC_SECRET))
    try:
        files = Setup(home, s.url, "",
                      "[profile app]\ncredential_process = %s --profile 'a b'\n\n"
                      "[profile viarole]\nrole_arn = %s\nsource_profile = app\n" % (good, ROLE))
        rc, out, err = run(tool, home, files.env, "--call", "--count", "5", "--interval-ms", "700",
                           "--refresh-early", "2")
        rounds = [fields(line) for line in out.splitlines()]
        with open(runs) as f:
            n_runs = len(f.readlines())
        c.check("credential_process: CloudWatch accepts its keys", rc == 0 and len(rounds) == 5
                and all(r["source"] == "credential-process" and r["status"] == "200"
                        for r in rounds), out + err)
        c.check("credential_process: run again before its expiry", n_runs >= 2, str(n_runs))
        c.no_secrets("credential_process", out + err, [PROC_SECRET])

        rc, out, err = run(tool, home, dict(files.env, AWS_PROFILE="viarole"), "--call")
        f = fields(out.strip()) if rc == 0 else {}
        calls = s.stats()["sts_calls"]
        c.check("credential_process as a role's source", rc == 0 and f.get("status") == "200"
                and f.get("source") == "assume-role" and len(calls) == 1
                and calls[0]["signer"] == PROC_ID, out + err + json.dumps(calls))
    finally:
        s.stop()

    cases = [
        ("exit non-zero", "sys.stderr.write('token cache locked\\n'); sys.exit(3)\n",
         "credential_process (profile app): exited with status 3: token cache locked"),
        ("not JSON", "print('AccessKeyId=AKID')\n",
         "credential_process (profile app): the output is not JSON"),
        ("wrong Version", "print(json.dumps({'Version': 2, 'AccessKeyId': 'A', "
         "'SecretAccessKey': 'B'}))\n", "credential_process (profile app): the output's Version must be 1"),
        ("expired", "print(json.dumps({'Version': 1, 'AccessKeyId': 'A', 'SecretAccessKey': 'B', "
         "'Expiration': '2021-03-04T05:06:07Z'}))\n",
         "credential-process (profile app): the credentials it returned expired at 2021-03-04T05:06:07Z"),
    ]
    for name, body, want in cases:
        script = process_script(tmp, "helper-" + name.replace(" ", "-"), body)
        files = Setup(home, "http://127.0.0.1:9", "", "[profile app]\ncredential_process = %s\n" % script)
        rc, out, err = run(tool, home, files.env)
        c.check("credential_process %s: clear error" % name, rc == 1 and want in err, err)
    files = Setup(home, "http://127.0.0.1:9", "", "[profile app]\ncredential_process = 'unterminated\n")
    rc, out, err = run(tool, home, files.env)
    c.check("credential_process unterminated quote", rc == 1 and "unterminated quote" in err, err)


def main():
    tool, standin = sys.argv[1], sys.argv[2]
    c = Checker()
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        test_roles(c, tool, home, standin, tmp)
        test_sts_faults(c, tool, home, standin, tmp)
        test_process(c, tool, home, standin, tmp)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
