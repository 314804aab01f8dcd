# runexp report end to end: a real run of a tiny XOR sweep and a tiny digits
# spec, then `runexp report`: the files written, PNG signature and size, the
# page's references, --trial, --format svg, defaults, exit codes, and that
# the same database gives the same bytes.
source "$(dirname "$0")/run_common.sh"

cat > xor.yaml <<'YAML'
name: rep_xor
data:
  source: xor
  augment: {repeat: 50, noise: 0.3}
  split: {test: 0.2, validation: 20}
model:
  layers:
    - {type: dense, units: 4, activation: relu}
    - {type: dense, units: 2, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 15, batch_size: 32}
seeds: 2
sweep:
  hidden:
    path: model.layers[0].units
    values: [2, 4]
YAML
cat > digits.yaml <<'YAML'
name: rep_digits
data: {source: digits, split: {test: 0.25, validation: 0.25}}
model:
  layers:
    - {type: dense, units: 10, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 5, batch_size: 128}
seeds: 2
YAML

run --db "$DB" -q xor.yaml
expect_rc 0 "xor run"
run --db "$DB" -q digits.yaml
expect_rc 0 "digits run"

# png_size FILE: "WIDTHxHEIGHT" from the IHDR chunk, after checking the signature.
png_size() {
    local sig
    sig=$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')
    [ "$sig" = 89504e470d0a1a0a ] || fail "$1: not a PNG (signature $sig)"
    [ "$(dd if="$1" bs=1 skip=12 count=4 2>/dev/null)" = IHDR ] || fail "$1: no IHDR"
    local w h
    w=$(od -An -tu1 -j16 -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    h=$(od -An -tu1 -j20 -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    echo "${w}x${h}"
}
# check_dir DIR EXT FILES...: DIR holds exactly FILES + index.html, every
# figure is shown exactly once by index.html and nothing else is. PNG and
# SVG figures are embedded (<img data-file="F" ... src="data:...">, the
# PNG's base64 decoding to the file's bytes); no src is a relative path.
# PDF figures are linked (href="F").
check_dir() {
    local dir=$1 ext=$2; shift 2
    local want got refs srcs
    want=$(printf '%s\n' "$@" index.html | sort | tr '\n' ' ')
    got=$(ls "$dir" | sort | tr '\n' ' ')
    expect_eq "$got" "$want" "files in $dir"
    refs=$(grep -o -E '(data-file|href)="[^"]*"' "$dir/index.html" | sed -E 's/^[a-z-]+="(.*)"$/\1/' | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    expect_eq "$refs" "$want" "figures of $dir/index.html"
    # every src= is a data: URI of the figure's type
    srcs=$({ grep -o -E ' src="[^":]*' "$dir/index.html" || true; } | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    if [ "$ext" = pdf ]; then
        expect_eq "$srcs" "" "src attributes of a PDF page"
    else
        local mime=png
        [ "$ext" = svg ] && mime=svg+xml
        expect_eq "$srcs" " $# src=\"data;" "src attributes of $dir/index.html"
        local n_mime
        n_mime=$({ grep -o -F " src=\"data:image/$mime" "$dir/index.html" || true; } | wc -l)
        expect_eq "$n_mime" "$#" "data:image/$mime URIs in $dir/index.html"
    fi
    if [ "$ext" = png ]; then
        local f b64
        for f in "$@"; do
            b64=$(sed -n -E "s/.*data-file=\"$f\"[^>]* src=\"data:image\/png;base64,([^\"]*)\".*/\1/p" "$dir/index.html")
            printf '%s' "$b64" | base64 -d > "$WORK/decoded.bin" || fail "$f: embedded base64 does not decode"
            cmp -s "$WORK/decoded.bin" "$dir/$f" || fail "$f: the embedded image is not the file"
        done
    fi
    local f
    for f in "$@"; do
        [ -s "$dir/$f" ] || fail "$dir/$f is empty"
        if [ "$ext" = png ]; then
            expect_eq "$(png_size "$dir/$f")" 1000x700 "size of $f"
            # a blank 1000x700 PNG compresses to about 3 kB; a figure is larger
            [ "$(stat -c %s "$dir/$f")" -gt 8000 ] || fail "$dir/$f looks blank"
        fi
    done
}

run report rep_xor --db "$DB" --out out_xor
expect_rc 0 "report rep_xor"
grep -q "out_xor" out.txt || { show; fail "report does not say where it wrote"; }
check_dir out_xor png curves_accuracy.png curves_loss.png sweep.png confusion_0.png \
    confusion_1.png boundary.png dataset.png
grep -q 'hidden = 4' out_xor/index.html || fail "summary lacks hidden = 4"
grep -q '<pre>name: rep_xor' out_xor/index.html || fail "page lacks the spec"

# Same database => same bytes.
run report rep_xor --db "$DB" --out out_xor2
expect_rc 0 "report rep_xor again"
for f in out_xor/*; do
    cmp -s "$f" "out_xor2/$(basename "$f")" || fail "$(basename "$f") differs between two reports"
done

# By id, SVG.
xid=$(q "SELECT id FROM experiments WHERE name='rep_xor'")
run report "$xid" --db "$DB" --out out_svg --format svg
expect_rc 0 "report --format svg"
check_dir out_svg svg curves_accuracy.svg curves_loss.svg sweep.svg confusion_0.svg \
    confusion_1.svg boundary.svg dataset.svg
grep -q '<svg' out_svg/boundary.svg || fail "boundary.svg is not SVG"

# PDF: linked from the page, "%PDF" files, and the same bytes twice (the
# report pins cairo's /CreationDate to the experiment's creation time).
run report "$xid" --db "$DB" --out out_pdf --format pdf
expect_rc 0 "report --format pdf"
check_dir out_pdf pdf curves_accuracy.pdf curves_loss.pdf sweep.pdf confusion_0.pdf \
    confusion_1.pdf boundary.pdf dataset.pdf
[ "$(head -c 4 out_pdf/sweep.pdf)" = "%PDF" ] || fail "sweep.pdf is not a PDF"
sleep 1
run report "$xid" --db "$DB" --out out_pdf2 --format pdf
expect_rc 0 "report --format pdf again"
for f in out_pdf/*; do
    cmp -s "$f" "out_pdf2/$(basename "$f")" || fail "$(basename "$f") differs between two PDF reports"
done

# One trial: the last trial of hidden = 4.
tid=$(q "SELECT id FROM trials WHERE experiment_id=$xid AND point_index=1 ORDER BY seed DESC LIMIT 1")
run report --trial "$tid" --db "$DB" --out out_trial
expect_rc 0 "report --trial"
check_dir out_trial png curves_accuracy.png curves_loss.png confusion_1.png boundary.png \
    dataset.png
grep -q "trial $tid" out_trial/index.html || fail "trial page does not name trial $tid"

# Defaults: the most recent experiment (digits), $RUNEXP_DB, results/<name>/.
RUNEXP_DB="$DB" run report
expect_rc 0 "report with defaults"
check_dir results/rep_digits png curves_accuracy.png curves_loss.png sweep.png \
    confusion_0.png dataset.png misclassified.png
# The misclassified digits are the median trial's (the lower median of two
# seeds by test accuracy): its id and count of wrong test rows, from SQL.
mid=$(q "SELECT t.id FROM trials t JOIN experiments e ON e.id = t.experiment_id
         WHERE e.name = 'rep_digits' ORDER BY t.test_accuracy, t.seed LIMIT 1")
nw=$(q "SELECT COUNT(*) FROM predictions WHERE trial_id = $mid AND true_class <> predicted_class")
grep -q "The test rows trial $mid (seed [0-9]*, test accuracy [0-9.]*, the median of the seeds) predicts wrong: $nw of 450; the first ones in test-split order" \
    results/rep_digits/index.html || fail "misclassified caption does not name trial $mid and $nw of 450"
# Without stored predictions there is nothing to show.
sed -e 's/^name: rep_digits/name: rep_digits_nopred/' digits.yaml > nopred.yaml
echo 'record: {predictions: false}' >> nopred.yaml
run --db "$DB" -q nopred.yaml
expect_rc 0 "digits run without predictions"
run report rep_digits_nopred --db "$DB" --out out_nopred
expect_rc 0 "report without predictions"
[ ! -e out_nopred/misclassified.png ] || fail "a misclassified figure without predictions"

# Errors: exit 2 with a message.
run report --db "$WORK/missing.db"
expect_rc 2 "missing database"
grep -q "missing.db" err.txt || { show; fail "no message naming the missing database"; }
run report no_such_experiment --db "$DB"
expect_rc 2 "unknown experiment"
grep -q "no_such_experiment" err.txt || { show; fail "no message naming the experiment"; }
run report --db "$DB" --format jpg
expect_rc 2 "bad format"
run report --db "$DB" --trial 99999
expect_rc 2 "unknown trial"
run report --db "$DB" --trial abc
expect_rc 2 "bad trial id"
run report --db "$DB" --bogus
expect_rc 2 "unknown option"
echo "report_basic: ok"
