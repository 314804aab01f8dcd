# `runexp report` runs the separate runexp-report program: next to runexp in
# the build tree, and under libexec/runexp once installed. This installs the
# build into a temporary prefix and checks that the installed runexp finds
# its report program and writes a report, that runexp itself does not load
# PLplot (the reason for the split), and that a runexp without its report
# program says so and exits 2.
source "$(dirname "$0")/run_common.sh"
: "${RUNEXP_CMAKE:?RUNEXP_CMAKE must name cmake}"

"$RUNEXP_CMAKE" --install "$(dirname "$RUNEXP_BIN")" --prefix "$WORK/p" >install.txt ||
    { cat install.txt >&2; fail "cmake --install"; }
[ -x "$WORK/p/bin/runexp" ] || fail "no bin/runexp after install"
[ -x "$WORK/p/libexec/runexp/runexp-report" ] || fail "no libexec/runexp/runexp-report after install"
[ ! -e "$WORK/p/bin/runexp-report" ] || fail "runexp-report installed on the PATH"

# The program that runs trials does not load the plotting libraries.
ldd "$WORK/p/bin/runexp" > ldd.txt
if grep -q plplot ldd.txt; then cat ldd.txt >&2; fail "runexp links PLplot"; fi
# (ldd's output goes to a file first: `ldd | grep -q` under pipefail fails
# when grep exits at the first match and ldd is killed by SIGPIPE.)
ldd "$WORK/p/libexec/runexp/runexp-report" > ldd_report.txt
grep -q plplot ldd_report.txt || { cat ldd_report.txt >&2; fail "runexp-report does not link PLplot"; }

cat > xor.yaml <<'YAML'
name: inst_xor
data:
  source: xor
  augment: {repeat: 20, noise: 0.3}
  split: {test: 0.2, validation: 10}
model:
  layers:
    - {type: dense, units: 3, activation: relu}
    - {type: dense, units: 2, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 5, batch_size: 16}
seeds: 1
YAML
RUNEXP_BIN="$WORK/p/bin/runexp"
run --db "$DB" -q xor.yaml
expect_rc 0 "installed runexp run"
run report inst_xor --db "$DB" --out out
expect_rc 0 "installed runexp report"
[ -s out/index.html ] || fail "installed report wrote no index.html"
ls out/*.png >/dev/null 2>&1 || fail "installed report wrote no figure"
# Its usage and its errors are the report's own (arguments passed through).
run report --format gif --db "$DB"
expect_rc 2 "report --format gif"
grep -q "runexp report: --format must be png, svg or pdf, got 'gif'" err.txt ||
    { show; fail "report's own error message not passed through"; }

# Without its report program next to it or under ../libexec/runexp.
mkdir lone
cp "$WORK/p/bin/runexp" lone/runexp
RUNEXP_BIN="$WORK/lone/runexp"
run report inst_xor --db "$DB" --out out2
expect_rc 2 "report with no runexp-report"
grep -q "runexp: cannot run the report program: .*lone/runexp-report: No such file or directory" err.txt ||
    { show; fail "no clear message when runexp-report is missing"; }
[ ! -e out2 ] || fail "a report was written without the report program"
echo "ok"
