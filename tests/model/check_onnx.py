#!/usr/bin/python3
"""The model files of `runexp export-model`, checked by other software.

Trains two small experiments with the runexp binary ($RUNEXP_BIN): XOR
with standard scaling through tanh, sigmoid, relu and linear layers, and
the digits with min-max scaling. For one trial of each it writes new data
rows, runs `runexp predict`, exports the trial as ONNX and as .npz, and
checks:
  - onnx.checker.check_model (full check, with shape inference) passes, and
    the file is exactly what the protobuf library serialises for it;
  - a forward pass in numpy over the ONNX graph (its nodes interpreted one
    by one, its initializers as weights) gives runexp's probabilities within
    1e-5 and the same classes (ArgMax output);
  - the .npz opens with numpy.load; a forward pass built from its
    architecture JSON and arrays gives the same probabilities within 1e-5.
Exits 77 (CTest's skip) when onnx or numpy cannot be imported.
"""
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import onnx.checker
    import onnx.numpy_helper
except ImportError as e:  # python3-onnx / python3-numpy not installed
    print(f"SKIP: {e} (install python3-onnx and python3-numpy)")
    sys.exit(77)

RUNEXP = os.environ["RUNEXP_BIN"]
SOURCE = os.environ["RUNEXP_SOURCE_DIR"]
TOL = 1e-5

XOR_SPEC = """name: onnx_xor
data:
  source: xor
  augment: {repeat: 50, noise: 0.3}
  split: {test: 0.2}
  scale: standard
model:
  layers:
    - {units: 5, activation: tanh}
    - {units: 4, activation: sigmoid}
    - {units: 4, activation: relu}
    - {units: 3, activation: linear}
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 15}
seeds: 1
"""

DIGITS_SPEC = """name: onnx_digits
data:
  source: digits
  split: {test: 0.25}
  scale: minmax
model:
  layers:
    - {units: classes, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 3, batch_size: 128}
seeds: 1
"""


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(*args):
    p = subprocess.run([RUNEXP, *args], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"runexp {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    if p.stderr:
        fail(f"runexp {' '.join(args)} printed on stderr:\n{p.stderr}")
    return p.stdout


def read_predictions(path, n_classes):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    if header[0] != "row" or header[-1] != "predicted" or len(header) != n_classes + 2:
        fail(f"predict header {header}")
    prob = np.array([[float(v) for v in r[1:-1]] for r in rows[1:]], dtype=np.float64)
    cls = [r[-1] for r in rows[1:]]
    if [int(r[0]) for r in rows[1:]] != list(range(len(rows) - 1)):
        fail("predict row indices are not 0..n-1")
    return header, prob, cls


# ---- an independent forward pass over the ONNX graph ----------------------

def onnx_forward(model, x):
    env = {init.name: onnx.numpy_helper.to_array(init) for init in model.graph.initializer}
    env[model.graph.input[0].name] = x
    to_np = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64}
    for node in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        i = [env[n] for n in node.input]
        op = node.op_type
        if op == "Cast":
            y = i[0].astype(to_np[a["to"]])
        elif op == "Sub":
            y = i[0] - i[1]
        elif op == "Div":
            y = i[0] / i[1]
        elif op == "Gemm":
            if a.get("transA", 0) or a.get("transB", 0):
                fail("Gemm with a transposed operand")
            y = (np.float32(a.get("alpha", 1.0)) * (i[0] @ i[1])
                 + np.float32(a.get("beta", 1.0)) * i[2]).astype(np.float32)
        elif op == "Relu":
            y = np.maximum(i[0], np.float32(0))
        elif op == "Sigmoid":
            y = (np.float32(1) / (np.float32(1) + np.exp(-i[0]))).astype(np.float32)
        elif op == "Tanh":
            y = np.tanh(i[0])
        elif op == "Softmax":
            ax = a.get("axis", -1)
            e = np.exp(i[0] - i[0].max(axis=ax, keepdims=True))
            y = e / e.sum(axis=ax, keepdims=True)
        elif op == "ArgMax":
            y = np.argmax(i[0], axis=a.get("axis", 0))
            if a.get("keepdims", 1):
                y = np.expand_dims(y, a.get("axis", 0))
        else:
            fail(f"unexpected operator {op}")
        env[node.output[0]] = y
    return [env[o.name] for o in model.graph.output]


def npz_forward(z, x):
    arch = json.loads(str(z["architecture"]))
    h = x
    sc = arch["scaling"]
    if sc["kind"] != "none":
        h = ((h.astype(np.float64) - z[sc["shift"]]) / z[sc["scale"]]).astype(np.float32)
    for layer in arch["layers"]:
        h = h @ z[layer["kernel"]] + z[layer["bias"]]
        act = layer["activation"]
        if act == "relu":
            h = np.maximum(h, 0)
        elif act == "sigmoid":
            h = 1 / (1 + np.exp(-h))
        elif act == "tanh":
            h = np.tanh(h)
        elif act == "softmax":
            e = np.exp(h - h.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
        elif act != "linear":
            fail(f"unexpected activation {act}")
    return arch, h


def check_trial(work, db, trial, names, x, label):
    """names: the feature columns; x: rows; label: extra label column or None."""
    data = os.path.join(work, f"data{trial}.csv")
    order = list(range(len(names)))[::-1]  # columns in another order than the model's
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(([label] if label else []) + [names[j] for j in order])
        for r in x:
            w.writerow((["0"] if label else []) + [repr(float(r[j])) for j in order])
    pred = os.path.join(work, f"pred{trial}.csv")
    run("predict", str(trial), data, "--out", pred, "--db", db)
    onnx_path = os.path.join(work, f"t{trial}.onnx")
    npz_path = os.path.join(work, f"t{trial}.npz")
    run("export-model", str(trial), "--format", "onnx", "--out", onnx_path, "--db", db)
    run("export-model", str(trial), "--out", npz_path, "--db", db)

    model = onnx.load(onnx_path)
    onnx.checker.check_model(model, full_check=True)
    with open(onnx_path, "rb") as f:
        if f.read() != model.SerializeToString():
            fail(f"{onnx_path}: not the protobuf library's serialisation of itself")
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", 0) < 13 or model.ir_version not in (7, 8):
        fail(f"opset {opsets}, ir_version {model.ir_version}")
    classes = json.loads({p.key: p.value for p in model.metadata_props}["runexp.class_names"])
    header, prob, cls = read_predictions(pred, len(classes))
    if header[1:-1] != [f"prob_{c}" for c in classes]:
        fail(f"predict columns {header} for classes {classes}")
    x32 = np.asarray(x, dtype=np.float32)
    p_onnx, idx = onnx_forward(model, x32)
    d = np.abs(p_onnx - prob).max()
    if not d <= TOL:
        fail(f"trial {trial}: ONNX forward pass differs from runexp predict by {d}")
    if [classes[i] for i in idx] != cls:
        fail(f"trial {trial}: ONNX ArgMax classes differ from runexp predict")

    z = np.load(npz_path)
    arch, p_npz = npz_forward(z, x32)
    d2 = np.abs(p_npz - prob).max()
    if not d2 <= TOL:
        fail(f"trial {trial}: .npz forward pass differs from runexp predict by {d2}")
    if arch["feature_names"] != names or arch["class_names"] != classes:
        fail(f"trial {trial}: .npz names {arch['feature_names']} {arch['class_names']}")
    print(f"trial {trial}: {len(x)} rows, {len(names)} features, {len(classes)} classes;"
          f" max |ONNX - runexp| = {d:.3g}, max |npz - runexp| = {d2:.3g}")


def main():
    with tempfile.TemporaryDirectory(prefix="runexp-onnx.") as work:
        db = os.path.join(work, "r.db")
        for name, text in (("xor.yaml", XOR_SPEC), ("digits.yaml", DIGITS_SPEC)):
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
            run("--db", db, "-q", os.path.join(work, name))
        rng = np.random.default_rng(18)
        # XOR: the corners and points around them, not the training rows.
        xor = np.vstack([[[0, 0], [0, 1], [1, 0], [1, 1]],
                         rng.normal(0.5, 0.7, size=(60, 2))])
        check_trial(work, db, 1, ["x0", "x1"], xor, "label")
        # Digits: 100 rows of the dataset with pixels perturbed (new images).
        with gzip.open(os.path.join(SOURCE, "data/digits/digits.csv.gz"), "rt") as f:
            rows = [list(map(float, line.split(",")[:64])) for line in f][:100]
        digits = np.clip(np.array(rows) + rng.integers(-2, 3, size=(100, 64)), 0, 16)
        names = [f"pixel_{i // 8}_{i % 8}" for i in range(64)]
        check_trial(work, db, 2, names, digits, None)
    print("ok")


if __name__ == "__main__":
    main()
