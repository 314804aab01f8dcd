# Two runexp writing one database: the second fails at once with exit 2 and
# names the first (its writer lock on DB.lock), writes nothing and runs no
# trial; the first completes normally. While the first trains, the database
# already holds the whole plan, its trials in flight marked running (what
# sqlite3 observers see), none done yet. Readers (sqlite3 here) take no lock.
# The first runexp is frozen (SIGSTOP) while the second one tries, so the
# test does not depend on how long training takes (sanitizer builds).
source "$(dirname "$0")/run_common.sh"
E=20000 # epochs per trial in xor_slow.yaml

start_bg first --db "$DB" -j 2 "$SPECS/xor_slow.yaml"
# Both trials running, none done (at most 60 s): the plan and the running
# marks are written before training, not after the first trial finished.
st=
both_running() {
    [ -f "$DB" ] || return 1
    st=$(sqlite3 "$DB" "SELECT COUNT(*) || ' ' || SUM(status='running') || ' ' || SUM(status='done')
                        FROM trials" 2>/dev/null || true)
    [ "$st" = "2 2 0" ] && return 0
    case "$st" in *" "[1-9]) fail "a trial was done before both were seen running (last: '$st')" ;; esac
    return 1
}
wait_for 60 "both trials running and none done" both_running
kill -STOP "$BGPID"
expect_eq "$(tr -d '\n' < "$DB.lock")" "$BGPID" "pid in the lock file"

# The second runexp, same database: refused at once, nothing written.
before=$(q "SELECT (SELECT COUNT(*) FROM experiments) || ' ' || (SELECT COUNT(*) FROM trials)
            || ' ' || (SELECT group_concat(id || status) FROM trials)")
t0=$(date +%s%N)
run --db "$DB" -j 2 "$SPECS/xor_slow.yaml"
t1=$(date +%s%N)
expect_rc 2 "second runexp on the same database"
grep -qxF "runexp: another runexp (pid $BGPID) is writing $DB; wait for it or use another --db" err.txt ||
    { show; fail "no clear message naming the first runexp"; }
grep -q "^trial\|to run" err.txt && { show; fail "the second runexp started trials"; }
[ $(( (t1 - t0) / 1000000 )) -lt 5000 ] || fail "the second runexp waited instead of failing at once"
after=$(q "SELECT (SELECT COUNT(*) FROM experiments) || ' ' || (SELECT COUNT(*) FROM trials)
           || ' ' || (SELECT group_concat(id || status) FROM trials)")
expect_eq "$after" "$before" "database after the refused second runexp"
# Any other path to the same file is refused the same way: the lock is the
# file's, not the path's (a symbolic link, a link to its directory, ..).
ln -s "$DB" "$WORK/link.db"
ln -s "$WORK" "$WORK/dirlink"
mkdir "$WORK/sub"
for other in "$WORK/link.db" "$WORK/dirlink/r.db" "$WORK/sub/../r.db"; do
    run --db "$other" -j 2 "$SPECS/xor_slow.yaml"
    expect_rc 2 "second runexp through $other"
    grep -qxF "runexp: another runexp (pid $BGPID) is writing $other ($DB); wait for it or use another --db" err.txt ||
        { show; fail "$other: no clear message naming the first runexp"; }
    grep -q "^trial\|to run" err.txt && { show; fail "$other: the second runexp started trials"; }
done
[ ! -e "$WORK/link.db.lock" ] || fail "a second lock file beside the link"
# A second name (hard link) cannot be told apart from another file by its
# path: a database with several names is refused.
ln "$DB" "$WORK/hard.db"
run --db "$WORK/hard.db" -j 2 "$SPECS/xor_slow.yaml"
expect_rc 2 "second runexp through a hard link"
grep -q "^runexp: $WORK/hard.db has 2 hard links" err.txt || { show; fail "hard link not refused"; }
rm "$WORK/hard.db"
# A spec error still comes first (exit 2 for that reason, not the lock).
run --db "$DB" "$SPECS/bad_spec.yaml"
expect_rc 2 "bad spec while locked"
grep -q "another runexp" err.txt && { show; fail "a bad spec was reported as a lock conflict"; }

# The first completes normally.
kill -CONT "$BGPID"
wait_bg
[ "$rc" = 0 ] || { cat first.err >&2; fail "first runexp: exit code $rc, want 0"; }
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status='done'")" 2 "trials done"
expect_eq "$(q 'SELECT COUNT(*) FROM experiments')" 1 "one experiment"
expect_eq "$(q 'SELECT COUNT(*) FROM epochs')" $((2 * E)) "one history per trial"

# Released at exit: the same command now resumes (nothing to run).
run --db "$DB" -j 2 "$SPECS/xor_slow.yaml"
expect_rc 0 "after the first finished"
grep -q "skipped 2 trials already done" err.txt || { show; fail "rerun did not resume"; }

# ...and on kill -9: the lock dies with its process (checked with a small
# spec: any spec on that database needs the lock).
start_bg fresh --db "$DB" --fresh -j 2 "$SPECS/xor_slow.yaml"
running_at_least() { [ "$(db_count "SELECT COUNT(*) FROM trials WHERE status='running'")" -ge "$1" ]; }
wait_for 60 "a trial of the --fresh run running" running_at_least 1
kill -STOP "$BGPID"
run --db "$DB" -q "$SPECS/xor_small.yaml"
expect_rc 2 "small spec while the database is locked"
kill -9 "$BGPID"
wait_bg
run --db "$DB" -q "$SPECS/xor_small.yaml"
expect_rc 0 "run after kill -9 of the lock holder"
echo "ok"
