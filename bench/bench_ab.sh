#!/usr/bin/env bash
# Two runexp binaries side by side on the same sweeps: the 60-trial
# experiments/xor_sweep.yaml and a 300-trial copy of it (seeds: 50), each run
# with a fresh database, alternating A and B run by run so that a change in
# the machine's load falls on both. Prints each binary's median wall time per
# sweep and the ratio B / A (above 1: B is slower).
#
# Usage: bench/bench_ab.sh BINARY_A BINARY_B [RUNS]
#   RUNS timed runs of each binary per sweep (default 15), after one untimed
#   warm-up run each; JOBS=N sets -j (default 2).
# Typical use: A = a build of the commit before a change, B = the change.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
a=${1:?usage: bench_ab.sh BINARY_A BINARY_B [RUNS]}
b=${2:?usage: bench_ab.sh BINARY_A BINARY_B [RUNS]}
runs=${3:-15}
jobs=${JOBS:-2}
for x in "$a" "$b"; do
    [ -x "$x" ] || { echo "bench_ab: no runexp binary at $x" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed 's/^seeds:.*/seeds: 50/' "$here/experiments/xor_sweep.yaml" > "$work/xor_sweep_300.yaml"
specs=("$here/experiments/xor_sweep.yaml" "$work/xor_sweep_300.yaml")

# One timed run in seconds (bash's EPOCHREALTIME, microsecond resolution).
time_one() {
    rm -f "$work"/ab.db*
    local t0=$EPOCHREALTIME
    "$1" -q -j "$jobs" --db "$work/ab.db" "$2" >/dev/null
    local t1=$EPOCHREALTIME
    awk -v s="$t0" -v e="$t1" 'BEGIN { printf "%.6f\n", e - s }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "A:    $a"
echo "B:    $b"
echo "cpu:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; -j $jobs; $runs runs each"
for spec in "${specs[@]}"; do
    n=$("$a" check "$spec" | sed -n 1p)
    : > "$work/ta"
    : > "$work/tb"
    time_one "$a" "$spec" >/dev/null
    time_one "$b" "$spec" >/dev/null
    for _ in $(seq 1 "$runs"); do
        time_one "$a" "$spec" >> "$work/ta"
        time_one "$b" "$spec" >> "$work/tb"
    done
    ma=$(median < "$work/ta")
    mb=$(median < "$work/tb")
    awk -v n="$n" -v a="$ma" -v b="$mb" \
        'BEGIN { printf "%s\n  A median %.4f s   B median %.4f s   B / A %.3f\n", n, a, b, b / a }'
done
