# A small XOR sweep (2 hidden sizes x 2 seeds, 20 epochs): row counts, statuses,
# params; then resume (nothing rerun, no new rows) and an added seed (only the
# new trials run).
source "$(dirname "$0")/run_common.sh"

run --db "$DB" "$SPECS/xor_small.yaml"
expect_rc 0 "first run"
grep -q "results: $DB" out.txt || { show; fail "summary does not name the database"; }
grep -q 'sqlite3 ' out.txt || fail "summary has no example query"
grep -q '{"hidden": 2}' out.txt || { show; fail "summary lacks the point hidden=2"; }

expect_eq "$(q 'PRAGMA user_version')" 4 "schema version"
expect_eq "$(q 'PRAGMA journal_mode')" wal "journal mode"
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 1 "experiments"
expect_eq "$(q "SELECT COUNT(*) FROM experiments WHERE name='e2e_xor' AND spec_hash IS NOT NULL
               AND runexp_version IS NOT NULL AND compiler IS NOT NULL AND host IS NOT NULL
               AND cpu_model IS NOT NULL AND threads >= 1 AND sweep_dims='[\"hidden\"]'")" 1 \
    "experiment provenance"
# The compiler as the build found it (CMake's id and version, "GNU 12.2.0"),
# not the version string of whichever compiler built run_record.c.
expect_eq "$(q "SELECT COUNT(*) FROM experiments WHERE (compiler GLOB 'GNU [0-9]*.[0-9]*'
               OR compiler GLOB 'Clang [0-9]*.[0-9]*') AND compiler NOT LIKE 'gcc %'")" 1 \
    "compiler provenance"
expect_eq "$(q 'SELECT group_concat(name) FROM (SELECT name FROM classes ORDER BY class_index)')" \
    "0,1" "class names"
expect_eq "$(q 'SELECT COUNT(*) FROM trials')" 4 "trials"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done' AND result_hash IS NOT NULL
               AND length(result_hash)=64 AND error IS NULL AND epochs_run=20")" 4 "done trials"
# Plan order: hidden outermost, seeds innermost; ids follow the plan.
expect_eq "$(q "SELECT group_concat(json_extract(params,'\$.hidden') || ':' || seed, ' ')
               FROM (SELECT * FROM trials ORDER BY id)")" "2:0 2:1 4:0 4:1" "plan order"
expect_eq "$(q "SELECT COUNT(*) FROM trial_params WHERE name='hidden'
               AND typeof(value)='integer' AND value IN (2, 4)")" 4 "trial_params"
# n_params: (2*h + h) + (h*2 + 2) = 5h + 2 -> 12 and 22.
expect_eq "$(q "SELECT group_concat(DISTINCT n_params) FROM (SELECT * FROM trials ORDER BY id)")" \
    "12,22" "n_params"
expect_eq "$(q 'SELECT COUNT(*) FROM epochs')" 80 "epoch rows (4 x 20)"
expect_eq "$(q 'SELECT COUNT(*) FROM epochs WHERE val_loss IS NULL OR loss IS NULL')" 0 \
    "history complete"
# metrics: loss + accuracy on 3 splits, precision/recall/f1/support x 2 classes on test.
expect_eq "$(q 'SELECT COUNT(*) FROM metrics')" 56 "metric rows (4 x 14)"
expect_eq "$(q "SELECT COUNT(*) FROM metrics m JOIN trials t ON t.id=m.trial_id
               WHERE m.split='test' AND m.name='accuracy' AND m.value=t.test_accuracy")" 4 \
    "test accuracy in metrics = trials"
expect_eq "$(q "SELECT SUM(value) FROM metrics WHERE name LIKE 'support_%'")" "640.0" \
    "test supports (4 x 160)"
# confusion: validation and test by default, 2x2 cells each; the table keeps
# the non-zero ones, confusion_full has them all.
expect_eq "$(q 'SELECT COUNT(*) FROM confusion_full')" 32 "confusion_full rows"
expect_eq "$(q 'SELECT COUNT(*) FROM confusion WHERE count <= 0')" 0 "zero cells stored"
expect_eq "$(q 'SELECT COUNT(*) FROM confusion')" "$(q 'SELECT COUNT(*) FROM confusion_full
                                                        WHERE count > 0')" "non-zero cells"
expect_eq "$(q "SELECT COUNT(*) FROM (SELECT split, SUM(count) AS total FROM confusion
               GROUP BY trial_id, split) WHERE (split='test' AND total=160)
               OR (split='validation' AND total=20)")" 8 "confusion totals test/validation"
expect_eq "$(q "SELECT COUNT(*) FROM (SELECT c.trial_id FROM confusion c JOIN trials t ON t.id=c.trial_id
               WHERE c.split='test' GROUP BY c.trial_id
               HAVING abs(SUM(CASE WHEN true_class=predicted_class THEN count END)/160.0
                          - MAX(t.test_accuracy)) < 1e-12)")" 4 "confusion diagonal = accuracy"
expect_eq "$(q 'SELECT COUNT(*) FROM weights')" 16 "weight rows (4 trials x 2 layers x 2)"
expect_eq "$(q 'SELECT COUNT(*) FROM weights WHERE length(data) != 4*rows*cols')" 0 "blob sizes"
expect_eq "$(q "SELECT SUM(rows*cols) FROM weights w JOIN trials t ON t.id=w.trial_id
               GROUP BY t.id ORDER BY t.id LIMIT 1")" 12 "weights hold n_params values"
expect_eq "$(q 'SELECT COUNT(*) FROM grids WHERE length(classes)=resolution*resolution')" 4 "grids"
expect_eq "$(q 'SELECT COUNT(*) FROM sweep_summary WHERE n=2')" 2 "sweep_summary"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE NOT test_accuracy BETWEEN 0 AND 1
               OR NOT val_accuracy BETWEEN 0 AND 1")" 0 "accuracies in range"

# Resume: everything is done, nothing runs, no rows are added.
before=$(q "SELECT (SELECT COUNT(*) FROM trials), (SELECT COUNT(*) FROM epochs),
            (SELECT COUNT(*) FROM metrics), (SELECT COUNT(*) FROM weights),
            (SELECT group_concat(result_hash) FROM trials)")
run --db "$DB" "$SPECS/xor_small.yaml"
expect_rc 0 "resume"
grep -q "skipped 4 trials already done" err.txt || { show; fail "resume does not say skipped 4"; }
after=$(q "SELECT (SELECT COUNT(*) FROM trials), (SELECT COUNT(*) FROM epochs),
           (SELECT COUNT(*) FROM metrics), (SELECT COUNT(*) FROM weights),
           (SELECT group_concat(result_hash) FROM trials)")
expect_eq "$after" "$before" "rows after resume"
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 1 "experiment reused"

# A third seed: only the 2 new trials run, the 4 old ones keep their ids.
sed 's/^seeds: 2$/seeds: 3/' "$SPECS/xor_small.yaml" > three_seeds.yaml
grep -q '^seeds: 3$' three_seeds.yaml || fail "sed did not change the seeds"
ids_before=$(q "SELECT group_concat(id || result_hash) FROM (SELECT * FROM trials ORDER BY id)")
run --db "$DB" three_seeds.yaml
expect_rc 0 "added seed"
grep -q "skipped 4 trials already done" err.txt || { show; fail "added seed: not skipped 4"; }
grep -q "6 trials, 2 to run" err.txt || { show; fail "added seed: not 2 to run"; }
expect_eq "$(q 'SELECT COUNT(*) FROM trials')" 6 "trials after an added seed"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done'")" 6 "all done"
expect_eq "$(q "SELECT group_concat(id || result_hash) FROM (SELECT * FROM trials WHERE seed < 2 ORDER BY id)")" \
    "$ids_before" "old trials untouched"
expect_eq "$(q 'SELECT COUNT(*) FROM epochs')" 120 "epoch rows after an added seed"
expect_eq "$(q 'SELECT COUNT(*) FROM sweep_summary WHERE n=3')" 2 "sweep_summary n=3"

# --fresh: a new experiment record, the same trial keys run again in it.
run --db "$DB" --fresh -q "$SPECS/xor_small.yaml"
expect_rc 0 "--fresh"
[ ! -s err.txt ] || { show; fail "--quiet printed on stderr"; }
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 2 "experiments after --fresh"
expect_eq "$(q 'SELECT COUNT(*) FROM trials WHERE experiment_id=2')" 4 "trials of the fresh record"
# Same seeds, same spec: the fresh trials reproduce the first ones bit for bit.
expect_eq "$(q "SELECT COUNT(*) FROM trials a JOIN trials b ON a.trial_key=b.trial_key
               AND a.experiment_id=1 AND b.experiment_id=2 AND a.result_hash=b.result_hash")" 4 \
    "fresh run reproduces the hashes"

# RUNEXP_DB and the default path.
RUNEXP_DB="$WORK/env.db" run -q "$SPECS/xor_small.yaml"
expect_rc 0 "RUNEXP_DB"
[ -f "$WORK/env.db" ] || fail "RUNEXP_DB not used"
run -q "$SPECS/xor_small.yaml"
expect_rc 0 "default database"
[ -f "$WORK/results/runexp.db" ] || fail "default results/runexp.db not created"

# Phase timings: --timings or RUNEXP_TIMINGS=1 print, on stderr, the wall
# time of each phase of the run and the total (new and existing database);
# the phases follow one another, so they add up to at most the total.
# stdout and the database are the same as without.
check_timings() {
    for phase in "parse + plan" "data load" "database open + plan insert" "trials" \
                 "summary + close" "total"; do
        awk -v p="$phase" 'index($0, "  " p " ") == 1 && $NF ~ /^[0-9]+\.[0-9][0-9]$/ { f = 1 }
                           END { exit !f }' err.txt || { show; fail "$1: no '$phase' line"; }
    done
    awk '/^  / { v = $NF; if ($0 ~ /^  total /) t = v; else s += v }
         END { exit !(t > 0 && s <= t + 0.05) }' err.txt ||
        { show; fail "$1: the phases add up to more than the total"; }
}
run -q --timings --db "$WORK/t1.db" "$SPECS/xor_small.yaml"
expect_rc 0 "--timings"
check_timings "--timings"
RUNEXP_TIMINGS=1 run -q --db "$WORK/t1.db" "$SPECS/xor_small.yaml"
expect_rc 0 "RUNEXP_TIMINGS=1 on an existing database"
check_timings "RUNEXP_TIMINGS=1"
run -q --db "$WORK/t2.db" "$SPECS/xor_small.yaml"
[ ! -s err.txt ] || { show; fail "timings printed without being asked for"; }
DB="$WORK/t1.db"; a=$(q "SELECT group_concat(result_hash) FROM (SELECT result_hash FROM trials ORDER BY id)")
DB="$WORK/t2.db"; b=$(q "SELECT group_concat(result_hash) FROM (SELECT result_hash FROM trials ORDER BY id)")
expect_eq "$a" "$b" "results with and without --timings"
echo "ok"
