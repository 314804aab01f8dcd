#!/usr/bin/env bash
# Times the whole `runexp experiments/xor_sweep.yaml` (60 trials, database
# included, a fresh database every run) with -j 1 and -j 2, prints the median
# wall time of each and the -j 2 / -j 1 throughput ratio.
#
# Usage: bench/bench_sweep.sh [RUNEXP_BINARY] [RUNS]
#   defaults: build/runexp (or $RUNEXP_BIN), 7 runs per setting.
# Targets (issue 4): well under 1 s for the sweep; >= 1.8x with 2 threads.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${RUNEXP_BIN:-$here/build/runexp}}
runs=${2:-7}
spec=${SPEC:-$here/experiments/xor_sweep.yaml}
[ -x "$bin" ] || { echo "no runexp binary at $bin (pass it as the first argument)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One timed run in seconds (bash's EPOCHREALTIME, microsecond resolution).
time_one() {
    rm -f "$work"/b.db*
    local t0=$EPOCHREALTIME
    "$bin" -q -j "$1" --db "$work/b.db" "$spec" >/dev/null
    local t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

n=$("$bin" check "$spec" | sed -n 1p)
echo "spec: $spec"
echo "plan: $n"
echo "cpu:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
time_one 1 >/dev/null # warm-up (page cache, CPU frequency)
declare -A med
for j in 1 2; do
    : > "$work/t$j"
    for _ in $(seq 1 "$runs"); do time_one "$j" >> "$work/t$j"; done
    med[$j]=$(median < "$work/t$j")
    printf -- "-j %d: median %.3f s over %d runs (min %.3f, max %.3f)\n" "$j" "${med[$j]}" "$runs" \
        "$(sort -g "$work/t$j" | head -1)" "$(sort -g "$work/t$j" | tail -1)"
done
awk -v a="${med[1]}" -v b="${med[2]}" 'BEGIN { printf "throughput -j2 / -j1: %.2fx\n", a / b }'
