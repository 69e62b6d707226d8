#!/usr/bin/env python3
"""Trains the Vigil demonstration model on PneumoniaMNIST and writes its bundle.

    /usr/bin/python3 models/pneumonia-demo/train.py [--data PATH] [--out DIR] [--golden PATH]

Writes, deterministically (two runs on the same machine and library versions give identical bytes):
  <out>/model.onnx           the small CNN, input "image" [N,1,28,28] float32, outputs "logit" [N,1] and
                             "embedding" [N,64] (the pooled features the logit is computed from)
  <out>/vigil-model.json     the bundle manifest (src/domain/model/model-manifest.ts)
  <out>/MODEL_CARD.md        what the model is and is not, with the numbers below
  test/fixtures/pneumonia-golden.json   features, logits, probabilities and embeddings of the first 8 test images

The model sees the *analysis image*, which is what the manifest's preprocessing chain produces before
`normalize`. For these 8-bit grey 28x28 rasters the chain is the identity except for `voi_window`, which
for a raster (PNG/JPEG: values are presentation values already) maps the full bit range to [0, 1]
(src/domain/preprocessing/preprocess.ts, applyVoiStep): the analysis image is u8 / 255, stored as
float32. The gate's features (src/domain/quality/image-features.ts) are computed on that image too.

This is a demonstration of Vigil, not a clinical device.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time

import numpy as np
import onnx
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_DATA = os.path.join(REPO_ROOT, "..", "shared", "data", "medmnist", "pneumoniamnist.npz")
DEFAULT_OUT = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GOLDEN = os.path.join(REPO_ROOT, "test", "fixtures", "pneumonia-golden.json")

SEED = 20231
EPOCHS = 24
BATCH_SIZE = 64
LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-4
MAX_SHIFT_PX = 2
OPSET = 13
SIZE = 28
# The second ONNX output: the global-average-pooled features the head reads (the ReduceMean before the
# Gemm), declared in the manifest's `embedding` for production monitoring's multivariate drift.
EMBEDDING_OUTPUT = "embedding"
EMBEDDING_DIM = 64

# Input normalisation: x = (analysis - MEAN) / STD. The train images (u8 / 255) have pixel mean 0.57
# and std 0.17; round numbers keep the manifest readable (and are exact in float32).
NORM_MEAN = 0.5
NORM_STD = 0.25

# voi_window percentiles, as fractions (the manifest's unit). Used for DICOM frames without a window
# only; the training images are rasters and are mapped by their full 8-bit range (see the docstring).
WINDOW_PERCENTILES = (0.005, 0.995)

FINDING = "pneumonia"
COST_FALSE_NEGATIVE = 5.0
COST_FALSE_POSITIVE = 1.0
MAX_ERROR_AMONG_DECIDED = 0.02
BAND_STEP_LOGIT = 0.01
ECE_BINS = 15
GOLDEN_COUNT = 8

FEATURE_NAMES = [
    "mean", "std", "p01", "p05", "p25", "p50", "p75", "p95", "p99",
    "laplacianVariance", "saturatedFraction", "dynamicRange",
]
REFERENCE_FEATURES = ["mean", "std", "p05", "p25", "p50", "p75", "p95", "laplacianVariance"]
COVARIANCE_RIDGE = 1e-6

CITATION = (
    "Yang J, Shi R, Wei D, Liu Z, Zhao L, Ke B, Pfister H, Ni B. MedMNIST v2 - A large-scale lightweight "
    "benchmark for 2D and 3D biomedical image classification. Scientific Data 10, 41 (2023). "
    "doi:10.1038/s41597-022-01721-8. Source images: Kermany DS, Goldbaum M, Cai W, et al. Identifying "
    "medical diagnoses and treatable diseases by image-based deep learning. Cell 172(5):1122-1131 (2018). "
    "doi:10.1016/j.cell.2018.02.010."
)


# ---------------------------------------------------------------------------------------------------
# Determinism


def make_deterministic() -> None:
    # One thread: float reductions then always run in the same order, so the weights (and the ONNX
    # bytes) do not depend on the machine's core count or on scheduling.
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)
    np.random.seed(SEED)


# ---------------------------------------------------------------------------------------------------
# Data and the analysis image


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_splits(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    with np.load(path) as d:
        return {
            split: (d[f"{split}_images"].astype(np.uint8), d[f"{split}_labels"].reshape(-1).astype(np.int64))
            for split in ("train", "val", "test")
        }


def to_analysis(images_u8: np.ndarray) -> np.ndarray:
    """The analysis image of an 8-bit raster: the `voi_window` step maps the full range [0, 255] to
    [0, 1] (computed in float64, stored as float32, as applyRange does)."""
    return (images_u8.astype(np.float64) / 255.0).astype(np.float32)


def to_input(analysis: np.ndarray) -> torch.Tensor:
    x = ((analysis.astype(np.float64) - NORM_MEAN) / NORM_STD).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x[:, None, :, :]))


def compute_features(images: np.ndarray) -> np.ndarray:
    """The 12 features of image-features.ts for each image in [0, 1]; columns in FEATURE_NAMES order."""
    x = images.astype(np.float64)
    n = x.shape[0]
    flat = x.reshape(n, -1)
    pct = np.percentile(flat, [1, 5, 25, 50, 75, 95, 99], axis=1)
    lap = x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:] - 4 * x[:, 1:-1, 1:-1]
    saturated = ((flat <= 0.5 / 255) | (flat >= 254.5 / 255)).mean(axis=1)
    columns = {
        "mean": flat.mean(axis=1),
        "std": flat.std(axis=1),
        "p01": pct[0], "p05": pct[1], "p25": pct[2], "p50": pct[3], "p75": pct[4], "p95": pct[5], "p99": pct[6],
        "laplacianVariance": lap.reshape(n, -1).var(axis=1),
        "saturatedFraction": saturated,
        "dynamicRange": pct[6] - pct[0],
    }
    return np.stack([columns[name] for name in FEATURE_NAMES], axis=1)


# ---------------------------------------------------------------------------------------------------
# Model


class SmallCnn(nn.Module):
    """Three conv stages (16, 32, 64 channels) with batch norm, then global average pooling and one
    linear unit. About 70k parameters."""

    def __init__(self) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.features = nn.Sequential(
            block(1, 16), block(16, 16), nn.MaxPool2d(2),   # 28 -> 14
            block(16, 32), block(32, 32), nn.MaxPool2d(2),  # 14 -> 7
            block(32, 64), block(64, 64),
        )
        self.head = nn.Linear(64, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = x.mean(dim=(2, 3))
        return self.head(x)


def random_shift(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Translates each image by up to MAX_SHIFT_PX pixels (edge-replicated), the only augmentation.
    No flips: a chest radiograph is not left-right symmetric."""
    n = x.shape[0]
    padded = F.pad(x, (MAX_SHIFT_PX,) * 4, mode="replicate")
    offsets = torch.randint(0, 2 * MAX_SHIFT_PX + 1, (n, 2), generator=generator)
    out = torch.empty_like(x)
    for i in range(n):
        dy, dx = int(offsets[i, 0]), int(offsets[i, 1])
        out[i] = padded[i, :, dy:dy + SIZE, dx:dx + SIZE]
    return out


def train_model(x: torch.Tensor, y: torch.Tensor) -> SmallCnn:
    model = SmallCnn()
    generator = torch.Generator().manual_seed(SEED)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = math.ceil(x.shape[0] / BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=LEARNING_RATE, epochs=EPOCHS, steps_per_epoch=steps_per_epoch)
    target = y.float().unsqueeze(1)
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(x.shape[0], generator=generator)
        total = 0.0
        for start in range(0, x.shape[0], BATCH_SIZE):
            idx = order[start:start + BATCH_SIZE]
            logits = model(random_shift(x[idx], generator))
            loss = F.binary_cross_entropy_with_logits(logits, target[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss) * idx.shape[0]
        print(f"epoch {epoch + 1:2d}/{EPOCHS} train loss {total / x.shape[0]:.4f}", flush=True)
    model.eval()
    return model


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    model.eval()
    return np.concatenate([model(x[i:i + 256]).numpy()[:, 0] for i in range(0, x.shape[0], 256)]).astype(np.float64)


@torch.no_grad()
def predict_embeddings(model: SmallCnn, x: torch.Tensor) -> np.ndarray:
    """The pooled features (the head's input), as the ONNX output `embedding` gives them."""
    model.eval()
    return model.features(x).mean(dim=(2, 3)).numpy().astype(np.float64)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def export_onnx(model: nn.Module, path: str) -> None:
    model.eval()
    dummy = torch.zeros(1, 1, SIZE, SIZE, dtype=torch.float32)
    torch.onnx.export(
        model, dummy, path,
        input_names=["image"], output_names=["logit"],
        dynamic_axes={"image": {0: "batch"}, "logit": {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True,
    )
    add_embedding_output(path)


def add_embedding_output(path: str) -> None:
    """Declares the pooled features as a second graph output, `embedding` [N, 64]: the ReduceMean's
    output tensor is renamed and listed among the outputs. A graph edit only: the same nodes in the same
    order, the same initializers, so the logit is computed exactly as before (ONNX Runtime gives the
    same bits). Kept apart from the export so that it can be applied to an exported file as it stands
    (models/pneumonia-demo/add_embedding_output.py did so for the committed model)."""
    model = onnx.load(path)
    graph = model.graph
    if any(o.name == EMBEDDING_OUTPUT for o in graph.output):
        raise SystemExit(f"{path} already has an output named {EMBEDDING_OUTPUT!r}")
    pools = [n for n in graph.node if n.op_type == "ReduceMean"]
    if len(pools) != 1 or [n.op_type for n in graph.node if pools[0].output[0] in n.input] != ["Gemm"]:
        raise SystemExit(f"{path}: expected one ReduceMean feeding the Gemm head")
    pooled = pools[0].output[0]
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == pooled:
                node.input[i] = EMBEDDING_OUTPUT
    pools[0].output[0] = EMBEDDING_OUTPUT
    graph.output.append(onnx.helper.make_tensor_value_info(EMBEDDING_OUTPUT, onnx.TensorProto.FLOAT, ["batch", EMBEDDING_DIM]))
    onnx.checker.check_model(model)
    onnx.save(model, path)


# ---------------------------------------------------------------------------------------------------
# Calibration and metrics


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def nll(y: np.ndarray, z: np.ndarray) -> float:
    """Mean binary cross-entropy of sigmoid(z), computed stably from the logit."""
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def ece(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error of p = P(pneumonia): `bins` equal-width bins on [0, 1] (the first
    closed, the rest (lo, hi]), sum over bins of (bin count / n) * |mean p - fraction positive|."""
    index = np.clip(np.ceil(p * bins).astype(np.int64) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(total)


def fit_temperature(y: np.ndarray, z: np.ndarray) -> float:
    """Minimises the NLL of sigmoid(z / T) over T: a grid over log T in [-3, 3], then golden-section
    search in the bracket around the best grid point. Returned rounded to 6 decimals."""
    grid = np.linspace(-3.0, 3.0, 601)
    losses = [nll(y, z / math.exp(g)) for g in grid]
    best = int(np.argmin(losses))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    for _ in range(100):
        if nll(y, z / math.exp(c)) < nll(y, z / math.exp(d)):
            b = d
        else:
            a = c
        c, d = b - ratio * (b - a), a + ratio * (b - a)
    return round(math.exp((a + b) / 2), 6)


def decide(p: np.ndarray, threshold: float, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Returns (positive, referred): referred when low <= p <= high, positive when p >= threshold."""
    return p >= threshold, (p >= low) & (p <= high)


def rates(y: np.ndarray, positive: np.ndarray) -> dict:
    tp = int(np.sum(positive & (y == 1)))
    fn = int(np.sum(~positive & (y == 1)))
    tn = int(np.sum(~positive & (y == 0)))
    fp = int(np.sum(positive & (y == 0)))
    n = tp + fn + tn + fp
    return {
        "n": n,
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        "sensitivity": r6(tp / (tp + fn)) if tp + fn else None,
        "specificity": r6(tn / (tn + fp)) if tn + fp else None,
        "errorRate": r6((fp + fn) / n) if n else None,
    }


def choose_band(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """The narrowest band symmetric in logit space around the threshold, logit(threshold) +/- w with w
    on a grid of BAND_STEP_LOGIT, whose non-referred val cases have an error rate <= 2%. The bounds are
    rounded to 6 decimals before they are evaluated, so the written band is the one that was checked."""
    centre = math.log(threshold / (1 - threshold))
    for step in range(0, 2001):
        w = step * BAND_STEP_LOGIT
        low = math.floor(sigmoid(np.float64(centre - w)) * 1e6) / 1e6
        high = math.ceil(sigmoid(np.float64(centre + w)) * 1e6) / 1e6
        positive, referred = decide(p, threshold, low, high)
        kept = ~referred
        if kept.sum() == 0:
            break
        error = float(np.mean(positive[kept] != (y[kept] == 1)))
        if error <= MAX_ERROR_AMONG_DECIDED:
            return low, high, round(w, 2)
    raise RuntimeError("no abstain band reaches the target error rate")


def r6(v: float) -> float:
    return round(float(v), 6)


def split_metrics(y: np.ndarray, z: np.ndarray, temperature: float, threshold: float, low: float, high: float) -> dict:
    p_raw = sigmoid(z)
    p = sigmoid(z / temperature)
    positive, referred = decide(p, threshold, low, high)
    kept = ~referred
    at_threshold = rates(y, positive)
    decided = rates(y[kept], positive[kept])
    return {
        "n": int(y.size),
        "prevalence": r6(y.mean()),
        "auc": r6(roc_auc_score(y, z)),
        "brierBefore": r6(np.mean((p_raw - y) ** 2)),
        "brierAfter": r6(np.mean((p - y) ** 2)),
        "nllBefore": r6(nll(y, z)),
        "nllAfter": r6(nll(y, z / temperature)),
        "eceBefore": r6(ece(y, p_raw)),
        "eceAfter": r6(ece(y, p)),
        "eceBins": ECE_BINS,
        "atThreshold": at_threshold,
        "referRate": r6(referred.mean()),
        "notReferred": decided,
    }


# ---------------------------------------------------------------------------------------------------
# Quality thresholds and reference statistics


def quality_thresholds(train_features: np.ndarray) -> dict:
    col = {name: train_features[:, i] for i, name in enumerate(FEATURE_NAMES)}
    n = train_features.shape[0]
    pct = lambda name, q: float(np.percentile(col[name], q))  # noqa: E731
    sat_warn, sat_999 = pct("saturatedFraction", 99), pct("saturatedFraction", 99.9)
    dr_warn, dr_001 = pct("dynamicRange", 1), pct("dynamicRange", 0.1)
    lv_warn, lv_001 = pct("laplacianVariance", 1), pct("laplacianVariance", 0.1)
    of = f"of the {n} PneumoniaMNIST train images as analysis images (u8 / 255 at 28x28; numpy linear percentile)"
    return {
        "saturatedFraction": {
            "warn": r6(sat_warn),
            "reject": r6(max(sat_999, 0.5)),
            "source": f"warn: 99th percentile {of}; reject: max(99.9th percentile = {r6(sat_999)}, 0.5), i.e. at least half the image clipped",
        },
        "dynamicRange": {
            "warn": r6(dr_warn),
            "reject": r6(dr_001 * 0.5),
            "source": f"lower is worse. warn: 1st percentile {of}; reject: 0.5 x the 0.1th percentile ({r6(dr_001)})",
        },
        "laplacianVariance": {
            "warn": r6(lv_warn),
            "reject": r6(lv_001 * 0.5),
            "source": f"lower is worse. warn: 1st percentile {of}; reject: 0.5 x the 0.1th percentile ({r6(lv_001)})",
        },
        # An image whose std is under one 8-bit grey level carries nothing to judge.
        "constantStd": 1 / 255,
    }


def reference_statistics(train_features: np.ndarray) -> dict:
    cols = [FEATURE_NAMES.index(name) for name in REFERENCE_FEATURES]
    f = train_features[:, cols]
    k = f.shape[1]
    mean = f.mean(axis=0)
    cov = np.cov(f, rowvar=False, ddof=1)
    ridge = COVARIANCE_RIDGE * np.trace(cov) / k
    precision = np.linalg.inv(cov + ridge * np.eye(k))
    precision = (precision + precision.T) / 2  # exactly symmetric
    # Distances with the values as written (float repr round-trips exactly in JSON).
    diff = f - mean
    distance = np.sqrt(np.einsum("ni,ij,nj->n", diff, precision, diff))
    warn = float(np.percentile(distance, 99))
    reject = 1.5 * float(distance.max())
    return {
        "features": REFERENCE_FEATURES,
        "mean": [float(v) for v in mean],
        "precision": [[float(v) for v in row] for row in precision],
        "distance": {
            "warn": r6(warn),
            "reject": r6(reject),
            "source": (
                f"Mahalanobis distance of the {f.shape[0]} train images (u8 / 255) to their own mean. "
                f"precision = inverse of (sample covariance (ddof 1) + 1e-6 * trace/k * I), k = {k}. "
                f"warn: 99th percentile of the train distances; reject: 1.5 x the largest train distance ({r6(distance.max())})"
            ),
        },
        "n": int(f.shape[0]),
    }


def gate_rates(features: np.ndarray, quality: dict, reference: dict) -> dict:
    """Fractions of images the image gate (src/domain/quality/gate.ts: constant std <= constantStd,
    higher-is-worse bounds exceeded strictly, lower-is-worse bounds undercut strictly) would warn about
    or reject on quality and out-of-distribution grounds alone (intended-use metadata not included)."""
    col = {name: features[:, i] for i, name in enumerate(FEATURE_NAMES)}
    reject = col["std"] <= quality["constantStd"]
    warn = np.zeros_like(reject)
    sat = quality["saturatedFraction"]
    reject |= col["saturatedFraction"] > sat["reject"]
    warn |= col["saturatedFraction"] > sat["warn"]
    for name in ("dynamicRange", "laplacianVariance"):
        reject |= col[name] < quality[name]["reject"]
        warn |= col[name] < quality[name]["warn"]
    diff = features[:, [FEATURE_NAMES.index(n) for n in reference["features"]]] - np.array(reference["mean"])
    distance = np.sqrt(np.maximum(0.0, np.einsum("ni,ij,nj->n", diff, np.array(reference["precision"]), diff)))
    reject |= distance > reference["distance"]["reject"]
    warn |= distance > reference["distance"]["warn"]
    return {"gateRejectRate": r6(reject.mean()), "gateWarnRate": r6((warn & ~reject).mean())}


# ---------------------------------------------------------------------------------------------------
# Outputs


def write_json(path: str, obj: object) -> None:
    # Insertion-ordered keys (fixed by this script) and Python's shortest round-trip float repr: the
    # bytes depend only on the values.
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def library_versions() -> dict:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "onnx": onnx.__version__,
        "scikit-learn": sklearn.__version__,
    }


def build_manifest(*, temperature, val_fit, policy, quality, reference, data_sha, splits, model_sha, metrics, n_params) -> dict:
    lo, hi = (0 - NORM_MEAN) / NORM_STD, (1 - NORM_MEAN) / NORM_STD
    return {
        "schemaVersion": 1,
        "id": "pneumonia-demo",
        "version": "1.0.0",
        "name": "Pneumonia demo (PneumoniaMNIST, 28x28)",
        "description": (
            f"A small CNN ({n_params} parameters) that scores paediatric chest radiographs for pneumonia at 28x28 "
            "pixels. It exists to demonstrate Vigil end to end (gate, calibration, abstention, audit); it is not "
            "a clinical device and must not inform patient care. See MODEL_CARD.md."
        ),
        "intendedUse": {
            "summary": (
                "Demonstration of the Vigil platform only: flags pneumonia on a frontal paediatric chest radiograph "
                "reduced to 28x28 pixels. NOT a medical device, not validated for clinical use."
            ),
            "modalities": ["CR", "DX"],
            "bodyParts": ["CHEST"],
            "views": ["PA", "AP"],
            "population": (
                "Paediatric patients aged 1-5 years, frontal chest radiographs from Guangzhou Women and Children's "
                "Medical Center (Guangzhou, China), as collected by Kermany et al. 2018"
            ),
            "notFor": [
                "adults or children outside 1-5 years",
                "lateral or other non-frontal views",
                "clinical decision-making, diagnosis, triage or screening of any kind",
                "distinguishing bacterial from viral pneumonia, or any finding other than pneumonia",
                "images from other sites, devices or populations without local validation",
                "CT, ultrasound or any modality other than projection radiography",
            ],
            "photometricInterpretations": ["MONOCHROME1", "MONOCHROME2"],
            "minRows": SIZE,
            "minColumns": SIZE,
            "minBitsStored": 8,
            "whenUndeclared": "warn",
            # An unknown age is a rejection: the model knows nothing of patients outside 1-5 (the adult chest
            # film scores 0.993 positive), and an age cannot be read off a 28x28 image by the gate. An unknown
            # view warns, so a human reads the case (onGateWarn: refer): View Position is Type 2 in the CR
            # Series module and often empty on frontal films, and a reader sees a lateral film at a glance.
            "whenUnknown": {"view": "warn", "patientAge": "reject"},
            # The source population (Kermany et al. 2018: children aged 1-5); the gate rejects other known ages.
            "patientAgeYears": {"min": 1, "max": 5},
        },
        "input": {
            "name": "image",
            "dtype": "float32",
            "shape": [-1, 1, SIZE, SIZE],
            "layout": "NCHW",
            "channels": ["grayscale"],
            "valueRange": [lo, hi],
        },
        "preprocessing": [
            {"op": "modality_lut"},
            {"op": "voi_window", "mode": "dicom_or_percentile", "percentiles": list(WINDOW_PERCENTILES)},
            {"op": "invert_monochrome1"},
            {"op": "to_grayscale", "weights": [0.299, 0.587, 0.114]},
            {"op": "resize", "width": SIZE, "height": SIZE, "filter": "area"},
            {"op": "normalize", "mean": [NORM_MEAN], "std": [NORM_STD]},
        ],
        "outputs": [
            {
                "name": "logit",
                "activation": "logit",
                "findings": [
                    {"index": 0, "label": FINDING, "code": {"system": "http://snomed.info/sct", "code": "233604007", "display": "Pneumonia"}},
                ],
            }
        ],
        "embedding": {"output": EMBEDDING_OUTPUT, "dimension": EMBEDDING_DIM},
        "calibration": {"method": "temperature", "temperature": temperature, "fit": val_fit},
        "decisionPolicy": {FINDING: policy},
        "quality": quality,
        "referenceStatistics": reference,
        "trainingData": {
            "dataset": "PneumoniaMNIST (MedMNIST v2), 28×28",
            "licence": "CC BY 4.0",
            "sha256": data_sha,
            "splits": splits,
            "citation": CITATION,
        },
        "model": {
            "file": "model.onnx",
            "sha256": model_sha,
            "opset": OPSET,
            "framework": f"PyTorch {torch.__version__}",
            "libraryVersions": library_versions(),
        },
        "metrics": metrics,
    }


def fmt(v) -> str:
    if v is None:
        return "n/a"
    return str(v) if isinstance(v, int) else f"{v:.3f}"


def build_model_card(*, manifest: dict, n_params: int) -> str:
    m = manifest["metrics"]
    val, test = m["val"], m["test"]
    pol = manifest["decisionPolicy"][FINDING]
    cal = manifest["calibration"]
    q = manifest["quality"]
    ref = manifest["referenceStatistics"]
    versions = manifest["model"]["libraryVersions"]
    splits = manifest["trainingData"]["splits"]

    def row(name: str, key: str, sub: str | None = None) -> str:
        a = val[key][sub] if sub else val[key]
        b = test[key][sub] if sub else test[key]
        return f"| {name} | {fmt(a)} | {fmt(b)} |"

    lines = [
        "# Model card: pneumonia-demo 1.0.0",
        "",
        "> **A demonstration of Vigil, not a clinical device.** It was trained in under a minute on 28×28-pixel",
        "> thumbnails to exercise the platform (gate, calibration, abstention, audit, monitoring). It must not",
        "> be used to diagnose, triage or screen anyone.",
        "",
        "This file is generated by `train.py`; edit the script, not the card.",
        "",
        "## What it is",
        "",
        f"A small convolutional network ({n_params:,} parameters) that outputs one logit for *pneumonia* on a",
        "frontal paediatric chest radiograph reduced to 28×28 pixels. Vigil turns the logit into a calibrated",
        "probability (temperature scaling), then into *positive*, *negative* or *refer to a human* (decision",
        "policy with an abstain band).",
        "",
        "**Architecture.** Three stages of two 3×3 convolutions (16, 16 | 32, 32 | 64, 64 channels), each",
        "followed by batch normalisation and ReLU, with 2×2 max pooling after the first two stages",
        "(28 → 14 → 7), global average pooling, and one linear unit. ONNX opset "
        f"{manifest['model']['opset']}, input `image` float32 [N,1,28,28], output `logit` [N,1], dynamic batch;",
        "a second output `embedding` [N,64] gives the pooled features the linear unit reads (the manifest's",
        "`embedding`: production monitoring watches their distribution).",
        "",
        "**Input.** The *analysis image* is what the manifest's preprocessing chain produces before",
        "`normalize`. For the 8-bit PNG thumbnails the model was trained on, `voi_window` maps the full",
        "range [0, 255] to [0, 1] (a raster's values are presentation values already), so the analysis image",
        f"is u8 / 255 and the network sees (u8 / 255 − {NORM_MEAN}) / {NORM_STD}: training and serving agree. A DICOM",
        "frame instead goes through its own VOI window, or the 0.5th–99.5th percentile window when it has none;",
        "that image is contrast-stretched compared with the thumbnails, and the model has not seen such images.",
        "",
        "**Training.** Binary cross-entropy, AdamW (weight decay "
        f"{WEIGHT_DECAY}), one-cycle learning rate up to {LEARNING_RATE}, {EPOCHS} epochs, batch {BATCH_SIZE},",
        f"random translations of up to ±{MAX_SHIFT_PX} pixels (no flips: a chest is not left-right symmetric).",
        "The weights after the last epoch are kept (no early stopping: the validation split is reserved for",
        f"calibration and the decision policy). Seed {SEED}, one CPU thread, `torch.use_deterministic_algorithms(True)`;",
        "two runs give byte-identical `model.onnx` and `vigil-model.json`. Training takes under a minute",
        "on one CPU thread.",
        "",
        "## Data and credits",
        "",
        "PneumoniaMNIST from MedMNIST v2, licence CC BY 4.0, SHA-256 of the `.npz`:",
        f"`{manifest['trainingData']['sha256']}`. Splits as distributed: train {splits['train']}, val {splits['val']},",
        f"test {splits['test']}. Prevalence of pneumonia: train {fmt(m['train']['prevalence'])}, val {fmt(val['prevalence'])},",
        f"test {fmt(test['prevalence'])}.",
        "",
        "- Yang J, Shi R, Wei D, et al. *MedMNIST v2 – A large-scale lightweight benchmark for 2D and 3D",
        "  biomedical image classification.* Scientific Data 10, 41 (2023). doi:10.1038/s41597-022-01721-8",
        "- Kermany DS, Goldbaum M, Cai W, et al. *Identifying medical diagnoses and treatable diseases by",
        "  image-based deep learning.* Cell 172(5):1122–1131 (2018). doi:10.1016/j.cell.2018.02.010",
        "",
        "The source images are paediatric (1–5 years) frontal chest radiographs from Guangzhou Women and",
        "Children's Medical Center. MedMNIST's train and val splits both come from the source's training set;",
        "its test split is the source's separate test set.",
        "",
        "## Calibration",
        "",
        f"Temperature scaling (Guo et al. 2017), p = sigmoid(logit / T), T = **{cal['temperature']}**, fitted on",
        "val by minimising the negative log-likelihood (grid over log T, then golden-section search).",
        f"ECE uses {ECE_BINS} equal-width bins of p(pneumonia): Σ (bin count / n) · |mean p − fraction positive|.",
        "",
        f"T > 1 means the network was somewhat over-confident. On val the fit lowers the NLL ({fmt(val['nllBefore'])} →",
        f"{fmt(val['nllAfter'])}); the ECE goes from {fmt(val['eceBefore'])} to {fmt(val['eceAfter'])}, both low (the fit minimises NLL, not ECE, and",
        f"with {val['n']} cases in {ECE_BINS} bins, mostly near 0 and 1, ECE differences this small are noise). On test",
        f"the NLL also improves ({fmt(test['nllBefore'])} → {fmt(test['nllAfter'])}) but the ECE stays about {test['eceAfter'] / val['eceAfter']:.0f} times the val value",
        f"({fmt(test['eceBefore'])} → {fmt(test['eceAfter'])}): one temperature fitted on val cannot correct a shifted test set.",
        "",
        "## Decision policy",
        "",
        f"- Costs: false negative {pol['costFalseNegative']:g}, false positive {pol['costFalsePositive']:g}.",
        f"- Threshold = cFP / (cFP + cFN) = **{pol['threshold']:.4f}**: the Bayes-optimal threshold for a",
        "  calibrated probability (call positive when p · cFN ≥ (1 − p) · cFP).",
        f"- Abstain band **[{pol['abstainBand']['low']}, {pol['abstainBand']['high']}]**: calibrated probabilities inside it are referred",
        f"  to a human. The rule, as recorded in the manifest: {pol['source']}",
        f"- Prevalence recorded: {pol['prevalence']} (train split). Cases the gate warns about are referred.",
        "",
        "## Results",
        "",
        "| | val | test |",
        "|---|---|---|",
        row("n", "n"),
        row("AUC", "auc"),
        row("Brier, before calibration", "brierBefore"),
        row("Brier, after", "brierAfter"),
        row(f"ECE ({ECE_BINS} bins), before", "eceBefore"),
        row("ECE, after", "eceAfter"),
        row("NLL, before", "nllBefore"),
        row("NLL, after", "nllAfter"),
        row("Sensitivity at threshold (no abstention)", "atThreshold", "sensitivity"),
        row("Specificity at threshold (no abstention)", "atThreshold", "specificity"),
        row("Error rate at threshold (no abstention)", "atThreshold", "errorRate"),
        row("Refer rate (abstain band)", "referRate"),
        row("Error rate among cases not referred", "notReferred", "errorRate"),
        row("Sensitivity among cases not referred", "notReferred", "sensitivity"),
        row("Specificity among cases not referred", "notReferred", "specificity"),
        row("Gate warns (quality or OOD; such cases are referred)", "gateWarnRate"),
        row("Gate rejects", "gateRejectRate"),
        "",
        "The rows above the gate rows ignore the gate. On train the gate warns about "
        f"{fmt(m['train']['gateWarnRate'])} of images (by construction about 1% per check).",
        "",
        "**Read the test column.** Validation numbers are optimistic twice over: val was used to fit the",
        "temperature and the abstain band, and val comes from the same source training set as train. The",
        "test split is the source's separate test set, with a different prevalence "
        f"({fmt(test['prevalence'])} against {fmt(val['prevalence'])}) and other",
        "acquisition differences: a real shift. Calibration fitted on val does not carry over to it",
        f"(ECE after calibration {fmt(val['eceAfter'])} on val, {fmt(test['eceAfter'])} on test), and the error rate among",
        f"cases that are not referred rises far above the 2% target ({fmt(test['notReferred']['errorRate'])} on test). The errors",
        f"on test are mostly false positives ({test['atThreshold']['fp']} of {test['atThreshold']['fp'] + test['atThreshold']['tn']} normal images called positive at the",
        f"threshold, against {test['atThreshold']['fn']} of {test['atThreshold']['fn'] + test['atThreshold']['tp']} pneumonia cases missed): the model gives many test normals high probabilities, far outside",
        "the abstain band, so abstention does not catch them. The ranking (AUC) holds up much better than the",
        "probabilities.",
        "This is the situation Vigil's monitoring exists for: a site must check calibration on its own data.",
        "",
        "## Gate thresholds",
        "",
        "Computed on the train images (u8 / 255) with the definitions in",
        "`src/domain/quality/image-features.ts`:",
        "",
        f"- saturatedFraction warn {q['saturatedFraction']['warn']}, reject {q['saturatedFraction']['reject']} — {q['saturatedFraction']['source']}",
        f"- dynamicRange warn {q['dynamicRange']['warn']}, reject {q['dynamicRange']['reject']} — {q['dynamicRange']['source']}",
        f"- laplacianVariance warn {q['laplacianVariance']['warn']}, reject {q['laplacianVariance']['reject']} — {q['laplacianVariance']['source']}",
        f"- constantStd {q['constantStd']:.6f} (one 8-bit grey level)",
        f"- Out of distribution: Mahalanobis distance over {', '.join(ref['features'])}; warn {ref['distance']['warn']},",
        f"  reject {ref['distance']['reject']} — {ref['distance']['source']}",
        "",
        "These describe the PneumoniaMNIST thumbnails. A DICOM radiograph windowed by its own VOI LUT or by",
        "percentiles will usually have a wider dynamic range and more clipped pixels than they do, so expect",
        "the gate to warn on such inputs: they are outside what the model was trained on.",
        "",
        "## Intended use",
        "",
        manifest["intendedUse"]["summary"],
        "",
        f"- Modalities {', '.join(manifest['intendedUse']['modalities'])}; body part CHEST; views {', '.join(manifest['intendedUse']['views'])}.",
        f"- Population: {manifest['intendedUse']['population']}.",
        f"- Patient ages {manifest['intendedUse']['patientAgeYears']['min']}-{manifest['intendedUse']['patientAgeYears']['max']} years "
        "(`patientAgeYears`): the gate rejects an image whose patient's age is known and outside "
        "(`patient_age_not_intended`; Vigil derives the age before de-identification from Patient's Age or the "
        "birth and study dates, 90 and over as 90). An image of unknown age (a PNG/JPEG without a declared age, a "
        "DICOM header without Patient's Age or birth date) is rejected too (`whenUnknown.patientAge: reject`, "
        "`patient_age_unknown`): the model knows nothing of patients outside its population, and the gate cannot "
        "tell a child from an adult on its own.",
        "- An image without a View Position is judged but referred to a human (`whenUnknown.view: warn`, "
        "`view_undeclared`; `onGateWarn: refer`): View Position is often empty on frontal CR films, and a reader "
        "sees a lateral film at a glance. Modality and body part likewise (`whenUndeclared: warn`).",
        "",
        "**Not for:**",
        "",
        *[f"- {item}" for item in manifest["intendedUse"]["notFor"]],
        "",
        "## Reproduce",
        "",
        "```sh",
        "/usr/bin/python3 models/pneumonia-demo/train.py --data ../shared/data/medmnist/pneumoniamnist.npz",
        "sha256sum models/pneumonia-demo/model.onnx",
        "```",
        "",
        f"`model.onnx` SHA-256: `{manifest['model']['sha256']}` (with the library versions below; other versions",
        "may give other bytes).",
        "",
        "The script also writes `test/fixtures/pneumonia-golden.json`: features, raw logits, calibrated",
        "probabilities and embeddings of the first 8 test images, against which the TypeScript implementation",
        "is checked.",
        "",
        "## Library versions",
        "",
        *[f"- {name} {version}" for name, version in versions.items()],
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA, help="path to pneumoniamnist.npz")
    parser.add_argument("--out", default=DEFAULT_OUT, help="bundle directory (default: this script's folder)")
    parser.add_argument("--golden", default=DEFAULT_GOLDEN, help="golden fixture path")
    args = parser.parse_args()

    make_deterministic()
    started = time.monotonic()

    data_sha = sha256_file(args.data)
    splits = load_splits(args.data)
    analysis = {split: to_analysis(images) for split, (images, _) in splits.items()}
    features = {split: compute_features(a) for split, a in analysis.items()}
    labels = {split: y for split, (_, y) in splits.items()}

    model = train_model(to_input(analysis["train"]), torch.from_numpy(labels["train"]))
    trained = time.monotonic()
    n_params = count_parameters(model)
    logits = {split: predict_logits(model, to_input(analysis[split])) for split in splits}

    # Calibration on val.
    y_val, z_val = labels["val"].astype(np.float64), logits["val"]
    temperature = fit_temperature(y_val, z_val)
    val_fit = {
        "split": "val",
        "n": int(y_val.size),
        "nllBefore": r6(nll(y_val, z_val)),
        "nllAfter": r6(nll(y_val, z_val / temperature)),
        "eceBefore": r6(ece(y_val, sigmoid(z_val))),
        "eceAfter": r6(ece(y_val, sigmoid(z_val / temperature))),
        "eceBins": ECE_BINS,
        "search": "minimum of the val NLL of sigmoid(logit / T): grid over log T in [-3, 3], then golden-section search; T rounded to 6 decimals",
    }

    # Decision policy.
    threshold = COST_FALSE_POSITIVE / (COST_FALSE_POSITIVE + COST_FALSE_NEGATIVE)
    low, high, w = choose_band(y_val, sigmoid(z_val / temperature), threshold)
    prevalence = r6(labels["train"].mean())
    policy = {
        "threshold": threshold,
        "abstainBand": {"low": low, "high": high},
        "costFalseNegative": COST_FALSE_NEGATIVE,
        "costFalsePositive": COST_FALSE_POSITIVE,
        "prevalence": prevalence,
        "onGateWarn": "refer",
        "source": (
            "threshold = cFP / (cFP + cFN) = 1/6, Bayes-optimal for a calibrated probability. Abstain band: the "
            f"narrowest band symmetric in logit space around logit(1/6), logit(1/6) +/- w with w on a {BAND_STEP_LOGIT} grid, "
            f"such that the error rate of the val cases outside the band (p < low or p > high, temperature-calibrated) "
            f"is <= {MAX_ERROR_AMONG_DECIDED:.0%}; w = {w}, bounds rounded outward to 6 decimals. Prevalence: train split."
        ),
    }

    quality = quality_thresholds(features["train"])
    reference = reference_statistics(features["train"])
    metrics = {
        "train": {
            "n": int(labels["train"].size), "prevalence": prevalence, "auc": r6(roc_auc_score(labels["train"], logits["train"])),
            **gate_rates(features["train"], quality, reference),
        },
        "val": {**split_metrics(y_val, z_val, temperature, threshold, low, high), **gate_rates(features["val"], quality, reference)},
        "test": {
            **split_metrics(labels["test"].astype(np.float64), logits["test"], temperature, threshold, low, high),
            **gate_rates(features["test"], quality, reference),
        },
        "notes": (
            "val was used to fit the temperature and the abstain band. test is the source's separate test set "
            "(different prevalence and acquisition): the honest estimate. Positive when calibrated p >= threshold; "
            "referred when low <= p <= high. gateWarnRate/gateRejectRate: share of images the quality and "
            "out-of-distribution checks would warn about (and not reject) / reject; the metrics above ignore the gate."
        ),
    }

    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "model.onnx")
    export_onnx(model, model_path)
    model_sha = sha256_file(model_path)

    manifest = build_manifest(
        temperature=temperature, val_fit=val_fit, policy=policy,
        quality=quality, reference=reference,
        data_sha=data_sha, splits={k: int(v.size) for k, v in labels.items()},
        model_sha=model_sha, metrics=metrics, n_params=n_params,
    )
    write_json(os.path.join(args.out, "vigil-model.json"), manifest)
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(build_model_card(manifest=manifest, n_params=n_params))

    # Golden fixture: the first test images. Logits from torch with the 8 images as one batch.
    golden_analysis = analysis["test"][:GOLDEN_COUNT]
    golden_logits = predict_logits(model, to_input(golden_analysis))
    golden_embeddings = predict_embeddings(model, to_input(golden_analysis))
    cases = []
    for i in range(GOLDEN_COUNT):
        cases.append({
            "index": i,
            "label": int(labels["test"][i]),
            "features": {name: float(features["test"][i, j]) for j, name in enumerate(FEATURE_NAMES)},
            "logit": float(golden_logits[i]),
            "probability": float(sigmoid(golden_logits[i] / temperature)),
            "embedding": [float(v) for v in golden_embeddings[i]],
        })
    golden = {
        "description": (
            "Reference values written by models/pneumonia-demo/train.py for the first test images of "
            "PneumoniaMNIST (pixels are not stored: read test_images.npy from the npz). "
            "The analysis image is the raster's full 8-bit range mapped to [0, 1]: u8 / 255 computed in float64, "
            "stored as float32. `features`: image-features.ts features of the analysis image, in float64. "
            "`logit`: torch output for the input (analysis - 0.5) / 0.25, the 8 images as one batch. "
            "`probability`: sigmoid(logit / temperature). `embedding`: the pooled features (the ONNX output "
            "`embedding`), torch, the same batch."
        ),
        "dataset": {"file": "pneumoniamnist.npz", "sha256": data_sha, "split": "test"},
        "model": {"id": manifest["id"], "version": manifest["version"], "sha256": model_sha},
        "normalize": {"mean": NORM_MEAN, "std": NORM_STD},
        "temperature": temperature,
        "featureNames": FEATURE_NAMES,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.golden), exist_ok=True)
    write_json(args.golden, golden)

    finished = time.monotonic()
    print(json.dumps({"val": metrics["val"], "test": metrics["test"]}, indent=1))
    print(f"parameters {n_params}; temperature {temperature}; threshold {threshold:.6f}; band [{low}, {high}] (w={w})")
    print(f"model.onnx {os.path.getsize(model_path)} bytes sha256 {model_sha}")
    print(f"training {trained - started:.1f} s, total {finished - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
