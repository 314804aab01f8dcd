# -j 1 and -j 2 give the same database, timings and ids aside: every figure,
# history row, metric, confusion cell, weight blob and result hash.
source "$(dirname "$0")/run_common.sh"

run --db "$WORK/j1.db" -j 1 -q "$SPECS/xor_small.yaml"
expect_rc 0 "-j 1"
run --db "$WORK/j2.db" -j 2 -q "$SPECS/xor_small.yaml"
expect_rc 0 "-j 2"
OMP_NUM_THREADS=2 run --db "$WORK/omp.db" -q "$SPECS/xor_small.yaml"
expect_rc 0 "OMP_NUM_THREADS=2"

# Everything but ids, timestamps, wall times and the thread count, keyed by
# trial key so the comparison would not depend on ids even if they differed.
dump() {
    sqlite3 -batch -noheader "$1" "
      SELECT 'T', trial_key, trial_index, point_index, seed, params, status, n_params, epochs_run,
             diverged_epoch, best_epoch, quote(overfit_gap), quote(train_loss), quote(train_accuracy),
             quote(val_loss), quote(val_accuracy), quote(test_loss), quote(test_accuracy),
             result_hash, error, resolved_spec
        FROM trials ORDER BY trial_key;
      SELECT 'E', t.trial_key, e.epoch, quote(e.loss), quote(e.accuracy), quote(e.val_loss),
             quote(e.val_accuracy)
        FROM epochs e JOIN trials t ON t.id = e.trial_id ORDER BY t.trial_key, e.epoch;
      SELECT 'M', t.trial_key, m.split, m.name, quote(m.value)
        FROM metrics m JOIN trials t ON t.id = m.trial_id ORDER BY t.trial_key, m.split, m.name;
      SELECT 'C', t.trial_key, c.split, c.true_class, c.predicted_class, c.count
        FROM confusion c JOIN trials t ON t.id = c.trial_id
        ORDER BY t.trial_key, c.split, c.true_class, c.predicted_class;
      SELECT 'W', t.trial_key, w.layer, w.kind, w.rows, w.cols, hex(w.data)
        FROM weights w JOIN trials t ON t.id = w.trial_id ORDER BY t.trial_key, w.layer, w.kind;
      SELECT 'G', t.trial_key, hex(g.classes) FROM grids g JOIN trials t ON t.id = g.trial_id
        ORDER BY t.trial_key;
      SELECT 'P', t.trial_key, p.name, quote(p.value) FROM trial_params p
        JOIN trials t ON t.id = p.trial_id ORDER BY t.trial_key, p.name;
      SELECT 'X', name, spec, spec_hash, sweep_dims FROM experiments;"
}
dump "$WORK/j1.db" > j1.txt
dump "$WORK/j2.db" > j2.txt
dump "$WORK/omp.db" > omp.txt
[ "$(grep -c '^T' j1.txt)" = 4 ] || fail "j1 dump has no trials"
[ "$(grep -c '^W' j1.txt)" = 16 ] || fail "j1 dump has no weights"
# same_dump A B WHAT: A.txt and B.txt are equal, or the first lines of their
# diff are shown (diff into a file first: `diff | head` under pipefail
# would end the script before the message).
same_dump() {
    cmp -s "$1.txt" "$2.txt" && return 0
    diff "$1.txt" "$2.txt" > "$1-$2.diff" || true
    head -20 "$1-$2.diff" >&2
    fail "$3 differ"
}
same_dump j1 j2 "-j 1 and -j 2"
same_dump j1 omp "-j 1 and OMP_NUM_THREADS=2"
# The ids are the same too (the plan is recorded in plan order up front).
expect_eq "$(sqlite3 "$WORK/j1.db" 'SELECT group_concat(id || trial_key) FROM trials')" \
    "$(sqlite3 "$WORK/j2.db" 'SELECT group_concat(id || trial_key) FROM trials')" "trial ids"
expect_eq "$(sqlite3 "$WORK/j2.db" 'SELECT threads FROM experiments')" 2 "threads recorded"

# As many threads as CPUs, and more threads than trials (4): the same again.
cpus=$(nproc)
for j in "$cpus" 8; do
    run --db "$WORK/j$j-all.db" -j "$j" -q "$SPECS/xor_small.yaml"
    expect_rc 0 "-j $j"
    dump "$WORK/j$j-all.db" > "all$j.txt"
    same_dump j1 "all$j" "-j 1 and -j $j"
done
echo "ok"
