#!/usr/bin/env bash
# runexp (build/bench/bench_wide) against PyTorch (bench/bench_torch.py) on
# digits with two hidden layers of H units, one thread each, alternating
# run by run so that a change in the machine's load falls on both; the FMA
# peak is measured in every round. Prints the per-case medians.
#
# Usage: bench/bench_wide.sh [ROUNDS] [BENCH_WIDE]
#   ROUNDS rounds (default 3); CASES="512:32:3 ..." overrides the cases
#   (H:BATCH:EPOCHS). Needs python3-torch and python3-sklearn; with Debian's
#   torch, install libopenblas0-serial too, or torch multiplies with the
#   reference BLAS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
bin=${2:-$here/build/bench/bench_wide}
cases=${CASES:-"512:32:3 512:256:3 1024:32:2 1024:256:2 2048:32:1 2048:256:1 4096:32:1 4096:256:1"}
[ -x "$bin" ] || { echo "bench_wide.sh: no bench_wide at $bin" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
for r in $(seq 1 "$rounds"); do
    "$bin" peak | awk '{ print $2 }' >> "$work/peak"
    for c in $cases; do
        IFS=: read -r h b e <<< "$c"
        "$bin" "$h" "$b" "$e" 1 | awk '{ print $8, $10 }' >> "$work/rx_$h.$b"
        /usr/bin/python3 "$here/bench/bench_torch.py" "$h" "$b" "$e" 1 | awk '{ print $8, $10 }' >> "$work/pt_$h.$b"
    done
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
peak=$(median < "$work/peak")
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $rounds rounds; FMA peak (median) $peak GFLOP/s (rounds: $(tr '\n' ' ' < "$work/peak"))"
echo "| H | batch | runexp s/epoch | PyTorch s/epoch | PyTorch / runexp | runexp GFLOP/s | % of peak |"
echo "|---|---|---|---|---|---|---|"
for c in $cases; do
    IFS=: read -r h b e <<< "$c"
    rs=$(awk '{ print $1 }' "$work/rx_$h.$b" | median)
    rg=$(awk '{ print $2 }' "$work/rx_$h.$b" | median)
    ps=$(awk '{ print $1 }' "$work/pt_$h.$b" | median)
    awk -v h="$h" -v b="$b" -v rs="$rs" -v ps="$ps" -v rg="$rg" -v pk="$peak" \
        'BEGIN { printf "| %s² | %s | %.4f | %.4f | %.2f× | %.1f | %.0f %% |\n", h, b, rs, ps, ps / rs, rg, 100 * rg / pk }'
done
