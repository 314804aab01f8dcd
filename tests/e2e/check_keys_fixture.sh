#!/usr/bin/env bash
# Trial keys are a contract: every shipped experiment must keep the keys recorded in
# tests/fixtures/shipped_trials.txt (from the build before the option table applied values).
# Part 1 compares the keys `runexp check` prints (their first 16 hex digits) for each spec, as
# a sorted set per experiment. Part 2, only on a CPU with the recording machine's flags (result
# hashes depend on AVX-512/FMA code paths), runs every spec and compares the full keys, statuses
# and result hashes stored in the database.
set -euo pipefail
: "${RUNEXP_BIN:?}" "${RUNEXP_SOURCE_DIR:?}"
fixture="${RUNEXP_FIXTURES:-$RUNEXP_SOURCE_DIR/tests/fixtures}/shipped_trials.txt"
cd "$RUNEXP_SOURCE_DIR"
work=$(mktemp -d "${TMPDIR:-/tmp}/runexp-keys.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

specs=(experiments/*.yaml tests/specs/e2e/xor_diverge.yaml tests/specs/e2e/xor_lab.yaml
       tests/specs/e2e/xor_small.yaml)
grep -v '^#' "$fixture" > "$work/want_all"
names=()
for f in "${specs[@]}"; do
    name=$(sed -n 's/^name: *\([A-Za-z0-9_]*\).*/\1/p' "$f")
    [ -n "$name" ] || fail "$f has no top-level name"
    names+=("$name")
    awk -v n="$name" '$1 == n { print substr($2, 1, 16) }' "$work/want_all" | sort > "$work/want"
    [ -s "$work/want" ] || fail "$name ($f) is not in the fixture"
    "$RUNEXP_BIN" check "$f" > "$work/check" || fail "runexp check $f failed"
    # Lines 3.. of the plan: trial, seed, sweep values..., key (last field);
    # the memory estimate follows the table.
    awk 'NR > 2 && /^memory estimate:/ { exit } NR > 2 { print $NF }' "$work/check" | sort > "$work/got"
    if ! diff -u "$work/want" "$work/got" > "$work/diff"; then
        cat "$work/diff" >&2
        fail "$f: trial keys differ from the fixture"
    fi
done
# Every experiment of the fixture was checked.
for n in $(awk '{ print $1 }' "$work/want_all" | sort -u); do
    found=0
    for m in "${names[@]}"; do [ "$m" != "$n" ] || found=1; done
    [ "$found" -eq 1 ] || fail "fixture experiment $n has no spec here"
done
echo "trial keys: ${#specs[@]} specs, $(wc -l < "$work/want_all") trials as recorded"

# Part 2: result hashes, only where they can be equal.
want_flags=$(sed -n 's/^# cpu-flags: //p' "$fixture")
have=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
for fl in $want_flags; do
    case " ${have#*:} " in
    *" $fl "*) ;;
    *) echo "result hashes: skipped (this CPU lacks $fl; the fixture was recorded with: $want_flags)"
       exit 0 ;;
    esac
done
# Any build type: the fixture was recorded with a Release build, and Debug
# (-O0) and sanitizer builds must give the same bits (the sums run in one
# order with explicit fmaf, and -std=c11 stops GCC from contracting a*b+c).
db="$work/r.db"
for f in "${specs[@]}"; do
    set +e
    "$RUNEXP_BIN" --db "$db" -q "$f" > "$work/run.out" 2> "$work/run.err"
    rc=$?
    set -e
    # 1 = some trial diverged (xor_diverge does, on purpose)
    [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || { cat "$work/run.err" >&2; fail "runexp $f: exit $rc"; }
done
sqlite3 -batch -noheader -separator ' ' "$db" \
    "SELECT e.name, t.trial_key, t.status, coalesce(t.result_hash, '-') FROM trials t
     JOIN experiments e ON e.id = t.experiment_id ORDER BY 1, 2" > "$work/got_all"
sort "$work/want_all" > "$work/want_sorted"
if ! diff -u "$work/want_sorted" "$work/got_all" > "$work/diff"; then
    head -40 "$work/diff" >&2
    fail "stored keys, statuses or result hashes differ from the fixture"
fi
echo "result hashes: $(wc -l < "$work/got_all") trials equal to the fixture"
