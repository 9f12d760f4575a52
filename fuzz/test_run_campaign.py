#!/usr/bin/env python3
"""fuzz/run-campaign on copies of two corpora for 2 s each: it exits 0, reports every target
with its executions and merged count, keeps every seed, and the corpus grows by exactly the
merged count. A crashing input (the base64 target's corpus holds none) would make it exit 1.

Usage: test_run_campaign.py RUN_CAMPAIGN BUILD_DIR CORPUS_ROOT
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TARGETS = ["base64", "http_query"]


def main():
    script, build, corpus_root = sys.argv[1:4]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus")
        before = {}
        for t in TARGETS:
            shutil.copytree(os.path.join(corpus_root, t), os.path.join(corpus, t))
            before[t] = set(os.listdir(os.path.join(corpus, t)))
        p = subprocess.run([script, "-b", build, "-t", "2", "-c", corpus,
                            "-o", os.path.join(tmp, "out")] + TARGETS,
                           capture_output=True, text=True, timeout=600)
        print(p.stdout, p.stderr)
        if p.returncode != 0:
            failures.append(f"exit {p.returncode}")
        for t in TARGETS:
            m = re.search(rf"^{t}\s+(\d+)\s+(\d+)\s+\+(\d+)\s+ok$", p.stdout, re.M)
            if not m:
                failures.append(f"no ok line for {t}")
                continue
            after = set(os.listdir(os.path.join(corpus, t)))
            if not before[t] <= after:
                failures.append(f"{t}: seeds removed: {sorted(before[t] - after)[:5]}")
            if int(m.group(1)) == 0:
                failures.append(f"{t}: no executions")
            if len(after) - len(before[t]) != int(m.group(3)):
                failures.append(f"{t}: merged +{m.group(3)} but the corpus grew by "
                                f"{len(after) - len(before[t])}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
