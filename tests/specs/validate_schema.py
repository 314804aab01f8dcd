"""Dev-time check (not run by CTest: it needs python3-jsonschema and PyYAML):
the committed JSON Schema is a valid draft 2020-12 schema and every spec in
experiments/ validates against it.

    python3 tests/specs/validate_schema.py      # from the repository root

The schema cannot express the cross-field rules (units vs classes, loss vs
output activation, split sizes, sweep paths), so runexp check remains the
authority; the schema is for editors (yaml-language-server) and docs.
"""
import glob
import json
import sys

import jsonschema
import yaml

schema = json.load(open("schemas/experiment.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failed = 0
for path in sorted(glob.glob("experiments/*.yaml")):
    errors = list(validator.iter_errors(yaml.safe_load(open(path, encoding="utf-8"))))
    for e in errors:
        print(f"{path}: {'/'.join(map(str, e.path))}: {e.message}")
    failed += bool(errors)
    print(f"{path}: {'invalid' if errors else 'valid'}")
sys.exit(1 if failed else 0)
