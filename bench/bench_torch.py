#!/usr/bin/python3
"""bench_torch: the PyTorch side of bench/bench_wide.c, one thread.

usage: /usr/bin/python3 bench/bench_torch.py H BATCH EPOCHS [RUNS]

digits (all 1797 rows, pixels / 16), 64 -> H relu -> H relu -> 10,
cross-entropy on the logits, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-7 as
Keras), a fresh permutation every epoch, no validation. Prints one line per
run in bench_wide's format: seconds per epoch and GFLOP/s of the matrix
products (the same count as bench_wide). Needs python3-torch and
python3-sklearn (for the digits); the tests never run it.
"""
import sys
import time

import torch
from sklearn.datasets import load_digits


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: bench_torch.py H BATCH EPOCHS [RUNS]")
    H, bs, epochs = (int(a) for a in sys.argv[1:4])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    torch.set_num_threads(1)
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.int64)
    n, nin, K = x.shape[0], 64, 10
    macs = 2.0 * (nin * H + H * H + H * K) + H * H + H * K
    gflop = 2.0 * macs * n * epochs / 1e9
    for k in range(runs):
        torch.manual_seed(k + 1)
        model = torch.nn.Sequential(
            torch.nn.Linear(nin, H), torch.nn.ReLU(),
            torch.nn.Linear(H, H), torch.nn.ReLU(),
            torch.nn.Linear(H, K))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        t0 = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(n)
            for s in range(0, n, bs):
                idx = perm[s:s + bs]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
        t = time.perf_counter() - t0
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).float().mean().item()
        print("torch H %d batch %d epochs %d: %.4f s/epoch %.1f GFLOP/s (train acc %.3f)"
              % (H, bs, epochs, t / epochs, gflop / t, acc), flush=True)


if __name__ == "__main__":
    main()
