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
