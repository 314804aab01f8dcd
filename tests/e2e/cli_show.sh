# `runexp ls` and `runexp show`: the figures they print equal SQLite's own
# round() of values computed by SQL from the trials table (not from the
# sweep_summary view show reads), statuses come with their reasons, the model
# summary has the parameter counts worked out by hand, and every error (a
# missing database, experiment or trial, a bad id) exits 2 without creating
# or changing a file. Also: an unknown command is an error with a hint, and a
# spec file is still run without `run`.
source "$(dirname "$0")/run_common.sh"

# A description, and the same small sweep as xor_small (2 hidden x 2 seeds).
{ echo 'description: "Lab 1: XOR, does it converge?"'; cat "$SPECS/xor_small.yaml"; } > xor.yaml
run --db "$DB" -q xor.yaml
expect_rc 0 "xor run"
run --db "$DB" -q "$SPECS/xor_diverge.yaml"
expect_rc 1 "diverge run"

# r4 SQL-EXPR: SQLite's printf('%.4f', round(EXPR, 4)) of a query.
r4() { q "SELECT printf('%.4f', round(($1), 4)) $2"; }

# ---- ls ----
run ls --db "$DB"
expect_rc 0 "ls"
line=$(grep ' e2e_xor ' out.txt) || { show; fail "ls lists no e2e_xor"; }
best=$(r4 "max(a)" "FROM (SELECT avg(test_accuracy) AS a FROM trials WHERE experiment_id = 1
                       AND status = 'done' GROUP BY params)")
case "$line" in *" 4/4 "*"4 done"*": $best (2 seeds)"*) ;; *) show; fail "ls line: $line (best $best)";; esac
line=$(grep ' e2e_xor_diverge ' out.txt)
case "$line" in *" 1/2 "*"1 done, 1 diverged"*"(1 seed)"*) ;; *) show; fail "ls diverge line: $line";; esac
run ls --db "$DB" --json
expect_rc 0 "ls --json"
python3 - "$DB" <<'EOF' || fail "ls --json"
import json, sqlite3, sys
d = json.load(open("out.txt"))
db = sqlite3.connect(sys.argv[1])
assert [e["id"] for e in d] == [r[0] for r in db.execute("SELECT id FROM experiments ORDER BY id")]
for e in d:
    n, done = db.execute("SELECT count(*), sum(status = 'done') FROM trials WHERE experiment_id = ?",
                         (e["id"],)).fetchone()
    assert e["trials"] == n and e["done"] == done, e
    best = db.execute("SELECT max(a) FROM (SELECT avg(test_accuracy) AS a FROM trials WHERE "
                      "experiment_id = ? AND status = 'done' GROUP BY params)", (e["id"],)).fetchone()[0]
    assert abs(e["best"]["test_accuracy_mean"] - best) < 1e-15, (e, best)
EOF

# ---- show EXPERIMENT: the table against SQL on the trials ----
run show --db "$DB" e2e_xor
expect_rc 0 "show e2e_xor"
grep -q '^  description: Lab 1: XOR, does it converge?$' out.txt || { show; fail "description"; }
grep -q '^  4 trials: 4 done in 2 sweep points$' out.txt || { show; fail "trial count line"; }
for h in 2 4; do
    w="FROM trials WHERE experiment_id = 1 AND status = 'done' AND params = '{\"hidden\": $h}'"
    mean=$(r4 "avg(test_accuracy)" "$w")
    sd=$(r4 "sqrt(sum((test_accuracy - (SELECT avg(test_accuracy) $w)) *
                     (test_accuracy - (SELECT avg(test_accuracy) $w))) / (count(*) - 1))" "$w")
    lmean=$(r4 "avg(test_loss)" "$w")
    lo=$(r4 "min(test_accuracy)" "$w"); hi=$(r4 "max(test_accuracy)" "$w")
    val=$(r4 "avg(val_accuracy)" "$w")
    row=$(grep -E "^ +[0-9]+ +$h +2 " out.txt) || { show; fail "no row for hidden $h"; }
    case "$row" in
        *" $mean ± $sd  $lo – $hi  $lmean ± "*" $val "*) ;;
        *) show; fail "hidden $h row: '$row', want $mean ± $sd, $lo – $hi, loss $lmean, val $val";;
    esac
done
# The model summaries, worked out by hand: 2 inputs -> h relu -> 2 softmax
# has (2h + h) + (2h + 2) parameters: 12 for h = 2, 22 for h = 4; the
# database's n_params agrees.
expect_eq "$(grep -c '^Model: "sequential"$' out.txt)" 2 "one summary per architecture"
expect_eq "$(grep '^Total params' out.txt | tr '\n' ' ')" "Total params: 12 Total params: 22 " \
    "parameter counts"
expect_eq "$(q "SELECT group_concat(n, ' ') FROM (SELECT DISTINCT n_params AS n FROM trials
               WHERE experiment_id = 1 ORDER BY n)")" "12 22" "n_params in the database"
grep -q '^ dense_1 (Dense)             (None, 2)                 10 ' out.txt ||
    { show; fail "layer row of hidden 4"; }
# The newest experiment by default; by id too.
run show --db "$DB"
expect_rc 0 "show (newest)"
grep -q '^experiment 2: e2e_xor_diverge$' out.txt || { show; fail "newest experiment"; }
ep=$(q "SELECT diverged_epoch FROM trials WHERE experiment_id = 2 AND status = 'diverged'")
tid=$(q "SELECT id FROM trials WHERE experiment_id = 2 AND status = 'diverged'")
grep -q "^  trial $tid (lr = 10.0, seed 0): diverged at epoch $ep: loss became NaN" out.txt ||
    { show; fail "diverged reason"; }
grep -qE '^ +1 +10\.0 +0/1 +- ' out.txt || { show; fail "a point without a done trial"; }
# One architecture for the lr sweep: one summary, no "of ..." label.
expect_eq "$(grep -c '^Model: "sequential"$' out.txt)" 1 "lr sweep: one model"
grep -q '^model:$' out.txt || { show; fail "model label"; }
run show --db "$DB" 1
expect_rc 0 "show 1"
grep -q '^experiment 1: e2e_xor$' out.txt || { show; fail "show by id"; }

# ---- rounding: a mean that lies on a decimal half ----
# 0.62625 (stored as 0.626249999999999996) is 0.6263 by SQLite's round(),
# 0.6262 by C's printf("%.4f"): show must print SQLite's.
cp "$DB" half.db
sqlite3 half.db "UPDATE trials SET test_accuracy = 0.62625 WHERE experiment_id = 1 AND seed IN (0, 1)
                 AND params = '{\"hidden\": 2}'"
expect_eq "$(sqlite3 half.db "SELECT printf('%.4f', round(avg(test_accuracy), 4)) FROM trials
            WHERE params = '{\"hidden\": 2}'")" 0.6263 "SQLite's rounding of the half"
run show --db half.db e2e_xor
grep -qE '^ +0 +2 +2 +0\.6263 ± 0\.0000  0\.6263 – 0\.6263 ' out.txt ||
    { show; fail "0.62625 shown as SQLite rounds it"; }

# ---- statuses with their reasons (set by SQL on a copy) ----
cp "$DB" st.db
sqlite3 st.db "UPDATE trials SET status = 'failed', error = 'no memory for '||char(27)||'[31mX'
               WHERE id = 1;
               UPDATE trials SET status = 'interrupted', epochs_run = 7 WHERE id = 2;
               UPDATE trials SET status = 'queued' WHERE id = 3"
run show --db st.db e2e_xor
expect_rc 0 "show statuses"
grep -q '^  4 trials: 1 done, 1 failed, 1 interrupted, 1 queued in 2 sweep points$' out.txt ||
    { show; fail "status counts"; }
grep -q '^3 trials not done:$' out.txt || { show; fail "not-done count"; }
grep -qF '  trial 1 (hidden = 2, seed 0): failed: no memory for \e[31mX' out.txt ||
    { show; fail "failed with its (escaped) error"; }
grep -qF '  trial 2 (hidden = 2, seed 1): interrupted after 7 epochs of 20' out.txt ||
    { show; fail "interrupted"; }
grep -qF '  trial 3 (hidden = 4, seed 0): queued (not run yet)' out.txt || { show; fail "queued"; }
grep -qE '^ +0 +2 +0/2 +- ' out.txt || { show; fail "point without done trials"; }
grep -qE '^ +1 +4 +1/2 +[0-9.]+  ' out.txt || { show; fail "point with 1 of 2 done (no std)"; }

# ---- show --json: the exact figures ----
run show --db "$DB" e2e_xor --json
expect_rc 0 "show --json"
python3 - "$DB" <<'EOF' || fail "show --json"
import json, sqlite3, statistics, sys
d = json.load(open("out.txt"))
db = sqlite3.connect(sys.argv[1])
assert d["experiment"]["description"] == "Lab 1: XOR, does it converge?"
assert d["trials"]["total"] == 4 and d["trials"]["done"] == 4
for p in d["points"]:
    accs = [r[0] for r in db.execute("SELECT test_accuracy FROM trials WHERE experiment_id = 1 "
                                     "AND status = 'done' AND json_extract(params, '$.hidden') = ?",
                                     (p["params"]["hidden"],))]
    assert type(p["params"]["hidden"]) is int
    assert abs(p["test_accuracy_mean"] - statistics.mean(accs)) < 1e-12, p
    assert abs(p["test_accuracy_std"] - statistics.stdev(accs)) < 1e-12, p
    assert p["test_accuracy_min"] == min(accs) and p["test_accuracy_max"] == max(accs)
assert [m["total_params"] for m in d["models"]] == [12, 22]
assert d["not_done"] == []
EOF

# ---- show --trial ----
run show --db "$DB" --trial 2
expect_rc 0 "show --trial 2"
grep -q '^trial 2 of experiment 1 (e2e_xor), point 0 (hidden = 2), seed 1$' out.txt ||
    { show; fail "trial header"; }
for sp in train validation test; do
    col=$sp; [ $sp = validation ] && col=val
    want="$(r4 "${col}_loss" "FROM trials WHERE id = 2")  +$(r4 "${col}_accuracy" "FROM trials WHERE id = 2")"
    grep -qE "^  $sp +$want\$" out.txt || { show; fail "$sp loss/accuracy, want $want"; }
done
for k in 0 1; do
    m() { r4 "value" "FROM metrics WHERE trial_id = 2 AND split = 'test' AND name = '$1_$k'"; }
    sup=$(q "SELECT CAST(value AS INTEGER) FROM metrics WHERE trial_id = 2 AND split = 'test'
             AND name = 'support_$k'")
    grep -qE "^  $k +$(m precision) +$(m recall) +$(m f1) +$sup\$" out.txt ||
        { show; fail "class $k precision/recall/f1/support"; }
done
for i in 0 1; do
    want="$(q "SELECT group_concat(count, ' +') FROM (SELECT count FROM confusion_full
               WHERE trial_id = 2 AND split = 'test' AND true_class = $i ORDER BY predicted_class)")"
    grep -qE "^  $i +$want\$" out.txt || { show; fail "confusion row $i, want $want"; }
done
grep -q '^  true \\ predicted   0   1$' out.txt || { show; fail "confusion header with class names"; }
# 20 epochs: every one of them, no sparkline when stdout is not a terminal.
expect_eq "$(sed -n '/^  epoch /,/^$/p' out.txt | grep -cE '^ +[0-9]+ ')" 20 "history rows"
e7="$(r4 loss "FROM epochs WHERE trial_id = 2 AND epoch = 7")"
grep -qE "^ +7 +$e7 " out.txt || { show; fail "epoch 7 loss $e7"; }
if grep -q $'\xe2\x96' out.txt; then show; fail "a sparkline on a pipe"; fi
# 45 epochs: the first, every 5th, the last = 10 rows.
sed 's/epochs: 20/epochs: 45/; s/^seeds: 2/seeds: 1/; s/name: e2e_xor/name: e2e_xor45/' \
    "$SPECS/xor_small.yaml" > x45.yaml
run --db "$DB" -q x45.yaml
expect_rc 0 "45 epochs"
t45=$(q "SELECT min(t.id) FROM trials t JOIN experiments e ON e.id = t.experiment_id
         WHERE e.name = 'e2e_xor45'")
run show --db "$DB" --trial "$t45"
expect_eq "$(sed -n '/^  epoch /,/^$/p' out.txt | grep -E '^ +[0-9]+ ' | awk '{print $1}' | tr '\n' ' ')" \
    "1 5 10 15 20 25 30 35 40 45 " "every 5th epoch"
grep -q '^  every 5th epoch, with the first and the last:$' out.txt || { show; fail "step note"; }
# On a UTF-8 terminal (script(1) gives a pseudo-terminal): sparklines of
# loss and val_loss, one block per epoch.
if command -v script >/dev/null; then
    LANG=C.UTF-8 LC_ALL= script -qec "$RUNEXP_BIN show --db $DB --trial 2" /dev/null > tty.txt
    spark=$(grep '^  loss  ' tty.txt | awk '{print $2}' | tr -d '\r')
    expect_eq "$(printf %s "$spark" | wc -m)" 20 "sparkline length"
    case "$spark" in *[!▁▂▃▄▅▆▇█]*) fail "sparkline characters: $spark";; esac
    grep -q '^  val_loss  ' tty.txt || { cat tty.txt; fail "val_loss sparkline"; }
    LANG=C LC_ALL= script -qec "$RUNEXP_BIN show --db $DB --trial 2" /dev/null > tty.txt
    if grep -q $'\xe2\x96' tty.txt; then fail "a sparkline in a C locale"; fi
fi
# The diverged trial: its reason, no figures.
run show --db "$DB" --trial "$tid"
expect_rc 0 "show diverged trial"
grep -q "^  status: diverged at epoch $ep: loss became NaN or Inf" out.txt || { show; fail "trial status"; }
run show --db "$DB" --trial 2 --json
expect_rc 0 "show --trial --json"
python3 - "$DB" <<'EOF' || fail "show --trial --json"
import json, sqlite3, sys
d = json.load(open("out.txt"))
db = sqlite3.connect(sys.argv[1])
assert d["trial"]["id"] == 2 and d["trial"]["params"] == {"hidden": 2}
assert d["metrics"]["test"]["accuracy"] == db.execute(
    "SELECT test_accuracy FROM trials WHERE id = 2").fetchone()[0]
assert d["history"]["loss"] == [r[0] for r in db.execute(
    "SELECT loss FROM epochs WHERE trial_id = 2 ORDER BY epoch")]
cm = [[0, 0], [0, 0]]
for i, j, c in db.execute("SELECT true_class, predicted_class, count FROM confusion "
                          "WHERE trial_id = 2 AND split = 'test'"):
    cm[i][j] = c
assert d["confusion_test"] == cm, (d["confusion_test"], cm)
assert d["classes"] == ["0", "1"]
EOF

# ---- errors: exit 2, clear messages, no file created or changed ----
run show --db "$DB" nosuch
expect_rc 2 "unknown experiment"
grep -q "has no experiment named or numbered 'nosuch'" err.txt || { show; fail "unknown experiment message"; }
run show --db "$DB" --trial 999
expect_rc 2 "unknown trial"
grep -q "has no trial 999" err.txt || { show; fail "unknown trial message"; }
for bad in abc 0 -3 1x ""; do
    run show --db "$DB" --trial "$bad"
    expect_rc 2 "bad trial id '$bad'"
    grep -q "trial id (a positive integer), got '$bad'" err.txt || { show; fail "bad id message"; }
done
run show --db "$DB" --bogus
expect_rc 2 "unknown option"
for cmd in ls show; do
    run $cmd --db "$WORK/missing.db"
    expect_rc 2 "$cmd on a missing database"
    grep -q "no database at $WORK/missing.db" err.txt || { show; fail "$cmd missing db message"; }
    [ ! -e "$WORK/missing.db" ] || fail "$cmd created the missing database"
done
(unset RUNEXP_DB; cd "$WORK" && mkdir -p empty && cd empty && "$RUNEXP_BIN" ls >/dev/null 2>&1) &&
    fail "ls without results/runexp.db succeeded"
[ ! -e "$WORK/empty/results" ] || fail "ls created results/"
RUNEXP_DB="$DB" run ls
expect_rc 0 "ls via RUNEXP_DB"
# Reading changes nothing (the 45-epoch run above did: a fresh checksum).
sum=$(sha256sum "$DB" | cut -d' ' -f1)
for cmd in "ls" "show e2e_xor" "show --trial 1" "show --json" "ls --json"; do
    run $cmd --db "$DB"
    expect_rc 0 "$cmd"
done
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum" "database after ls/show"
for cmd in ls show; do
    run $cmd --help
    expect_rc 0 "$cmd --help"
    grep -q "^usage: runexp $cmd" out.txt || { show; fail "$cmd --help"; }
done

# ---- unknown commands; spec files without `run` ----
run list
expect_rc 2 "runexp list"
expect_eq "$(cat err.txt)" "runexp: unknown command 'list'; did you mean 'ls'?" "list message"
run shwo
expect_rc 2 "runexp shwo"
expect_eq "$(cat err.txt)" "runexp: unknown command 'shwo'; did you mean 'show'?" "shwo message"
run frobnicate
expect_rc 2 "runexp frobnicate"
grep -q "^runexp: unknown command 'frobnicate'; commands: run, check" err.txt || { show; fail "no hint"; }
# A spec named without an extension or slash runs because the file exists;
# a .yaml name that does not exist is a (missing) spec, not a command.
cp "$SPECS/xor_small.yaml" myspec
run --db spec.db -q myspec
expect_rc 0 "runexp myspec (an existing file)"
expect_eq "$(sqlite3 spec.db "SELECT count(*) FROM trials WHERE status = 'done'")" 4 "myspec trials"
run --db spec.db nosuch.yaml
expect_rc 2 "missing spec"
if grep -q "unknown command" err.txt; then show; fail "a .yaml name taken for a command"; fi
run -q --db spec.db myspec
expect_rc 0 "options before the spec"
echo "cli_show: ok"
