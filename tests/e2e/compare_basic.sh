# `runexp compare`: per-point n and mean, the best point, the paired mean
# difference against it and Holm's adjustment, checked against numbers
# computed here from the database with sqlite3 and awk (p-values themselves
# are checked against SciPy in test_stats); two experiments over their common
# points and seeds; the errors; the database is only read.
source "$(dirname "$0")/run_common.sh"

run --db "$DB" -q "$SPECS/compare_small.yaml"
expect_rc 0 "sweep"
# A second experiment: fewer epochs, seeds 2..7 (common with the first: 2..5).
sed -e 's/^name: .*/name: e2e_compare_b/' -e 's/^seeds: 6/seeds: [2, 3, 4, 5, 6, 7]/' \
    -e 's/^  epochs: 40/  epochs: 20/' "$SPECS/compare_small.yaml" >b.yaml
run --db "$DB" -q b.yaml
expect_rc 0 "second sweep"
# And one with no seed in common.
sed -e 's/^name: .*/name: e2e_compare_far/' -e 's/^seeds: 6/seeds: [100, 101]/' \
    "$SPECS/compare_small.yaml" >far.yaml
run --db "$DB" -q far.yaml
expect_rc 0 "third sweep"
sum=$(sha256sum "$DB" | cut -d' ' -f1)

# j PATH: a value of out.json (parsed by SQLite's JSON functions).
j() { sqlite3 -batch -noheader :memory: "SELECT json_extract(readfile('out.json'), '$1')"; }
# near A B WHAT: |A - B| <= 1e-12.
near() {
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 1e-12) }' ||
        fail "$3: got '$1', want '$2'"
}

for metric in test_accuracy test_loss; do
    run compare e2e_compare --db "$DB" --json --metric "$metric"
    expect_rc 0 "compare --json --metric $metric"
    cp out.txt out.json
    expect_eq "$(j '$.metric')" "$metric" "metric"
    expect_eq "$(j '$.order')" value "order by the sweep value"
    # Independent: n and mean per point (done trials) by awk over the rows.
    q "SELECT point_index, $metric FROM trials WHERE experiment_id = 1 AND status = 'done'
       ORDER BY point_index, seed" |
        awk -F'|' '{ n[$1]++; s[$1] += $2 } END { for (p in n) printf "%d %d %.17g\n", p, n[p], s[p] / n[p] }' |
        sort -n >means.txt
    expect_eq "$(wc -l <means.txt)" 3 "three points"
    # Best: highest mean for accuracy, lowest for loss; ties to the lower index.
    if [ "$metric" = test_accuracy ]; then dir=1; else dir=-1; fi
    best=$(awk -v d="$dir" 'NR == 1 || d * $3 > d * bm { bm = $3; bp = $1 } END { print bp }' means.txt)
    expect_eq "$(j '$.best_point')" "$best" "best point ($metric)"
    expect_eq "$(sqlite3 -batch -noheader :memory: \
        "SELECT json_array_length(json_extract(readfile('out.json'), '$.points'))")" 3 \
        "points in the JSON"
    for k in 0 1 2; do
        p=$(j "\$.points[$k].point_index")
        read -r _ n_want mean_want < <(awk -v p="$p" '$1 == p' means.txt)
        expect_eq "$(j "\$.points[$k].n")" "$n_want" "n of point $p"
        near "$(j "\$.points[$k].mean")" "$mean_want" "mean of point $p ($metric)"
        if [ "$p" = "$best" ]; then
            expect_eq "$(j "\$.points[$k].is_best")" 1 "best flag"
            expect_eq "$(j "\$.points[$k].vs_best")" "" "no comparison for the best"
            continue
        fi
        # Paired difference over the common seeds, joined by seed in SQL.
        read -r np_want diff_want < <(q "SELECT a.$metric - b.$metric FROM trials a JOIN trials b
            ON b.experiment_id = a.experiment_id AND b.seed = a.seed AND b.point_index = $best
            WHERE a.experiment_id = 1 AND a.point_index = $p AND a.status = 'done'
              AND b.status = 'done'" | awk '{ s += $1; n++ } END { printf "%d %.17g\n", n, s / n }')
        expect_eq "$(j "\$.points[$k].vs_best.n_pairs")" "$np_want" "pairs of point $p"
        near "$(j "\$.points[$k].vs_best.mean_diff")" "$diff_want" "mean diff of point $p ($metric)"
        # The CI of the difference holds its mean.
        awk -v lo="$(j "\$.points[$k].vs_best.ci_lo")" -v hi="$(j "\$.points[$k].vs_best.ci_hi")" \
            -v m="$diff_want" 'BEGIN { exit !(lo <= m && m <= hi) }' || fail "diff CI of point $p"
    done
    # Holm by awk over the raw Wilcoxon and t p-values of the two comparisons.
    for t in w t; do
        sqlite3 -batch -noheader -separator ' ' :memory: "SELECT json_extract(value, '$.point_index'),
            json_extract(value, '$.vs_best.p_$t'), json_extract(value, '$.vs_best.p_${t}_holm')
            FROM json_each(json_extract(readfile('out.json'), '$.points'))
            WHERE json_extract(value, '$.vs_best') IS NOT NULL" >p.txt
        awk 'NR == 1 { p1 = $2; h1 = $3 } NR == 2 { p2 = $2; h2 = $3 }
             END { lo = p1 < p2 ? p1 : p2; hi = p1 < p2 ? p2 : p1
                   a = 2 * lo; if (a > 1) a = 1; b = hi > a ? hi : a
                   w1 = p1 < p2 ? a : b; w2 = p1 < p2 ? b : a
                   d1 = w1 - h1; d2 = w2 - h2; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2
                   exit !(NR == 2 && d1 < 1e-15 && d2 < 1e-15) }' p.txt ||
            { cat p.txt >&2; fail "Holm of p_$t ($metric)"; }
    done
    # The smallest sufficient point: the first by sweep value that is the
    # best or has a Holm-adjusted Wilcoxon p >= 0.05.
    want=$(sqlite3 -batch -noheader :memory: "SELECT json_extract(value, '$.point_index')
        FROM json_each(json_extract(readfile('out.json'), '$.points'))
        WHERE json_extract(value, '$.is_best') OR json_extract(value, '$.vs_best.p_w_holm') >= 0.05
        ORDER BY json_extract(value, '$.params.hidden') LIMIT 1")
    expect_eq "$(j '$.smallest_sufficient_point')" "$want" "smallest sufficient point ($metric)"
done

# The text table: the best point's line says so, every point has its n.
run compare e2e_compare --db "$DB"
expect_rc 0 "compare (text)"
best=$(q "SELECT json_extract(params, '$.hidden') FROM trials WHERE experiment_id = 1
          AND status = 'done' GROUP BY point_index ORDER BY AVG(test_accuracy) DESC, point_index LIMIT 1")
grep -q "^hidden=$best  .* best" out.txt || { show; fail "text: best point hidden=$best"; }
grep -q "^best: hidden=$best " out.txt || { show; fail "text: best line"; }
grep -q "^smallest point not significantly worse than the best: hidden=" out.txt ||
    { show; fail "text: smallest sufficient point"; }
for h in 1 2 4; do
    grep -q "^hidden=$h  *6  " out.txt || { show; fail "text: n of hidden=$h"; }
    grep -q "^hidden=$h  *epoch [0-9]* of 40  *val_loss\|^hidden=$h  *not (40 epochs)" out.txt ||
        { show; fail "text: convergence of hidden=$h"; }
done

# Two experiments: common points (all three) and common seeds (2..5), A - B.
run compare e2e_compare e2e_compare_b --db "$DB" --json
expect_rc 0 "compare A B"
cp out.txt out.json
expect_eq "$(sqlite3 -batch -noheader :memory: \
    "SELECT json_array_length(json_extract(readfile('out.json'), '$.points'))")" 3 "common points"
for k in 0 1 2; do
    h=$(j "\$.points[$k].params.hidden")
    read -r np_want diff_want < <(q "SELECT a.test_accuracy - b.test_accuracy FROM trials a
        JOIN trials b ON b.params = a.params AND b.seed = a.seed
        WHERE a.experiment_id = 1 AND b.experiment_id = 2
          AND json_extract(a.params, '$.hidden') = $h AND a.status = 'done' AND b.status = 'done'" |
        awk '{ s += $1; n++ } END { printf "%d %.17g\n", n, s / n }')
    expect_eq "$np_want" 4 "seeds 2..5 in common (hidden=$h)"
    expect_eq "$(j "\$.points[$k].a_minus_b.n_pairs")" "$np_want" "A-B pairs of hidden=$h"
    near "$(j "\$.points[$k].a_minus_b.mean_diff")" "$diff_want" "A-B mean diff of hidden=$h"
done
# Four pairs: Wilcoxon cannot reach 0.05, and says so.
grep -q "warning: .* cannot reach p < 0.05" err.txt || { show; fail "no warning for few pairs"; }
run compare e2e_compare e2e_compare_b --db "$DB"
expect_rc 0 "compare A B (text)"
grep -q "^A = e2e_compare (experiment 1), B = e2e_compare_b (experiment 2)" out.txt ||
    { show; fail "text A B header"; }

# Errors: exit 2 with a clear message.
run compare e2e_compare e2e_compare_far --db "$DB"
expect_rc 2 "no common seeds"
grep -q "have no common seeds" err.txt || { show; fail "no common seeds message"; }
run compare nosuch --db "$DB"
expect_rc 2 "unknown experiment"
grep -q "no experiment named or numbered 'nosuch'" err.txt || { show; fail "unknown experiment message"; }
run compare e2e_compare --db "$DB" --metric accuracy
expect_rc 2 "unknown metric"
grep -q "unknown metric 'accuracy'; valid: test_accuracy" err.txt || { show; fail "unknown metric message"; }
run compare --db "$DB"
expect_rc 2 "no experiment"
run compare --db "$WORK/none.db" e2e_compare
expect_rc 2 "missing database"
[ ! -e "$WORK/none.db" ] || fail "compare created a database"
# An experiment by id works the same.
run compare 1 --db "$DB" --json
expect_rc 0 "compare by id"
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum" "database unchanged by compare"

# The run's statistics are kept while they are current and rebuilt when
# not. Each point's n is its number of done trials (counted here), and the
# summary's median is the stored one: a median set by hand in point_stats is
# what a rerun with nothing to do prints, and stays.
expect_eq "$(q "SELECT group_concat(x, ' ') FROM (SELECT point_index || ':' || n AS x
    FROM point_stats WHERE experiment_id = 1 AND metric = 'test_accuracy'
    ORDER BY point_index)")" \
    "$(q "SELECT group_concat(point_index || ':' || c, ' ') FROM (SELECT point_index,
    count(*) AS c FROM trials WHERE experiment_id = 1 AND status = 'done'
    GROUP BY point_index ORDER BY point_index)")" "stored n per point = done trials"
q "UPDATE point_stats SET median = 0.4242 WHERE experiment_id = 1 AND metric = 'test_accuracy'
   AND point_index = 0"
run --db "$DB" "$SPECS/compare_small.yaml"
expect_rc 0 "rerun with nothing to do"
expect_eq "$(q "SELECT median FROM point_stats WHERE experiment_id = 1
    AND metric = 'test_accuracy' AND point_index = 0")" 0.4242 "current statistics kept"
grep -q "  0\.4242  " out.txt || { show; fail "the summary prints the stored median"; }
# Stale (a point's row missing, as after a crash between the last commit
# and the statistics): the rerun computes them all again.
q "DELETE FROM point_stats WHERE experiment_id = 1 AND metric = 'test_accuracy'
   AND point_index = 2"
run --db "$DB" -q "$SPECS/compare_small.yaml"
expect_rc 0 "rerun with stale statistics"
expect_eq "$(q "SELECT count(*) FROM point_stats WHERE experiment_id = 1
    AND metric = 'test_accuracy'")" 3 "statistics rebuilt"
expect_eq "$(q "SELECT median != 0.4242 FROM point_stats WHERE experiment_id = 1
    AND metric = 'test_accuracy' AND point_index = 0")" 1 "the hand-set median replaced"
echo "ok"
