#!/usr/bin/env python3
"""Reads a JUnit XML file with a real consumer, Debian's python3-junitparser, and prints what it
found as JSON: {suite name: {"tests": n, "failures": n, "cases": {"classname name": failure message
or null}}}. Exit 77 (a skip, to the test that calls it) when junitparser is not installed.

usage: check_junit.py FILE.xml"""
import json
import sys

try:
    from junitparser import Failure, JUnitXml
except ImportError:
    print("python3-junitparser is not installed: skipped")
    sys.exit(77)

xml = JUnitXml.fromfile(sys.argv[1])
suites = xml if isinstance(xml, JUnitXml) else [xml]
found = {}
for suite in suites:
    cases = {}
    for case in suite:
        failures = [r for r in case.result if isinstance(r, Failure)]
        cases[f"{case.classname} {case.name}"] = failures[0].message if failures else None
    found[suite.name] = {"tests": suite.tests, "failures": suite.failures, "cases": cases}
print(json.dumps(found))
