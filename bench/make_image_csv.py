#!/usr/bin/env python3
"""Writes an MNIST-sized CSV for the large-data benchmark (bench/bench_csv.sh).

N rows of 28 x 28 integer pixels 0..255 (columns p0..p783) and a label
column, laid out like the MNIST CSVs people download: mostly zeros, a
stroke-like blob per class. The data is synthetic (a fixed random prototype
per class plus noise, seeded), so the benchmark needs no download, and it
is learnable, so the trained models do real work.

    /usr/bin/python3 bench/make_image_csv.py OUT.csv [ROWS=60000] [SEED=1]
"""
import sys

import numpy as np


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = np.random.default_rng(seed)
    side = 28
    yy, xx = np.mgrid[0:side, 0:side]
    protos = []
    for _ in range(10):
        img = np.zeros((side, side))
        for _ in range(4):  # four strokes of gaussian blobs
            cy, cx = rng.uniform(6, 22, size=2)
            sy, sx = rng.uniform(1.5, 4.0, size=2)
            img += np.exp(-((yy - cy) ** 2 / (2 * sy * sy) + (xx - cx) ** 2 / (2 * sx * sx)))
        protos.append(img / img.max())
    protos = np.array(protos).reshape(10, -1)
    labels = rng.integers(0, 10, size=rows)
    with open(out, "w") as f:
        f.write(",".join(f"p{i}" for i in range(side * side)) + ",label\n")
        chunk = 5000
        for s in range(0, rows, chunk):
            lab = labels[s:s + chunk]
            x = protos[lab] * rng.uniform(0.6, 1.0, size=(len(lab), 1))
            x = x + rng.normal(0, 0.15, size=x.shape)
            pix = np.clip(np.rint(x * 255), 0, 255).astype(np.int64)
            pix[x < 0.25] = 0  # a blank background, as in MNIST
            body = np.concatenate([pix, lab[:, None]], axis=1)
            f.write("\n".join(",".join(map(str, r)) for r in body.tolist()))
            f.write("\n")


if __name__ == "__main__":
    main()
