#!/usr/bin/env bash
# Memory: a wide CSV (20 000 columns) trains in memory linear in the model;
# the estimate `runexp check` prints is not far below the peak RSS of the
# run; a plan over the budget (two hidden layers of 30 000 units) is refused
# with exit 2 and the estimate before the database is created or touched;
# --max-memory sets the budget and rejects a bad SIZE.
source "$(dirname "$0")/run_common.sh"
: "${RUNEXP_PEAK_RSS:?RUNEXP_PEAK_RSS must name the peak_rss helper}"

# peak RUN_ARGS...: runexp under peak_rss; $rc, $rss (KiB), out.txt, err.txt.
peak() {
    set +e
    "$RUNEXP_PEAK_RSS" rss.txt "$RUNEXP_BIN" "$@" >out.txt 2>err.txt
    rc=$?
    set -e
    rss=$(cat rss.txt)
}
# estimate SPEC -j N: the "in all" bytes of runexp check.
estimate() {
    "$RUNEXP_BIN" check "$@" >check.txt || fail "check $*"
    sed -n 's/^  in all: .* (\([0-9]*\) bytes)$/\1/p' check.txt
}

# Under AddressSanitizer the resident memory includes its shadow and its
# quarantine of freed blocks: the RSS comparisons are skipped there.
libs=$(ldd "$RUNEXP_BIN" 2>/dev/null || true)
asan=0
if [[ "$libs" == *libasan* ]]; then asan=1; fi

# ---- a 20 000-column CSV, 8 rows -------------------------------------------
awk 'BEGIN {
    n = 20000
    for (i = 0; i < n; i++) printf "f%d,", i
    print "y"
    for (r = 0; r < 8; r++) {
        for (i = 0; i < n; i++) printf "%.3f,", ((r * 7919 + i * 104729) % 1000) / 1000
        print r % 2
    }
}' >wide.csv
wide_spec() { # NAME UNITS
    cat >"$1.yaml" <<EOF
name: $1
data:
  source: {csv: wide.csv, label: y}
  split: {test: 0.25}
model:
  layers:
    - {units: $2, activation: relu}
    - {units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  optimizer: adam
  epochs: 2
seeds: 1
EOF
}
wide_spec wide4 4
wide_spec wide256 256

# 80 014 parameters: 16 bytes each in the model is 1.3 MB, one batch of
# inputs 2.6 MB, the data below 1 MB; the model used to allocate a
# 20 000 x 20 000 scratch matrix (1.6 GB).
peak run -q -j 1 --db "$DB" wide4.yaml
expect_rc 0 "wide CSV, 4 hidden units"
[ "$asan" = 1 ] || [ "$rss" -lt 102400 ] ||
    fail "wide CSV, 4 hidden units: peak RSS $rss KiB, want < 100 MiB"
expect_eq "$(q "SELECT count(*) FROM trials WHERE status = 'done'")" 1 "wide CSV trial done"

# The estimate is not absurdly low (nor absurdly high): against the peak RSS
# of a run whose memory is mostly the trial's (5.1 M parameters).
est=$(estimate -j 1 wide256.yaml)
[ -n "$est" ] || { cat check.txt >&2; fail "no estimate in check's output"; }
peak run -q -j 1 --db "$WORK/w256.db" wide256.yaml
expect_rc 0 "wide CSV, 256 hidden units"
peak_bytes=$((rss * 1024))
if [ "$asan" = 0 ]; then
    [ "$est" -ge $((peak_bytes / 2)) ] || fail "estimate $est bytes < half the peak RSS $peak_bytes"
    [ "$est" -le $((peak_bytes * 4)) ] || fail "estimate $est bytes > 4x the peak RSS $peak_bytes"
fi

# ---- refusal over the budget -------------------------------------------------
cat >big.yaml <<'EOF'
name: big
data:
  source: xor
model:
  layers:
    - {units: 30000, activation: relu}
    - {units: 30000, activation: relu}
    - {units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  optimizer: adam
  epochs: 1
seeds: 64
EOF
# 900 M parameters: 20 bytes each (model + final weights) is 16.8 GiB a trial.
est=$(estimate -j 1 big.yaml)
[ "$est" -ge 18000000000 ] && [ "$est" -le 19000000000 ] || fail "2 x 30000 estimate: $est bytes"
est64=$(estimate -j 64 big.yaml)
[ "$est64" -ge $((64 * 18000000000)) ] || fail "64 trials at once: $est64 bytes"
check_out=$(cat check.txt)
[[ "$check_out" == *"run would refuse this plan"* ]] || fail "check does not say run would refuse"

# A runexp that got past the budget would try to allocate 17 GiB per trial:
# cap its address space so that it fails instead (not under ASan, which
# reserves terabytes of shadow memory).
capped() {
    if [ "$asan" = 1 ]; then "$@"; else (ulimit -v 4194304 && "$@"); fi
}
# refused: exit 2, the estimate and the memory available in the message
refused() { # WHAT: checks the last run
    expect_rc 2 "$1"
    local e
    e=$(cat err.txt)
    [[ "$e" == *"runexp: error: the plan needs about "*" of memory"* ]] || { show; fail "$1: message"; }
    [[ "$e" == *"nothing was run"* ]] || { show; fail "$1: message"; }
    [[ "$e" == *"--max-memory SIZE"* ]] || { show; fail "$1: hint"; }
}
# the machine's memory: 64 trials at once need over 1 TiB
set +e
capped "$RUNEXP_BIN" run -j 64 --db "$WORK/new.db" big.yaml >out.txt 2>err.txt
rc=$?
set -e
refused "over the available memory"
[[ "$(cat err.txt)" == *"of the memory available ("*")"* ]] || { show; fail "available memory named"; }
[ ! -e "$WORK/new.db" ] && [ ! -e "$WORK/new.db.lock" ] && [ ! -e "$WORK/new.db-wal" ] ||
    fail "a refused run created the database"
# a budget below one trial, -j 1
set +e
capped "$RUNEXP_BIN" run -j 1 --max-memory 2G --db "$WORK/new.db" big.yaml >out.txt 2>err.txt
rc=$?
set -e
refused "over --max-memory"
"$RUNEXP_BIN" check -j 1 big.yaml >check1.txt
want=$(sed -n 's/^  in all: \(.*\) (.*$/\1/p' check1.txt)
[[ "$(cat err.txt)" == *"needs about $want of memory"* ]] || { show; fail "estimate '$want' not in message"; }
[[ "$(cat err.txt)" == *"more than the 2.0 GiB of the budget set with --max-memory"* ]] ||
    { show; fail "budget not in message"; }
[ ! -e "$WORK/new.db" ] || fail "a refused run created the database"

# an existing database is left exactly as it was
run run -q --db "$DB" "$SPECS/xor_small.yaml"
expect_rc 0 "xor_small"
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
before=$(sha256sum "$DB" | cut -d' ' -f1)
dump_before=$(sqlite3 "$DB" .dump)
set +e
capped "$RUNEXP_BIN" run -j 1 --max-memory 1G --db "$DB" big.yaml >out.txt 2>err.txt
rc=$?
set -e
refused "existing database"
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$before" "database file after a refused run"
expect_eq "$(sqlite3 "$DB" .dump)" "$dump_before" "database contents after a refused run"
[ ! -s "$DB-wal" ] || fail "a refused run wrote the WAL"

# ---- --max-memory -------------------------------------------------------------
# xor_small needs about 10 MiB: 1M refuses it, 64M and 1.5G run it.
run run -q -j 2 --max-memory 1M --db "$WORK/x.db" "$SPECS/xor_small.yaml"
refused "xor_small under 1M"
[ ! -e "$WORK/x.db" ] || fail "refused run created x.db"
run run -q -j 2 --max-memory 64M --db "$WORK/x.db" "$SPECS/xor_small.yaml"
expect_rc 0 "xor_small under 64M"
run run -q -j 2 --max-memory=1.5G --fresh --db "$WORK/x.db" "$SPECS/xor_small.yaml"
expect_rc 0 "xor_small under --max-memory=1.5G"
run run -q --max-memory 67108864 --db "$WORK/x.db" "$SPECS/xor_small.yaml"
expect_rc 0 "xor_small under 67108864 bytes"
for bad in 12X 0 -5 1.5 "" 4GB5 1e9; do
    run run -q --max-memory "$bad" --db "$WORK/y.db" "$SPECS/xor_small.yaml"
    expect_rc 2 "--max-memory '$bad'"
    [[ "$(cat err.txt)" == *"--max-memory needs a size such as 512M, 4G, 1.5G or a number of bytes, got '$bad'"* ]] ||
        { show; fail "--max-memory '$bad': message"; }
    [ ! -e "$WORK/y.db" ] || fail "--max-memory '$bad' created the database"
done
run run -q --db "$WORK/y.db" "$SPECS/xor_small.yaml" --max-memory
expect_rc 2 "--max-memory without a value"
run check --max-memory 12X "$SPECS/xor_small.yaml"
expect_rc 2 "check --max-memory 12X"
run check --max-memory 1M -j 2 "$SPECS/xor_small.yaml"
expect_rc 0 "check under a small budget"
[[ "$(cat out.txt)" == *"budget: 1.0 MiB (--max-memory); run would refuse this plan"* ]] ||
    { show; fail "check with --max-memory"; }
echo "run_memory: ok (2 x 30000 units: $want per trial)"
