# Hostile names and values: control characters never reach the terminal raw
# (they are escaped: \e, \r, \x7f, \u009b), names have a rule checked at
# their line:col, sweep values that give the same trials are refused, a
# report never fails on a name and says why it cannot create a directory;
# every refusal leaves an existing database byte-identical.
source "$(dirname "$0")/run_common.sh"

# raw_controls FILE: the number of lines holding a control byte other than
# the newline (C0, DEL) or a C1 control (U+0080-U+009F as UTF-8).
raw_controls() { LC_ALL=C grep -a -c -P '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1" || true; }
expect_clean() {
    local n
    n=$(raw_controls "$1")
    [ "$n" = 0 ] || { show; od -c "$1" | head -40 >&2; fail "$2: $n lines of $1 hold raw control bytes"; }
}

XOR_BODY='data: {source: xor, augment: {repeat: 20}}
model:
  layers:
    - {units: 3, activation: relu}
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, epochs: 2}'

# ---- an existing database, to compare after each refusal ------------------
printf 'name: plain\n%s\n' "$XOR_BODY" > plain.yaml
run --db "$DB" -q plain.yaml
expect_rc 0 "plain spec"
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)
unchanged() { expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "database after $1"; }

# ---- a name with ESC, BEL, CR and LF: refused, and shown escaped ----------
printf 'name: "x\\e[31mred\\a\\rfake line\\n"\n%s\n' "$XOR_BODY" > ctl.yaml
run --db "$DB" ctl.yaml
expect_rc 2 "name with control characters"
expect_clean err.txt "run of a name with control characters"
expect_clean out.txt "run of a name with control characters"
grep -q -F "ctl.yaml:1:7: error: name 'x\\e[31mred\\a\\rfake line\\n' has characters that do not print" err.txt ||
    { show; fail "no escaped diagnostic at the name"; }
unchanged "a name with control characters"
run check ctl.yaml
expect_rc 2 "check of a name with control characters"
expect_clean err.txt "check of a name with control characters"

# ---- values with DEL and a C1 control reach the progress, summary, plan ---
# The label column is swept: its name is a CSV header and a sweep value.
printf 'x1,x2,c\177,d\302\233\n' > data.csv
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
    printf '%s.5,%s.25,%s,%s\n' "$i" "$((i % 3))" "$((i % 2))" "$(((i + 1) % 2))" >> data.csv
done
cat > csv.yaml <<'EOF'
name: labels
data: {source: {csv: data.csv}}
model:
  layers:
    - {units: 3, activation: relu}
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, epochs: 2}
sweep:
  lab:
    path: data.source.label
    values: ["c\x7f", "d\x9b"]
EOF
run check csv.yaml
expect_rc 0 "check of the label sweep"
expect_clean out.txt "plan of the label sweep"
grep -q -F 'd\u009b' out.txt || { show; fail "the plan does not show the C1 control escaped"; }
run --db "$WORK/csv.db" -j 1 csv.yaml
expect_rc 0 "run of the label sweep"
expect_clean err.txt "progress of the label sweep"
expect_clean out.txt "summary of the label sweep"
grep -q -F '{"lab": "c\x7f"} seed 0): done' err.txt || { show; fail "progress line does not show DEL escaped"; }
grep -q -F '{"lab": "d\u009b"}' out.txt || { show; fail "summary does not show the C1 control escaped"; }
# The database keeps the value as it was given.
expect_eq "$(sqlite3 "$WORK/csv.db" "SELECT hex(value) FROM trial_params ORDER BY trial_id" | tr '\n' ' ')" \
    "637F 64C29B " "stored sweep values"

# ---- names: empty, too long, the file's stem ------------------------------
printf 'name: ""\n%s\n' "$XOR_BODY" > empty.yaml
run --db "$DB" empty.yaml
expect_rc 2 "empty name"
grep -q -F 'empty.yaml:1:7: error: name is empty; a name is 1 to 128 bytes of printable text' err.txt ||
    { show; fail "no diagnostic for the empty name"; }
unchanged "an empty name"
long=$(head -c 10240 /dev/zero | tr '\0' n)
printf 'name: %s\n%s\n' "$long" "$XOR_BODY" > long.yaml
run --db "$DB" long.yaml
expect_rc 2 "10 KB name"
grep -q -F 'long.yaml:1:7: error: name is 10240 bytes long; a name is 1 to 128 bytes' err.txt ||
    { show; fail "no diagnostic for the long name"; }
unchanged "a 10 KB name"
# Without a name: the file's stem, without .yaml, also as shown.
printf '%s\n' "$XOR_BODY" > "my lab.yaml"
run --db "$WORK/stem.db" "my lab.yaml"
expect_rc 0 "spec without a name"
expect_eq "$(sqlite3 "$WORK/stem.db" 'SELECT name FROM experiments')" "my lab" "name from the file"
grep -q '^my lab: ran 1 trials' err.txt || { show; fail "summary does not use the stem"; }

# ---- sweep values that give the same trials -------------------------------
printf 'name: dup\n%s\nseeds: 2\nsweep:\n  hidden:\n    path: model.layers[0].units\n    values: [3, 4, 3, 4]\n' \
    "$XOR_BODY" > dup.yaml
run --db "$DB" dup.yaml
expect_rc 2 "duplicate sweep values"
grep -q -F 'dup.yaml:12:20: error: sweep.hidden: value 3 at index 2 gives the same trials as index 0 (duplicate)' err.txt ||
    { show; fail "no diagnostic for the duplicate value"; }
unchanged "duplicate sweep values"

# ---- report: names from an older database, directories it cannot create --
if "$RUNEXP_BIN" report --help >/dev/null 2>&1; then
    cp "$DB" old.db
    # An experiment recorded before names had a rule: 10 KB, then with
    # control characters. The report goes to results/<first 128 bytes>/.
    sqlite3 old.db "UPDATE experiments SET name = '$long'"
    run report --db old.db
    expect_rc 0 "report of a 10 KB name"
    [ -f "results/$(head -c 128 /dev/zero | tr '\0' n)/index.html" ] || { show; fail "no report directory for the 10 KB name"; }
    sqlite3 old.db "UPDATE experiments SET name = 'a' || char(27) || '[2J' || char(13) || 'b' || char(155)"
    run report --db old.db
    expect_rc 0 "report of a name with control characters"
    expect_clean out.txt "report of a name with control characters"
    grep -q -F '(a\e[2J\rb\u009b)' out.txt || { show; fail "report does not show the name escaped"; }
    [ -f "results/a__2J_b__/index.html" ] || { show; ls results >&2; fail "no report directory a__2J_b__"; }
    # A directory that cannot be made: the reason is said, even for a long path.
    : > afile
    run report --db old.db --out afile/sub
    expect_rc 1 "report into a file"
    grep -q 'cannot create directory afile/sub: Not a directory' err.txt || { show; fail "no reason for afile/sub"; }
    run report --db old.db --out "$(head -c 2000 /dev/zero | tr '\0' d)"
    expect_rc 1 "report into a 2000-byte directory name"
    grep -q 'cannot create directory d*\.\.\.d* (2000 bytes): File name too long' err.txt ||
        { show; fail "no reason for a long directory name"; }
fi
echo "hostile names ok"
