# runexp report from any directory: the report resolves the spec's relative
# CSV path against the base directory stored with the spec (as `runexp
# reproduce` does), not against the directory it is run from. The shipped
# CSV experiment (experiments/blobs_csv.yaml, data/blobs.csv beside it) is
# run from its own directory with a relative spec path; its report drawn
# from there and from an unrelated directory must be the same files, byte
# for byte (PNG output is deterministic), dataset.png and the data points of
# boundary.png included. Then, with the CSV gone, the report still succeeds
# without the data figures and says why on stderr.
source "$(dirname "$0")/run_common.sh"

mkdir -p proj/data elsewhere/deeper
cp "$RUNEXP_SOURCE_DIR/experiments/blobs_csv.yaml" proj/
cp "$RUNEXP_SOURCE_DIR/experiments/data/blobs.csv" proj/data/

cd "$WORK/proj"
run --db "$DB" -q blobs_csv.yaml
expect_rc 0 "run blobs_csv.yaml from its directory"
expect_eq "$(q "SELECT count(*) FROM trials WHERE status = 'done'")" 5 "done trials"

run report blobs_csv --db "$DB" --out "$WORK/out_here"
expect_rc 0 "report from the spec's directory"
! grep -q "runexp report" err.txt || { show; fail "report from the spec's directory gave a note"; }

cd "$WORK/elsewhere/deeper"
run report blobs_csv --db "$DB" --out "$WORK/out_there"
expect_rc 0 "report from another directory"
! grep -q "runexp report" err.txt || { show; fail "report from another directory gave a note"; }
cd "$WORK"

want="boundary.png confusion_0.png curves_accuracy.png curves_loss.png dataset.png index.html sweep.png "
expect_eq "$(ls out_here | sort | tr '\n' ' ')" "$want" "files of the report from the spec's directory"
expect_eq "$(ls out_there | sort | tr '\n' ' ')" "$want" "files of the report from another directory"
for f in dataset.png boundary.png index.html; do
    cmp -s "out_here/$f" "out_there/$f" ||
        fail "$f differs between the reports from the spec's directory and from another one"
done
for f in out_here/*; do
    cmp -s "$f" "out_there/$(basename "$f")" || fail "$(basename "$f") differs between the two reports"
done
# The page says the dots are the rebuilt test rows, not that they are missing.
grep -q 'Dots: the test rows' out_there/index.html ||
    fail "boundary caption of the report from another directory lacks the data points"

# Without the CSV: exit 0, the data figures left out, and the reason given.
mv proj/data/blobs.csv proj/data/blobs.csv.away
cd "$WORK/elsewhere"
run report blobs_csv --db "$DB" --out "$WORK/out_nocsv"
expect_rc 0 "report without the CSV"
grep -q "blobs.csv" err.txt || { show; fail "no note naming the missing CSV"; }
cd "$WORK"
[ ! -e out_nocsv/dataset.png ] || fail "dataset.png drawn without the CSV"
[ -e out_nocsv/boundary.png ] || fail "boundary.png missing without the CSV (the regions need no data)"
echo "report_other_dir: ok"
