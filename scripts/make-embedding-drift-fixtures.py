#!/usr/bin/python3
"""Writes test/fixtures/monitoring/embedding-drift.json: synthetic embedding summaries (k = 8, seeded numpy
Gaussians; no patient data) and what numpy computes for the MMD of src/domain/monitoring/embedding-drift.ts,
which the TypeScript is tested against to 1e-9 (embedding-drift.test.ts):

- the median-heuristic bandwidth: sigma^2 = 0.5 * the lower median of the squared distances between distinct
  reference rows (alibi-detect's sigma_median), k(x, y) = exp(-|x - y|^2 / (2 sigma^2));
- the unbiased MMD^2 (Gretton et al. 2012, eq. 3) of each window against the reference;
- the permutation p-value (1 + #{MMD^2 of a permutation >= observed}) / (1 + B), the permutations drawn as
  the TypeScript draws them: xoshiro128** seeded by splitmix32 (src/domain/evaluation/random.ts, ported
  below) and its Fisher-Yates `shuffledIndices`, the first m shuffled indices of the pool forming the
  reference.

    /usr/bin/python3 scripts/make-embedding-drift-fixtures.py && npx prettier --write test/fixtures/monitoring/embedding-drift.json
"""
import json
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "monitoring" / "embedding-drift.json"
M32 = 0xFFFFFFFF


class SeededRandom:
    """src/domain/evaluation/random.ts, bit for bit."""

    def __init__(self, seed: int) -> None:
        x = seed & M32

        def nxt() -> int:
            nonlocal x
            x = (x + 0x9E3779B9) & M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            return (z ^ (z >> 16)) & M32

        self.s = [nxt(), nxt(), nxt(), nxt()]

    @staticmethod
    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (32 - k))) & M32

    def next_uint32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (self.rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = self.rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def next_int(self, n: int) -> int:
        return (self.next_uint32() * n) >> 32


def shuffled_indices(n: int, random: SeededRandom) -> np.ndarray:
    out = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = random.next_int(i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def sigma_median(x: np.ndarray) -> float:
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    iu = np.triu_indices(len(x), 1)
    pairs = np.sort(d[iu])
    return float(np.sqrt(0.5 * pairs[(len(pairs) - 1) // 2]))


def kernel(a: np.ndarray, b: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / (2 * sigma * sigma))


def mmd2_from_kernel(K: np.ndarray, in_x: np.ndarray) -> float:
    m, n = in_x.sum(), (~in_x).sum()
    kxx, kyy, kxy = K[np.ix_(in_x, in_x)], K[np.ix_(~in_x, ~in_x)], K[np.ix_(in_x, ~in_x)]
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


def case(name: str, reference: np.ndarray, window: np.ndarray, permutations: int, seed: int) -> dict:
    sigma = sigma_median(reference)
    pool = np.vstack([reference, window])
    K = kernel(pool, pool, sigma)
    m = len(reference)
    in_x = np.zeros(len(pool), dtype=bool)
    in_x[:m] = True
    observed = mmd2_from_kernel(K, in_x)
    random = SeededRandom(seed)
    at_least = 0
    for _ in range(permutations):
        order = shuffled_indices(len(pool), random)
        perm = np.zeros(len(pool), dtype=bool)
        perm[order[:m]] = True
        if mmd2_from_kernel(K, perm) >= observed:
            at_least += 1
    return {
        "name": name,
        "reference": reference.tolist(),
        "window": window.tolist(),
        "permutations": permutations,
        "seed": seed,
        "sigma": sigma,
        "mmd2": observed,
        "pValue": (1 + at_least) / (1 + permutations),
    }


def main() -> None:
    rng = np.random.default_rng(20261208)
    k = 8
    scales = np.linspace(2.0, 0.5, k)  # decreasing variance, as principal components
    f32 = lambda a: a.astype(np.float32).astype(np.float64)  # stored summaries are float32
    reference = f32(rng.normal(size=(80, k)) * scales)
    same = f32(rng.normal(size=(20, k)) * scales)
    shifted = f32(rng.normal(size=(20, k)) * scales + np.r_[2.0, 1.5, 1.0, np.zeros(k - 3)])
    out = {
        "description": (
            "Written by scripts/make-embedding-drift-fixtures.py: seeded Gaussian summaries (k = 8, float32) and "
            "numpy's median-heuristic sigma, unbiased MMD^2 and permutation p-value (permutations by a port of "
            "SeededRandom's xoshiro128** and shuffledIndices)."
        ),
        "cases": [
            case("in distribution", reference, same, 300, 7),
            case("mean shift", reference, shifted, 300, 11),
        ],
    }
    OUT.write_text(json.dumps(out) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
