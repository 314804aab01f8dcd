#!/usr/bin/env bash
# The MPI runner's overhead: a 600-trial sweep (the XOR lab, hidden 1..6 x
# 100 seeds, 200 epochs) with `mpirun -np 2 runexp-mpi -j 2` (rank 0 writes,
# rank 1 trains on 2 threads) against `runexp -j 2` (the same 2 training
# threads in one process), a fresh database every run. Prints the median
# wall time of each, their ratio, the overhead per trial, mpirun's own
# start-up time, and the messages rank 0 sent and received per trial.
#
# Usage: bench/bench_mpi.sh [BUILD_DIR] [RUNS]
#   defaults: build, 5 runs per setting (alternating).
# The machine may be shared: run it on a quiet one, and read the ratio
# rather than the seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${2:-5}
bin=$build/runexp
mpibin=$build/runexp-mpi
[ -x "$bin" ] || { echo "no runexp at $bin" >&2; exit 2; }
[ -x "$mpibin" ] || { echo "no runexp-mpi at $mpibin (configure with MPI)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "mpirun not found (Debian: openmpi-bin)" >&2; exit 2; }
mpirun=(mpirun --oversubscribe -np 2)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e 's/^name: xor_sweep/name: bench_mpi/' -e 's/^seeds: 10.*/seeds: 100/' \
    "$here/experiments/xor_sweep.yaml" >"$work/spec.yaml"
n=$("$bin" check "$work/spec.yaml" 2>/dev/null | sed -n 's/.* \([0-9][0-9]*\) trials.*/\1/p' | head -1)

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", b - a }'; }
time_omp() {
    rm -f "$work"/o.db*
    local t0=$EPOCHREALTIME
    "$bin" -q -j 2 --db "$work/o.db" "$work/spec.yaml" >/dev/null
    secs "$t0" "$EPOCHREALTIME"
}
time_mpi() {
    rm -f "$work"/m.db*
    local t0=$EPOCHREALTIME
    "${mpirun[@]}" "$mpibin" -q -j 2 --timings --db "$work/m.db" "$work/spec.yaml" \
        >/dev/null 2>"$work/m.err"
    secs "$t0" "$EPOCHREALTIME"
}
time_start() {
    local t0=$EPOCHREALTIME
    "${mpirun[@]}" "$mpibin" --help >/dev/null
    secs "$t0" "$EPOCHREALTIME"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/omp.txt"
: >"$work/mpi.txt"
: >"$work/start.txt"
for ((i = 0; i < runs; i++)); do
    time_omp >>"$work/omp.txt"
    time_mpi >>"$work/mpi.txt"
    time_start >>"$work/start.txt"
done
omp=$(median <"$work/omp.txt")
mpi=$(median <"$work/mpi.txt")
start=$(median <"$work/start.txt")
msgs=$(sed -n 's/.*(\([0-9.]*\) per trial).*/\1/p' "$work/m.err")
echo "sweep: $n trials (xor_sweep.yaml, 100 seeds); $runs runs each, medians; $(nproc) cores"
printf "runexp -j 2:                      %8.3f s\n" "$omp"
printf "mpirun -np 2 runexp-mpi -j 2:     %8.3f s   (mpirun start-up alone: %.3f s)\n" "$mpi" "$start"
awk -v o="$omp" -v m="$mpi" -v s="$start" -v n="$n" 'BEGIN {
    printf "ratio mpi / omp:                  %8.3f\n", m / o
    printf "overhead per trial:               %8.3f ms (%.3f ms without mpirun start-up)\n",
           (m - o) / n * 1e3, (m - s - o) / n * 1e3 }'
echo "messages per trial (rank 0):      ${msgs:-?}"
