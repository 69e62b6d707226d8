#!/usr/bin/python3
"""Writes test/fixtures/monitoring/label-free.json: seeded windows of (decision, calibrated probability)
and what numpy computes for the label-free performance estimate (CBPE,
src/domain/monitoring/label-free-performance.ts), which the TypeScript is tested against to 1e-9:
the expected confusion matrix, sensitivity, specificity, PPV, NPV and expected prevalence with their
standard errors (exact for the means of Bernoullis, delta method for the ratios) and normal intervals
clipped to [0, 1] (z = scipy.stats.norm.ppf(0.975)).

    /usr/bin/python3 scripts/make-label-free-fixtures.py && npx prettier --write test/fixtures/monitoring/label-free.json
"""
import json
import pathlib

import numpy as np
from scipy.stats import norm

OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "monitoring" / "label-free.json"
rng = np.random.default_rng(20261208)
Z = float(norm.ppf(0.975))


def interval(est, var):
    se = float(np.sqrt(var))
    return {"estimate": float(est), "low": max(0.0, est - Z * se), "high": min(1.0, est + Z * se), "standardError": se}


def ratio(a, va, b, vb):
    t = a + b
    return interval(a / t, (b**2 * va + a**2 * vb) / t**4)


def window(n, threshold, band):
    p = rng.beta(0.6, 0.6, n)
    decision = np.where(p >= threshold, "positive", "negative").astype(object)
    decision[(p >= band[0]) & (p <= band[1])] = "refer"
    decision[rng.random(n) < 0.02] = "none"
    pos, neg = decision == "positive", decision == "negative"
    has = decision != "none"
    v = p * (1 - p)
    tp, fp, fn, tn = p[pos].sum(), (1 - p[pos]).sum(), p[neg].sum(), (1 - p[neg]).sum()
    expected = {
        "sensitivity": ratio(tp, v[pos].sum(), fn, v[neg].sum()),
        "specificity": ratio(tn, v[neg].sum(), fp, v[pos].sum()),
        "ppv": interval(p[pos].mean(), v[pos].sum() / pos.sum() ** 2),
        "npv": interval((1 - p[neg]).mean(), v[neg].sum() / neg.sum() ** 2),
        "prevalence": interval(p[has].mean(), v[has].sum() / has.sum() ** 2),
        "expected": {"tp": float(tp), "fp": float(fp), "fn": float(fn), "tn": float(tn)},
        "decided": int(pos.sum() + neg.sum()),
    }
    cases = [{"decision": d, "probability": float(x)} for d, x in zip(decision, p)]
    return {"cases": cases, "expected": expected}


OUT.write_text(
    json.dumps(
        {
            "generatedBy": "scripts/make-label-free-fixtures.py",
            "numpy": np.__version__,
            "z": Z,
            "windows": [window(60, 1 / 6, (0.12, 0.22)), window(400, 0.5, (0.45, 0.55)), window(2000, 0.3, (0.25, 0.35))],
        }
    )
)
print(f"wrote {OUT}")
