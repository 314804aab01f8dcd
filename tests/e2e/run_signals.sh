# kill -9 mid-sweep loses only the trials in flight: the next run reruns them
# and every trial ends done. SIGINT (and SIGTERM) stop cleanly: exit code 130,
# trials in flight marked interrupted, finished ones kept, nothing left
# running; a rerun without --retry leaves the interrupted ones (exit 1),
# --retry reruns them.
source "$(dirname "$0")/run_common.sh"
N=16   # trials in xor_long.yaml
E=5000 # epochs per trial

# wait_for_done N: waits (at most 60 s, and only while the background
# runexp lives) until N trials are done.
done_at_least() { [ "$(db_count "SELECT COUNT(*) FROM trials WHERE status='done'")" -ge "$1" ]; }
wait_for_done() { wait_for 60 "$1 trial(s) done" done_at_least "$1"; }

# ---- kill -9
start_bg kill9 --db "$DB" -j 2 "$SPECS/xor_long.yaml"
wait_for_done 1
kill -9 "$BGPID"
wait_bg
done_before=$(q "SELECT COUNT(*) FROM trials WHERE status='done'")
left=$(q "SELECT COUNT(*) FROM trials WHERE status IN ('queued','running')")
[ "$left" -gt 0 ] || fail "kill -9 came too late: nothing left to run"
expect_eq "$(q 'PRAGMA integrity_check')" ok "integrity after kill -9"
run --db "$DB" -j 2 "$SPECS/xor_long.yaml"
expect_rc 0 "rerun after kill -9"
grep -q "skipped $done_before trials already done" err.txt || { show; fail "rerun did not skip $done_before"; }
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done'")" $N "all done after kill -9"
expect_eq "$(q 'SELECT COUNT(*) FROM trials')" $N "no duplicate trials"
expect_eq "$(q 'SELECT COUNT(*) FROM epochs')" $((N * E)) "one history per trial"

# ---- SIGINT
rm -f "$DB" "$DB-wal" "$DB-shm"
start_bg sigint --db "$DB" -j 2 "$SPECS/xor_long.yaml"
wait_for_done 1
kill -INT "$BGPID"
wait_bg
[ "$rc" = 130 ] || { cat sigint.err >&2; fail "SIGINT: exit code $rc, want 130"; }
grep -q "interrupted" sigint.err || fail "SIGINT: no message"
n_int=$(q "SELECT COUNT(*) FROM trials WHERE status='interrupted'")
n_done=$(q "SELECT COUNT(*) FROM trials WHERE status='done'")
[ "$n_int" -ge 1 ] && [ "$n_int" -le 2 ] || fail "SIGINT: $n_int interrupted, want 1..2 (the trials in flight)"
[ "$n_done" -ge 1 ] || fail "SIGINT: finished trials lost"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='running'")" 0 "SIGINT: none left running"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='interrupted' AND error LIKE 'interrupted%'
               AND epochs_run < $E AND result_hash IS NULL")" "$n_int" "interrupted rows"
expect_eq "$(q 'PRAGMA integrity_check')" ok "integrity after SIGINT"
# The message says what the same command reruns (the trials never started,
# still queued) and what needs --retry (the interrupted ones).
n_q=$(q "SELECT COUNT(*) FROM trials WHERE status='queued'")
grep -qF "$n_q trials not started: run the same command again to run them; $n_int interrupted: add --retry to rerun them" sigint.err ||
    { cat sigint.err >&2; fail "SIGINT: message does not say what reruns ($n_q queued, $n_int interrupted)"; }

# Without --retry the interrupted trials stay: exit 1 and a hint.
run --db "$DB" -j 2 "$SPECS/xor_long.yaml"
expect_rc 1 "rerun without --retry"
grep -q -- "--retry" err.txt || { show; fail "no --retry hint"; }
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='interrupted'")" "$n_int" "interrupted kept"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done'")" $((N - n_int)) "the rest done"
run --db "$DB" -j 2 --retry "$SPECS/xor_long.yaml"
expect_rc 0 "--retry"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done'")" $N "all done after --retry"
expect_eq "$(q 'SELECT COUNT(*) FROM epochs')" $((N * E)) "no history left from the interrupted attempt"

# ---- SIGTERM behaves the same.
rm -f "$DB" "$DB-wal" "$DB-shm"
start_bg sigterm --db "$DB" -j 2 "$SPECS/xor_long.yaml"
wait_for_done 1
kill -TERM "$BGPID"
wait_bg
[ "$rc" = 130 ] || { cat sigterm.err >&2; fail "SIGTERM: exit code $rc, want 130"; }
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='running'")" 0 "SIGTERM: none left running"
echo "ok"
