# Resume never mixes two specs in one experiment. Editing a setting that is
# not swept (epochs 20 -> 40) and rerunning starts a second experiment
# record, says so, and leaves the first as it was: each experiment's
# sweep_summary has n = seeds per point and its trial/point indices do not
# repeat. Adding a seed (or a sweep value) to the edited spec resumes that
# second experiment and runs only the new trials.
source "$(dirname "$0")/run_common.sh"

run --db "$DB" -q "$SPECS/xor_small.yaml"
expect_rc 0 "first run"
sed 's/^  epochs: 20$/  epochs: 40/' "$SPECS/xor_small.yaml" > epochs40.yaml
grep -q '^  epochs: 40$' epochs40.yaml || fail "sed did not change the epochs"
first=$(q "SELECT group_concat(id || status || epochs_run || result_hash) FROM trials")

run --db "$DB" epochs40.yaml
expect_rc 0 "edited spec"
grep -qxF "runexp: the spec of 'e2e_xor' changed since experiment 1 (e.g. point {\"hidden\": 2} differs); recording in a new experiment 2 — the old results stay" err.txt ||
    { show; fail "no message about the new experiment"; }
grep -q "4 trials, 4 to run" err.txt || { show; fail "the edited spec did not run all 4 trials"; }
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 2 "experiments"
expect_eq "$(q "SELECT group_concat(id || status || epochs_run || result_hash) FROM trials
               WHERE experiment_id = 1")" "$first" "the old experiment's trials"
expect_eq "$(q "SELECT group_concat(experiment_id || ':' || epochs_run || ':' || n, ' ') FROM
               (SELECT t.experiment_id, MAX(t.epochs_run) AS epochs_run, COUNT(*) AS n
                FROM trials t GROUP BY t.experiment_id ORDER BY t.experiment_id)")" \
    "1:20:4 2:40:4" "trials per experiment"
expect_eq "$(q "SELECT group_concat(experiment_id || ':' || n, ' ') FROM
               (SELECT experiment_id, n FROM sweep_summary ORDER BY experiment_id, params)")" \
    "1:2 1:2 2:2 2:2" "sweep_summary n = seeds, never pooled"
expect_eq "$(q "SELECT COUNT(*) FROM (SELECT experiment_id, trial_index FROM trials
               GROUP BY experiment_id, trial_index HAVING COUNT(*) > 1)")" 0 \
    "trial_index unique per experiment"
expect_eq "$(q "SELECT COUNT(*) FROM (SELECT experiment_id, point_index FROM trials
               GROUP BY experiment_id, point_index HAVING COUNT(DISTINCT params) > 1)")" 0 \
    "point_index names one point per experiment"

# The same edited spec again: resumes experiment 2, nothing runs.
run --db "$DB" epochs40.yaml
expect_rc 0 "edited spec again"
grep -q "changed since" err.txt && { show; fail "an unchanged spec started a new experiment"; }
grep -q "skipped 4 trials already done" err.txt || { show; fail "not resumed"; }

# One more seed and one more sweep value: still experiment 2, only the new
# trials (2 seeds of hidden 8, the third seed of hidden 2 and 4) run.
sed -e 's/^seeds: 2$/seeds: 3/' -e 's/values: \[2, 4\]/values: [2, 4, 8]/' epochs40.yaml > more.yaml
grep -q '^seeds: 3$' more.yaml && grep -q 'values: \[2, 4, 8\]' more.yaml || fail "sed failed"
ids2=$(q "SELECT group_concat(id || result_hash) FROM trials WHERE experiment_id = 2")
run --db "$DB" more.yaml
expect_rc 0 "added seed and sweep value"
grep -q "changed since" err.txt && { show; fail "an extended spec started a new experiment"; }
grep -q "9 trials, 5 to run" err.txt || { show; fail "not only the 5 new trials ran"; }
grep -q "skipped 4 trials already done" err.txt || { show; fail "not resumed after extending"; }
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 2 "experiments after extending"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE experiment_id = 2")" 9 "trials of experiment 2"
expect_eq "$(q "SELECT group_concat(id || result_hash) FROM trials WHERE experiment_id = 2
               AND seed < 2 AND json_extract(params, '\$.hidden') < 8")" "$ids2" "old trials kept"
expect_eq "$(q "SELECT group_concat(n, ' ') FROM (SELECT n FROM sweep_summary
               WHERE experiment_id = 2 ORDER BY point_index)")" "3 3 3" "sweep_summary n = 3"

# The original spec again: it differs from the newest experiment (2), so a
# third one; results never join experiment 1 or 2.
run --db "$DB" -q "$SPECS/xor_small.yaml"
expect_rc 0 "original spec again"
grep -q "changed since experiment 2" err.txt || { show; fail "no message for the third record"; }
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 3 "experiments"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE experiment_id = 3 AND epochs_run = 20")" 4 \
    "trials of experiment 3"

# A different sweep dimension is a different experiment too.
sed 's/^  hidden:$/  width:/' "$SPECS/xor_small.yaml" > renamed.yaml
grep -q '^  width:$' renamed.yaml || fail "sed did not rename the sweep"
run --db "$DB" -q renamed.yaml
expect_rc 0 "renamed sweep"
grep -qF 'its sweep dimensions were ["hidden"], now ["width"]' err.txt ||
    { show; fail "no message about the sweep dimensions"; }
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 4 "experiments after renaming the sweep"
echo "ok"
