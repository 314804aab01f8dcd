# Exit codes and refusals: a spec error exits 2 and leaves an existing database
# byte-identical (and creates none); usage errors exit 2; a file that is not
# an SQLite database, or one written by a newer schema, is refused untouched;
# a diverging trial is recorded as diverged, the sweep goes on, exit 1.
source "$(dirname "$0")/run_common.sh"

# A spec error never creates a database...
run --db "$DB" "$SPECS/bad_spec.yaml"
expect_rc 2 "bad spec"
grep -q "bad_spec.yaml:[0-9]*:[0-9]*: error:" err.txt || { show; fail "no file:line:col diagnostic"; }
[ ! -e "$DB" ] || fail "a bad spec created the database"
# ...nor touches an existing one, even listed after a good spec.
run --db "$DB" -q "$SPECS/xor_small.yaml"
expect_rc 0 "good spec"
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)
ls -l --time-style=+%s.%N "$DB"* > ls_before.txt
run --db "$DB" "$SPECS/xor_small.yaml" "$SPECS/bad_spec.yaml"
expect_rc 2 "good + bad spec"
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "database after a spec error"
ls -l --time-style=+%s.%N "$DB"* > ls_after.txt
cmp -s ls_before.txt ls_after.txt || fail "database files changed after a spec error"
run --db "$DB" "$WORK/no-such-spec.yaml"
expect_rc 2 "missing spec file"
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "database after a missing spec"

# Usage errors.
run
expect_rc 2 "no arguments"
run run
expect_rc 2 "run without a spec"
run --bogus "$SPECS/xor_small.yaml"
expect_rc 2 "unknown option"
run -j 0 "$SPECS/xor_small.yaml"
expect_rc 2 "-j 0"
run -j x "$SPECS/xor_small.yaml"
expect_rc 2 "-j x"
run --db
expect_rc 2 "--db without a file"
run reproduce
expect_rc 2 "reproduce without an id"
expect_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "database after usage errors"

# Not a database: refused with a clear message, left byte-identical.
printf 'id,name\n1,not a database but a CSV file with enough bytes\n' > notadb.csv
sum=$(sha256sum notadb.csv)
run --db notadb.csv -q "$SPECS/xor_small.yaml"
expect_rc 2 "non-database file"
grep -q "not an SQLite database" err.txt || { show; fail "no clear message for a non-database"; }
expect_eq "$(sha256sum notadb.csv)" "$sum" "non-database file after the refusal"
[ ! -e notadb.csv-wal ] && [ ! -e notadb.csv-journal ] || fail "journal files created"

# A database from a newer runexp: refused untouched.
sqlite3 newer.db 'CREATE TABLE t(x); PRAGMA user_version = 99;'
sum=$(sha256sum newer.db)
run --db newer.db -q "$SPECS/xor_small.yaml"
expect_rc 2 "newer schema"
grep -q "schema version 99" err.txt || { show; fail "no clear message for a newer schema"; }
expect_eq "$(sha256sum newer.db)" "$sum" "newer database after the refusal"

# Divergence: recorded with its epoch, the other trial finishes, exit 1.
run --db "$WORK/div.db" "$SPECS/xor_diverge.yaml"
expect_rc 1 "diverging sweep"
DB="$WORK/div.db"
expect_eq "$(q "SELECT status FROM trials WHERE json_extract(params, '\$.lr') = 0.01")" done \
    "the sane learning rate"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE json_extract(params, '\$.lr') = 10
               AND status = 'diverged' AND diverged_epoch BETWEEN 1 AND 20
               AND error LIKE '%NaN or Inf%' AND result_hash IS NULL")" 1 "the diverged trial"
# Rerunning skips it (exit 1 again); --retry reruns it and it diverges again.
run --db "$DB" "$SPECS/xor_diverge.yaml"
expect_rc 1 "rerun with a diverged trial"
run --db "$DB" -j 2 --retry "$SPECS/xor_diverge.yaml"
expect_rc 1 "--retry of a diverged trial"
grep -q "1 to run" err.txt || { show; fail "--retry did not rerun the diverged trial"; }
# One trial on (at most) one thread, and said in the singular.
grep -qE "2 trials, 1 to run on 1 thread(;|$)" err.txt || { show; fail "not '1 to run on 1 thread'"; }

# A new database that cannot be created (its directory is a file) fails at
# once, before any trial trains, with exit 2 and nothing left behind.
echo "not a directory" > "$WORK/plainfile"
run --db "$WORK/plainfile/new.db" -q "$SPECS/xor_small.yaml"
expect_rc 2 "database in a non-directory"
grep -q "cannot create" err.txt || { show; fail "no 'cannot create' message"; }
grep -q "^trial" err.txt && { show; fail "trials ran although the database cannot be created"; }
[ "$(cat "$WORK/plainfile")" = "not a directory" ] || fail "the file was changed"

# When SQLite cannot create a new database (here: a path longer than the 512
# bytes SQLite's unix VFS accepts, in directories that exist, so the writer
# lock beside it could be made), the run stops with exit 2 and SQLite's
# reason before any trial trains, and no database is created.
long="$WORK/$(printf '%0200d' 0)/$(printf '%0200d' 1)/$(printf '%0200d' 2)"
mkdir -p "$long"
for j in 1 2; do
    run --db "$long/x.db" -j $j "$SPECS/xor_small.yaml"
    expect_rc 2 "new database that SQLite cannot create, -j $j"
    grep -q "^runexp: cannot open $long/x.db: unable to open database file" err.txt ||
        { show; fail "-j $j: no clear message when the new database cannot be created"; }
    grep -q "^trial\|: ran " err.txt && { show; fail "-j $j: trials ran without a database"; }
    [ ! -e "$long/x.db" ] || fail "-j $j: a database was created"
done

# A dangling symbolic link is followed to where the database would be
# created (as SQLite would): its directory does not exist, so the run is
# refused before anything is created, the lock file included.
ln -s "$WORK/no/such/dir/x.db" "$WORK/dangling.db"
run --db "$WORK/dangling.db" -j 2 "$SPECS/xor_small.yaml"
expect_rc 2 "dangling link to a missing directory"
grep -qxF "runexp: cannot create the database $WORK/dangling.db: directory $WORK/no/such/dir: No such file or directory" err.txt ||
    { show; fail "no clear message for a dangling link to a missing directory"; }
grep -q "^trial" err.txt && { show; fail "trials ran although the database cannot be created"; }
[ ! -e "$WORK/no" ] && [ ! -e "$WORK/dangling.db.lock" ] || fail "something was created"

# Not a regular file: refused before anything is created (/dev/null.lock
# used to be made), and a FIFO is not opened (that would block).
for odd in /dev/null "$WORK"; do
    run --db "$odd" -q "$SPECS/xor_small.yaml"
    expect_rc 2 "--db $odd"
    grep -qxF "runexp: $odd is not a regular file; a database must be a file" err.txt ||
        { show; fail "no clear message for --db $odd"; }
    [ ! -e "$odd.lock" ] || { rm -f "$odd.lock"; fail "$odd.lock was created"; }
done
mkfifo "$WORK/fifo"
run --db "$WORK/fifo" -q "$SPECS/xor_small.yaml"
expect_rc 2 "--db FIFO"
grep -q "is not a regular file" err.txt || { show; fail "no clear message for a FIFO"; }

# Another program's SQLite file with a `trials` table, in rollback-journal
# mode: recognised as not runexp's before anything changes (the switch to
# WAL came first), refused with exit 2, byte-identical, still in delete mode.
# The same with a user_version of its own.
for uv in 0 1; do
    rm -f foreign.db
    sqlite3 foreign.db "CREATE TABLE trials(id INTEGER PRIMARY KEY, who TEXT);
                        INSERT INTO trials VALUES (1, 'someone else'); PRAGMA user_version = $uv;"
    expect_eq "$(sqlite3 foreign.db 'PRAGMA journal_mode')" delete "foreign journal mode before"
    sum=$(sha256sum foreign.db)
    dump=$(sqlite3 foreign.db .dump)
    run --db foreign.db -q "$SPECS/xor_small.yaml"
    expect_rc 2 "foreign database (user_version $uv)"
    grep -q "^runexp: foreign.db is an SQLite database of another program (.*); refusing to touch it$" err.txt ||
        { show; fail "no clear message for a foreign database"; }
    expect_eq "$(sha256sum foreign.db)" "$sum" "foreign database bytes"
    expect_eq "$(sqlite3 foreign.db .dump)" "$dump" "foreign database content"
    expect_eq "$(sqlite3 foreign.db 'PRAGMA journal_mode')" delete "foreign journal mode after"
    [ ! -e foreign.db-wal ] || fail "a WAL was created for the foreign database"
done
echo "ok"
