# Inputs around the data that used to be misread. A directory as the spec or
# the CSV path, a repeated CSV column name and a NUL byte in a CSV each exit 2
# with their reason and leave an existing database byte-identical. A CSV with
# CR-only line ends (old Mac files) trains, and numeric labels are classes by
# value: 0, 1 and 1.0 are two classes, named "0" and "1".
source "$(dirname "$0")/run_common.sh"

# A directory as the spec path: the reason, exit 2, no database.
run check "$WORK"
expect_rc 2 "check DIR"
expect_eq "$(cat err.txt)" "$WORK: error: is a directory, expected a YAML spec file" "check DIR"
run --db "$DB" -q "$WORK"
expect_rc 2 "run DIR"
expect_eq "$(cat err.txt)" "$WORK: error: is a directory, expected a YAML spec file" "run DIR"
[ ! -e "$DB" ] || fail "run DIR created the database"

# spec FILE CSV [LABEL]: a small spec reading CSV.
spec() {
    local src="{csv: $2}"
    [ -z "${3:-}" ] || src="{csv: $2, label: $3}"
    cat > "$1" <<YAML
data:
  source: $src
  augment: {repeat: 10}
  split: {test: 0.25}
model:
  layers:
    - {units: 4, activation: tanh}
    - {units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  epochs: 2
record: {grid: false}
YAML
}

# XOR with CR-only line ends, one label written 1.0.
printf 'x0,x1,y\r0,0,0\r0,1,1\r1,0,1.0\r1,1,0\r' > cr.csv
spec cr.yaml cr.csv
run --db "$DB" -q cr.yaml
expect_rc 0 "CR-only CSV"
expect_eq "$(q 'SELECT name FROM classes ORDER BY class_index')" "$(printf '0\n1')" "classes of 0, 1, 1.0"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status = 'done'")" 1 "trials done"
# 40 rows, 10 in the test split: its confusion counts add up to 10.
expect_eq "$(q "SELECT SUM(count) FROM confusion WHERE split = 'test'")" 10 "test rows"

sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)
ls -l --time-style=+%s.%N "$DB"* > ls_before.txt

# bad NAME WANT: runexp on NAME.yaml exits 2, the first line of stderr is
# WANT, and the database is unchanged.
bad() {
    run --db "$DB" -q "$1.yaml"
    expect_rc 2 "$1"
    expect_eq "$(head -n 1 err.txt)" "$2" "$1: first message"
    expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "$1: database"
    ls -l --time-style=+%s.%N "$DB"* > ls_after.txt
    cmp -s ls_before.txt ls_after.txt || fail "$1: database files changed"
}

printf 'a,a,y\n1,2,0\n3,4,1\n' > dup.csv
spec dup.yaml dup.csv a
bad dup "dup.csv:1:3: error: header field 2 repeats the column name 'a' of field 1 (column names must be unique)"

printf 'x0,x1,y\n0,0,0\n0,\0001,1\n' > nul.csv
spec nul.yaml nul.csv
bad nul "nul.csv:3:3: error: NUL byte: the file holds binary data, not CSV text"

mkdir sub.csv
spec subdir.yaml sub.csv
bad subdir "subdir.yaml:2:17: error: cannot read CSV 'sub.csv': is a directory, expected a CSV file"

run --db "$DB" -q "$WORK"
expect_rc 2 "run DIR with a database"
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "run DIR: database"
echo "ok"
