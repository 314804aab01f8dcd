# The MPI runner (runexp-mpi, README "Running on a cluster"): with 3 ranks
# x 1 thread and 2 ranks x 2 threads the results equal `runexp -j 1` trial
# by trial; a training rank killed with SIGKILL mid-run makes the run exit
# non-zero with a message, loses nothing committed, and a second mpirun
# completes the sweep equal to an uninterrupted run; Ctrl-C on mpirun
# records the trials in flight as interrupted; fewer than 2 ranks is a
# usage error. Skipped (77) without runexp-mpi or mpirun.
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${RUNEXP_MPI_BIN:-}" ] || [ ! -x "${RUNEXP_MPI_BIN:-}" ]; then
    echo "SKIP: runexp-mpi was not built (CMake found no MPI; Debian: openmpi-bin libopenmpi-dev)"
    exit 77
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIP: mpirun is not installed (Debian: openmpi-bin)"
    exit 77
fi
source "$HERE/run_common.sh"
source "$HERE/cluster_common.sh"
# CI runs as root; this machine and CI have fewer cores than ranks.
MPIRUN=(timeout 300 mpirun --oversubscribe)
[ "$(id -u)" -ne 0 ] || MPIRUN+=(--allow-run-as-root)
SPEC="$SPECS/xor_lab_short.yaml"
KILL="$SPECS/xor_mpi_kill.yaml"

# mpi NP ARGS...: runexp-mpi on NP ranks; stdout in out.txt, stderr in err.txt, $rc.
mpi() {
    local np=$1
    shift
    set +e
    "${MPIRUN[@]}" -np "$np" "$RUNEXP_MPI_BIN" "$@" >out.txt 2>err.txt
    rc=$?
    set -e
}

run --db ref.db -q -j 1 "$SPEC"
expect_rc 0 "runexp -j 1"

mpi 3 --db np3.db -j 1 "$SPEC"
expect_rc 0 "mpirun -np 3 runexp-mpi -j 1"
expect_same_dump ref.db np3.db "-np 3 -j 1 vs runexp -j 1"
grep -q "rank 1)" err.txt && grep -q "rank 2)" err.txt || { show; fail "-np 3: not both training ranks trained"; }

mpi 2 --db np2.db -j 2 --timings "$SPEC"
expect_rc 0 "mpirun -np 2 runexp-mpi -j 2"
expect_same_dump ref.db np2.db "-np 2 -j 2 vs runexp -j 1"
grep -q "2 ranks, 2 training threads" err.txt || { show; fail "-np 2 -j 2: not 2 threads on rank 1"; }

# Resume: the same command again runs nothing and changes no result.
mpi 2 --db np2.db -j 2 "$SPEC"
expect_rc 0 "runexp-mpi again"
grep -q "skipped 24 trials already done" err.txt || { show; fail "runexp-mpi again: no resume"; }
expect_same_dump ref.db np2.db "-np 2 after resume"

mpi 1 --db one.db "$SPEC"
expect_rc 2 "-np 1"
grep -q "needs at least 2 MPI ranks" err.txt || { show; fail "-np 1: no clear message"; }
[ ! -e one.db ] || fail "-np 1 created the database"
mpi 2 --db bad.db "$SPECS/bad_spec.yaml"
expect_rc 2 "a bad spec"
[ ! -e bad.db ] || fail "a bad spec created the database"

# ---- a training rank killed with SIGKILL mid-run
# rank_pid R: the pid of rank R of the mpirun started here ($BGPID's children).
rank_pid() {
    local p
    for p in $(pgrep -f -- "$RUNEXP_MPI_BIN .*--db $DB" || true); do
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
done_at_least() { [ "$(db_count "SELECT COUNT(*) FROM trials WHERE status='done'")" -ge "$1" ]; }
DB="$WORK/kill.db"
"${MPIRUN[@]}" -np 3 "$RUNEXP_MPI_BIN" -j 1 --db "$DB" "$KILL" >kill.out 2>kill.err &
BGPID=$!
BGLOG=kill
wait_for 120 "a first trial done" done_at_least 1
victim=$(rank_pid 2) || fail "rank 2 not found"
kill -9 "$victim"
q "SELECT trial_key || ' ' || result_hash FROM trials WHERE status = 'done' ORDER BY 1" >done_before.txt
wait_bg
[ "$rc" != 0 ] || { cat kill.err >&2; fail "a killed rank: mpirun exited 0"; }
grep -q "rank 2.*signal 9" kill.err || { cat kill.err >&2; fail "a killed rank: no message naming it"; }
q "SELECT trial_key || ' ' || result_hash FROM trials WHERE status = 'done' ORDER BY 1" >done_after.txt
comm -23 done_before.txt done_after.txt >lost.txt
[ ! -s lost.txt ] || { cat lost.txt >&2; fail "a killed rank: committed trials were lost"; }
left=$(q "SELECT COUNT(*) FROM trials WHERE status <> 'done'")
[ "$left" -gt 0 ] || fail "the kill came too late: nothing left to run"
expect_eq "$(q 'PRAGMA integrity_check')" ok "integrity after a killed rank"
# OpenMPI ends the job with SIGTERM to the ranks still alive: what they had
# in flight is recorded as interrupted (as a Ctrl-C on one machine), so the
# second mpirun takes --retry; the dead rank's trial stays 'running'.
mpi 3 -j 1 --retry --db "$DB" "$KILL"
expect_rc 0 "second mpirun after the kill"
grep -q "skipped $((6 - left)) trials already done" err.txt || { show; fail "second mpirun did not resume"; }
run --db full.db -q -j 2 "$KILL"
expect_rc 0 "uninterrupted runexp -j 2"
expect_same_dump full.db "$DB" "after a killed rank and a second mpirun vs an uninterrupted run"

# ---- Ctrl-C on mpirun: OpenMPI sends SIGTERM to every rank; the trials in
# flight end after their epoch and are recorded as interrupted; --retry
# completes the sweep.
DB="$WORK/int.db"
"${MPIRUN[@]}" -np 3 "$RUNEXP_MPI_BIN" -j 1 --db "$DB" "$KILL" >int.out 2>int.err &
BGPID=$!
BGLOG=int
wait_for 120 "a first trial done" done_at_least 1
kill -INT "$BGPID"
wait_bg
[ "$rc" != 0 ] || { cat int.err >&2; fail "Ctrl-C: mpirun exited 0"; }
n_int=$(q "SELECT COUNT(*) FROM trials WHERE status = 'interrupted'")
echo "Ctrl-C: $n_int trials recorded as interrupted"
expect_eq "$(q "SELECT COUNT(*) FROM trials WHERE status = 'interrupted' AND (result_hash IS NOT NULL
               OR error NOT LIKE 'interrupted%')")" 0 "interrupted rows"
mpi 2 -j 2 --retry --db "$DB" "$KILL"
expect_rc 0 "--retry after Ctrl-C"
expect_same_dump full.db "$DB" "after Ctrl-C and --retry vs an uninterrupted run"
echo "ok"
