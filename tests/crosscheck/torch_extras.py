#!/usr/bin/python3
"""Independent reference for runexp's Keras training extras (README.md here).

Reads an input written by crosscheck_export_extras (the model with its
dropout, L2, batch-normalization, schedule and early-stopping settings,
initial weights, train/validation rows, the row order of every epoch and the
dropout masks) and trains the same model in PyTorch float32, written to
Keras's formulas (../../../shared/reference/keras-training.md):

- Dense y = act(x W + b); categorical cross-entropy from the logits; the
  L2 penalty l2 * sum W^2 added once to each batch's mean loss (so to
  `loss`), and to val_loss; gradients by autograd.
- Dropout(rate): y = x * mask / (1 - rate) in training with the exported
  mask, the identity in evaluation.
- BatchNormalization: training uses the batch mean and biased variance,
  y = gamma (x - mean) / sqrt(var + eps) + beta, and moves the moving
  statistics as moving * momentum + batch * (1 - momentum); evaluation uses
  the moving statistics.
- Keras Adam (epsilon on the uncorrected sqrt(v)) or plain SGD, the rate
  of ExponentialDecay evaluated in float32 at the step count before each
  update.
- EarlyStopping (Keras 3): min mode on val_loss, patience, snapshot and
  restore of the best weights at the end.

Per epoch it writes loss, accuracy (training mode, before each update),
val_loss, val_accuracy (after the epoch) and the learning rate of the
epoch's last update; then the final (restored) parameters.

usage: /usr/bin/python3 torch_extras.py INPUT.in OUTPUT.txt
"""
import sys

import numpy as np
import torch

f32 = np.float32


def read_input(path):
    d = {"layers": [], "orders": [], "masks": [], "schedule": None, "es": None}
    with open(path) as f:
        it = iter(f.read().split("\n"))

    def floats(line):
        return [float(t) for t in line.split()]

    for line in it:
        if not line:
            continue
        t = line.split()
        k = t[0]
        if k == "name":
            d[k] = t[1]
        elif k in ("epochs", "batch", "inputs"):
            d[k] = int(t[1])
        elif k == "optimizer":
            d["opt"] = (t[1], [float(v) for v in t[2:]])
        elif k == "schedule":
            d["schedule"] = (float(t[2]), float(t[3]), float(t[4]), int(t[5]))
        elif k == "early_stopping":
            d["es"] = (int(t[1]), float(t[2]), int(t[3]))
        elif k == "layer":
            d["layers"].append((t[1], int(t[2]), t[3:]))
        elif k == "params":
            d["params"] = np.array(floats(next(it)), dtype=f32)
            assert d["params"].size == int(t[1])
        elif k in ("train", "val"):
            n, nin, nout = int(t[1]), int(t[2]), int(t[3])
            rows = np.array([floats(next(it)) for _ in range(n)], dtype=f32)
            d[k] = (rows[:, :nin].copy(), rows[:, nin:nin + nout].copy())
        elif k == "order":
            d["orders"].append(np.array([int(v) for v in next(it).split()], dtype=np.int64))
        elif k == "mask":
            d["masks"].append(next(it))
        elif k == "end":
            break
        else:
            raise ValueError("unknown line: " + line[:40])
    return d


def main():
    src, dst = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    d = read_input(src)
    P = d["params"]
    # the layers and their tensors in runexp's flat layout
    layers, tensors, off, nin = [], [], 0, d["inputs"]
    for kind, units, rest in d["layers"]:
        if kind == "dense":
            k = torch.tensor(P[off:off + nin * units].reshape(nin, units), requires_grad=True)
            off += nin * units
            b = torch.tensor(P[off:off + units], requires_grad=True)
            off += units
            layers.append({"kind": kind, "act": rest[0], "l2": float(rest[1]), "k": k, "b": b})
            tensors += [k, b]
            nin = units
        elif kind == "dropout":
            layers.append({"kind": kind, "rate": float(rest[0]), "units": units})
        else:
            g = torch.tensor(P[off:off + units], requires_grad=True)
            be = torch.tensor(P[off + units:off + 2 * units], requires_grad=True)
            mm = torch.tensor(P[off + 2 * units:off + 3 * units])
            mv = torch.tensor(P[off + 3 * units:off + 4 * units])
            off += 4 * units
            layers.append({"kind": kind, "mom": float(rest[0]), "eps": float(rest[1]),
                           "g": g, "be": be, "mm": mm, "mv": mv})
            tensors += [g, be, mm, mv]
    assert off == P.size
    trainable = [t for t in tensors if t.requires_grad]
    one = torch.tensor(1.0, dtype=torch.float32)

    def forward(x, training, mask=None):
        h = x
        for L in layers:
            if L["kind"] == "dense":
                z = h @ L["k"] + L["b"]
                if L["act"] == "relu":
                    h = torch.relu(z)
                elif L["act"] == "softmax":
                    h = z  # logits; the loss takes log_softmax
                else:
                    raise ValueError(L["act"])
            elif L["kind"] == "dropout":
                if training:
                    h = h * mask * (one / (one - torch.tensor(L["rate"], dtype=torch.float32)))
            else:
                if training:
                    mean = h.mean(dim=0)
                    var = ((h - mean) ** 2).mean(dim=0)
                    with torch.no_grad():
                        m = torch.tensor(L["mom"], dtype=torch.float32)
                        L["mm"].copy_(L["mm"] * m + mean.detach() * (one - m))
                        L["mv"].copy_(L["mv"] * m + var.detach() * (one - m))
                else:
                    mean, var = L["mm"], L["mv"]
                h = L["g"] * (h - mean) / torch.sqrt(var + L["eps"]) + L["be"]
        return h

    def penalty():
        p = torch.zeros((), dtype=torch.float32)
        for L in layers:
            if L["kind"] == "dense" and L["l2"] != 0.0:
                p = p + torch.tensor(L["l2"], dtype=torch.float32) * (L["k"] ** 2).sum()
        return p

    def ce(z, y):
        return -(y * torch.log_softmax(z, dim=1)).sum(dim=1)

    def hits(z, y):
        return int((torch.argmax(z, dim=1) == torch.argmax(y, dim=1)).sum())

    opt, hyper = d["opt"]
    sched = d["schedule"]

    def rate_at(step):
        if sched is None:
            return f32(hyper[0])
        init, steps, rate, stair = sched
        p = f32(step) / f32(steps)
        if stair:
            p = np.floor(p)
        return f32(f32(init) * f32(np.power(f32(rate), f32(p))))

    xt, yt = (torch.tensor(a) for a in d["train"])
    xv, yv = (torch.tensor(a) for a in d["val"])
    m1 = [torch.zeros_like(p) for p in trainable]
    m2 = [torch.zeros_like(p) for p in trainable]
    step, bs = 0, d["batch"]
    dropout_units = [L["units"] for L in layers if L["kind"] == "dropout"]
    masks = iter(d["masks"])
    es = d["es"]
    best, wait, best_epoch, snapshot, stopped = None, 0, None, None, 0
    out = []
    for e in range(d["epochs"]):
        order = torch.tensor(d["orders"][e])
        loss_sum, hit, seen, lr_used = 0.0, 0, 0, None
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            xb, yb = xt[idx], yt[idx]
            mask = None
            if dropout_units:
                bits = next(masks)
                mask = torch.tensor([float(c) for c in bits], dtype=torch.float32)
                mask = mask.reshape(len(idx), dropout_units[0])
            z = forward(xb, True, mask)
            li = ce(z, yb)
            pen = penalty()
            loss = li.mean() + pen
            loss_sum += float(li.double().sum()) + len(idx) * float(pen)
            hit += hits(z.detach(), yb)
            seen += len(idx)
            for p in trainable:
                p.grad = None
            loss.backward()
            lr = rate_at(step)
            lr_used = lr
            step += 1
            with torch.no_grad():
                if opt == "sgd":
                    for p in trainable:
                        p -= torch.tensor(lr, dtype=torch.float32) * p.grad
                else:
                    b1, b2, eps = hyper[1], hyper[2], hyper[3]
                    b1p = f32(b1) ** f32(step)
                    b2p = f32(b2) ** f32(step)
                    alpha = torch.tensor(f32(lr) * np.sqrt(f32(1) - b2p) / (f32(1) - b1p),
                                         dtype=torch.float32)
                    for p, mm, vv in zip(trainable, m1, m2):
                        g = p.grad
                        mm += (g - mm) * (1 - torch.tensor(b1, dtype=torch.float32))
                        vv += (g * g - vv) * (1 - torch.tensor(b2, dtype=torch.float32))
                        p -= (mm * alpha) / (torch.sqrt(vv) + torch.tensor(eps, dtype=torch.float32))
        with torch.no_grad():
            zv = forward(xv, False)
            vl = float(ce(zv, yv).double().mean()) + float(penalty())
            va = hits(zv, yv) / len(xv)
        out.append((e + 1, loss_sum / seen, hit / seen, vl, va, float(lr_used)))
        if es is not None:
            patience, min_delta, restore = es
            if restore and snapshot is None:
                snapshot = [t.detach().clone() for t in tensors]
                best_epoch = e
            wait += 1
            if best is None or vl < best - abs(min_delta):
                best, best_epoch, wait = vl, e, 0
                if restore:
                    snapshot = [t.detach().clone() for t in tensors]
            elif wait >= patience and e > 0:
                stopped = e + 1
                break
    if es is not None and es[2] and snapshot is not None:
        with torch.no_grad():
            for t, sv in zip(tensors, snapshot):
                t.copy_(sv)
    flat = np.concatenate([t.detach().numpy().reshape(-1) for t in tensors])
    with open(dst, "w") as f:
        f.write("# generated by tests/crosscheck/torch_extras.py (PyTorch %s, float32)\n"
                % torch.__version__)
        f.write("# from %s; regenerate as tests/crosscheck/README.md says\n" % src.split("/")[-1])
        f.write("stopped %d best %d\n" % (stopped, (best_epoch + 1) if best_epoch is not None else 0))
        f.write("epochs %d\n" % len(out))
        for row in out:
            f.write("epoch %d %.17g %.17g %.17g %.17g %.9g\n" % row)
        f.write("params %d\n" % flat.size)
        f.write(" ".join("%.9g" % x for x in flat) + "\n")
    print("wrote %s: %d epochs, final loss %.6f val_loss %.6f lr %.6g"
          % (dst, len(out), out[-1][1], out[-1][3], out[-1][5]))


if __name__ == "__main__":
    main()
