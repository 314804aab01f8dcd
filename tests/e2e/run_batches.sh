# Many short trials: the writer commits their results in batches. What was
# reported is what the database holds:
# - kill -9 mid-sweep: every trial a progress line reported is done in the
#   database; every done trial has its whole history and no other trial has
#   any (no batch half-written); the database is intact; a rerun skips
#   exactly the done ones and runs the rest, once each.
# - SIGINT mid-sweep: the summary's counts (finished, interrupted, not
#   started) are exactly the database's.
source "$(dirname "$0")/run_common.sh"
N=4000 # trials
E=20   # epochs per trial: about a millisecond each, well under a batch's wait
cat > short.yaml <<EOF
name: e2e_short
data:
  source: xor
  augment: {repeat: 10, noise: 0.3}
  split: {test: 0.25}
model:
  layers:
    - {units: 3, activation: relu}
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: $E, batch_size: 8}
seeds: $((N / 2))
sweep:
  hidden: {path: "model.layers[0].units", values: [2, 3]}
EOF

done_at_least() { [ "$(db_count "SELECT COUNT(*) FROM trials WHERE status='done'")" -ge "$1" ]; }
# The ids of the trials a progress file reported (lines "trial k/N (id ID, ...").
reported_ids() { sed -n 's/^trial [0-9]*\/[0-9]* (id \([0-9]*\),.*/\1/p' "$1"; }

# ---- kill -9
start_bg kill9 --db "$DB" -j 2 short.yaml
wait_for 60 "100 trials done" done_at_least 100
kill -9 "$BGPID"
wait_bg
expect_eq "$(q 'PRAGMA integrity_check')" ok "integrity after kill -9"
n_done=$(q "SELECT COUNT(*) FROM trials WHERE status='done'")
[ "$n_done" -lt "$N" ] || fail "kill -9 came too late: all $N trials were done"
reported_ids kill9.err > reported.txt
# grep -c counts a last line cut short by the kill (no newline) too.
n_rep=$(grep -c '' reported.txt || true)
[ "$n_rep" -ge 1 ] || { cat kill9.err >&2; fail "no trial was reported before kill -9"; }
{
    echo "CREATE TEMP TABLE rep(id INTEGER PRIMARY KEY);"
    sed 's/.*/INSERT INTO rep VALUES (&);/' reported.txt
    echo "SELECT COUNT(*) FROM rep JOIN trials USING (id) WHERE status = 'done';"
} > reported.sql
expect_eq "$(sqlite3 -batch -noheader "$DB" < reported.sql)" "$n_rep" \
    "reported trials that are done in the database"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done' AND id NOT IN
               (SELECT trial_id FROM epochs GROUP BY trial_id HAVING COUNT(*) = $E)")" 0 \
    "done trials without their whole history"
expect_eq "$(q "SELECT COUNT(*) FROM epochs WHERE trial_id IN
               (SELECT id FROM trials WHERE status <> 'done')")" 0 \
    "history rows of trials that are not done"
expect_eq "$(q "SELECT COUNT(*) FROM metrics WHERE trial_id IN
               (SELECT id FROM trials WHERE status <> 'done')")" 0 \
    "metrics of trials that are not done"
run --db "$DB" -j 2 short.yaml
expect_rc 0 "rerun after kill -9"
grep -q "skipped $n_done trials already done" err.txt || { show; fail "rerun did not skip $n_done"; }
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done'")" "$N" "all done after kill -9"
expect_eq "$(q 'SELECT COUNT(*) FROM trials')" "$N" "no duplicate trials"
expect_eq "$(q 'SELECT COUNT(*) FROM epochs')" $((N * E)) "one history per trial"

# ---- SIGINT
rm -f "$DB" "$DB-wal" "$DB-shm"
start_bg sigint --db "$DB" -q -j 2 short.yaml
wait_for 60 "100 trials done" done_at_least 100
kill -INT "$BGPID"
wait_bg
[ "$rc" = 130 ] || { cat sigint.err >&2; fail "SIGINT: exit code $rc, want 130"; }
line=$(grep "interrupted after" sigint.err) || { cat sigint.err >&2; fail "SIGINT: no summary"; }
said_finished=$(echo "$line" | sed -n 's/.*interrupted after \([0-9]*\) trials finished.*/\1/p')
said_left=$(echo "$line" | sed -n 's/.*finished: \([0-9]*\) trials not started.*/\1/p')
said_int=$(echo "$line" | sed -n 's/.*; \([0-9]*\) interrupted:.*/\1/p')
expect_eq "$said_finished" "$(q "SELECT COUNT(*) FROM trials WHERE status IN ('done','failed','diverged')")" \
    "SIGINT: finished trials said and in the database"
expect_eq "$said_int" "$(q "SELECT COUNT(*) FROM trials WHERE status='interrupted'")" \
    "SIGINT: interrupted trials said and in the database"
expect_eq "$said_left" "$(q "SELECT COUNT(*) FROM trials WHERE status='queued'")" \
    "SIGINT: trials not started said and queued in the database"
[ "$said_left" -gt 0 ] || fail "SIGINT came too late: every trial had started"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='running'")" 0 "SIGINT: none left running"
expect_eq "$(q 'PRAGMA integrity_check')" ok "integrity after SIGINT"
echo "run_batches ok"
