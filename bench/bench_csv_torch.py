#!/usr/bin/python3
"""bench_csv_torch: the PyTorch side of bench/bench_csv.sh, the whole job.

usage: /usr/bin/python3 bench/bench_csv_torch.py CSV ARCH [SEEDS=2] [EPOCHS=2] [BATCH=128] [TEST=10000]

What `runexp run` does for bench/csv_<ARCH>.yaml, as a user would script it
with numpy and PyTorch on one thread: read the CSV with numpy (header row,
label in the last column), split off TEST rows as scikit-learn's
train_test_split(random_state=0) does (the permutation of
RandomState(0)), min-max scale on the training rows, then for each seed
train ARCH (128 = 784 -> 128 relu -> 10, 512x256 = 784 -> 512 relu -> 256
relu -> 10; Glorot-uniform kernels and zero biases, as Keras) with Adam (lr
1e-3, eps 1e-7), cross-entropy, batch BATCH, a fresh shuffle per epoch, and
evaluate loss and accuracy on the training and test rows. Prints the
phases' seconds and the test accuracy per seed. The tests never run it.
"""
import sys
import time

import numpy as np
import torch


def build(arch, nin, k):
    widths = {"128": [128], "512x256": [512, 256]}[arch]
    layers, prev = [], nin
    for w in widths:
        layers += [torch.nn.Linear(prev, w), torch.nn.ReLU()]
        prev = w
    layers.append(torch.nn.Linear(prev, k))
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return model


def evaluate(model, loss_fn, x, y):
    with torch.no_grad():
        loss, correct = 0.0, 0
        for s in range(0, len(x), 32):  # Keras's evaluate batch
            out = model(x[s:s + 32])
            loss += loss_fn(out, y[s:s + 32]).item() * len(out)
            correct += (out.argmax(1) == y[s:s + 32]).sum().item()
        return loss / len(x), correct / len(x)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, arch = sys.argv[1], sys.argv[2]
    seeds, epochs, bs, n_test = (int(a) for a in (sys.argv[3:] + ["2", "2", "128", "10000"][len(sys.argv) - 3:])[:4])
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    t_read = time.perf_counter() - t0
    x_all, labels = raw[:, :-1], raw[:, -1].astype(np.int64)
    classes, y_all = np.unique(labels, return_inverse=True)
    perm = np.random.RandomState(0).permutation(len(x_all))
    test, train = perm[:n_test], perm[n_test:]
    x_tr, x_te = x_all[train], x_all[test]
    lo, hi = x_tr.min(0), x_tr.max(0)
    span = np.where(hi > lo, hi - lo, 1.0).astype(np.float32)
    x_tr, x_te = (x_tr - lo) / span, (x_te - lo) / span
    x_tr, x_te = torch.from_numpy(np.ascontiguousarray(x_tr)), torch.from_numpy(np.ascontiguousarray(x_te))
    y_tr, y_te = torch.from_numpy(y_all[train]), torch.from_numpy(y_all[test])
    t_prep = time.perf_counter() - t0 - t_read
    t_train = 0.0
    for seed in range(seeds):
        torch.manual_seed(seed)
        t1 = time.perf_counter()
        model = build(arch, x_tr.shape[1], len(classes))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            order = torch.randperm(len(x_tr))
            for s in range(0, len(x_tr), bs):
                idx = order[s:s + bs]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x_tr[idx]), y_tr[idx])
                loss.backward()
                opt.step()
        tr = evaluate(model, loss_fn, x_tr, y_tr)
        te = evaluate(model, loss_fn, x_te, y_te)
        t_train += time.perf_counter() - t1
        print("seed %d: train loss %.4f acc %.4f, test loss %.4f acc %.4f" % (seed, *tr, *te), flush=True)
    total = time.perf_counter() - t0
    print("torch %s: read %.3f s, split+scale %.3f s, train+evaluate %.3f s, total %.3f s"
          % (arch, t_read, t_prep, t_train, total), flush=True)


if __name__ == "__main__":
    main()
