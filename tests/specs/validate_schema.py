"""The committed JSON Schema is a valid draft 2020-12 schema and every spec in
experiments/ validates against it, checked by an independent validator
(python3-jsonschema). CTest runs it as e2e.check_schema_validator, which
skips (exit 77) where python3-jsonschema or PyYAML is not installed.

    /usr/bin/python3 tests/specs/validate_schema.py [SOURCE_DIR]

The schema cannot express the cross-field rules (units vs classes, loss vs
output activation, split sizes, sweep paths), so runexp check remains the
authority; the schema is for editors (yaml-language-server) and docs.
"""
import glob
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"SKIP: {e.name} not installed (apt-get install python3-jsonschema python3-yaml)")
    sys.exit(77)

os.chdir(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
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
