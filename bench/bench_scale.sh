#!/usr/bin/env bash
# Many short trials: bench/xor_grid_50k.yaml (50 000 five-epoch XOR trials,
# where writing a trial's results costs about as much as training it).
# Per round, with a fresh database each time: the whole run with -j 1, then
# with -j 2; after the last round, on the -j 2 database: its size, a resume
# with nothing to do, and `runexp report`. Prints wall times, peak RSS
# (/usr/bin/time's %M), trials per second and the -j 2 / -j 1 throughput.
#
# Usage: bench/bench_scale.sh [RUNEXP_BINARY] [ROUNDS]
#   defaults: build/runexp (or $RUNEXP_BIN), 1 round; SPEC=FILE runs another
#   spec. A round takes about a minute on a 2-vCPU machine.
# Targets (issue 14): -j 2 >= 1.85x the -j 1 throughput; peak RSS < 200 MB;
# database < 200 MB; resume with nothing to do < 1 s; report < 20 s.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${RUNEXP_BIN:-$here/build/runexp}}
rounds=${2:-1}
spec=${SPEC:-$here/bench/xor_grid_50k.yaml}
[ -x "$bin" ] || { echo "no runexp binary at $bin (pass it as the first argument)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench_scale needs /usr/bin/time (Debian package time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/scale.db"

# timed LABEL ARGS...: runs ARGS, prints "LABEL: S s, RSS M MB".
timed() {
    local label=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
        { cat "$work/err" >&2; echo "bench_scale: $label failed" >&2; exit 1; }
    read -r secs kb < "$work/time"
    printf '%-34s %8.2f s   peak RSS %6.1f MB\n' "$label:" "$secs" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
    last=$secs
}

n=$("$bin" check "$spec" | sed -n 1p)
echo "spec: $n"
echo "cpu:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
for r in $(seq 1 "$rounds"); do
    for j in 1 2; do
        rm -f "$db" "$db-wal" "$db-shm"
        timed "round $r, -j $j, fresh database" "$bin" -q -j "$j" --db "$db" "$spec"
        eval "t$j=\$last"
    done
    trials=$(sqlite3 "$db" "SELECT COUNT(*) FROM trials WHERE status = 'done'")
    awk -v n="$trials" -v a="$t1" -v b="$t2" 'BEGIN {
        printf "  -j 1: %.0f trials/s, -j 2: %.0f trials/s, throughput -j 2 / -j 1: %.2fx\n", n / a, n / b, a / b }'
done
printf '%-34s %8.1f MB\n' "database (-j 2 run):" "$(awk -v b="$(stat -c %s "$db")" 'BEGIN { print b / 1048576 }')"
timed "resume with nothing to do" "$bin" -q -j 2 --db "$db" "$spec"
timed "runexp report" "$bin" report --db "$db" --out "$work/report"
