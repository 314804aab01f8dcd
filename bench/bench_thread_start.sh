#!/usr/bin/env bash
# How long the trial threads of `runexp -j 2` take to start: runs the sweep
# with --timings, alternating three settings, and prints for each the median,
# mean and 90th percentile of "idle at the start" (thread-ms from the loop's
# entry to each thread's first trial, summed over threads), of the parallel
# section and of the whole run. The settings:
#   unpinned  OMP_PROC_BIND=false: no binding by libgomp, and runexp's own
#             pinning steps aside because the variable is set (affinity.h);
#   default   runexp pins each thread to its own CPU once the team has started,
#             and asks for a spare thread so that libgomp does not spin while
#             the team starts (affinity.h);
#   bound     OMP_PROC_BIND=true: libgomp binds, creating the worker on its CPU.
#
# Usage: bench/bench_thread_start.sh [RUNEXP_BINARY] [RUNS]
#   defaults: build/runexp (or $RUNEXP_BIN), 30 runs per setting.
#
# On a kernel that places a new thread on the CPU of the thread creating it
# (VMs that pack vCPUs), libgomp's worker starts on the main thread's CPU and,
# without the spare thread, spins there waiting for it. README, Speed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${RUNEXP_BIN:-$here/build/runexp}}
runs=${2:-30}
spec=${SPEC:-$here/experiments/xor_sweep.yaml}
[ -x "$bin" ] || { echo "no runexp binary at $bin (pass it as the first argument)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One run: prints "start-idle parallel total" (ms) from --timings.
one() {
    rm -f "$work"/s.db*
    env "$@" "$bin" --timings -q -j 2 --db "$work/s.db" "$spec" 2>&1 >/dev/null |
        awk '/idle at the start/ { a = $(NF - 1) }
             /trials \(parallel section\)/ { p = $4 }
             /total \(run entered/ { t = $NF }
             END { print a, p, t }'
}
# Column c of file f: median, mean, 90th percentile.
stats() {
    cut -d' ' -f"$2" "$1" | sort -g |
        awk '{ v[NR] = $1; s += $1 }
             END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                   p = v[int(0.9 * NR + 0.5)]
                   printf "median %6.2f  mean %6.2f  p90 %6.2f", m, s / NR, p }'
}

echo "spec: $spec"
echo "cpu:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
one RUNEXP_BENCH=warm-up >/dev/null
: > "$work/unpinned"
: > "$work/default"
: > "$work/bound"
for _ in $(seq 1 "$runs"); do
    one OMP_PROC_BIND=false >> "$work/unpinned"
    one RUNEXP_BENCH=default >> "$work/default"
    one OMP_PROC_BIND=true >> "$work/bound"
done
for s in unpinned default bound; do
    case $s in
    unpinned) label="-j 2, OMP_PROC_BIND=false (no pinning)" ;;
    default) label="-j 2 (runexp pins the started threads; a spare thread)" ;;
    bound) label="-j 2, OMP_PROC_BIND=true (libgomp binds)" ;;
    esac
    echo "$label ($runs runs, ms):"
    echo "  idle at the start (thread-ms)  $(stats "$work/$s" 1)"
    echo "  trials (parallel section)      $(stats "$work/$s" 2)"
    echo "  total (run entered to closed)  $(stats "$work/$s" 3)"
done
