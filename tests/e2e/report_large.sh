# A report of a 500-point sweep (1000 trials): it exits 0 with nothing from
# PLplot on stderr, draws panels for at most 16 points (the best by mean
# test accuracy) and an overview of all 500, and its page embeds every
# figure. Before, the report took ~35 s, PLplot printed 1500 "Invalid
# limits" errors, one confusion figure was written per point and the
# report still exited 0.
source "$(dirname "$0")/run_common.sh"

cat > lr.yaml <<'YAML'
name: rep_large
description: XOR over 500 learning rates.
data:
  source: xor
  augment: {repeat: 50, noise: 0.3}
  split: {test: 0.2, validation: 20}
model:
  layers:
    - {type: dense, units: 4, activation: relu}
    - {type: dense, units: 2, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: {name: adam, learning_rate: 0.01}, epochs: 5, batch_size: 32}
seeds: 2
sweep:
  lr:
    path: training.optimizer.learning_rate
    values: {from: 0.0001, to: 1.0, num: 500, log: true}
YAML
run --db "$DB" -q -j 2 lr.yaml
expect_rc 0 "run of 1000 trials"

run report rep_large --db "$DB" --out out
expect_rc 0 "report of 500 points"
if grep -q -i "plplot" err.txt; then
    show
    fail "PLplot wrote to stderr"
fi
n_conf=$(ls out | grep -c '^confusion_' || true)
[ "$n_conf" -ge 1 ] && [ "$n_conf" -le 16 ] || fail "$n_conf confusion figures (want 1..16)"
for f in curves_accuracy.png curves_loss.png sweep.png boundary.png; do
    [ -s "out/$f" ] || fail "no $f"
done
grep -q 'Overview of every sweep point' out/index.html || fail "no overview figure on the page"
grep -q 'show the 16 sweep points with the best mean test accuracy' out/index.html ||
    fail "the page does not say which points have panels"
# the 16 points with panels are the best by mean test accuracy (ties: the
# smaller point index), computed here from the database
want=$(q "SELECT group_concat(point_index, ' ') FROM (SELECT point_index FROM (
            SELECT point_index, avg(test_accuracy) AS m FROM trials
            WHERE status = 'done' GROUP BY point_index ORDER BY m DESC, point_index LIMIT 16)
          ORDER BY point_index)")
got=$(ls out | sed -n -E 's/^confusion_([0-9]+)\.png$/\1/p' | sort -n | tr '\n' ' ' | sed 's/ $//')
expect_eq "$got" "$want" "points with panels"
# 500 summary rows, 16 marked
rows=$(grep -c '^<tr><td>' out/index.html || true)
[ "$rows" -ge 500 ] || fail "only $rows table rows"
stars=$(grep -o '&#9733;</td>' out/index.html | wc -l)
expect_eq "$stars" 16 "marked summary rows"
# embedded: no relative src
rel=$(grep -o -E ' src="[^d][^"]{0,20}' out/index.html || true)
expect_eq "$rel" "" "relative src attributes"
echo "report_large: ok"
