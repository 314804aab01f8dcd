# Database faults that are not runexp's doing:
# - another program (an sqlite3 shell inside BEGIN IMMEDIATE) holds SQLite's
#   write lock: runexp waits its 5 s busy timeout, then says the database is
#   locked by another connection, not by a runexp, exits 2 and leaves the
#   database unchanged;
# - the disk fills up during a sweep: the run stops with exit 2, and the
#   summary counts exactly the trials the database holds (it used to count
#   the trial whose commit failed as done). A small tmpfs when this runs as
#   root with mount allowed (CI); otherwise the file-size limit (ulimit -f,
#   SIGXFSZ ignored), which fails the same writes with EFBIG.
source "$(dirname "$0")/run_common.sh"

# ---- a busy database -------------------------------------------------------
run --db "$DB" -q "$SPECS/xor_small.yaml"
expect_rc 0 "first run"
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)
dump_before=$(sqlite3 "$DB" .dump)

# The holder reads its commands from a FIFO kept open on descriptor 3, so it
# stays inside its transaction until the test closes the FIFO.
mkfifo holder.in
sqlite3 "$DB" <holder.in >holder.out 2>&1 &
BGPID=$!
exec 3>holder.in
printf '.timeout 5000\nBEGIN IMMEDIATE;\n' >&3
# Wait (at most 10 s) until the write lock is taken: a probe that does not
# wait is then refused.
held=
for _ in $(seq 1 1000); do
    kill -0 "$BGPID" 2>/dev/null || { cat holder.out >&2; fail "the sqlite3 holder died"; }
    probe=$(sqlite3 -cmd '.timeout 0' "$DB" 'BEGIN IMMEDIATE; ROLLBACK;' 2>&1 || true)
    case "$probe" in *locked*) held=1; break ;; esac
    sleep 0.01
done
[ -n "$held" ] || fail "the sqlite3 holder never took the write lock"

t0=$(date +%s%N)
run --db "$DB" "$SPECS/xor_small.yaml"
t1=$(date +%s%N)
waited=$(( (t1 - t0) / 1000000 ))
expect_rc 2 "runexp on a database locked by sqlite3"
grep -qxF "runexp: $DB is locked by another connection, not a runexp (for example an sqlite3 shell inside a transaction); runexp cannot tell which program holds it. Gave up after waiting 5 s: end that transaction and run again" err.txt ||
    { show; fail "no true message for a database locked by another program"; }
grep -q "another runexp" err.txt && { show; fail "the lock was blamed on a runexp"; }
[ "$waited" -ge 4500 ] && [ "$waited" -lt 30000 ] ||
    fail "runexp gave up after $waited ms, not after its 5 s busy timeout"

# The holder ends without committing; the database is as it was.
exec 3>&-
set +e; wait "$BGPID"; set -e
BGPID=
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "database after the busy refusal"
expect_eq "$(sqlite3 "$DB" .dump)" "$dump_before" "database content after the busy refusal"
# ...and works again once the other program is gone.
run --db "$DB" "$SPECS/xor_small.yaml"
expect_rc 0 "run after the holder ended"

# ---- a full disk -----------------------------------------------------------
# 300 short trials of about 20 KB each (history, weights, 100 x 100 grid,
# test predictions): about 6 MB, where 2 MB are free (the WAL, written first,
# holds more than that). The writer commits short trials in batches of up to
# 16 (about 320 KB): room for the plan and a few batches, not for all.
cat > many.yaml <<'EOF'
name: e2e_disk_full
data:
  source: xor
  augment: {repeat: 50, noise: 0.3}
  split: {test: 0.2, validation: 20}
model:
  layers:
    - {units: 4, activation: relu}
    - {units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  optimizer: adam
  epochs: 5
seeds: 300
EOF
small="$WORK/small"
mkdir "$small"
mounted=
if mount -t tmpfs -o size=2m tmpfs "$small" 2>/dev/null; then
    mounted=1
    trap 'umount "$small" 2>/dev/null || true; cleanup' EXIT
    how="tmpfs"
    set +e
    "$RUNEXP_BIN" --db "$small/full.db" -j 2 many.yaml >out.txt 2>err.txt
    rc=$?
    set -e
else
    how="file-size limit"
    set +e
    ( trap '' XFSZ; ulimit -f 2048; exec "$RUNEXP_BIN" --db "$small/full.db" -j 2 many.yaml ) \
        >out.txt 2>err.txt
    rc=$?
    set -e
fi
DB="$small/full.db"
expect_rc 2 "sweep that fills the disk ($how)"
if [ -n "$mounted" ]; then
    grep -q "database or disk is full" err.txt || { show; fail "no 'disk is full' message"; }
fi
summary=$(grep -o "ran [0-9]* trials in .* s: [0-9]* done" err.txt || true)
[ -n "$summary" ] || { show; fail "no summary line"; }
ran=$(echo "$summary" | sed 's/^ran \([0-9]*\) trials.*/\1/')
said_done=$(echo "$summary" | sed 's/.*: \([0-9]*\) done$/\1/')
committed=$(q "SELECT COUNT(*) FROM trials WHERE status = 'done'")
expect_eq "$said_done" "$committed" "trials the summary counts as done vs. committed ($how)"
expect_eq "$ran" "$committed" "trials the summary counts as run vs. committed ($how)"
[ "$committed" -ge 1 ] && [ "$committed" -lt 300 ] ||
    { show; fail "the disk did not fill mid-sweep ($committed trials committed)"; }
expect_eq "$(q 'PRAGMA integrity_check')" ok "integrity after the full disk"
# Each committed trial is whole.
expect_eq "$(q "SELECT COUNT(*) FROM trials t WHERE status = 'done' AND
               (SELECT COUNT(*) FROM epochs e WHERE e.trial_id = t.id) != 5")" 0 "whole histories"
# With room again, the same command runs the rest.
if [ -n "$mounted" ]; then
    mount -o remount,size=64m "$small"
    run --db "$DB" -q -j 2 many.yaml
else
    run --db "$DB" -q -j 2 many.yaml
fi
expect_rc 0 "rerun with room"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status = 'done'")" 300 "all trials after the rerun"
echo "ok ($how: $committed of 300 trials committed before the disk was full)"
