#!/usr/bin/env python3
"""Each acceptance spec (specs/acceptance/*.json) lists, in suite.benchmarks, exactly the benchmarks
its suite expands to on its backend, at the suite's current version: what `aicbench list --suite`
prints. The reports-only build cannot expand a suite (that needs the benchmark registry), so the
spec carries the list, and this check, run with the full binary, keeps the two from drifting.

usage: check_acceptance_suite.py AICBENCH_BINARY"""
import glob
import json
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = sys.argv[1]
env = dict(os.environ, AICBENCH_SPECS=os.path.join(root, "specs"))


def expansion(suite):
    """{backend: [benchmark names]} from `aicbench list --suite SUITE`."""
    out = subprocess.run([binary, "list", "--suite", suite], env=env, check=True, capture_output=True, text=True).stdout
    backends, current = {}, None
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("   ") and " backend" in line:
            current = line.split()[0]
            backends[current] = []
        elif line.startswith("    ") and current:
            # "    yes  NAME" or "    no   NAME  (why not here)"
            backends[current].append(line.split()[1])
    return backends


failures = 0
for path in sorted(glob.glob(os.path.join(root, "specs/acceptance/*.json"))):
    with open(path) as f:
        spec = json.load(f)
    suite, backend = spec["suite"]["name"], spec["sku"]["backend"]
    with open(os.path.join(root, "specs/suites", suite + ".json")) as f:
        version = json.load(f)["version"]
    expected = expansion(suite).get(backend, [])
    listed = spec["suite"]["benchmarks"]
    name = os.path.relpath(path, root)
    if spec["suite"]["version"] != version:
        print(f"{name}: suite.version is {spec['suite']['version']}, but specs/suites/{suite}.json is version {version}")
        failures += 1
    if sorted(listed) != sorted(expected):
        print(f"{name}: suite.benchmarks differs from 'aicbench list --suite {suite}' on {backend}:")
        for missing in sorted(set(expected) - set(listed)):
            print(f"  not listed: {missing}")
        for extra in sorted(set(listed) - set(expected)):
            print(f"  not in the suite: {extra}")
        failures += 1
    else:
        print(f"{name}: the {len(listed)} benchmarks of suite {suite} v{version} on {backend}: ok")
sys.exit(1 if failures else 0)
