#!/usr/bin/env python3
"""Re-runs the SQL cookbook of README.md against a fresh run of the two lab
specs and rewrites the output block that follows each query, so the numbers
shown are what the current binary produces.

usage: tools/update-cookbook.py [BUILD_DIR]   (default: build)
Needs the sqlite3 CLI. Only query blocks directly followed by an output
block (```sql ... ``` then ``` ... ```) are rewritten.
"""
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build")
runexp = os.path.join(build, "runexp")
readme = os.path.join(root, "README.md")

with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "runexp.db")
    subprocess.run([runexp, "--db", db, "-q",
                    os.path.join(root, "experiments/xor_sweep.yaml"),
                    os.path.join(root, "experiments/digits_perceptron.yaml")],
                   check=True, stdout=subprocess.DEVNULL)
    text = open(readme).read()
    body = r"((?:(?!```).)*?)"  # a fenced block's text, never another fence
    pat = re.compile(r"(```sql\n)" + body + r"(```\n```\n)" + body + r"(```\n)", re.S)

    def rerun(m):
        out = subprocess.run(["sqlite3", "-header", "-column", db, m.group(2)],
                             check=True, capture_output=True, text=True).stdout
        out = "\n".join(line.rstrip() for line in out.rstrip("\n").split("\n")) + "\n"
        return m.group(1) + m.group(2) + m.group(3) + out + m.group(5)

    new, n = pat.subn(rerun, text)
    open(readme, "w").write(new)
    print(f"update-cookbook: {n} outputs rewritten")
