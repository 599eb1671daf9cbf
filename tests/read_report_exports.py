#!/usr/bin/env python3
"""Reads aicbench's exports with independent consumers, for test_report_exports_cli.

  read_report_exports.py junit FILE TESTS FAILURES ERRORS SKIPPED
      parses FILE with junitparser (Debian's python3-junitparser) and checks the counts over all
      test cases; exit 77 (skipped) when junitparser is not installed.
  read_report_exports.py csv FILE ROWS COLUMN=VALUE...
      reads FILE with Python's csv module: ROWS data rows, each as long as the header, and in the
      first data row whose `name` column equals the name given by name=..., each COLUMN=VALUE.
"""
import sys


def check_junit(path, tests, failures, errors, skipped):
    try:
        import junitparser
    except ImportError:
        print("junitparser is not installed (apt-get install python3-junitparser)")
        return 77
    xml = junitparser.JUnitXml.fromfile(path)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in xml:
        for case in suite:
            counts["tests"] += 1
            for result in case.result:
                if isinstance(result, junitparser.Failure):
                    counts["failures"] += 1
                elif isinstance(result, junitparser.Error):
                    counts["errors"] += 1
                elif isinstance(result, junitparser.Skipped):
                    counts["skipped"] += 1
    expected = {"tests": tests, "failures": failures, "errors": errors, "skipped": skipped}
    # And the totals on <testsuites> must agree with the cases.
    totals = {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "skipped": xml.skipped}
    if totals != counts:
        print("junitparser: the totals say", totals, "but the cases are", counts)
        return 1
    if counts != expected:
        print("junitparser counted", counts, "expected", expected)
        return 1
    print("junitparser read", counts)
    return 0


def check_csv(path, rows, checks):
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    header, data = table[0], table[1:]
    if len(data) != rows or any(len(r) != len(header) for r in data):
        print("csv: %d rows (expected %d), lengths %s" % (len(data), rows, sorted({len(r) for r in table})))
        return 1
    wanted = dict(c.split("=", 1) for c in checks)
    row = next((r for r in data if r[header.index("name")] == wanted["name"]), None)
    if row is None:
        print("csv: no row named", wanted["name"])
        return 1
    for column, value in wanted.items():
        got = row[header.index(column)]
        if got != value.encode().decode("unicode_escape"):
            print("csv: %s is %r, expected %r" % (column, got, value))
            return 1
    print("csv read: %d rows of %d columns" % (len(data), len(header)))
    return 0


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "junit":
        sys.exit(check_junit(path, *map(int, sys.argv[3:7])))
    sys.exit(check_csv(path, int(sys.argv[3]), sys.argv[4:]))
