# `runexp reproduce ID`: exit 0 on an untouched trial; exit 1 naming the first
# difference after a stored weight, metric or hash is altered with SQL; exit 2
# for a trial that does not exist or a missing database.
source "$(dirname "$0")/run_common.sh"

cp "$SPECS/xor_small.yaml" spec.yaml
run --db "$DB" -q spec.yaml
expect_rc 0 "sweep"
# The spec file may change or vanish: reproduce uses the stored text.
rm spec.yaml
mkdir elsewhere && cd elsewhere

sum=$(sha256sum "$DB" | cut -d' ' -f1)
rm -f "$DB.lock" # left by the run (a lock file is never removed by runexp)
run reproduce --db "$DB" 3
expect_rc 0 "reproduce 3"
grep -q "matches" out.txt || { show; fail "no match message"; }
# Reproducing only reads: the database file is byte-identical (a WAL reader
# may leave an empty -wal and the -shm index next to it, nothing more).
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum" "database after reproduce"
[ ! -s "$DB-wal" ] || fail "reproduce wrote to the WAL"
[ ! -e "$DB.lock" ] || fail "reproduce took the writer lock"
RUNEXP_DB="$DB" run reproduce 1
expect_rc 0 "reproduce 1 via RUNEXP_DB"
# An older schema version it can read (1: the same tables) is read as it is.
cp "$DB" v1.db
sqlite3 v1.db "PRAGMA user_version = 1"
sum1=$(sha256sum v1.db | cut -d' ' -f1)
run reproduce --db v1.db 1
expect_rc 0 "reproduce from schema version 1"
expect_eq "$(sha256sum v1.db | cut -d' ' -f1)" "$sum1" "schema version 1 database"

# Another value for one kernel weight: parameter 1 of layer 0 (bytes 5..8).
q "UPDATE weights SET data = CAST(substr(data, 1, 4) || x'0000803f' || substr(data, 9) AS BLOB)
   WHERE trial_id = 2 AND layer = 0 AND kind = 'kernel'"
expect_eq "$(q "SELECT typeof(data) || length(data) FROM weights WHERE trial_id = 2 AND layer = 0
               AND kind = 'kernel'")" blob16 "altered blob"
run reproduce --db "$DB" 2
expect_rc 1 "altered weight"
grep -q "MISMATCH" out.txt || { show; fail "no mismatch message"; }
grep -q "first difference: layer 0 kernel\[1\] (parameter 1): stored 1," out.txt ||
    { show; fail "weight difference not located"; }
# A truncated blob.
q "UPDATE weights SET data = substr(data, 1, 4) WHERE trial_id = 1 AND layer = 1 AND kind = 'bias'"
run reproduce --db "$DB" 1
expect_rc 1 "truncated weight"
grep -q "first difference: layer 1 bias has 1 values stored, 2 recomputed" out.txt ||
    { show; fail "truncated blob not located"; }

# A stored metric.
q "UPDATE metrics SET value = value + 1e-9 WHERE trial_id = 3 AND split = 'test' AND name = 'loss'"
q "UPDATE trials SET result_hash = substr('0000' || result_hash, 1, 64) WHERE id = 3"
run reproduce --db "$DB" 3
expect_rc 1 "altered metric"
grep -q "first difference: metric test loss" out.txt || { show; fail "metric difference not located"; }

# Only the hash.
q "UPDATE trials SET result_hash = replace(result_hash, substr(result_hash, 1, 1),
   CASE substr(result_hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE id = 4"
run reproduce --db "$DB" 4
expect_rc 1 "altered hash"
grep -q "result_hash itself differs" out.txt || { show; fail "hash-only difference not reported"; }

# Errors: no such trial, bad id, missing database (and it is not created).
run reproduce --db "$DB" 99
expect_rc 2 "no such trial"
run reproduce --db "$DB" abc
expect_rc 2 "bad id"
run reproduce --db "$WORK/none.db" 1
expect_rc 2 "missing database"
[ ! -e "$WORK/none.db" ] || fail "reproduce created a database"

# A newer schema version, or none (tables without a version: another
# program's file): refused, not migrated, byte-identical.
for v in 0 5; do
    cp "$DB" "v$v.db"
    sqlite3 "v$v.db" "PRAGMA user_version = $v"
    sum=$(sha256sum "v$v.db" | cut -d' ' -f1)
    run reproduce --db "v$v.db" 1
    expect_rc 2 "reproduce from schema version $v"
    if [ $v = 0 ]; then want="of another program"; else want="schema version $v"; fi
    grep -q "$want" err.txt || { show; fail "no clear refusal of schema version $v"; }
    expect_eq "$(sha256sum "v$v.db" | cut -d' ' -f1)" "$sum" "schema version $v database"
done

# A CSV trial whose file changed: the message names the CSV's content, not
# "another runexp version".
cd "$WORK"
awk 'BEGIN { print "x0,x1,y"; for (i = 0; i < 48; i++) { a = (i * 7) % 12 / 6.0 - 1; b = (i * 5) % 12 / 6.0 - 1;
             printf "%.4f,%.4f,%s\n", a, b, (a * b > 0 ? "same" : "diff") } }' > small.csv
cat > csv.yaml <<'YAML'
name: e2e_csv
data:
  source: {csv: small.csv, label: y}
  split: {test: 0.25}
model:
  layers:
    - {units: 4, activation: tanh}
    - {units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  optimizer: adam
  epochs: 5
seeds: 1
YAML
run --db csv.db -q csv.yaml
expect_rc 0 "CSV sweep"
run reproduce --db csv.db 1
expect_rc 0 "reproduce the CSV trial"
sed -i '2s/^[^,]*,/0.5,/' small.csv
run reproduce --db csv.db 1
expect_rc 2 "reproduce after the CSV changed"
grep -q "the content of its CSV file .*small.csv changed since it ran" err.txt ||
    { show; fail "the message does not say the CSV changed"; }
grep -q "another runexp version" err.txt && { show; fail "blamed another runexp version"; }
echo "ok"
