# Sourced by the cluster_*.sh end-to-end tests (after run_common.sh).

# A real value with all 17 significant digits (round trip exact), NULL as NULL.
r() { echo "CASE WHEN $1 IS NULL THEN 'NULL' ELSE printf('%.17g', $1) END"; }

# dump_by_key DB: everything a trial's key owns, ordered by key, without
# row ids or times: the trial row's results, every epoch row, every
# metric, confusion cell, weight blob (hex), grid, swept value, and the
# class names by experiment name. Two databases with equal dumps hold the
# same results trial by trial.
dump_by_key() {
    sqlite3 -batch -noheader "$1" "
SELECT 'T', trial_key, status, result_hash, n_params, epochs_run, diverged_epoch, best_epoch,
       $(r overfit_gap), $(r train_loss), $(r train_accuracy), $(r val_loss), $(r val_accuracy),
       $(r test_loss), $(r test_accuracy), params, seed, trial_index, point_index, resolved_spec,
       spec_hash
  FROM trials ORDER BY trial_key;
SELECT 'E', t.trial_key, e.epoch, $(r e.loss), $(r e.accuracy), $(r e.val_loss), $(r e.val_accuracy)
  FROM epochs e JOIN trials t ON t.id = e.trial_id ORDER BY t.trial_key, e.epoch;
SELECT 'M', t.trial_key, m.split, m.name, $(r m.value)
  FROM metrics m JOIN trials t ON t.id = m.trial_id ORDER BY t.trial_key, m.split, m.name;
SELECT 'C', t.trial_key, c.split, c.true_class, c.predicted_class, c.count
  FROM confusion c JOIN trials t ON t.id = c.trial_id ORDER BY 2, 3, 4, 5;
SELECT 'W', t.trial_key, w.layer, w.kind, w.rows, w.cols, hex(w.data)
  FROM weights w JOIN trials t ON t.id = w.trial_id ORDER BY 2, 3, 4;
SELECT 'G', t.trial_key, $(r g.x0_min), $(r g.x0_max), $(r g.x1_min), $(r g.x1_max), g.resolution,
       hex(g.classes)
  FROM grids g JOIN trials t ON t.id = g.trial_id ORDER BY 2;
SELECT 'P', t.trial_key, p.name, quote(p.value)
  FROM trial_params p JOIN trials t ON t.id = p.trial_id ORDER BY 2, 3;
SELECT 'K', e.name, c.class_index, c.name
  FROM classes c JOIN experiments e ON e.id = c.experiment_id ORDER BY 2, 3;
SELECT 'S', spec_hash, spec FROM specs ORDER BY 2;"
}

# expect_same_dump A B WHAT: the dumps of databases A and B are equal (the
# first differing lines shown otherwise), and not trivially: both hold
# done trials with weights.
expect_same_dump() {
    dump_by_key "$1" >"$WORK/dump_a.txt"
    dump_by_key "$2" >"$WORK/dump_b.txt"
    local nw
    nw=$(grep -c '^W|' "$WORK/dump_a.txt" || true)
    [ "$nw" -gt 0 ] || fail "$3: $1 has no weights to compare"
    if ! diff "$WORK/dump_a.txt" "$WORK/dump_b.txt" >"$WORK/dump_diff.txt"; then
        head -20 "$WORK/dump_diff.txt" >&2
        fail "$3: $1 and $2 differ"
    fi
}
