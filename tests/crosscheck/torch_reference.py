#!/usr/bin/python3
"""Independent reference for runexp's training core (see README.md here).

Reads an input file written by crosscheck_export (model, initial weights,
train/validation rows, the row order of every epoch) and trains the same
model with PyTorch in float32: dense layers y = act(x W + b), categorical
cross-entropy computed from the logits (-sum y log_softmax(z), batch mean),
gradients by autograd, and a hand-written Keras Adam (epsilon added to the
uncorrected sqrt(v); alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t)), because
torch.optim.Adam puts epsilon after the bias correction.

Per epoch it records what Keras's History holds: loss = sample-weighted mean
of the batch losses computed before each update, accuracy = correct / seen
over the epoch, val_loss / val_accuracy after the epoch's last update. It
writes them and the final weights to the fixture.

usage: /usr/bin/python3 torch_reference.py INPUT.in OUTPUT.txt
"""
import sys

import numpy as np
import torch


def read_input(path):
    with open(path) as f:
        lines = f.read().split("\n")
    it = iter(lines)
    d = {"layers": [], "orders": []}

    def floats(line):
        return [float(t) for t in line.split()]

    for line in it:
        if not line:
            continue
        t = line.split()
        key = t[0]
        if key in ("name",):
            d[key] = t[1]
        elif key in ("seed", "epochs", "batch", "inputs"):
            d[key] = int(t[1])
        elif key == "adam":
            d["adam"] = [float(v) for v in t[1:5]]
        elif key == "layers":
            pass
        elif key == "layer":
            d["layers"].append((int(t[1]), t[2]))
        elif key == "params":
            d["params"] = np.array(floats(next(it)), dtype=np.float32)
            assert d["params"].size == int(t[1])
        elif key in ("train", "val"):
            n, nin, nout = int(t[1]), int(t[2]), int(t[3])
            rows = np.array([floats(next(it)) for _ in range(n)], dtype=np.float32)
            d[key] = (rows[:, :nin].copy(), rows[:, nin:nin + nout].copy())
        elif key == "order":
            d["orders"].append(np.array([int(v) for v in next(it).split()], dtype=np.int64))
        elif key == "end":
            break
        else:
            raise ValueError("unknown line: " + line[:40])
    return d


def main():
    src, dst = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    d = read_input(src)
    lr, b1, b2, eps = d["adam"]
    f32 = np.float32
    # weights in runexp's flat layout: per layer kernel (in x out) then bias
    params, shapes, off, nin = [], [], 0, d["inputs"]
    for units, act in d["layers"]:
        k = d["params"][off:off + nin * units].reshape(nin, units)
        off += nin * units
        b = d["params"][off:off + units]
        off += units
        params += [torch.tensor(k, requires_grad=True), torch.tensor(b, requires_grad=True)]
        shapes.append(act)
        nin = units
    assert off == d["params"].size
    assert shapes[-1] == "softmax"

    def logits(x):
        h = x
        for i, act in enumerate(shapes):
            z = h @ params[2 * i] + params[2 * i + 1]
            if i + 1 == len(shapes):
                return z
            if act == "relu":
                h = torch.relu(z)
            elif act == "linear":
                h = z
            else:
                raise ValueError("hidden activation " + act)
        return None

    def per_sample_loss(z, y):
        return -(y * torch.log_softmax(z, dim=1)).sum(dim=1)

    def correct(z, y):
        # argmax ties -> first index; softmax keeps the order of the logits
        p = torch.softmax(z, dim=1)
        return int((torch.argmax(p, dim=1) == torch.argmax(y, dim=1)).sum())

    xt, yt = (torch.tensor(a) for a in d["train"])
    xv, yv = (torch.tensor(a) for a in d["val"])
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    step = 0
    bs = d["batch"]
    out = []
    for e in range(d["epochs"]):
        order = torch.tensor(d["orders"][e])
        loss_sum, hits, seen = 0.0, 0, 0
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            xb, yb = xt[idx], yt[idx]
            z = logits(xb)
            li = per_sample_loss(z, yb)
            loss = li.mean()
            loss_sum += float(li.double().sum())
            hits += correct(z.detach(), yb)
            seen += len(idx)
            for p in params:
                p.grad = None
            loss.backward()
            step += 1
            b1p = f32(b1) ** f32(step)  # float32 pow, as TF
            b2p = f32(b2) ** f32(step)
            alpha = f32(lr) * np.sqrt(f32(1) - b2p) / (f32(1) - b1p)
            alpha = torch.tensor(alpha, dtype=torch.float32)
            with torch.no_grad():
                for p, mm, vv in zip(params, m, v):
                    g = p.grad
                    mm += (g - mm) * (1 - torch.tensor(b1, dtype=torch.float32))
                    vv += (g * g - vv) * (1 - torch.tensor(b2, dtype=torch.float32))
                    p -= (mm * alpha) / (torch.sqrt(vv) + torch.tensor(eps, dtype=torch.float32))
        with torch.no_grad():
            zv = logits(xv)
            vl = float(per_sample_loss(zv, yv).double().mean())
            va = correct(zv, yv) / len(xv)
        out.append((e + 1, loss_sum / seen, hits / seen, vl, va))

    flat = np.concatenate([p.detach().numpy().reshape(-1) for p in params])
    with open(dst, "w") as f:
        f.write("# generated by tests/crosscheck/torch_reference.py (PyTorch %s, float32)\n"
                % torch.__version__)
        f.write("# from %s; regenerate as tests/crosscheck/README.md says\n"
                % src.split("/")[-1])
        f.write("epochs %d\n" % len(out))
        for e, l, a, vl, va in out:
            f.write("epoch %d %.17g %.17g %.17g %.17g\n" % (e, l, a, vl, va))
        f.write("params %d\n" % flat.size)
        f.write(" ".join("%.9g" % x for x in flat) + "\n")
    print("wrote %s: final loss %.6f acc %.4f val_loss %.6f val_acc %.4f"
          % ((dst,) + out[-1][1:]))


if __name__ == "__main__":
    main()
