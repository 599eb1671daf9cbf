#!/usr/bin/env python3
"""The schemas in docs/ are valid JSON Schema (2020-12) to an independent validator (Python's
jsonschema), and the files aicbench ships or writes conform to them: the shipped suites and
acceptance specs, the model presets, the result files tests/data/result-*.json and the procurement
fixtures (specs/procurement/fixtures/*.json, tests/data/procurement/*/*.json), the example
candidates file and the weight profiles (the candidates schema's #/$defs/profile). Exit 77
(ctest: skipped) when jsonschema is not installed."""
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed: skipped")
    sys.exit(77)

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
checks = {
    "docs/suite-format.schema.json": sorted(glob.glob(os.path.join(root, "specs/suites/*.json"))),
    "docs/result-format.schema.json": sorted(glob.glob(os.path.join(root, "tests/data/result-*.json"))
                                             + glob.glob(os.path.join(root, "specs/procurement/fixtures/*.json"))
                                             + glob.glob(os.path.join(root, "tests/data/sizing/*.json"))
                                             + glob.glob(os.path.join(root, "tests/data/procurement/*/*.json"))),
    "docs/acceptance-spec.schema.json": sorted(glob.glob(os.path.join(root, "specs/acceptance/*.json"))),
    "docs/model-spec.schema.json": sorted(glob.glob(os.path.join(root, "specs/models/*.json"))
                                          + glob.glob(os.path.join(root, "tests/data/sizing/models/*.json"))),
    "docs/candidates.schema.json": sorted(glob.glob(os.path.join(root, "specs/procurement/*.json"))),
    "docs/candidates.schema.json#/$defs/profile": sorted(glob.glob(os.path.join(root, "specs/procurement/profiles/*.json"))),
}
failures = 0
for schema_path, documents in checks.items():
    file_name, _, entry = schema_path.partition("#")
    with open(os.path.join(root, file_name)) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    if entry:  # one definition of the file, as its own schema
        schema = {"$defs": schema["$defs"], "$ref": "#" + entry}
    validator = jsonschema.Draft202012Validator(schema)
    for path in documents:
        with open(path) as f:
            errors = list(validator.iter_errors(json.load(f)))
        for error in errors:
            print(f"{os.path.relpath(path, root)}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
        failures += len(errors)
        print(f"{os.path.relpath(path, root)}: {'ok' if not errors else 'INVALID'} against {schema_path}")
sys.exit(1 if failures else 0)
