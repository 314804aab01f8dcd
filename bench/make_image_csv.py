#!/usr/bin/env python3
"""Writes an MNIST-sized CSV for the large-data benchmark (bench/bench_csv.sh).

N rows of 28 x 28 pixels (columns p0..p783) and a label column 0..9, laid
out like the MNIST CSVs people download: mostly zeros, a stroke-like blob per
class. The data is synthetic (seeded), so the benchmark needs no download,
and it is learnable but not trivially: each class is four gaussian strokes,
two of them shared with other classes, and each image is its class blended
with another class, shifted by up to two pixels, with noisy stroke
intensities, so a 784 -> 128 -> 10 network does not reach a perfect test
score in two epochs.

    /usr/bin/python3 bench/make_image_csv.py OUT.csv [ROWS=60000] [SEED=1]
                     [--decimal] [--easy]

Pixels are integers 0..255 by default; --decimal writes pixel / 255 with up
to 6 significant digits instead ("0", "0.501961", "1"), as many users'
CSVs hold scaled values. --easy writes the earlier, separable data (one
fixed prototype per class plus noise; test accuracy 1.0 after two epochs),
byte for byte what this script wrote before.
"""
import sys

import numpy as np

SIDE = 28


def blob(yy, xx, rng):
    cy, cx = rng.uniform(6, 22, size=2)
    sy, sx = rng.uniform(1.5, 4.0, size=2)
    return np.exp(-((yy - cy) ** 2 / (2 * sy * sy) + (xx - cx) ** 2 / (2 * sx * sx)))


def easy_images(rng, rows):
    """The earlier data: (labels, iterator of (labels, float images) chunks)."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    protos = []
    for _ in range(10):
        img = np.zeros((SIDE, SIDE))
        for _ in range(4):  # four strokes of gaussian blobs
            img += blob(yy, xx, rng)
        protos.append(img / img.max())
    protos = np.array(protos).reshape(10, -1)
    labels = rng.integers(0, 10, size=rows)

    def chunks():
        for s in range(0, rows, 5000):
            lab = labels[s:s + 5000]
            x = protos[lab] * rng.uniform(0.6, 1.0, size=(len(lab), 1))
            x = x + rng.normal(0, 0.15, size=x.shape)
            yield lab, x

    return chunks()


def hard_images(rng, rows):
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    shared = [blob(yy, xx, rng) for _ in range(6)]  # strokes several classes have
    strokes = []  # per class: 4 strokes, 2 of them from the shared pool
    for _ in range(10):
        own = [blob(yy, xx, rng) for _ in range(2)]
        pick = rng.choice(len(shared), size=2, replace=False)
        strokes.append(np.array(own + [shared[i] for i in pick]))
    strokes = np.array(strokes).reshape(10, 4, -1)  # class, stroke, pixel
    labels = rng.integers(0, 10, size=rows)

    def chunks():
        for s in range(0, rows, 5000):
            lab = labels[s:s + 5000]
            n = len(lab)
            other = (lab + rng.integers(1, 10, size=n)) % 10
            w = rng.uniform(0.5, 1.0, size=(n, 4, 1))  # each stroke's intensity
            own = (strokes[lab] * w).sum(axis=1)
            mix = strokes[other].sum(axis=1)
            a = rng.uniform(0.0, 0.35, size=(n, 1))  # blended with another class
            x = (1 - a) * own + a * mix
            x = x / x.max(axis=1, keepdims=True) * rng.uniform(0.6, 1.0, size=(n, 1))
            dy, dx = rng.integers(-2, 3, size=(2, n))
            x = x.reshape(n, SIDE, SIDE)
            for i in range(n):  # a shift of up to two pixels
                x[i] = np.roll(x[i], (dy[i], dx[i]), axis=(0, 1))
            x = x.reshape(n, -1) + rng.normal(0, 0.2, size=(n, SIDE * SIDE))
            yield lab, x

    return chunks()


def main():
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    unknown = flags - {"--decimal", "--easy"}
    if not args or unknown:
        sys.exit(__doc__.strip())
    out = args[0]
    rows = int(args[1]) if len(args) > 1 else 60000
    seed = int(args[2]) if len(args) > 2 else 1
    rng = np.random.default_rng(seed)
    chunks = easy_images(rng, rows) if "--easy" in flags else hard_images(rng, rows)
    if "--decimal" in flags:
        text = [f"{v / 255:.6g}" for v in range(256)]
    else:
        text = [str(v) for v in range(256)]
    with open(out, "w") as f:
        f.write(",".join(f"p{i}" for i in range(SIDE * SIDE)) + ",label\n")
        for lab, x in chunks:
            pix = np.clip(np.rint(x * 255), 0, 255).astype(np.int64)
            pix[x < 0.25] = 0  # a blank background, as in MNIST
            f.write("\n".join(",".join([text[v] for v in r] + [str(k)])
                              for r, k in zip(pix.tolist(), lab.tolist())))
            f.write("\n")


if __name__ == "__main__":
    main()
