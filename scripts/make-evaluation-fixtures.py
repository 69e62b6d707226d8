#!/usr/bin/python3
"""Writes test/fixtures/evaluation/reference-metrics.json: synthetic predictions (seeded) and the
values scikit-learn and statsmodels compute for them. The TypeScript evaluation code is tested
against this file to 1e-9 (src/domain/evaluation/reference-metrics.test.ts).

Also writes test/fixtures/evaluation/paired-bootstrap-sklearn.json: two correlated models on the
same cases, label-stratified resamples drawn with numpy (as row indices), and scikit-learn's
roc_auc_score difference on each resample (src/domain/evaluation/paired-bootstrap.test.ts).

Also writes, into reference-metrics.json, scipy's two-sided normal p-values (2·norm.sf(z), and its
log from norm.logsf, which does not underflow) and statsmodels' Logit on perfectly and
quasi-perfectly separated data (no maximum-likelihood estimate exists there).

Run with Debian's packages:  apt-get install python3-sklearn python3-statsmodels python3-scipy
    /usr/bin/python3 scripts/make-evaluation-fixtures.py && npx prettier --write test/fixtures/evaluation
"""
import json
import pathlib

import warnings

import numpy as np
import scipy
import sklearn
import statsmodels
import statsmodels.api as sm
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, confusion_matrix, log_loss, roc_auc_score
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tools.sm_exceptions import PerfectSeparationError

OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "evaluation" / "reference-metrics.json"
OUT_PAIRED = OUT.parent / "paired-bootstrap-sklearn.json"


def delong_direct(scores, labels):
    """DeLong et al. 1988 from the definition: the O(m*n) kernel psi(X, Y) = 1, 1/2, 0."""
    x = scores[labels == 1]
    y = scores[labels == 0]
    psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    var = v10.var(ddof=1) / len(x) + v01.var(ddof=1) / len(y)
    return float(psi.mean()), float(var)


def case(name, rng, n, prevalence, ties=None, shift=0.0):
    labels = (rng.random(n) < prevalence).astype(int)
    logits = rng.normal(loc=np.where(labels == 1, 1.2 + shift, -1.0), scale=1.3)
    probs = 1 / (1 + np.exp(-logits))
    if ties is not None:
        probs = np.round(probs * ties) / ties
    threshold = 0.5
    pred = (probs >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels, pred, labels=[0, 1]).ravel()
    out = {
        "name": name,
        "labels": labels.tolist(),
        "probabilities": probs.tolist(),
        "threshold": threshold,
        "roc_auc_score": float(roc_auc_score(labels, probs)),
        "brier_score_loss": float(brier_score_loss(labels, probs)),
        "log_loss": float(log_loss(labels, np.clip(probs, 1e-15, 1 - 1e-15))),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "calibration_curve": {},
        "wilson": {},
    }
    for bins in (10, 15):
        prob_true, prob_pred = calibration_curve(labels, probs, n_bins=bins, strategy="uniform")
        out["calibration_curve"][str(bins)] = {"prob_true": prob_true.tolist(), "prob_pred": prob_pred.tolist()}
    for key, (count, nobs) in {"sensitivity": (tp, tp + fn), "specificity": (tn, tn + fp), "ppv": (tp, tp + fp)}.items():
        lo, hi = proportion_confint(int(count), int(nobs), alpha=0.05, method="wilson")
        out["wilson"][key] = {"count": int(count), "nobs": int(nobs), "low": float(lo), "high": float(hi)}
    # Calibration slope and intercept: logistic regression of the label on logit(p) (statsmodels Logit, Newton).
    eps = 1e-12
    q = np.clip(probs, eps, 1 - eps)
    x = np.log(q / (1 - q))
    fit = sm.Logit(labels, sm.add_constant(x)).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    out["calibration_slope"] = float(fit.params[1])
    out["calibration_intercept"] = float(fit.params[0])
    # Temperature scaling = logistic regression without intercept; T = 1 / slope.
    fit_t = sm.Logit(labels, x[:, None]).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    out["temperature"] = float(1 / fit_t.params[0])
    iso = IsotonicRegression(out_of_bounds="clip").fit(x, labels)
    grid = np.linspace(x.min() - 1, x.max() + 1, 41)
    out["isotonic"] = {"grid": grid.tolist(), "predictions": iso.predict(grid).tolist()}
    auc, var = delong_direct(probs, labels)
    out["delong_direct"] = {"auroc": auc, "variance": var}
    return out


def normal_tail():
    """Two-sided p-values P(|Z| >= z) = 2 norm.sf(z) and their natural log (log 2 + norm.logsf(z)),
    out to z where the p-value itself underflows a double."""
    zs = [0, 0.1, 0.5, 1, 1.4142, 1.959963984540054, 2.5, 3, 4, 5, 6, 7, 8, 8.5, 10, 11.9, 15, 20, 30, 37, 38, 40, 50, 100]
    return [{"z": z, "two_sided_p": float(2 * norm.sf(z)), "log_two_sided_p": float(np.log(2) + norm.logsf(z))} for z in zs]


def separation_cases(rng):
    """Logistic regression of the label on logit(p) (the calibration slope) where the classes are
    perfectly separated (statsmodels raises PerfectSeparationError), quasi-separated (one positive
    and one negative tie at the boundary: Newton does not converge, the slope grows without bound),
    and overlapping by one case (a finite estimate exists)."""
    n = 60
    labels = (rng.random(n) < 0.4).astype(int)
    probs = np.where(labels == 1, rng.uniform(0.6, 0.99, n), rng.uniform(0.01, 0.4, n))
    quasi = probs.copy()
    quasi[np.flatnonzero(labels == 1)[0]] = 0.5
    quasi[np.flatnonzero(labels == 0)[0]] = 0.5
    overlap = probs.copy()
    overlap[np.flatnonzero(labels == 1)[0]] = 0.3
    out = []
    for name, p in (("complete", probs), ("quasi-complete", quasi), ("overlapping", overlap)):
        x = np.log(p / (1 - p))
        entry = {"name": name, "labels": labels.tolist(), "probabilities": p.tolist()}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = sm.Logit(labels, sm.add_constant(x)).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
            entry["statsmodels"] = {
                "outcome": "converged" if fit.mle_retvals["converged"] else "not converged",
                "slope": float(fit.params[1]),
                "intercept": float(fit.params[0]),
            }
        except PerfectSeparationError:
            entry["statsmodels"] = {"outcome": "PerfectSeparationError"}
        out.append(entry)
    return out


def paired_bootstrap_case(rng, n=300, prevalence=0.35, resamples=25):
    """Two models sharing part of their noise (so their AUROCs are correlated), model B rounded to
    tenths (ties), and label-stratified resamples: each draws, with replacement, as many positives
    from the positives and negatives from the negatives as there are. sklearn scores each resample."""
    labels = (rng.random(n) < prevalence).astype(int)
    shared = rng.normal(size=n)
    a = 1 / (1 + np.exp(-(np.where(labels == 1, 1.0, -0.8) + 0.9 * shared + 0.8 * rng.normal(size=n))))
    b = 1 / (1 + np.exp(-(np.where(labels == 1, 0.8, -0.7) + 0.9 * shared + 1.0 * rng.normal(size=n))))
    b = np.round(b * 10) / 10
    pos = np.flatnonzero(labels == 1)
    neg = np.flatnonzero(labels == 0)
    out = []
    for _ in range(resamples):
        idx = np.concatenate([rng.choice(pos, size=len(pos), replace=True), rng.choice(neg, size=len(neg), replace=True)])
        diff = roc_auc_score(labels[idx], a[idx]) - roc_auc_score(labels[idx], b[idx])
        out.append({"indices": idx.tolist(), "roc_auc_score_difference": float(diff)})
    return {
        "labels": labels.tolist(),
        "scores_a": a.tolist(),
        "scores_b": b.tolist(),
        "roc_auc_score_difference": float(roc_auc_score(labels, a) - roc_auc_score(labels, b)),
        "resamples": out,
    }


def main():
    rng = np.random.default_rng(20231124)
    cases = [
        case("continuous-500", rng, 500, 0.3),
        case("ties-tenths-400", rng, 400, 0.5, ties=10),
        case("ties-hundredths-800-shifted", rng, 800, 0.15, ties=100, shift=0.8),
        case("small-40", rng, 40, 0.4),
    ]
    doc = {
        "generator": "scripts/make-evaluation-fixtures.py",
        "seed": 20231124,
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "statsmodels": statsmodels.__version__, "scipy": scipy.__version__},
        "cases": cases,
        "normal_tail": normal_tail(),
        "separation": separation_cases(np.random.default_rng(20261207)),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")
    paired = paired_bootstrap_case(np.random.default_rng(20240611))
    paired_doc = {
        "generator": "scripts/make-evaluation-fixtures.py",
        "seed": 20240611,
        "versions": doc["versions"],
        **paired,
    }
    OUT_PAIRED.write_text(json.dumps(paired_doc, indent=1) + "\n")
    print(f"wrote {OUT_PAIRED} ({len(paired['resamples'])} resamples)")


if __name__ == "__main__":
    main()
