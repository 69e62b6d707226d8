#!/usr/bin/python3
"""The scikit-learn peer of Vigil's evaluation benchmark (bench/lib/bench-evaluate.js).

Reads the synthetic predictions the Node side wrote (raw little-endian arrays: float64 scores,
uint8 labels, uint16 strata), computes roc_auc_score once, then `replicates` stratified bootstrap
replicates the way a careful team writes them with numpy + scikit-learn: per (stratum, label) cell,
draw as many indices with replacement as the cell holds, then roc_auc_score on the resample.
Prints one JSON object: timings in milliseconds, the AUROC, and peak RSS.
"""
import json
import resource
import sys
import time

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score


def main():
    prefix, n, replicates, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    scores = np.fromfile(prefix + ".scores.f64", dtype="<f8", count=n)
    labels = np.fromfile(prefix + ".labels.u8", dtype="u1", count=n)
    strata = np.fromfile(prefix + ".strata.u16", dtype="<u2", count=n)

    t0 = time.perf_counter()
    auroc = roc_auc_score(labels, scores)
    t_auroc = (time.perf_counter() - t0) * 1000

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    cells = [np.flatnonzero((strata == s) & (labels == y)) for s in np.unique(strata) for y in (0, 1)]
    cells = [c for c in cells if len(c) > 0]
    t_setup = (time.perf_counter() - t0) * 1000
    per_rep = []
    reps = []
    for _ in range(replicates):
        t = time.perf_counter()
        idx = np.concatenate([c[rng.integers(0, len(c), len(c))] for c in cells])
        reps.append(roc_auc_score(labels[idx], scores[idx]))
        per_rep.append((time.perf_counter() - t) * 1000)
    reps = np.sort(np.array(reps))
    print(
        json.dumps(
            {
                "sklearn": sklearn.__version__,
                "numpy": np.__version__,
                "aurocMs": t_auroc,
                "setupMs": t_setup,
                "replicates": replicates,
                "perReplicateMs": per_rep,
                "auroc": float(auroc),
                "ci": [float(np.quantile(reps, 0.025)), float(np.quantile(reps, 0.975))],
                "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
