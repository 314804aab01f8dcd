#!/usr/bin/env bash
# Each CSV a spec names is opened once per `runexp check`, however many sweep
# points read it: the document's input cache reads the file, hashes and parses
# the same bytes, and every point validates against (and keys by) that. A grid
# of 2 CSV files x 3 epoch values is 6 points; strace counts the opens of each
# file. Skipped (77) without a working strace.
source "$(dirname "$0")/run_common.sh"
command -v strace >/dev/null || { echo "strace not found: skipped"; exit 77; }
strace -o /dev/null true 2>/dev/null || { echo "strace cannot trace here: skipped"; exit 77; }

printf 'x0,x1,y\n0,0,a\n0,1,b\n1,0,b\n1,1,a\n0.5,0.5,a\n0.5,1,b\n1,0.5,b\n0,0.5,a\n' > one.csv
printf 'x0,x1,y\n0,0,p\n0,1,q\n1,0,q\n1,1,p\n0.2,0.5,p\n0.5,1,q\n1,0.2,q\n0,0.2,p\n' > two.csv
cat > s.yaml <<'YAML'
data:
  source: {csv: one.csv, label: y}
  split: {test: 0.25}
model:
  layers:
    - {units: 3, activation: tanh}
    - {units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  epochs: 1
seeds: 2
sweep:
  file: {path: data.source.csv, values: [one.csv, two.csv]}
  epochs: {path: training.epochs, values: [1, 2, 3]}
YAML

set +e
# LeakSanitizer cannot run under ptrace: off for this one command in a
# sanitizer build (the other tests check for leaks).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=open,openat -o trace.txt "$RUNEXP_BIN" check s.yaml >out.txt 2>err.txt
rc=$?
set -e
expect_rc 0 "check under strace"
head -n1 out.txt > first.txt
expect_eq "$(cat first.txt)" "s.yaml: 12 trials (6 sweep points x 2 seeds)" "plan"
for f in one.csv two.csv; do
    n=$(grep -c "\"$f\"" trace.txt || true)
    expect_eq "$n" 1 "opens of $f"
done
echo "each CSV opened once for 6 sweep points"
