# `runexp predict` and `runexp export-model`: predictions on a trial's own
# test rows reproduce its stored test accuracy, test confusion matrix and
# per-row test predictions (classes and printed probabilities) exactly (CSV
# data with standard scaling, the digits with min-max scaling, unshuffled
# and shuffled with random_state, XOR without noise), columns are matched
# by name, and every error exits 2 with a message, no partial file and the
# database unchanged.
source "$(dirname "$0")/run_common.sh"

# ---- a CSV dataset the test knows row by row: 3 classes, 3 features ------
# Rows in a fixed order (no shuffling in the split: the last 30 rows are the
# test split, train_test_split(shuffle=False)). Values from an LCG, so the
# file is the same everywhere.
awk 'BEGIN {
    print "f_a,colour,f_b,f_c"
    s = 12345; split("red green blue", name, " ")
    for (i = 0; i < 150; i++) {
        k = i % 3
        for (j = 0; j < 3; j++) { s = (s * 1103515245 + 12345) % 2147483648; u[j] = s / 2147483648 }
        printf "%.4f,%s,%.4f,%.4f\n", 10 * k + 8 * u[0], name[k + 1], 100 - 20 * k + 30 * u[1], u[2]
    }
}' > blobs.csv
cat > csv.yaml <<'EOF'
name: predict_csv
data:
  source: {csv: blobs.csv, label: colour}
  split: {test: 30, shuffle: false}
  scale: standard
model:
  layers:
    - {units: 4, activation: tanh}
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: {name: adam, learning_rate: 0.02}, epochs: 20}
seeds: 2
EOF
# The digits, 5 epochs, the last 450 rows (test 0.25 of 1797: ceil = 450).
cat > digits.yaml <<'EOF'
name: predict_digits
data:
  source: digits
  split: {test: 0.25, shuffle: false}
  scale: minmax
model:
  layers:
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 5, batch_size: 128}
seeds: 1
EOF
# XOR tiled 50 times, no noise: row i is corner i % 4; test = the last 40.
cat > xor.yaml <<'EOF'
name: predict_xor
data:
  source: xor
  augment: {repeat: 50}
  split: {test: 40, shuffle: false}
  scale: standard
model:
  layers:
    - {units: 4, activation: relu}
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 40, batch_size: 8}
seeds: 1
record: {weights: true}
EOF
cat > noweights.yaml <<'EOF'
name: predict_noweights
data: {source: xor, augment: {repeat: 10}}
model:
  layers:
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 2}
record: {weights: false}
EOF
# The digits shuffled as the notebook does (random_state 42): the test rows
# are found through the stored predictions' source_row.
cat > digits_rs.yaml <<'EOF'
name: predict_digits_rs
data:
  source: digits
  split: {test: 0.25, validation: 0.25, random_state: 42}
  scale: minmax
model:
  layers:
    - {units: 16, activation: relu}
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 4, batch_size: 64}
seeds: 1
EOF
for s in csv digits xor noweights digits_rs; do
    run --db "$DB" -q "$s.yaml"
    expect_rc 0 "run $s"
done
rm -f "$DB.lock"
# trials: 1, 2 csv (seeds 0, 1); 3 digits; 4 xor; 5 no weights; 6 digits
# shuffled with random_state
expect_eq "$(q "SELECT group_concat(e.name || ':' || t.status, ' ') FROM trials t
                JOIN experiments e ON e.id = t.experiment_id ORDER BY t.id")" \
    "predict_csv:done predict_csv:done predict_digits:done predict_xor:done predict_noweights:done predict_digits_rs:done" \
    "trials"
sum=$(sha256sum "$DB" | cut -d' ' -f1)

# check_trial ID DATA LABEL_COLUMN: predict on DATA (the trial's test rows,
# with their true labels in LABEL_COLUMN), then compare accuracy and the
# confusion matrix with the stored ones.
check_trial() {
    local id=$1 data=$2 label=$3
    run predict "$id" "$data" --db "$DB"
    expect_rc 0 "predict $id"
    [ ! -s err.txt ] || { show; fail "predict $id printed on stderr"; }
    cp out.txt "pred$id.csv"
    # Pairs true|predicted: the label column of DATA beside the last column
    # of the predictions (no commas inside these class names).
    awk -F, -v L="$label" 'NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) if ($i == L) c = i; next }
                                       t[FNR - 1] = $c; next }
                           FNR > 1 { print t[FNR - 1] "|" $NF }' "$data" "pred$id.csv" > pairs$id.txt
    local n ok
    n=$(wc -l < pairs$id.txt)
    ok=$(awk -F'|' '$1 == $2' pairs$id.txt | wc -l)
    [ "$n" -gt 0 ] || fail "predict $id: no rows"
    expect_eq "$n" "$(q "SELECT SUM(count) FROM confusion WHERE trial_id = $id AND split = 'test'")" \
        "trial $id: test rows"
    # IEEE division in SQLite, compared with = (no decimal rounding).
    expect_eq "$(q "SELECT test_accuracy = $ok * 1.0 / $n FROM trials WHERE id = $id")" 1 \
        "trial $id: accuracy of predict on the test rows ($ok / $n) vs the stored test accuracy $(q "SELECT test_accuracy FROM trials WHERE id = $id")"
    # The stored confusion matrix, by class name.
    q "SELECT a.name || '|' || b.name || '|' || c.count FROM confusion c
       JOIN trials t ON t.id = c.trial_id
       JOIN classes a ON a.experiment_id = t.experiment_id AND a.class_index = c.true_class
       JOIN classes b ON b.experiment_id = t.experiment_id AND b.class_index = c.predicted_class
       WHERE c.trial_id = $id AND c.split = 'test' ORDER BY 1" > stored$id.txt
    sort pairs$id.txt | uniq -c | awk '{ print $2 "|" $1 }' | sort > mine$id.txt
    diff stored$id.txt mine$id.txt >&2 || fail "trial $id: confusion of predict vs the stored one"
    # Row by row, the stored per-row predictions (table predictions): the
    # same probabilities as text (both print each float32 with %.9g) and the
    # same class, DATA being the test rows in split order.
    q "SELECT p.split_row || ',' || substr(p.probabilities, 2, length(p.probabilities) - 2) || ',' || c.name
       FROM predictions p JOIN trials t ON t.id = p.trial_id
       JOIN classes c ON c.experiment_id = t.experiment_id AND c.class_index = p.predicted_class
       WHERE p.trial_id = $id AND p.split = 'test' ORDER BY p.split_row" > rows$id.txt
    expect_eq "$(wc -l < rows$id.txt)" "$n" "trial $id: stored prediction rows"
    tail -n +2 "pred$id.csv" > predrows$id.txt
    diff rows$id.txt predrows$id.txt > rowdiff$id.txt ||
        { head -n 5 rowdiff$id.txt >&2; fail "trial $id: predict differs from the stored per-row predictions"; }
    echo "trial $id: $ok of $n test rows right, as stored; every row's prediction as stored" >&2
}

# CSV: the last 30 rows, columns in another order, label column kept.
{ echo "colour,f_c,f_a,f_b"; tail -n 30 blobs.csv | awk -F, '{ print $2 "," $4 "," $1 "," $3 }'; } > test_csv.csv
check_trial 1 test_csv.csv colour
check_trial 2 test_csv.csv colour
# The header names the classes in order, one column each.
expect_eq "$(head -n 1 pred1.csv)" "row,prob_blue,prob_green,prob_red,predicted" "predict header"
expect_eq "$(sed -n 2p pred1.csv | cut -d, -f1)" "0" "first row index"
# Probabilities of each row sum to 1 (float32 softmax, printed with 9 digits).
awk -F, 'NR > 1 { s = $2 + $3 + $4; if (s < 0.9999 || s > 1.0001) { print "row " $1 " sums to " s; exit 1 } }' pred1.csv ||
    fail "probabilities do not sum to 1"
# The same rows without the label column give the same output.
cut -d, -f2- test_csv.csv > nolabel.csv
run predict 1 nolabel.csv --db "$DB"
expect_rc 0 "predict without labels"
cmp -s out.txt pred1.csv || fail "predict without the label column differs"
# --out writes the same file.
run predict 1 nolabel.csv --db "$DB" --out p.csv
expect_rc 0 "predict --out"
[ ! -s out.txt ] || fail "predict --out also wrote to stdout"
cmp -s p.csv pred1.csv || fail "predict --out differs from stdout"

# Digits: the last 450 rows of the embedded CSV, named as scikit-learn's
# load_digits names the pixels, label column "label".
{
    awk 'BEGIN { for (i = 0; i < 64; i++) printf "pixel_%d_%d,", int(i / 8), i % 8; print "label" }'
    zcat "$RUNEXP_SOURCE_DIR/data/digits/digits.csv.gz" | tail -n 450
} > test_digits.csv
check_trial 3 test_digits.csv label

# XOR: the last 40 of 200 tiled rows: corners 0..3 in turn.
{ echo "x0,x1,label"; for i in $(seq 0 9); do printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n'; done; } > test_xor.csv
check_trial 4 test_xor.csv label

# Digits shuffled with random_state: the test rows, in split order, are the
# digits rows the stored predictions name (source_row, 0-based), which are
# scikit-learn's train_test_split(..., random_state=42) test rows.
q "SELECT source_row FROM predictions WHERE trial_id = 6 ORDER BY split_row" > src6.txt
awk -v c="case lab_digits_split1 " 'index($0, c) == 1 { f = 1; next }
     f && $1 == "test" { for (i = 3; i <= NF; i++) print $i; exit }' \
    "$RUNEXP_SOURCE_DIR/tests/fixtures/split_cases.txt" > sk6.txt
cmp -s src6.txt sk6.txt || fail "trial 6: test rows are not scikit-learn's random_state=42 rows"
zcat "$RUNEXP_SOURCE_DIR/data/digits/digits.csv.gz" > all_digits.csv
{
    awk 'BEGIN { for (i = 0; i < 64; i++) printf "pixel_%d_%d,", int(i / 8), i % 8; print "label" }'
    awk 'NR == FNR { line[FNR - 1] = $0; next } { print line[$1] }' all_digits.csv src6.txt
} > test_digits_rs.csv
check_trial 6 test_digits_rs.csv label

# ---- model files ---------------------------------------------------------
run export-model 4 --out m.onnx --db "$DB"
expect_rc 0 "export onnx"
run export-model 4 --format npz --out m.bin --db "$DB"
expect_rc 0 "export npz"
# ModelProto field 1 (ir_version) = 7, field 2 (producer_name) = "runexp".
expect_eq "$(head -c 10 m.onnx | od -An -tx1 | tr -d ' \n')" "0807120672756e657870" "ONNX start"
expect_eq "$(head -c 4 m.bin | od -An -tx1 | tr -d ' \n')" "504b0304" "npz is a zip"
# The zip is sound: unzip's test recomputes every CRC.
if command -v unzip >/dev/null; then
    unzip -tq m.bin > unzip.txt || { cat unzip.txt >&2; fail "unzip -t"; }
fi

# ---- errors: exit 2, a message, no file, the database unchanged ----------
expect_err() { # WHAT PATTERN ARGS...
    local what=$1 pat=$2
    shift 2
    run "$@"
    expect_rc 2 "$what"
    grep -q -- "$pat" err.txt || { show; fail "$what: no '$pat' on stderr"; }
}
expect_err "unknown trial" "has no trial 99" predict 99 test_xor.csv --db "$DB"
expect_err "unknown trial (export)" "has no trial 99" export-model 99 --out x.onnx --db "$DB"
expect_err "bad id" "needs a trial id (a positive integer), got 'abc'" export-model abc --out x.onnx --db "$DB"
expect_err "no data file" "predict needs a DATA.csv" predict 4 --db "$DB"
expect_err "no --out" "export-model needs --out FILE" export-model 4 --db "$DB"
expect_err "bad format" "unknown model format 'pb'; expected onnx or npz" export-model 4 --format pb --out x.onnx --db "$DB"
expect_err "format from name" "needs --format onnx|npz" export-model 4 --out x.model --db "$DB"
expect_err "no weights" "trial 5 has no stored weights (its spec says record: {weights: false}" \
    export-model 5 --out x.onnx --db "$DB"
expect_err "no weights (predict)" "trial 5 has no stored weights" predict 5 test_xor.csv --db "$DB"
expect_err "missing database" "no database $WORK/none.db" predict 4 test_xor.csv --db "$WORK/none.db"
[ ! -e "$WORK/none.db" ] || fail "a missing database was created"
mkdir ro && chmod 555 ro
if [ ! -w ro ]; then # (root writes anywhere)
    expect_err "unwritable --out" "cannot write ro/m.onnx: Permission denied" export-model 4 --out ro/m.onnx --db "$DB"
fi
expect_err "--out in a missing directory" "cannot write nodir/m.onnx: No such file or directory" \
    export-model 4 --out nodir/m.onnx --db "$DB"
# --out naming a directory: the temporary file is removed again.
mkdir outdir
expect_err "--out a directory" "cannot write outdir: Is a directory" predict 4 test_xor.csv --out outdir --db "$DB"
expect_eq "$(ls -A outdir; ls -A . | grep -c '\.tmp' || true)" "0" "temporary files left"
[ ! -e x.onnx ] && [ ! -e x.model ] || fail "a failed export left a file"
# A failed export keeps an existing file as it was.
echo keep > keep.onnx
expect_err "failed over an existing file" "no stored weights" export-model 5 --out keep.onnx --db "$DB"
expect_eq "$(cat keep.onnx)" "keep" "existing --out file"

# A trial that is not done.
cp "$DB" failed.db
sqlite3 failed.db "UPDATE trials SET status = 'failed' WHERE id = 4"
expect_err "not done" "trial 4 has status failed; only a done trial has a trained model" \
    export-model 4 --out x.onnx --db failed.db

# Weights edited after the fact: the rebuilt model no longer gives the
# stored test figures, and predict says so (and still predicts).
cp "$DB" edited.db
sqlite3 edited.db "UPDATE weights SET data = CAST(x'000020c1' || substr(data, 5) AS BLOB)
                   WHERE trial_id = 1 AND layer = 0 AND kind = 'kernel'"
run predict 1 test_csv.csv --db edited.db
expect_rc 0 "predict with edited weights"
grep -q "warning: the rebuilt model of trial 1 gives test loss" err.txt || { show; fail "no warning for edited weights"; }

# Columns: by name; a missing or unknown one is named (file:line:col).
printf 'x1,y,x2\n0,1,1\n' > cols.csv
run predict 4 cols.csv --db "$DB"
expect_rc 2 "wrong columns"
expect_eq "$(cat err.txt)" "runexp: cols.csv:1:4: error: the columns do not match the model's 2 features: missing 'x0'; unknown 'y', 'x2'; expected 'x0', 'x1' (and optionally the label column 'label')" "wrong columns message"
printf 'x0,x1\n0,1\n1,zero\n' > cell.csv
run predict 4 cell.csv --db "$DB"
expect_rc 2 "bad cell"
expect_eq "$(cat err.txt)" "runexp: cell.csv:3:3: error: column 'x1': 'zero' is not a finite number" "bad cell message"
printf 'x0,x1\n0,1\n1\n' > ragged.csv
run predict 4 ragged.csv --db "$DB"
expect_rc 2 "ragged row"
expect_eq "$(cat err.txt)" "runexp: ragged.csv:3:2: error: ragged row: 1 fields, the header has 2" "ragged message"
printf 'x0,x1\n' > empty.csv
run predict 4 empty.csv --db "$DB"
expect_rc 2 "no rows"
expect_eq "$(cat err.txt)" "runexp: empty.csv:2: error: no data rows after the header" "no rows message"
run predict 4 nonexistent.csv --db "$DB"
expect_rc 2 "missing CSV"
expect_eq "$(cat err.txt)" "runexp: nonexistent.csv: error: cannot open: No such file or directory" "missing CSV message"
# The CSV experiment's label column is the one allowed extra column.
{ echo "f_a,f_b,f_c,label"; echo "1,2,3,red"; } > otherlabel.csv
expect_err "another label name" "unknown 'label'; expected 'f_a', 'f_b', 'f_c' (and optionally the label column 'colour')" \
    predict 1 otherlabel.csv --db "$DB"

expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum" "database after the commands"
[ ! -e "$DB.lock" ] || fail "a reader took the writer lock"
echo "model_predict: ok" >&2
