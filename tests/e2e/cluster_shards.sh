# Shards and merge (README "Running on a cluster"): 4 shards of the
# shortened XOR lab sweep are disjoint, cover the plan, hold the trials a
# greedy LPT split by cost gives (computed here independently), and merged
# equal the unsharded run trial by trial; merging again changes nothing; a
# tampered shard (a result_hash, a weight) is refused with OUT unchanged;
# --shard auto reads Slurm's array variables; bad K/N are usage errors.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/run_common.sh"
source "$HERE/cluster_common.sh"
SPEC="$SPECS/xor_lab_short.yaml"
N=24
sum() { sha256sum "$1" | cut -d' ' -f1; }

run --db full.db -q -j 1 "$SPEC"
expect_rc 0 "unsharded run"

# ---- 4 shards, each into its own database
for k in 1 2 3 4; do
    run --db "s$k.db" -j 1 --shard "$k/4" "$SPEC"
    expect_rc 0 "shard $k/4"
    grep -q "shard $k/4: [0-9]* of the plan's $N trials" err.txt || { show; fail "shard $k/4: no shard line"; }
done
total=0
for k in 1 2 3 4; do
    n=$(DB=s$k.db q "SELECT COUNT(*) FROM trials WHERE status = 'done'")
    expect_eq "$(DB=s$k.db q "SELECT COUNT(*) FROM trials")" "$n" "shard $k: only done trials of its own"
    [ "$n" -gt 0 ] || fail "shard $k is empty"
    total=$((total + n))
done
expect_eq "$total" $N "the shards together hold the plan's trials"
for k in 1 2 3 4; do DB=s$k.db q "SELECT trial_key FROM trials"; done | sort >keys_shards.txt
DB=full.db q "SELECT trial_key FROM trials ORDER BY trial_key" >keys_full.txt
expect_eq "$(sort -u keys_shards.txt | wc -l)" $N "no trial in two shards"
cmp -s keys_shards.txt keys_full.txt || fail "the shards' keys are not the plan's"

# The split, computed independently: cost = epochs x multiply-adds =
# 20 x (2h + 2h); costliest first (then plan order), each trial to the
# least loaded shard (ties: the lower shard).
DB=full.db q "SELECT trial_index, json_extract(params, '\$.hidden') FROM trials" |
    awk -F'|' '{ print 80 * $2 "|" $1 }' | sort -t'|' -k1,1nr -k2,2n |
    awk -F'|' 'BEGIN { for (s = 1; s <= 4; s++) load[s] = 0 }
               { b = 1; for (s = 2; s <= 4; s++) if (load[s] < load[b]) b = s;
                 load[b] += $1; print b "|" $2 }' | sort -t'|' -k1,1n -k2,2n >lpt_want.txt
for k in 1 2 3 4; do DB=s$k.db q "SELECT $k, trial_index FROM trials ORDER BY trial_index"; done >lpt_got.txt
cmp -s lpt_want.txt lpt_got.txt || { paste lpt_want.txt lpt_got.txt >&2; fail "shards are not the greedy LPT split"; }

# A shard resumes like any run: run again, nothing to do.
run --db s2.db -j 1 --shard 2/4 "$SPEC"
expect_rc 0 "shard 2/4 again"
grep -q "0 to run" err.txt || { show; fail "shard 2/4 again ran trials"; }

# ---- merge: equal to the unsharded run, by key
for k in 1 2 3 4; do sum "s$k.db" >"s$k.sum"; done
run merge --db m.db s1.db s2.db s3.db s4.db
expect_rc 0 "merge"
grep -q "$N trials added" err.txt || { show; fail "merge did not add $N trials"; }
expect_same_dump full.db m.db "merged shards vs the unsharded run"
for k in 1 2 3 4; do
    expect_eq "$(sum "s$k.db")" "$(cat "s$k.sum")" "merge left input s$k.db as it was"
done
expect_eq "$(DB=m.db q 'SELECT COUNT(*) FROM experiments')" 1 "one experiment after the merge"
expect_eq "$(DB=m.db q 'PRAGMA integrity_check')" ok "integrity of the merge"
expect_eq "$(DB=m.db q 'PRAGMA foreign_key_check')" "" "foreign keys of the merge"

# ---- merging again, or overlapping inputs, changes nothing
sqlite3 m.db .dump >dump1.sql
m_sum=$(sum m.db)
run merge --db m.db s3.db s1.db s2.db s4.db full.db
expect_rc 0 "merge again"
grep -q "0 trials added, 0 replacing unfinished ones, $((2 * N)) already there" err.txt ||
    { show; fail "merge again: not a no-op"; }
expect_eq "$(sum m.db)" "$m_sum" "merge again: the file is unchanged"
sqlite3 m.db .dump >dump2.sql
cmp -s dump1.sql dump2.sql || fail "merge again: the dump changed"
# Two overlapping merges into a new file give the same results as well.
run merge --db o.db s1.db s2.db
expect_rc 0 "merge s1 s2"
run merge --db o.db s2.db s3.db s4.db s1.db
expect_rc 0 "merge overlapping"
expect_same_dump full.db o.db "overlapping merges vs the unsharded run"

# ---- a tampered shard is refused, OUT unchanged
cp s2.db t.db
key=$(DB=t.db q "SELECT trial_key FROM trials ORDER BY trial_key LIMIT 1")
DB=t.db q "UPDATE trials SET result_hash = '$(printf '0%.0s' $(seq 64))' WHERE trial_key = '$key'"
run merge --db m.db t.db
expect_rc 1 "tampered result_hash"
grep -q "reproducibility violation: trial $key" err.txt || { show; fail "tampered hash: the trial is not named"; }
grep -q "m.db" err.txt && grep -q "t.db" err.txt || { show; fail "tampered hash: both files not named"; }
expect_eq "$(sum m.db)" "$m_sum" "tampered hash: OUT unchanged"
# ... also when only a weight differs (same result_hash),
cp s3.db w.db
wkey=$(DB=w.db q "SELECT t.trial_key FROM trials t JOIN weights w ON w.trial_id = t.id
                  ORDER BY t.trial_key LIMIT 1")
DB=w.db q "UPDATE weights SET data = zeroblob(length(data)) WHERE layer = 0 AND kind = 'kernel'
           AND trial_id = (SELECT id FROM trials WHERE trial_key = '$wkey')"
run merge --db m.db w.db
expect_rc 1 "tampered weight"
grep -q "reproducibility violation: trial $wkey.*weights rows differ" err.txt || { show; fail "tampered weight: not named"; }
expect_eq "$(sum m.db)" "$m_sum" "tampered weight: OUT unchanged"
# ... and when the conflict is between two inputs of one merge into a new
# file: nothing is created.
run merge --db new.db s2.db t.db
expect_rc 1 "conflicting inputs"
grep -q "s2.db" err.txt && grep -q "t.db" err.txt || { show; fail "conflicting inputs: both files not named"; }
[ ! -e new.db ] || fail "conflicting inputs: new.db was created"

# ---- merge usage errors
run merge s1.db
expect_rc 2 "merge without --db"
run merge --db m.db
expect_rc 2 "merge without inputs"
run merge --db m.db missing.db
expect_rc 2 "merge of a missing file"
run merge --db m.db m.db
expect_rc 2 "merge into one of the inputs"
expect_eq "$(sum m.db)" "$m_sum" "usage errors: OUT unchanged"

# ---- --shard auto: K = ID - MIN + 1 (in steps of STEP), N = COUNT
run_auto() {
    set +e
    env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_MIN -u SLURM_ARRAY_TASK_COUNT \
        -u SLURM_ARRAY_TASK_STEP "$@" "$RUNEXP_BIN" run -q -j 1 --shard auto --db auto.db "$SPEC" \
        >out.txt 2>err.txt
    rc=$?
    set -e
}
run_auto SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_COUNT=4
expect_rc 0 "--shard auto (task 7 of 5..8)"
expect_eq "$(DB=auto.db q "SELECT trial_key FROM trials ORDER BY trial_key")" \
    "$(DB=s3.db q "SELECT trial_key FROM trials ORDER BY trial_key")" "--shard auto picks shard 3/4"
rm -f auto.db auto.db-wal auto.db-shm
run_auto SLURM_ARRAY_TASK_ID=40 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_STEP=10
expect_rc 0 "--shard auto (task 40 of 10-40:10)"
expect_eq "$(DB=auto.db q "SELECT trial_key FROM trials ORDER BY trial_key")" \
    "$(DB=s4.db q "SELECT trial_key FROM trials ORDER BY trial_key")" "--shard auto with a step picks 4/4"
rm -f auto.db auto.db-wal auto.db-shm
run_auto
expect_rc 2 "--shard auto outside an array"
grep -q "needs a Slurm job array.*SLURM_ARRAY_TASK_ID is not set" err.txt || { show; fail "no clear error outside an array"; }
run_auto SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_COUNT=4
expect_rc 2 "--shard auto, task beyond the count"
[ ! -e auto.db ] || fail "--shard auto errors created the database"

# ---- bad K/N: usage errors, no database
for bad in 0/4 5/4 4 a/b 1/0 -1/4 2/4x ""; do
    run --db bad.db --shard "$bad" "$SPEC"
    expect_rc 2 "--shard '$bad'"
    grep -q -- "--shard needs K/N" err.txt || { show; fail "--shard '$bad': no clear message"; }
done
[ ! -e bad.db ] || fail "bad --shard created the database"
echo "ok"
