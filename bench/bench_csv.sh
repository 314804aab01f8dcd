#!/usr/bin/env bash
# A user's own large CSV: runexp against a PyTorch + numpy script doing the
# same job, one thread each, whole commands (start to finish, reading the
# CSV included), alternating run by run; medians of wall time and peak RSS.
#
# Usage: bench/bench_csv.sh [ROUNDS] [RUNEXP]
#   ROUNDS rounds (default 3); RUNEXP the binary (default build/runexp).
#   CSV=FILE uses that CSV (60 000 x 784 + label, as bench/make_image_csv.py
#   writes it; made with it when absent), WORK=DIR the scratch directory.
# Cases: `runexp check`, then for each architecture (784 -> 128 -> 10 and
# 784 -> 512 -> 256 -> 10; 2 seeds, 2 epochs, batch 128, 10 000 test rows,
# min-max scaling) `runexp run -j 1` on a fresh database against
# bench/bench_csv_torch.py. Needs python3-torch and python3-numpy (with
# libopenblas0-serial); the tests never run it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
bin=${2:-$here/build/runexp}
work=${WORK:-/tmp/runexp-bench-csv}
mkdir -p "$work"
csv=${CSV:-$work/images.csv}
[ -x "$bin" ] || { echo "bench_csv.sh: no runexp at $bin" >&2; exit 2; }
[ -f "$csv" ] || /usr/bin/python3 "$here/bench/make_image_csv.py" "$csv"
csv=$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")
for arch in 128 512x256; do
    case $arch in
    128) layers='[{type: dense, units: 128, activation: relu}, {type: dense, units: classes, activation: softmax}]' ;;
    512x256) layers='[{type: dense, units: 512, activation: relu}, {type: dense, units: 256, activation: relu}, {type: dense, units: classes, activation: softmax}]' ;;
    esac
    cat > "$work/csv_$arch.yaml" <<YAML
name: csv_$arch
description: A 60 000 x 784 CSV, 784 -> $arch -> 10, 2 seeds, 2 epochs, batch 128.
data:
  source: {csv: "$csv", label: label}
  scale: minmax
  split: {test: 10000, random_state: 0}
model:
  layers: $layers
training:
  loss: categorical_crossentropy
  optimizer: adam
  epochs: 2
  batch_size: 128
  metrics: [accuracy]
record: {predictions: false}
seeds: 2
YAML
done
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
timed() { # FILE CMD...: appends "wall_s peak_kb" of CMD to FILE
    local out=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
    cat "$work/t" >> "$out"
}
rm -f "$work"/*.times
for r in $(seq 1 "$rounds"); do
    timed "$work/check.times" "$bin" check "$work/csv_128.yaml"
    for arch in 128 512x256; do
        rm -f "$work/db.db"*
        timed "$work/rx_$arch.times" "$bin" run -q -j 1 --db "$work/db.db" "$work/csv_$arch.yaml"
        timed "$work/pt_$arch.times" /usr/bin/python3 "$here/bench/bench_csv_torch.py" "$csv" "$arch"
    done
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$work/$1.times" | median; }
rows=$(($(wc -l < "$csv") - 1))
cols=$(head -1 "$csv" | tr ',' '\n' | wc -l)
f32=$(awk -v r="$rows" -v c="$cols" 'BEGIN { printf "%.1f", r * (c - 1) * 4 / 1048576 }')
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $rounds rounds"
echo "csv: $csv, $rows rows x $cols columns, $(du -m "$csv" | cut -f1) MB; features as float32: $f32 MiB"
echo "runexp check: $(col check 1) s, peak RSS $(awk -v k="$(col check 2)" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
echo "| model | runexp run -j 1 | peak RSS | PyTorch script | peak RSS | PyTorch / runexp |"
echo "|---|---|---|---|---|---|"
for arch in 128 512x256; do
    awk -v a="$arch" -v rs="$(col "rx_$arch" 1)" -v rk="$(col "rx_$arch" 2)" \
        -v ps="$(col "pt_$arch" 1)" -v pk="$(col "pt_$arch" 2)" \
        'BEGIN { printf "| 784 -> %s -> 10 | %.2f s | %.0f MiB | %.2f s | %.0f MiB | %.2f× |\n", a, rs, rk / 1024, ps, pk / 1024, ps / rs }'
done
