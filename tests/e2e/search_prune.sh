# Search: successive halving on the XOR lab (hidden 1-8, 10 seeds) and a
# random search.
#  - the decisions equal ones recomputed here in SQL from a plain run of the
#    same points (mean val_loss over the seeds at each rung's epoch, best
#    ceil(n / 3) go on, ties to the lower point);
#  - the epochs trained are the documented count: 10 seeds x (8 x 10 +
#    3 x 30 + 1 x 200) = 3700 (the one point left after rung 1 goes
#    straight to the end), against 8 x 10 x 200 = 16000 for the full grid
#    (4.3 times fewer);
#  - the survivors' result hashes equal the plain run's, the pruned trials'
#    histories are the plain run's first epochs, bit for bit;
#  - the whole database is the same for -j 1 and -j 2 (ids, timestamps and
#    wall times aside), and a second run trains nothing;
#  - random draws are the same for -j 1 and -j 2 and kept when trials grows.
source "$(dirname "$0")/run_common.sh"

head='data:
  source: xor
  augment: {repeat: 200, noise: 0.3}
  split: {test: 0.2, validation: 20}
model:
  layers:
    - {type: dense, units: 6, activation: relu}
    - {type: dense, units: 2, activation: softmax}
training:
  loss: categorical_crossentropy
  optimizer: adam
  epochs: 200
  batch_size: 32
seeds: 10'
sweep='sweep:
  hidden:
    path: model.layers[0].units
    values: [1, 2, 3, 4, 5, 6, 7, 8]'
printf 'name: sh\n%s\nsearch:\n  prune: {method: successive_halving, metric: val_loss, min_epochs: 10, eta: 3}\n%s\n' \
    "$head" "$sweep" > sh.yaml
printf 'name: plain\n%s\n%s\n' "$head" "$sweep" > plain.yaml

run check sh.yaml
expect_rc 0 "check"
grep -q "^pruning: successive halving on val_loss, eta 3, rungs at 10, 30, 90, 200 epochs$" out.txt ||
    { show; fail "check does not print the rungs"; }

run run --db "$WORK/j1.db" -j 1 sh.yaml
expect_rc 0 "search -j 1"
grep -q "search trained 3700 epochs in all (every trial to the end: 16000); 7 of 8 points pruned" err.txt ||
    { show; fail "not the documented epoch count"; }
run run --db "$WORK/j2.db" -j 2 -q sh.yaml
expect_rc 0 "search -j 2"
run run --db "$WORK/plain.db" -j 2 -q plain.yaml
expect_rc 0 "plain run"

DB="$WORK/j1.db"
expect_eq "$(q "SELECT status || ':' || IFNULL(pruned_rung, '-') || ':' || epochs_run || ':' || COUNT(*)
                FROM trials GROUP BY status, pruned_rung, epochs_run ORDER BY 1" | tr '\n' ' ')" \
    "done:-:200:10 pruned:0:10:50 pruned:1:30:20 " "statuses, rungs and epochs"
# Every epoch trained, from what is stored: each rung a trial reached was
# trained from the start (trial_rungs), then the survivors in full.
expect_eq "$(q "SELECT (SELECT SUM(epoch) FROM trial_rungs)
                + (SELECT SUM(epochs_run) FROM trials WHERE status = 'done')")" 3700 \
    "epochs from the database"

# The decisions, recomputed from the plain run's full histories.
# rung 0: all 8 points; the best 3 go on to rung 1, its best 1 to rung 2.
sel0=$(sqlite3 -batch -noheader "$WORK/plain.db" "
  SELECT t.point_index FROM trials t JOIN epochs e ON e.trial_id = t.id AND e.epoch = 10
  GROUP BY t.point_index ORDER BY AVG(e.val_loss), t.point_index LIMIT 3" | tr '\n' ',')
sel1=$(sqlite3 -batch -noheader "$WORK/plain.db" "
  SELECT t.point_index FROM trials t JOIN epochs e ON e.trial_id = t.id AND e.epoch = 30
  WHERE t.point_index IN (${sel0%,})
  GROUP BY t.point_index ORDER BY AVG(e.val_loss), t.point_index LIMIT 1" | tr '\n' ',')
got0=$(q "SELECT point_index FROM prune_decisions WHERE rung = 0 AND promoted ORDER BY place" | tr '\n' ',')
got1=$(q "SELECT point_index FROM prune_decisions WHERE rung = 1 AND promoted ORDER BY place" | tr '\n' ',')
expect_eq "$got0" "$sel0" "points promoted at rung 0"
expect_eq "$got1" "$sel1" "points promoted at rung 1"
expect_eq "$(q "SELECT COUNT(*) || '/' || SUM(promoted) FROM prune_decisions" )" "11/4" "decision rows"
# the stored means are the plain run's means at the rung epochs
pm=$(sqlite3 -batch -noheader "$WORK/plain.db" "
  SELECT t.point_index || ':' || printf('%.15g', AVG(e.val_loss)) FROM trials t
  JOIN epochs e ON e.trial_id = t.id AND e.epoch = 10 GROUP BY t.point_index ORDER BY 1" | tr '\n' ' ')
sm=$(q "SELECT point_index || ':' || printf('%.15g', value) FROM prune_decisions WHERE rung = 0
        ORDER BY 1" | tr '\n' ' ')
expect_eq "$sm" "$pm" "rung 0 means"

# Survivors: the plain run's bits; pruned trials: its first epochs.
sqlite3 -batch -noheader "$DB" "ATTACH '$WORK/plain.db' AS p;
  SELECT COUNT(*), SUM(a.result_hash = b.result_hash) FROM trials a
  JOIN p.trials b ON b.trial_key = a.trial_key WHERE a.status = 'done'" > hashes.txt
expect_eq "$(cat hashes.txt)" "10|10" "survivors' result hashes"
sqlite3 -batch -noheader "$DB" "ATTACH '$WORK/plain.db' AS p;
  SELECT COUNT(*), SUM(a.loss IS b.loss AND a.accuracy IS b.accuracy AND a.val_loss IS b.val_loss
                       AND a.val_accuracy IS b.val_accuracy)
  FROM trials at JOIN epochs a ON a.trial_id = at.id
  JOIN p.trials bt ON bt.trial_key = at.trial_key
  JOIN p.epochs b ON b.trial_id = bt.id AND b.epoch = a.epoch WHERE at.status = 'pruned'" > hist.txt
expect_eq "$(cat hist.txt)" "1100|1100" "pruned histories"

# -j 1 and -j 2: the same database, timings and ids aside.
dump() {
    sqlite3 -batch -noheader "$1" "
      SELECT 'T', trial_key, trial_index, point_index, seed, params, status, n_params, epochs_run,
             diverged_epoch, best_epoch, quote(overfit_gap), quote(train_loss), quote(train_accuracy),
             quote(val_loss), quote(val_accuracy), quote(test_loss), quote(test_accuracy),
             result_hash, error, resolved_spec, pruned_rung
        FROM trials ORDER BY trial_key;
      SELECT 'E', t.trial_key, e.epoch, quote(e.loss), quote(e.accuracy), quote(e.val_loss),
             quote(e.val_accuracy)
        FROM epochs e JOIN trials t ON t.id = e.trial_id ORDER BY t.trial_key, e.epoch;
      SELECT 'M', t.trial_key, m.split, m.name, quote(m.value)
        FROM metrics m JOIN trials t ON t.id = m.trial_id ORDER BY t.trial_key, m.split, m.name;
      SELECT 'C', t.trial_key, c.split, c.true_class, c.predicted_class, c.count
        FROM confusion c JOIN trials t ON t.id = c.trial_id
        ORDER BY t.trial_key, c.split, c.true_class, c.predicted_class;
      SELECT 'W', t.trial_key, w.layer, w.kind, hex(w.data)
        FROM weights w JOIN trials t ON t.id = w.trial_id ORDER BY t.trial_key, w.layer, w.kind;
      SELECT 'G', t.trial_key, hex(g.classes) FROM grids g JOIN trials t ON t.id = g.trial_id
        ORDER BY t.trial_key;
      SELECT 'R', t.trial_key, r.rung, r.epoch, r.metric, quote(r.value)
        FROM trial_rungs r JOIN trials t ON t.id = r.trial_id ORDER BY t.trial_key, r.rung;
      SELECT 'D', bracket, rung, epoch, point_index, params, metric, n, quote(value), place,
             promoted FROM prune_decisions ORDER BY bracket, rung, point_index;
      SELECT 'S', metric, point_index, params, point_rank, is_best, n, quote(mean), quote(std),
             quote(median), quote(ci_lo), quote(ci_hi) FROM point_stats ORDER BY metric, point_index;"
}
dump "$WORK/j1.db" > j1.txt
dump "$WORK/j2.db" > j2.txt
[ "$(grep -c '^D' j1.txt)" = 11 ] || fail "the dump has no decisions"
if ! cmp -s j1.txt j2.txt; then
    diff j1.txt j2.txt > j.diff || true
    head -20 j.diff >&2
    fail "-j 1 and -j 2 databases differ"
fi

# Resume: nothing is trained again, nothing changes.
run run --db "$WORK/j1.db" -j 2 sh.yaml
expect_rc 0 "second run"
grep -q "search trained 0 epochs in all" err.txt || { show; fail "the second run trained again"; }
dump "$WORK/j1.db" > again.txt
cmp -s j1.txt again.txt || fail "the second run changed the database"

# show lists the decisions.
run show --db "$WORK/j1.db" sh
expect_rc 0 "show"
grep -q "^search: 70 trials pruned; decisions by the mean over the seeds of val_loss at each rung$" out.txt ||
    { show; fail "show has no decisions"; }
expect_eq "$(grep -c 'went on$' out.txt)" 4 "decisions shown as went on"
expect_eq "$(grep -c 'pruned$' out.txt)" 7 "decisions shown as pruned"
grep -q "not done" out.txt && { show; fail "pruned trials listed as not done"; }

# Hyperband: brackets of 4, 2, 1 and 1 points (Hyperband's 27 : 12 : 6 : 4
# of 8, largest remainders), starting at rungs 0, 1, 2, 3; a one-point
# bracket decides nothing. The survivors have the plain run's bits.
sed 's/successive_halving/hyperband/; s/^name: sh$/name: hb/' sh.yaml > hb.yaml
run run --db "$WORK/hb.db" -j 2 -q hb.yaml
expect_rc 0 "hyperband"
expect_eq "$(sqlite3 "$WORK/hb.db" "SELECT bracket || ':' || rung || ':' || COUNT(*) || ':' || SUM(promoted)
             FROM prune_decisions GROUP BY bracket, rung ORDER BY bracket, rung" | tr '\n' ' ')" \
    "0:0:4:2 0:1:2:1 1:1:2:1 " "hyperband decisions"
sqlite3 -batch -noheader "$WORK/hb.db" "ATTACH '$WORK/plain.db' AS p;
  SELECT COUNT(*), SUM(a.result_hash = b.result_hash) FROM trials a
  JOIN p.trials b ON b.trial_key = a.trial_key WHERE a.status = 'done'" > hb.txt
expect_eq "$(cat hb.txt)" "40|40" "hyperband survivors' result hashes"

# A plain run of the same spec without pruning trains the pruned trials in
# full (same experiment: the search block is not part of the trial keys).
sed '/^search:/,/^  prune:/d' sh.yaml > sh_full.yaml
run run --db "$WORK/j1.db" -q sh_full.yaml
expect_rc 0 "the same spec without pruning"
expect_eq "$(sqlite3 "$WORK/j1.db" "SELECT COUNT(*) FROM trials WHERE status = 'done'")" 80 "all done"
expect_eq "$(sqlite3 "$WORK/j1.db" "SELECT COUNT(*) FROM trials WHERE pruned_rung IS NOT NULL")" 0 \
    "no pruned rung left"

# Random search: the same draws for -j 1 and -j 2, and kept when trials grows.
rs() {
    printf 'name: rs\n%s\nseeds: 2\nsearch: {method: random, trials: %s, seed: 5}\nsweep:\n  lr:\n    path: training.optimizer.learning_rate\n    log_uniform: [0.001, 0.1]\n  hidden:\n    path: model.layers[0].units\n    int_uniform: [2, 8]\n' \
        "$(printf '%s\n' "$head" | sed 's/epochs: 200/epochs: 3/; /^seeds:/d')" "$1"
}
rs 6 > rs6.yaml
rs 9 > rs9.yaml
run run --db "$WORK/r1.db" -j 1 -q rs6.yaml
expect_rc 0 "random -j 1"
run run --db "$WORK/r2.db" -j 2 -q rs6.yaml
expect_rc 0 "random -j 2"
dump "$WORK/r1.db" > r1.txt
dump "$WORK/r2.db" > r2.txt
[ "$(grep -c '^T' r1.txt)" = 12 ] || fail "random search: not 12 trials"
cmp -s r1.txt r2.txt || fail "random search: -j 1 and -j 2 differ"
run run --db "$WORK/r1.db" rs9.yaml
expect_rc 0 "random search with more trials"
grep -q "skipped 12 trials already done" err.txt || { show; fail "more draws did not keep the earlier ones"; }
expect_eq "$(sqlite3 "$WORK/r1.db" "SELECT COUNT(DISTINCT params) FROM trials")" 9 "points after growing"
echo "search ok"
