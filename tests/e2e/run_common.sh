# Sourced by the run_*.sh end-to-end tests (not a test itself).
# Each test works in its own mktemp -d directory, removed on exit.
set -euo pipefail
: "${RUNEXP_BIN:?RUNEXP_BIN must name the runexp binary}"
: "${RUNEXP_SOURCE_DIR:?RUNEXP_SOURCE_DIR must name the source tree}"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not found" >&2; exit 1; }
SPECS="$RUNEXP_SOURCE_DIR/tests/specs/e2e"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/runexp-e2e.XXXXXX")
cleanup() {
    # Stop a runexp a failed test may have left in the background.
    if [ -n "${BGPID:-}" ]; then kill -9 "$BGPID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
DB="$WORK/r.db"
unset RUNEXP_DB

fail() { echo "FAIL: $*" >&2; exit 1; }
# q SQL: one query on $DB, values separated by |.
q() { sqlite3 -batch -noheader "$DB" "$1"; }
# expect_eq GOT WANT WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
# run ARGS...: runs runexp, stdout in out.txt, stderr in err.txt, exit code in $rc.
run() {
    set +e
    "$RUNEXP_BIN" "$@" >out.txt 2>err.txt
    rc=$?
    set -e
}
show() { echo "--- stdout"; cat out.txt; echo "--- stderr"; cat err.txt; } >&2
expect_rc() { [ "$rc" = "$1" ] || { show; fail "$2: exit code $rc, want $1"; }; }

# A runexp in the background: start_bg NAME ARGS... runs runexp ARGS with
# stdout in NAME.out and stderr in NAME.err, its pid in $BGPID (cleanup
# kills it if the test fails); wait_bg waits for it, exit code in $rc.
start_bg() {
    BGLOG=$1
    shift
    "$RUNEXP_BIN" "$@" >"$BGLOG.out" 2>"$BGLOG.err" &
    BGPID=$!
}
wait_bg() {
    set +e
    wait "$BGPID"
    rc=$?
    set -e
    BGPID=
}
# wait_for SECONDS WHAT COMMAND...: runs COMMAND every 20 ms until it
# succeeds, while the background runexp ($BGPID) runs. Fails at once, with
# runexp's exit status and stderr, when runexp has exited and COMMAND still
# fails; fails after SECONDS if COMMAND never succeeds (runexp hangs or is
# slow). COMMAND may itself call fail (e.g. "too late").
wait_for() {
    local secs=$1 what=$2 end st
    shift 2
    end=$((SECONDS + secs))
    until "$@"; do
        if ! kill -0 "$BGPID" 2>/dev/null; then
            # It may have got there just before it exited.
            if "$@"; then return 0; fi
            wait_bg
            st=$rc
            echo "--- stderr of the background runexp ($BGLOG.err)" >&2
            cat "$BGLOG.err" >&2
            fail "waiting for $what: the background runexp exited first (exit code $st)"
        fi
        if [ "$SECONDS" -ge "$end" ]; then
            echo "--- stderr of the background runexp so far ($BGLOG.err)" >&2
            cat "$BGLOG.err" >&2
            fail "no $what within $secs s (runexp pid $BGPID still running)"
        fi
        sleep 0.02
    done
}
# db_count SQL: the number SQL gives on $DB while a runexp may be writing
# it; 0 while the database or its tables do not exist yet, or it is busy.
db_count() {
    local n=
    [ -f "$DB" ] && n=$(sqlite3 -batch -noheader "$DB" "$1" 2>/dev/null) || true
    case "$n" in '' | *[!0-9]*) echo 0 ;; *) echo "$n" ;; esac
}
