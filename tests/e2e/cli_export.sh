# `runexp export`: every table as CSV and JSON, read back with Python's csv
# and json modules and compared with the database row by row (sqlite3 module
# queries, independent of runexp's reader): one row per record, sweep values
# as typed columns, text with quotes, commas and newlines intact, NULL as an
# empty field / null. --out replaces a file whole or not at all; a bad
# format, table, experiment or database exits 2 and creates nothing.
source "$(dirname "$0")/run_common.sh"

run --db "$DB" -q "$SPECS/xor_small.yaml"
expect_rc 0 "xor run"
run --db "$DB" -q "$SPECS/xor_diverge.yaml"
expect_rc 1 "diverge run"
# Text that needs quoting, in a trial's error column.
q "UPDATE trials SET error = 'a \"quoted\", comma' || char(10) || 'second line' WHERE id = 1"
sum=$(sha256sum "$DB" | cut -d' ' -f1)

# check.py FORMAT TABLE EXPERIMENT_ID FILE: the export against the database.
cat > check.py <<'EOF'
import csv, io, json, sqlite3, sys
fmt, table, exp, path, db = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
con = sqlite3.connect(db)
raw = open(path, "rb").read()
if fmt == "csv":
    text = raw.decode()
    lines = text.split("\r\n")
    assert lines[-1] == "", "CSV must end in CRLF"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
else:
    data = json.loads(raw)
    assert isinstance(data, list)
    header = list(data[0].keys()) if data else []
    body = data
dims = json.loads(con.execute("SELECT sweep_dims FROM experiments WHERE id = ?", (exp,)).fetchone()[0]) if exp else []

def params(tid):
    return {n: v for n, v in con.execute("SELECT name, value FROM trial_params WHERE trial_id = ?", (tid,))}

if table == "trials":
    want = con.execute("SELECT id, seed, status, test_accuracy, test_loss, error, best_epoch FROM trials "
                       "WHERE experiment_id = ? ORDER BY point_index, seed, id", (exp,)).fetchall()
elif table == "epochs":
    want = con.execute("SELECT x.trial_id, x.epoch, x.loss, x.val_accuracy FROM epochs x JOIN trials t ON "
                       "t.id = x.trial_id WHERE t.experiment_id = ? ORDER BY x.trial_id, x.epoch", (exp,)).fetchall()
elif table == "metrics":
    want = con.execute("SELECT x.trial_id, x.split, x.name, x.value FROM metrics x JOIN trials t ON "
                       "t.id = x.trial_id WHERE t.experiment_id = ? ORDER BY x.trial_id, x.split, x.name",
                       (exp,)).fetchall()
elif table == "confusion":
    want = con.execute("SELECT x.trial_id, x.split, x.true_class, x.predicted_class, x.count FROM confusion x "
                       "JOIN trials t ON t.id = x.trial_id WHERE t.experiment_id = ? ORDER BY x.trial_id, "
                       "x.split, x.true_class, x.predicted_class", (exp,)).fetchall()
elif table == "classes":
    want = con.execute("SELECT class_index, name FROM classes WHERE experiment_id = ? ORDER BY class_index",
                       (exp,)).fetchall()
else:
    want = con.execute("SELECT id, name, spec FROM experiments ORDER BY id").fetchall()
assert len(body) == len(want), (len(body), len(want))
assert len(body) > 0

def get(row, name):
    v = row[header.index(name)] if fmt == "csv" else row[name]
    return v

def num(v):  # a CSV field or JSON value as a number (None for NULL)
    if v is None or v == "":
        return None
    return v if fmt == "json" else float(v)

for row, w in zip(body, want):
    if fmt == "csv":
        assert len(row) == len(header)
    if table in ("trials", "epochs", "metrics", "confusion"):
        tid = int(get(row, "trial_id"))
        assert tid == w[0]
        p = params(tid)
        assert sorted(p) == sorted(dims), (p, dims)
        for n, v in p.items():
            got = get(row, n)
            if fmt == "json":
                assert got == v and type(got) is type(v), (n, got, v)
            else:
                assert got == (str(v) if not isinstance(v, float) else repr(v)), (n, got, v)
    if table == "trials":
        assert int(get(row, "seed")) == w[1]
        assert get(row, "status") == w[2]
        for name, val in (("test_accuracy", w[3]), ("test_loss", w[4]), ("best_epoch", w[6])):
            assert num(get(row, name)) == val, (name, get(row, name), val)
        err = get(row, "error")
        assert (err if err != "" else None) == w[5], (err, w[5])
    elif table == "epochs":
        assert int(get(row, "epoch")) == w[1]
        assert num(get(row, "loss")) == w[2] and num(get(row, "val_accuracy")) == w[3]
    elif table == "metrics":
        assert (get(row, "split"), get(row, "name")) == (w[1], w[2])
        assert num(get(row, "value")) == w[3]
    elif table == "confusion":
        assert (get(row, "split"), int(get(row, "true_class")), int(get(row, "predicted_class")),
                int(get(row, "count"))) == w[1:]
        assert get(row, "true_name") == str(w[2]) and get(row, "predicted_name") == str(w[3])
    elif table == "classes":
        assert int(get(row, "class_index")) == w[0] and get(row, "name") == w[1]
    else:
        assert int(get(row, "experiment_id")) == w[0] and get(row, "name") == w[1]
        assert get(row, "spec") == w[2]
print("ok", table, fmt, len(body))
EOF

# Every table, both formats, to stdout and to a file: the same bytes.
for table in trials epochs metrics confusion classes experiments; do
    for fmt in csv json; do
        for exp in 1 2; do
            [ "$table" = experiments ] && [ "$exp" = 2 ] && continue
            sel=$exp; [ "$table" = experiments ] && sel=""
            run export $sel --db "$DB" --table $table --format $fmt
            expect_rc 0 "export $table $fmt $exp"
            mv out.txt "$table.$exp.$fmt"
            python3 check.py $fmt $table "$([ "$table" = experiments ] && echo 0 || echo $exp)" \
                "$table.$exp.$fmt" "$DB" > py.txt || fail "export $table $fmt experiment $exp"
        done
    done
done
# The typed columns on the wire: integers bare, reals with a point, text quoted.
expect_eq "$(sed -n 1p trials.1.csv | cut -d, -f1-8)" \
    "experiment_id,trial_id,trial_index,point_index,seed,hidden,status,n_params" "trials header"
expect_eq "$(sed -n 2p trials.2.csv | cut -d, -f5-7)" '0,0.01,"done"' "lr 0.01 row"
expect_eq "$(sed -n 3p trials.2.csv | cut -d, -f5-7)" '0,10.0,"diverged"' "lr 10.0 stays a real"
# The diverged trial's figures are NULL: empty in CSV, null in JSON.
python3 -c '
import json, sys
d = json.load(open("trials.2.json"))
assert d[1]["status"] == "diverged" and d[1]["test_accuracy"] is None and d[1]["lr"] == 10.0
assert isinstance(d[1]["lr"], float) and isinstance(d[0]["seed"], int)
' || fail "JSON nulls and types"
# The error with a quote, a comma and a newline, exactly as RFC 4180 has it.
grep -q '"a ""quoted"", comma' trials.1.csv || fail "quotes doubled"
# Default: the newest experiment, trials, CSV.
run export --db "$DB"
expect_rc 0 "export (defaults)"
cmp -s out.txt trials.2.csv || fail "defaults are not trials of the newest experiment as CSV"
run export e2e_xor --db "$DB" --out "$WORK/t.json"
expect_rc 0 "export --out FILE.json"
cmp -s t.json trials.1.json || fail "--out .json is JSON, the same bytes as stdout"
[ ! -s out.txt ] || fail "--out also wrote to stdout"

# --out replaces a file whole.
echo old > keep.csv
run export 1 --db "$DB" --out keep.csv
expect_rc 0 "--out over an existing file"
cmp -s keep.csv trials.1.csv || fail "--out content"
# Errors leave the old file and no temporary file.
echo old > keep.csv
run export nosuch --db "$DB" --out keep.csv
expect_rc 2 "unknown experiment"
grep -q "has no experiment named or numbered 'nosuch'" err.txt || { show; fail "message"; }
expect_eq "$(cat keep.csv)" old "file after a failed export"
mkdir outdir
run export 1 --db "$DB" --out outdir
expect_rc 2 "--out a directory"
grep -q "^runexp export: cannot write outdir: " err.txt || { show; fail "directory message"; }
expect_eq "$(ls outdir | wc -l)" 0 "directory untouched"
run export 1 --db "$DB" --out keep.csv/x.csv
expect_rc 2 "--out under a file"
grep -q "^runexp export: cannot write keep.csv/x.csv: Not a directory" err.txt || { show; fail "ENOTDIR message"; }
run export 1 --db "$DB" --out "$WORK/no/such/dir/x.csv"
expect_rc 2 "--out in a missing directory"
grep -q "cannot write $WORK/no/such/dir/x.csv: No such file or directory" err.txt || { show; fail "ENOENT message"; }
expect_eq "$(ls | grep -c '\.tmp-')" 0 "temporary files left"
[ ! -e outdir.tmp-* ] 2>/dev/null || fail "temporary file beside outdir"

run export --db "$DB" --format xml
expect_rc 2 "bad format"
expect_eq "$(cat err.txt)" "runexp export: --format must be csv or json, got 'xml'" "format message"
run export --db "$DB" --table weights
expect_rc 2 "bad table"
grep -q "^runexp export: --table must be trials, epochs, metrics, confusion, classes or experiments, got 'weights'$" err.txt ||
    { show; fail "table message"; }
run export --db "$WORK/missing.db"
expect_rc 2 "missing database"
grep -q "no database at $WORK/missing.db" err.txt || { show; fail "missing db message"; }
[ ! -e "$WORK/missing.db" ] || fail "export created the database"
run export 1 2 --db "$DB"
expect_rc 2 "two experiments"
run export --help
expect_rc 0 "--help"
grep -q '^usage: runexp export \[EXPERIMENT\]' out.txt || { show; fail "--help"; }
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum" "database after exports"
echo "cli_export: ok"
