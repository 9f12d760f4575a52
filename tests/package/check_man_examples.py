"""The man pages' examples are valid (suite 'package').

usage: check_man_examples.py SLAWATCH CONFIG_PAGE.scd RULES_PAGE.scd PRODUCTION_RULES

Takes the code block of each page's EXAMPLE section and runs `slawatch check` on it: the
configuration example beside a copy of the shipped rules at the path it names
(rules/production.yaml), the rules example on its own.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def example(page):
    """The first ``` block after the '# EXAMPLE' heading of an scdoc page."""
    with open(page) as f:
        lines = f.read().splitlines()
    try:
        start = lines.index("# EXAMPLE")
        opening = lines.index("```", start)
        closing = lines.index("```", opening + 1)
    except ValueError:
        fail(page + " has no EXAMPLE section with a ``` block")
    return "\n".join(lines[opening + 1:closing]) + "\n"


def check(slawatch, path):
    p = subprocess.run([slawatch, "check", path], capture_output=True, text=True)
    print(p.stdout + p.stderr, end="")
    if p.returncode != 0:
        fail("slawatch check %s exited %d" % (path, p.returncode))


def main():
    if len(sys.argv) != 5:
        fail(__doc__)
    slawatch, config_page, rules_page, production = sys.argv[1:5]
    tmp = tempfile.mkdtemp(prefix="man-examples-")
    try:
        os.makedirs(os.path.join(tmp, "rules"))
        shutil.copy(production, os.path.join(tmp, "rules", "production.yaml"))
        for name, page in (("config.yaml", config_page), ("example-rules.yaml", rules_page)):
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(example(page))
            check(slawatch, path)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
