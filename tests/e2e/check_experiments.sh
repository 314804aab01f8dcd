#!/usr/bin/env bash
# Every spec under experiments/ passes `runexp check`, the plan header
# and table are printed, and a bad spec exits 2 with file:line:col errors
# on stderr and nothing on stdout.
set -euo pipefail
: "${RUNEXP_BIN:?}" "${RUNEXP_SOURCE_DIR:?}"
cd "$RUNEXP_SOURCE_DIR"
n=0
for f in experiments/*.yaml; do
    out=$("$RUNEXP_BIN" check "$f") || { echo "runexp check $f failed" >&2; exit 1; }
    # (lines are taken with here-strings, not pipes into grep -q: under
    # pipefail a writer killed by SIGPIPE would fail the test)
    grep -Eq "^$f: [0-9]+ trials? \([0-9]+ sweep points? x [0-9]+ seeds?\)\$" <<<"$(sed -n 1p <<<"$out")" ||
        { echo "$f: unexpected plan header: $(sed -n 1p <<<"$out")" >&2; exit 1; }
    n=$((n + 1))
done
[ "$n" -ge 2 ] || { echo "expected at least the two lab specs in experiments/" >&2; exit 1; }

# The two labs, exactly: 6 x 10 and 1 x 10 trials.
out=$("$RUNEXP_BIN" check experiments/xor_sweep.yaml)
[ "$(sed -n 1p <<<"$out")" = "experiments/xor_sweep.yaml: 60 trials (6 sweep points x 10 seeds)" ]
[ "$(sed -n 2p <<<"$out")" = "trial  seed  hidden  key" ]
# the table (the memory estimate follows it)
[ "$(sed '/^memory estimate:/,$d' <<<"$out" | wc -l)" -eq 62 ]
line63=$(sed -n 63p <<<"$out")
[[ "$line63" == "memory estimate: "* ]]
# trial 59: seed 9, hidden 6
grep -Eq '^ *59 +9 +6 +[0-9a-f]{16}$' <<<"$(sed -n 62p <<<"$out")"
out=$("$RUNEXP_BIN" check experiments/digits_perceptron.yaml)
[ "$(sed -n 1p <<<"$out")" = "experiments/digits_perceptron.yaml: 10 trials (1 sweep point x 10 seeds)" ]
# the key of trial 0 (the full SHA-256 is checked in tests/unit/test_sweep.c)
grep -Eq '^ +0 +0  0942c5a44e4e7694$' <<<"$(sed -n 3p <<<"$out")"

# Several files at once, one of them bad: exit 2, the good plan still printed,
# every diagnostic on stderr as file:line:col: error: ...
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set +e
"$RUNEXP_BIN" check experiments/digits_perceptron.yaml tests/specs/bad/multiple_errors.yaml \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "bad spec: exit $rc, want 2" >&2; exit 1; }
grep -q '^experiments/digits_perceptron.yaml: 10 trials' "$tmp/out"
[ "$(wc -l < "$tmp/err")" -eq 4 ]
grep -q '^tests/specs/bad/multiple_errors.yaml:6:15: error: model.layers\[0\].units must be between 1 and 65536, got 0$' "$tmp/err"

# No spec: usage error.
set +e
"$RUNEXP_BIN" check >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ]
echo "checked $n specs"
