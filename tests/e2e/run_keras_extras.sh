#!/usr/bin/env bash
# The Keras training extras end to end, read back from the database: the
# summary `runexp check` prints (parameter counts by hand), early stopping's
# stopped epoch and restore, the learning rate per epoch of a schedule
# (against the formula, computed here), one sigmoid unit for 2 classes
# (confusion consistent with the accuracy), the layer table, balanced and
# all-1 class weights, dropout 0 giving the same result hash as no dropout,
# and reproduce of a trial with batch normalization and dropout.
source "$(dirname "$0")/run_common.sh"

# ---- runexp check: the summary of digits 64 -> dense 64 -> dropout -> BN -> dense 10
cat > net.yaml <<'YAML'
name: e2e_keras_net
data: {source: digits, split: {test: 0.2, validation: 0.1}, scale: minmax}
model:
  layers:
    - {type: dense, units: 64, activation: relu, kernel_regularizer: {l2: 0.001}}
    - {type: dropout, rate: 0.3}
    - {type: batch_normalization}
    - {type: dense, units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  optimizer:
    name: adam
    learning_rate: {schedule: exponential_decay, initial_learning_rate: 0.01, decay_steps: 20, decay_rate: 0.5}
  class_weight: balanced
  epochs: 3
  batch_size: 64
seeds: 1
YAML
run check net.yaml
expect_rc 0 "check net.yaml"
# 64*64 + 64 = 4160; dropout 0; batch normalization 4 * 64 = 256 (128 moving
# statistics); 64*10 + 10 = 650: 5066 in all, 4938 trainable, 128 not.
grep -q '^ dense (Dense)               (None, 64)                4160      $' out.txt || { show; fail "dense row"; }
grep -q '^ dropout (Dropout)           (None, 64)                0         $' out.txt || { show; fail "dropout row"; }
grep -q '^ batch_normalization (BatchN  (None, 64)               256       $' out.txt || { show; fail "batch norm row"; }
grep -q '^ dense_1 (Dense)             (None, 10)                650       $' out.txt || { show; fail "output row"; }
grep -q '^Total params: 5,066$' out.txt || { show; fail "total"; }
grep -q '^Trainable params: 4,938$' out.txt || { show; fail "trainable"; }
grep -q '^Non-trainable params: 128$' out.txt || { show; fail "non-trainable"; }

# One summary per distinct model: the XOR lab's six widths.
run check "$RUNEXP_SOURCE_DIR/experiments/xor_sweep.yaml"
expect_rc 0 "check xor_sweep"
expect_eq "$(grep -c '^model of point [0-5] {"hidden": [1-6]}:$' out.txt)" 6 "six model headers"
expect_eq "$(grep -c '^Total params: ' out.txt)" 6 "six summaries"
# hidden 4: 2 * 4 + 4 = 12, then 4 * 2 + 2 = 10
grep -q '^Total params: 22$' out.txt || { show; fail "hidden 4: 22 params"; }

run run net.yaml --db "$DB"
expect_rc 0 "run net.yaml"
# The report page shows the summary, HTML-escaped.
run report --db "$DB" --out rep
if [ "$rc" = 0 ]; then
    grep -q '<h2 id="model">Model</h2>' rep/index.html || fail "no Model section in the report"
    grep -q '<pre>Model: &quot;sequential&quot;$' rep/index.html || fail "summary not escaped"
    grep -q '^Total params: 5,066$' rep/index.html || fail "summary total in the report"
fi
expect_eq "$(q "SELECT status FROM trials")" done "net trial"
expect_eq "$(q "SELECT group_concat(name || ':' || type || ':' || output_shape || ':' || params || ':' || trainable_params, ' ')
                FROM (SELECT * FROM layers ORDER BY layer_index)")" \
    "dense:Dense:(None, 64):4160:4160 dropout:Dropout:(None, 64):0:0 batch_normalization:BatchNormalization:(None, 64):256:128 dense_1:Dense:(None, 10):650:650" \
    "layer table"
expect_eq "$(q "SELECT group_concat(kind, ',') FROM (SELECT kind FROM weights WHERE layer = 2 ORDER BY rowid)")" \
    "gamma,beta,moving_mean,moving_variance" "batch normalization tensors"
expect_eq "$(q "SELECT COUNT(*) FROM weights WHERE layer = 1")" 0 "dropout has no weights"
expect_eq "$(q "SELECT SUM(rows * cols) FROM weights")" 5066 "stored parameters"
# Exponential decay: 1797 rows, test ceil(0.2 n) = 360, validation ceil(0.1 * 1437)
# = 144, 1293 training rows: 21 steps per epoch. The rate of an epoch's last
# update (step 21 e - 1) is 0.01 * 0.5^((21 e - 1) / 20), in float32.
q "SELECT epoch, learning_rate FROM epochs ORDER BY epoch" | while IFS='|' read -r e lr; do
    awk -v e="$e" -v lr="$lr" 'BEGIN { w = 0.01 * 0.5 ^ ((21 * e - 1) / 20);
        if ((lr - w) / w > 1e-6 || (w - lr) / w > 1e-6) { print "epoch " e ": lr " lr ", want " w; exit 1 } }' ||
        fail "learning rate of epoch $e"
done
expect_eq "$(q "SELECT COUNT(*) FROM epochs WHERE learning_rate IS NOT NULL")" 3 "learning rates"
expect_eq "$(q "SELECT stopped_epoch IS NULL AND restored_best IS NULL FROM trials")" 1 "no early stopping"
run reproduce --db "$DB" 1
expect_rc 0 "reproduce the batch-normalization trial"

# ---- XOR with early stopping, restore_best_weights, one sigmoid unit
cat > es.yaml <<'YAML'
name: e2e_keras_es
data:
  source: xor
  augment: {repeat: 50, noise: 0.5}
  split: {test: 0.25, validation: 40}
model:
  layers:
    - {type: dense, units: 8, activation: tanh}
    - {type: dense, units: 1, activation: sigmoid}
training:
  loss: binary_crossentropy
  optimizer: {name: adam, learning_rate: 0.05}
  epochs: 300
  batch_size: 16
  early_stopping: {patience: 4, restore_best_weights: true}
seeds: 3
YAML
run run es.yaml --db es.db
expect_rc 0 "run es.yaml"
DB=es.db
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status = 'done'")" 3 "es trials"
# Early stopping fired (patience 4 on a noisy XOR, long before 300 epochs):
# the history ends at the stopped epoch, 4 epochs after the best, whose
# val_loss is the smallest and which restored_best says was put back.
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE stopped_epoch = epochs_run AND epochs_run < 300
                AND early_stopping_best_epoch = stopped_epoch - 4 AND restored_best = 1")" 3 \
    "stopped and restored"
expect_eq "$(q "SELECT COUNT(*) FROM trials t WHERE (SELECT COUNT(*) FROM epochs e WHERE e.trial_id = t.id) = t.epochs_run")" 3 \
    "history up to the stopped epoch"
expect_eq "$(q "SELECT COUNT(*) FROM trials t WHERE (SELECT MIN(val_loss) FROM epochs e WHERE e.trial_id = t.id)
                = (SELECT val_loss FROM epochs e WHERE e.trial_id = t.id AND e.epoch = t.early_stopping_best_epoch)")" 3 \
    "best epoch has the smallest val_loss"
# The restored weights are evaluated: the validation loss of the trial is
# that of the best epoch (the same weights, the same evaluation).
expect_eq "$(q "SELECT COUNT(*) FROM trials t WHERE abs(t.val_loss - (SELECT val_loss FROM epochs e
                WHERE e.trial_id = t.id AND e.epoch = t.early_stopping_best_epoch)) <= 1e-12 * t.val_loss")" 3 \
    "test metrics of the restored weights"
# One sigmoid unit: 2 x 2 confusion over the 50 test rows, its trace / 50 is the accuracy.
expect_eq "$(q "SELECT COUNT(*) FROM trials t WHERE (SELECT SUM(count) FROM confusion c WHERE c.trial_id = t.id
                AND split = 'test') = 50 AND abs((SELECT SUM(count) FROM confusion c WHERE c.trial_id = t.id
                AND split = 'test' AND true_class = predicted_class) / 50.0 - t.test_accuracy) < 1e-12")" 3 \
    "binary confusion against accuracy"
expect_eq "$(q "SELECT rows || 'x' || cols FROM weights WHERE trial_id = 1 AND layer = 1 AND kind = 'kernel'")" \
    8x1 "one output unit"
run reproduce --db es.db 2
expect_rc 0 "reproduce an early-stopped trial"

# ---- no-op settings give the same bits: dropout 0, all class weights 1
base_spec() { # $1: extra layer line, $2: extra training line
    cat <<YAML
name: e2e_keras_same
data: {source: xor, augment: {repeat: 20, noise: 0.3}, split: {test: 0.25, validation: 10}}
model:
  layers:
    - {type: dense, units: 4, activation: relu}
$1
    - {type: dense, units: 2, activation: softmax}
training:
  loss: categorical_crossentropy
  epochs: 20
$2
seeds: 2
YAML
}
base_spec "" "" > plain.yaml
base_spec "    - {type: dropout, rate: 0}" "" > drop0.yaml
base_spec "" "  class_weight: {0: 1, 1: 1}" > cw1.yaml
base_spec "" "  class_weight: {0: 1, 1: 3}" > cw3.yaml
for f in plain drop0 cw1 cw3; do
    run run "$f.yaml" --db "$f.db"
    expect_rc 0 "run $f.yaml"
done
hashes() { sqlite3 -batch -noheader "$1.db" "SELECT group_concat(result_hash) FROM (SELECT result_hash FROM trials ORDER BY seed)"; }
expect_eq "$(hashes drop0)" "$(hashes plain)" "dropout 0 result hashes"
expect_eq "$(hashes cw1)" "$(hashes plain)" "class weights 1 result hashes"
[ "$(hashes cw3)" != "$(hashes plain)" ] || fail "class weights 1:3 changed nothing"
echo "keras extras: ok"
