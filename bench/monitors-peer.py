#!/usr/bin/python3
"""The numpy/scipy peer of bench/lib/bench-monitors.js: the same deployment monitors over the same
1,000,000 stored per-case values. Normal scores: scipy.stats.norm.ppf of the reference's mid-ranks,
looked up with numpy.searchsorted; each one-sided CUSUM vectorised by the Lindley identity
S_t = C_t - min(0, min_{s<=t} C_s) (C the cumulative sum of increments), restarted after each
alarm; the per-case update in plain Python (bisect + float arithmetic), as a Python service would
run it. Prints JSON on stdout.

    /usr/bin/python3 bench/monitors-peer.py PREFIX N INCREMENTAL_CASES
"""
import bisect
import json
import math
import resource
import sys
import time

import numpy as np
import scipy
from scipy.stats import norm

prefix, n, incremental_cases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
plan = json.load(open(prefix + ".plan.json"))
signals = plan["signals"]
columns = np.fromfile(prefix + ".columns.f64", dtype=np.float64).reshape(len(signals), n)


def scorer(reference):
    ref = np.sort(reference[np.isfinite(reference)])
    distinct, counts = np.unique(ref, return_counts=True)
    below = np.concatenate([[0], np.cumsum(counts)])
    m, total = len(distinct), len(ref)
    table = np.empty(2 * m + 1)
    table[0::2] = norm.ppf((below + 0.5) / (total + 1))
    table[1::2] = norm.ppf((below[:-1] + 0.5 * counts + 0.5) / (total + 1))
    return distinct, table


def normal_scores(distinct, table, x):
    idx = np.searchsorted(distinct, x, side="left")
    eq = (idx < len(distinct)) & (distinct[np.minimum(idx, len(distinct) - 1)] == x)
    return table[np.where(eq, 2 * idx + 1, 2 * idx)]


def cusum(inc, h):
    alarms, start, final = [], 0, 0.0
    while start < len(inc):
        c = np.cumsum(inc[start:])
        s = c - np.minimum(np.minimum.accumulate(c), 0.0)
        hit = np.flatnonzero(s >= h)
        if hit.size == 0:
            final = float(s[-1])
            break
        alarms.append(start + int(hit[0]))
        start += int(hit[0]) + 1
        final = 0.0
    return alarms, final


def recompute():
    scorers = [scorer(np.array(s["reference"])) if s["kind"] == "continuous" else None for s in signals]
    finals, alarms = [], 0
    for d in plan["detectors"]:
        x = columns[d["signalIndex"]]
        keep = ~np.isnan(x)
        x = x[keep]
        if d["kind"] == "continuous":
            z = normal_scores(*scorers[d["signalIndex"]], x)
            inc = (z if d["direction"] == "up" else -z) - d["k"]
        else:
            inc = np.where(x != 0, d["incrementOne"], d["incrementZero"])
        a, final = cusum(inc, d["h"])
        alarms += len(a)
        finals.append(final)
    return finals, alarms


runs, cpu_runs = [], []
for _ in range(3):
    t, c = time.perf_counter(), time.process_time()
    finals, alarms = recompute()
    runs.append((time.perf_counter() - t) * 1000)
    cpu_runs.append((time.process_time() - c) * 1000)

# Per-case updates in plain Python.
scorers = [scorer(np.array(s["reference"])) if s["kind"] == "continuous" else None for s in signals]
lists = [(list(sc[0]), list(sc[1])) if sc is not None else None for sc in scorers]
dets = plan["detectors"]
stat = [0.0] * len(dets)
rows = columns[:, :incremental_cases].T.tolist()
t = time.perf_counter()
for row in rows:
    z = []
    for i, v in enumerate(row):
        sc = lists[i]
        if sc is None or v != v:
            z.append(v)
        else:
            j = bisect.bisect_left(sc[0], v)
            z.append(sc[1][2 * j + 1] if j < len(sc[0]) and sc[0][j] == v else sc[1][2 * j])
    for k, d in enumerate(dets):
        x = z[d["signalIndex"]]
        if x != x:
            continue
        if d["kind"] == "continuous":
            inc = (x if d["direction"] == "up" else -x) - d["k"]
        else:
            inc = d["incrementOne"] if x != 0 else d["incrementZero"]
        s = stat[k] + inc
        s = s if s > (d["step"] / 2 if d["kind"] == "indicator" else 0) else 0.0
        stat[k] = 0.0 if s >= d["h"] else s
incremental_ms = (time.perf_counter() - t) * 1000

print(
    json.dumps(
        {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "recomputeMs": runs,
            "recomputeCpuMs": cpu_runs,
            "finals": finals,
            "alarms": alarms,
            "incrementalCases": incremental_cases,
            "incrementalUsPerCase": incremental_ms * 1000 / incremental_cases,
            "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
)
