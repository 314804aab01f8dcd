"""Writes blobs.csv, the small CSV behind experiments/blobs_csv.yaml.

Three Gaussian blobs in the plane (scikit-learn make_blobs, random_state=0),
150 rows, features rounded to 4 decimals, labels as words. Regenerate with
    /usr/bin/python3 experiments/data/make_blobs.py
from the repository root (the output is committed; runexp never runs this).
"""
import csv
import os

from sklearn.datasets import make_blobs

x, y = make_blobs(n_samples=150, centers=3, n_features=2, cluster_std=1.2,
                  random_state=0)
names = ["circle", "square", "triangle"]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "blobs.csv")
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["x0", "x1", "shape"])
    for (a, b), k in zip(x, y):
        w.writerow([f"{a:.4f}", f"{b:.4f}", names[k]])
