#!/usr/bin/env bash
# Times the whole `runexp experiments/xor_sweep.yaml` (60 trials, database
# included, a fresh database every run) with -j 1 and -j 2, prints the median
# wall time of each and the -j 2 / -j 1 throughput ratio.
#
# Usage: bench/bench_sweep.sh [RUNEXP_BINARY] [RUNS]
#   defaults: build/runexp (or $RUNEXP_BIN), 7 runs per setting and round,
#   ROUNDS=3 rounds.
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
# The machine's own ceiling, for comparison: the same trials as two
# independent `-j 1` processes side by side, each with half the seeds and its
# own database (nothing shared, every serial step done twice at once). Made
# from a spec whose top-level `seeds:` is a count; skipped otherwise.
halves=0
count=$(sed -n 's/^seeds: *\([0-9][0-9]*\) *\(#.*\)\{0,1\}$/\1/p' "$spec")
if [ -n "$count" ] && [ "$count" -ge 2 ]; then
    h=$((count / 2))
    sed "s/^seeds:.*/seeds: [$(seq -s, 0 $((h - 1)))]/" "$spec" > "$work/half_a.yaml"
    sed "s/^seeds:.*/seeds: [$(seq -s, $h $((count - 1)))]/" "$spec" > "$work/half_b.yaml"
    "$bin" check "$work/half_a.yaml" >/dev/null 2>&1 && "$bin" check "$work/half_b.yaml" \
        >/dev/null 2>&1 && halves=1
fi
time_halves() {
    rm -f "$work"/ha.db* "$work"/hb.db*
    local t0=$EPOCHREALTIME
    "$bin" -q -j 1 --db "$work/ha.db" "$work/half_a.yaml" >/dev/null &
    "$bin" -q -j 1 --db "$work/hb.db" "$work/half_b.yaml" >/dev/null
    wait
    local t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

n=$("$bin" check "$spec" | sed -n 1p)
echo "spec: $spec"
echo "plan: $n"
echo "cpu:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
# Throughput is a steady-state figure: each setting runs in blocks of
# back-to-back runs, after one untimed run that wakes the cores it uses (on a
# VM a vCPU left idle for 0.1 s starts the next -j 2 run up to 15% slower).
# Blocks of -j 1 and -j 2 alternate, ROUNDS times, so a change in the
# machine's load falls on both; each round's ratio is printed to show the
# spread, and the medians pool every run of a setting.
rounds=${ROUNDS:-3}
: > "$work/t1"
: > "$work/t2"
: > "$work/t3"
for r in $(seq 1 "$rounds"); do
    if [ "$halves" = 1 ]; then
        time_halves >/dev/null
        for _ in $(seq 1 "$runs"); do time_halves >> "$work/t3"; done
    fi
    for j in 1 2; do
        time_one "$j" >/dev/null
        : > "$work/r$j"
        for _ in $(seq 1 "$runs"); do time_one "$j" >> "$work/r$j"; done
        cat "$work/r$j" >> "$work/t$j"
    done
    awk -v a="$(median < "$work/r1")" -v b="$(median < "$work/r2")" -v r="$r" \
        'BEGIN { printf "round %d: -j1 %.3f s, -j2 %.3f s, ratio %.2fx\n", r, a, b, a / b }'
done
declare -A med
for j in 1 2; do
    med[$j]=$(median < "$work/t$j")
    printf -- "-j %d: median %.3f s over %d runs (min %.3f, max %.3f)\n" "$j" "${med[$j]}" \
        "$((runs * rounds))" "$(sort -g "$work/t$j" | head -1)" "$(sort -g "$work/t$j" | tail -1)"
done
awk -v a="${med[1]}" -v b="${med[2]}" 'BEGIN { printf "throughput -j2 / -j1: %.2fx\n", a / b }'
if [ "$halves" = 1 ]; then
    m3=$(median < "$work/t3")
    printf "two -j 1 processes, half the seeds each: median %.3f s over %d runs (%.2fx the one -j 1 process)\n" \
        "$m3" "$((runs * rounds))" "$(awk -v a="${med[1]}" -v b="$m3" 'BEGIN { print a / b }')"
fi
