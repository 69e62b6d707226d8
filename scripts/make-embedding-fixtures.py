#!/usr/bin/python3
"""Writes test/fixtures/monitoring/embedding-summary.json: the demo model's embeddings (the ONNX output
`embedding`, computed in torch from the committed model's initializers, rounded to float32 as ONNX
Runtime gives them) of the first 120 PneumoniaMNIST val images and the first 8 test images, and what
numpy computes for their principal-component summary (src/domain/monitoring/embedding-summary.ts),
which the TypeScript is tested against to 1e-9 (embedding-summary.test.ts):

- the mean of the 120 val embeddings, the sample covariance (np.cov, ddof 1), its eigenvalues and
  eigenvectors (np.linalg.eigh), the top k = 8 by decreasing eigenvalue, each vector's sign fixed so
  that its largest-magnitude entry is positive;
- each val and test embedding's projection (e - mean) @ components.T.

    /usr/bin/python3 scripts/make-embedding-fixtures.py [--data PATH] && npx prettier --write test/fixtures/monitoring
"""
import argparse
import json
import os
import pathlib
import sys

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models" / "pneumonia-demo"))
import train  # noqa: E402
from add_embedding_output import embeddings_from_onnx  # noqa: E402

K = 8
REFERENCE_ROWS = 120
TEST_ROWS = 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=train.DEFAULT_DATA)
    args = parser.parse_args()
    torch.set_num_threads(1)
    splits = train.load_splits(args.data)
    model = str(ROOT / "models" / "pneumonia-demo" / "model.onnx")
    emb = lambda split, n: embeddings_from_onnx(model, train.to_input(train.to_analysis(splits[split][0][:n])))[0].astype(np.float32).astype(np.float64)
    ref, test = emb("val", REFERENCE_ROWS), emb("test", TEST_ROWS)
    mean = ref.mean(axis=0)
    cov = np.cov(ref, rowvar=False)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(-values, kind="stable")[:K]
    comps = vectors[:, order].T.copy()
    for c in comps:
        if c[np.argmax(np.abs(c))] < 0:
            c *= -1
    out = {
        "description": (
            "Written by scripts/make-embedding-fixtures.py: the demo model's embeddings (torch from the ONNX "
            "initializers, rounded to float32) of the first 120 val and 8 test images of PneumoniaMNIST, and "
            "numpy's principal components (np.cov ddof 1, np.linalg.eigh, top k by eigenvalue, sign: largest-"
            "magnitude entry positive) and projections (e - mean) @ components.T."
        ),
        "model": {"sha256": train.sha256_file(model)},
        "k": K,
        "reference": ref.tolist(),
        "test": test.tolist(),
        "mean": mean.tolist(),
        "components": comps.tolist(),
        "variances": values[order].tolist(),
        "totalVariance": float(np.trace(cov)),
        "referenceProjections": ((ref - mean) @ comps.T).tolist(),
        "testProjections": ((test - mean) @ comps.T).tolist(),
        "versions": {"numpy": np.__version__, "torch": torch.__version__},
    }
    path = ROOT / "test" / "fixtures" / "monitoring" / "embedding-summary.json"
    path.write_text(json.dumps(out) + "\n", encoding="utf-8")
    print(f"wrote {path}: eigenvalue ratios around k: {values[order][-1] / np.sort(values)[::-1][K]:.3f}")


if __name__ == "__main__":
    main()
