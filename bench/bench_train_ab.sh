#!/usr/bin/env bash
# The lab workloads W1-W3 (bench/bench_train.c) of two builds side by side:
# ROUNDS rounds, each running A's bench_train then B's with RUNS runs per
# workload, so that a change in the machine's load falls on both. Prints per
# workload the median over the rounds of each build's median and B / A
# (above 1: B is slower).
#
# Usage: bench/bench_train_ab.sh BENCH_TRAIN_A BENCH_TRAIN_B [ROUNDS] [RUNS]
#   defaults: 7 rounds of 5 runs. Typical use: A = build/bench/bench_train
#   of the commit before a change, B = the change's.
set -euo pipefail
a=${1:?usage: bench_train_ab.sh BENCH_TRAIN_A BENCH_TRAIN_B [ROUNDS] [RUNS]}
b=${2:?usage: bench_train_ab.sh BENCH_TRAIN_A BENCH_TRAIN_B [ROUNDS] [RUNS]}
rounds=${3:-7}
runs=${4:-5}
for x in "$a" "$b"; do
    [ -x "$x" ] || { echo "bench_train_ab: no bench_train at $x" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
# "W1 hidden 3 ... median 1.184 ms ..." -> "W1_hidden_3 1.184"
parse() { awk '/median/ { k = $1; if ($2 == "hidden") k = k "_h" $3; for (i = 1; i < NF; i++) if ($i == "median") print k, $(i + 1) }'; }
for r in $(seq 1 "$rounds"); do
    "$a" "$runs" | parse >> "$work/a"
    "$b" "$runs" | parse >> "$work/b"
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $rounds rounds x $runs runs"
echo "| workload | A median ms | B median ms | B / A |"
echo "|---|---|---|---|"
for k in $(awk '{ print $1 }' "$work/a" | awk '!seen[$0]++'); do
    ma=$(awk -v k="$k" '$1 == k { print $2 }' "$work/a" | median)
    mb=$(awk -v k="$k" '$1 == k { print $2 }' "$work/b" | median)
    awk -v k="$k" -v a="$ma" -v b="$mb" 'BEGIN { gsub("_h", " hidden ", k); printf "| %s | %.3f | %.3f | %.3f |\n", k, a, b, b / a }'
done
