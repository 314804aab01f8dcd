# The XOR lab on 10 seeds: mean test accuracy of the 6-hidden-unit network
# must lie in (0.85, 0.95). With 160 test rows, a mean far above the Bayes
# limit of about 0.909 (noise sigma 0.3) would mean a leak between splits.
source "$(dirname "$0")/run_common.sh"

run --db "$DB" -q "$SPECS/xor_lab.yaml"
expect_rc 0 "lab sweep"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done'")" 10 "10 trials done"
mean=$(q "SELECT AVG(test_accuracy) FROM trials")
ok=$(q "SELECT AVG(test_accuracy) > 0.85 AND AVG(test_accuracy) < 0.95 FROM trials")
[ "$ok" = 1 ] || fail "mean test accuracy $mean outside (0.85, 0.95)"
# The summary view agrees with a direct computation.
expect_eq "$(q "SELECT round(test_accuracy_mean, 12) FROM sweep_summary")" \
    "$(q "SELECT round(AVG(test_accuracy), 12) FROM trials")" "sweep_summary mean"
# 160 test rows per trial, as the lab's split gives.
expect_eq "$(q "SELECT MIN(s) || ' ' || MAX(s) FROM (SELECT SUM(count) AS s FROM confusion
               WHERE split='test' GROUP BY trial_id)")" "160 160" "test rows"
echo "mean test accuracy $mean"
echo "ok"
