#!/usr/bin/env bash
# The committed JSON Schema must be exactly what `runexp schema` prints.
# Regenerate after changing the option table (src/spec/spec_options.c):
#   runexp schema > schemas/experiment.schema.json
set -euo pipefail
: "${RUNEXP_BIN:?}" "${RUNEXP_SOURCE_DIR:?}"
committed="$RUNEXP_SOURCE_DIR/schemas/experiment.schema.json"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$RUNEXP_BIN" schema > "$tmp"
if ! diff -u "$committed" "$tmp"; then
    echo "schemas/experiment.schema.json is stale: run 'runexp schema > schemas/experiment.schema.json'" >&2
    exit 1
fi
# Extra arguments are a usage error.
if "$RUNEXP_BIN" schema extra >/dev/null 2>&1; then
    echo "runexp schema accepted an extra argument" >&2
    exit 1
fi
echo "schema ok"
