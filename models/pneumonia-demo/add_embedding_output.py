#!/usr/bin/env python3
"""Adds the `embedding` output to the committed demo model, without retraining it.

    /usr/bin/python3 models/pneumonia-demo/add_embedding_output.py [--data PATH]

train.py now exports the model with two outputs (`logit`, and `embedding`: the pooled features the head
reads), by a graph edit after the export (train.add_embedding_output). Re-running train.py does not
reproduce the committed weights on every machine (the same library versions give other weights on
another CPU), so this script applies that same edit to the committed model.onnx and brings what pins
the model along, leaving every weight and the logit's computation as they were:

  model.onnx                              the edit (same nodes, same initializers; one more output)
  vigil-model.json                        `embedding` after `outputs`, and model.sha256
  MODEL_CARD.md, reports/*/report.json    the new model SHA-256 (and the card's words on the output)
  test/fixtures/pneumonia-golden.json     model.sha256, and each case's `embedding`: computed in torch
                                          from the ONNX initializers (batch norm is folded into them),
                                          the first 8 test images as one batch

It refuses a model that has the output already.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402  (the one definition of the edit, the constants and the JSON writer)


def embeddings_from_onnx(path: str, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Walks the graph's nodes in torch with its own initializers: (embedding [N, 64], logit [N])."""
    model = onnx.load(path)
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    pooled = logit = None
    with torch.no_grad():
        for node in model.graph.node:
            if node.op_type == "Conv":
                x = F.conv2d(x, weights[node.input[1]], weights[node.input[2]] if len(node.input) > 2 else None, padding=1)
            elif node.op_type == "Relu":
                x = F.relu(x)
            elif node.op_type == "MaxPool":
                x = F.max_pool2d(x, 2)
            elif node.op_type == "ReduceMean":
                x = x.mean(dim=(2, 3))
                pooled = x
            elif node.op_type == "Gemm":
                logit = x @ weights[node.input[1]].T + weights[node.input[2]]
            else:
                raise SystemExit(f"unexpected node {node.op_type}")
    assert pooled is not None and logit is not None
    return pooled.numpy().astype(np.float64), logit.numpy()[:, 0].astype(np.float64)


def replace_once(path: str, old: str, new: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.count(old) != 1:
        raise SystemExit(f"{path}: expected one occurrence of {old[:60]!r}")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text.replace(old, new))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=train.DEFAULT_DATA, help="path to pneumoniamnist.npz")
    args = parser.parse_args()
    torch.set_num_threads(1)

    model_path = os.path.join(HERE, "model.onnx")
    old_sha = train.sha256_file(model_path)
    train.add_embedding_output(model_path)
    new_sha = train.sha256_file(model_path)

    manifest_path = os.path.join(HERE, "vigil-model.json")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest["model"]["sha256"] != old_sha:
        raise SystemExit("vigil-model.json does not name the model as it was")
    ordered: dict = {}
    for key, value in manifest.items():
        ordered[key] = value
        if key == "outputs":
            ordered["embedding"] = {"output": train.EMBEDDING_OUTPUT, "dimension": train.EMBEDDING_DIM}
    ordered["model"]["sha256"] = new_sha
    train.write_json(manifest_path, ordered)

    card = os.path.join(HERE, "MODEL_CARD.md")
    replace_once(card, old_sha, new_sha)
    replace_once(
        card,
        "input `image` float32 [N,1,28,28], output `logit` [N,1], dynamic batch.\n",
        "input `image` float32 [N,1,28,28], output `logit` [N,1], dynamic batch;\n"
        "a second output `embedding` [N,64] gives the pooled features the linear unit reads (the manifest's\n"
        "`embedding`: production monitoring watches their distribution).\n",
    )
    replace_once(
        card,
        "The script also writes `test/fixtures/pneumonia-golden.json`: features, raw logits and calibrated\n"
        "probabilities of the first 8 test images, against which the TypeScript implementation is checked.\n",
        "The script also writes `test/fixtures/pneumonia-golden.json`: features, raw logits, calibrated\n"
        "probabilities and embeddings of the first 8 test images, against which the TypeScript implementation\n"
        "is checked.\n",
    )
    for split in ("pneumoniamnist-test", "pneumoniamnist-val"):
        replace_once(os.path.join(HERE, "reports", split, "report.json"), old_sha, new_sha)

    golden_path = train.DEFAULT_GOLDEN
    with open(golden_path, encoding="utf-8") as f:
        golden = json.load(f)
    splits = train.load_splits(args.data)
    images = train.to_analysis(splits["test"][0][: train.GOLDEN_COUNT])
    embeddings, logits = embeddings_from_onnx(model_path, train.to_input(images))
    golden["description"] += (
        " `embedding`: the pooled features (the ONNX output `embedding`), torch, the same batch (for the"
        " committed model: computed from the ONNX initializers by add_embedding_output.py)."
    )
    golden["model"]["sha256"] = new_sha
    for i, case in enumerate(golden["cases"]):
        case["embedding"] = [float(v) for v in embeddings[i]]
    train.write_json(golden_path, golden)
    drift = max(abs(c["logit"] - logits[i]) for i, c in enumerate(golden["cases"]))
    print(f"model.onnx sha256 {old_sha} -> {new_sha}")
    print(f"torch logits from the initializers vs the golden (torch, unfolded batch norm): max |diff| {drift:.3g}")


if __name__ == "__main__":
    main()
