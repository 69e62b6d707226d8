#!/usr/bin/python3
"""Writes test/fixtures/monitoring/reference.json: seeded inputs and what scipy/numpy compute for the
monitoring statistics (src/domain/monitoring/*), which the TypeScript is tested against to 1e-9
(src/domain/monitoring/monitoring-reference.test.ts):

- scipy.stats.norm.ppf (the normal quantile),
- normal scores against a reference sample with ties: norm.ppf((#<x + 0.5 #=x + 0.5) / (n + 1)),
  the counts by numpy.searchsorted,
- the CUSUM recursion S_t = max(0, S_{t-1} + X_t) with restart after an alarm, in plain numpy,
- the Bernoulli CUSUM's log-likelihood-ratio increments,
- the exact ARL of a lattice Bernoulli CUSUM (numpy.linalg.solve on the dense chain),
- the Brook-Evans Markov-chain ARL (numpy.linalg.solve on I - R) for an empirical and a Bernoulli
  increment distribution, and Siegmund's approximation,
- performance from reviews (reviewed-performance.ts): inverse-probability-weighted ratio estimates of
  sensitivity, specificity, PPV, NPV, prevalence and refer rate with their linearization standard
  errors and Wilson intervals at the effective sample size (statsmodels proportion_confint, method
  'wilson'), calibration-in-the-large with its standard error, and the weighted ECE (numpy).

Run with Debian's packages:  apt-get install python3-scipy python3-numpy python3-statsmodels
    /usr/bin/python3 scripts/make-monitoring-fixtures.py && npx prettier --write test/fixtures/monitoring
"""
import json
import pathlib

import numpy as np
import scipy
import statsmodels
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "monitoring" / "reference.json"
rng = np.random.default_rng(20261207)


def normal_scores(reference, x):
    ref = np.sort(reference)
    n = len(ref)
    less = np.searchsorted(ref, x, side="left")
    leq = np.searchsorted(ref, x, side="right")
    return norm.ppf((less + 0.5 * (leq - less) + 0.5) / (n + 1))


def cusum_path(increments, h):
    s = 0.0
    path = []
    alarms = []
    for t, x in enumerate(increments):
        s = max(0.0, s + x)
        path.append(s)
        if s >= h:
            alarms.append(t)
            s = 0.0
    return path, alarms


def below_fn(atoms, weights):
    order = np.argsort(atoms, kind="stable")
    a = np.asarray(atoms, dtype=float)[order]
    w = np.asarray(weights, dtype=float)[order]
    values, inverse = np.unique(a, return_inverse=True)
    mass = np.zeros(len(values))
    np.add.at(mass, inverse, w)
    cdf = np.concatenate([[0.0], np.cumsum(mass)]) / mass.sum()
    return lambda t: cdf[np.searchsorted(values, t, side="left")]


def brook_evans_arl(atoms, weights, h, m):
    below = below_fn(atoms, weights)
    w = 2 * h / (2 * m - 1)
    i = np.arange(m)[:, None] * w
    edges = np.concatenate([[0.5 * w], (np.arange(1, m) + 0.5) * w])[None, :]
    cum = below(edges - i)
    r = np.diff(np.concatenate([np.zeros((m, 1)), cum], axis=1), axis=1)
    return float(np.linalg.solve(np.eye(m) - r, np.ones(m))[0])


def lattice_arl(up, down, p, states):
    """Exact ARL of the lattice Bernoulli CUSUM: state i -> i + up (absorbed at >= states) w.p. p, -> max(0, i - down) otherwise."""
    r = np.zeros((states, states))
    for i in range(states):
        r[i, max(0, i - down)] += 1 - p
        if i + up < states:
            r[i, i + up] += p
    return float(np.linalg.solve(np.eye(states) - r, np.ones(states))[0])


def siegmund(h, drift):
    b = h + 1.166
    if drift == 0:
        return b * b
    return (np.exp(-2 * drift * b) + 2 * drift * b - 1) / (2 * drift * drift)


# Normal quantile over the whole range, tails included.
p = np.concatenate([[1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.02425, 0.024], rng.uniform(0, 1, 60), [0.5, 0.975, 0.999, 1 - 1e-10, 1 - 1e-15]])

# A reference with ties (rounded gamma draws) and values to score: at, between and beyond the reference values.
reference = np.round(rng.gamma(2.0, 1.5, 300), 1)
queries = np.concatenate([reference[:40], rng.uniform(-1, 15, 60), [reference.min() - 1, reference.max() + 1, reference.min(), reference.max()]])
scores = normal_scores(reference, queries)

# The CUSUM recursion on increments z - k from a shifted normal stream.
k = 0.5
z = rng.normal(0.3, 1.0, 400)
increments = z - k
path, alarms = cusum_path(increments, 4.0)

# Bernoulli CUSUM increments.
bernoulli = []
for p0, odds_ratio in [(0.05, 2.0), (0.72, 2.0), (0.72, 0.5), (0.00095, 2.0)]:
    odds = p0 / (1 - p0) * odds_ratio
    p1 = odds / (1 + odds)
    bernoulli.append({"p0": p0, "oddsRatio": odds_ratio, "p1": p1, "one": float(np.log(p1 / p0)), "zero": float(np.log((1 - p1) / (1 - p0)))})

# ARL by the Markov chain: the reference's own normal scores minus k, and a Bernoulli CUSUM.
ref_scores = normal_scores(reference, reference)
arl_empirical = [{"h": h, "states": m, "arl": brook_evans_arl(ref_scores - k, np.ones(len(ref_scores)), h, m)} for h, m in [(2.0, 50), (4.0, 150), (7.5, 150), (10.0, 200)]]
b = bernoulli[0]
arl_bernoulli = [{"h": h, "states": 150, "arl": brook_evans_arl([b["one"], b["zero"]], [b["p0"], 1 - b["p0"]], h, 150)} for h in [1.0, 3.0, 6.0]]
arl_lattice = [{"up": u, "down": d, "p": p, "states": n, "arl": lattice_arl(u, d, p, n)} for u, d, p, n in [(20, 72, 0.719, 300), (200, 1, 0.00095, 900), (200, 17, 0.0543, 700), (3, 1, 0.2, 40)]]
siegmund_cases = [{"h": h, "drift": d, "arl": float(siegmund(h, d))} for h, d in [(4.0, -0.5), (8.0, -0.5), (5.0, 0.0), (5.0, 0.5), (12.0, -0.25)]]

# Reviewed cases: decisions, probabilities, findings; confident decisions reviewed at 5 % (inclusion 0.05),
# referred and gate-rejected always (1), some gate-warned decided ones always (1).
m = 400
decision = rng.choice(["positive", "negative", "refer", "none"], size=m, p=[0.55, 0.3, 0.1, 0.05])
prob = np.where(decision == "none", np.nan, rng.uniform(0, 1, m))
prob = np.where(decision == "positive", 0.5 + 0.5 * rng.uniform(0, 1, m), np.where(decision == "negative", 0.5 * rng.uniform(0, 1, m), prob))
prob[decision == "none"] = np.nan
prob[:3] = [0.1, 0.5, 0.7]  # values on bin edges
finding = np.where(np.isnan(prob), rng.uniform(0, 1, m) < 0.5, rng.uniform(0, 1, m) < np.nan_to_num(prob, nan=0.5))
inclusion = np.where(np.isin(decision, ["refer", "none"]) | (rng.uniform(0, 1, m) < 0.1), 1.0, 0.05)
w = 1 / inclusion
z975 = norm.ppf(0.975)


def weighted_rate(y, x):
    sel = x == 1
    if not sel.any():
        return None
    ws, ys = w[sel], y[sel].astype(float)
    r = np.sum(ws * ys) / np.sum(ws)
    v = np.sum((ws * (ys - r)) ** 2) / np.sum(ws) ** 2
    neff = r * (1 - r) / v if (0 < r < 1 and v > 0) else np.sum(ws) ** 2 / np.sum(ws**2)
    low, high = proportion_confint(r * neff, neff, alpha=0.05, method="wilson")
    return {"estimate": float(r), "standardError": float(np.sqrt(v)), "effectiveN": float(neff), "low": float(low), "high": float(high), "reviewed": int(sel.sum())}


truth = finding.astype(int)
pos = (decision == "positive").astype(int)
neg = (decision == "negative").astype(int)
dec = pos + neg
allc = np.ones(m, dtype=int)
have = ~np.isnan(prob)
d_itl = np.sum(w[have] * (prob[have] - truth[have])) / np.sum(w[have])
se_itl = np.sqrt(np.sum((w[have] * (prob[have] - truth[have] - d_itl)) ** 2)) / np.sum(w[have])
edges = np.linspace(0, 1, 11)
binids = np.searchsorted(edges[1:-1], prob[have], side="left")
ece = 0.0
for b in range(10):
    sel = binids == b
    if sel.any():
        ece += abs(np.sum(w[have][sel] * prob[have][sel]) - np.sum(w[have][sel] * truth[have][sel]))
ece /= np.sum(w[have])
reviewed = {
    "cases": [{"decision": str(dd), "probability": (None if np.isnan(pp) else float(pp)), "findingPresent": bool(ff), "inclusionProbability": float(ii)} for dd, pp, ff, ii in zip(decision, prob, finding, inclusion)],
    "sensitivity": weighted_rate(pos, dec * truth),
    "specificity": weighted_rate(neg, dec * (1 - truth)),
    "ppv": weighted_rate(truth, pos),
    "npv": weighted_rate(1 - truth, neg),
    "prevalence": weighted_rate(truth, allc),
    "referRate": weighted_rate((decision == "refer").astype(int), allc),
    "calibration": {"inTheLarge": float(d_itl), "standardError": float(se_itl), "low": float(d_itl - z975 * se_itl), "high": float(d_itl + z975 * se_itl), "ece": float(ece)},
}

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(
    json.dumps(
        {
            "generator": "scripts/make-monitoring-fixtures.py",
            "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
            "normalQuantile": {"p": p.tolist(), "ppf": norm.ppf(p).tolist()},
            "normalScores": {"reference": reference.tolist(), "queries": queries.tolist(), "scores": scores.tolist()},
            "cusum": {"k": k, "h": 4.0, "increments": increments.tolist(), "path": path, "alarms": alarms},
            "bernoulli": bernoulli,
            "arl": {"k": k, "empirical": arl_empirical, "bernoulli": arl_bernoulli, "lattice": arl_lattice},
            "siegmund": siegmund_cases,
            "reviewedPerformance": reviewed,
        }
    )
    + "\n"
)
print(f"wrote {OUT}")
