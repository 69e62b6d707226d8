#!/usr/bin/env python3
"""Builds a random-weight ResNet-18 for the benchmark.

    /usr/bin/python3 bench/build-resnet18.py [--out DIR]

Writes (DIR defaults to bench/models/, which is gitignored):
  DIR/resnet18.onnx                  input "image" float32 [N,3,224,224], output "logit" [N,1000]
  DIR/resnet18/model.onnx            the same bytes
  DIR/resnet18/vigil-model.json      a bundle manifest that validates against model-manifest.ts

The weights are random (seeded): the model predicts nothing. It exists so the benchmark can measure
Vigil's overhead (decode, preprocessing, gate, audit) against inference on a ResNet-sized network.
The architecture is He et al. 2016 (ResNet-18, BasicBlock [2, 2, 2, 2]), written in plain torch
because torchvision is not available.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 18
OPSET = 13
SIZE = 224
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_manifest(model_sha: str, n_params: int) -> dict:
    value_range = [
        min((0 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)),
        max((1 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)),
    ]
    permissive = "permissive bench bundle: bounds at the ends of the feature's range, so only a degenerate image can reach them"
    return {
        "schemaVersion": 1,
        "id": "bench-resnet18",
        "version": "0.0.0",
        "name": "Benchmark ResNet-18 (random weights)",
        "description": (
            f"ResNet-18 ({n_params} parameters) with seeded random weights, built by bench/build-resnet18.py. "
            "Its outputs mean nothing: it exists to measure Vigil's pipeline overhead against a ResNet-sized model."
        ),
        "intendedUse": {
            "summary": "Benchmarking only. Random weights: no clinical or any other meaning.",
            "modalities": ["CR", "DX"],
            "bodyParts": ["CHEST"],
            "views": [],
            "population": "none: benchmark model with random weights",
            "notFor": ["any use other than benchmarking", "clinical decision-making of any kind"],
            "photometricInterpretations": ["MONOCHROME1", "MONOCHROME2", "RGB"],
            "minRows": 1,
            "minColumns": 1,
            "minBitsStored": 1,
            "whenUndeclared": "pass",
        },
        "input": {
            "name": "image",
            "dtype": "float32",
            "shape": [-1, 3, SIZE, SIZE],
            "layout": "NCHW",
            "channels": ["red", "green", "blue"],
            "valueRange": value_range,
        },
        "preprocessing": [
            {"op": "modality_lut"},
            {"op": "voi_window", "mode": "dicom_or_percentile", "percentiles": [0.005, 0.995]},
            {"op": "invert_monochrome1"},
            {"op": "resize", "width": SIZE, "height": SIZE, "filter": "area"},
            {"op": "normalize", "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
        ],
        # The network has 1000 outputs; the bundle declares only index 0.
        "outputs": [{"name": "logit", "activation": "logit", "findings": [{"index": 0, "label": "finding"}]}],
        "calibration": {"method": "none"},
        "decisionPolicy": {
            "finding": {
                "threshold": 0.5,
                "abstainBand": {"low": 0.4, "high": 0.6},
                "costFalseNegative": 1,
                "costFalsePositive": 1,
                "prevalence": 0.5,
                "onGateWarn": "decide",
                "source": "bench bundle: arbitrary threshold 0.5 and band [0.4, 0.6] for a random-weight model",
            }
        },
        "quality": {
            "saturatedFraction": {"warn": 1, "reject": 1, "source": permissive},
            "dynamicRange": {"warn": 0, "reject": 0, "source": permissive},
            "laplacianVariance": {"warn": 0, "reject": 0, "source": permissive},
            "constantStd": 0,
        },
        "referenceStatistics": {
            "features": ["mean", "std", "p05", "p25", "p50", "p75", "p95", "laplacianVariance"],
            "mean": [0.5] * 8,
            "precision": [[1.0 if i == j else 0.0 for j in range(8)] for i in range(8)],
            "distance": {"warn": 1e9, "reject": 1e9, "source": "permissive bench bundle: identity precision, thresholds never reached"},
            "n": 1,
        },
        "trainingData": {
            "dataset": "none: random weights for benchmarking",
            "licence": "not applicable",
            "sha256": EMPTY_SHA256,
            "splits": {},
            "citation": "He K, Zhang X, Ren S, Sun J. Deep residual learning for image recognition. CVPR 2016 (architecture only).",
        },
        "model": {
            "file": "model.onnx",
            "sha256": model_sha,
            "opset": OPSET,
            "framework": f"PyTorch {torch.__version__}",
            "libraryVersions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "numpy": np.__version__,
                "onnx": onnx.__version__,
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)

    model = ResNet18().eval()
    n_params = sum(p.numel() for p in model.parameters())
    os.makedirs(os.path.join(args.out, "resnet18"), exist_ok=True)
    onnx_path = os.path.join(args.out, "resnet18.onnx")
    torch.onnx.export(
        model, torch.zeros(1, 3, SIZE, SIZE), onnx_path,
        input_names=["image"], output_names=["logit"],
        dynamic_axes={"image": {0: "batch"}, "logit": {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(onnx_path))
    shutil.copyfile(onnx_path, os.path.join(args.out, "resnet18", "model.onnx"))
    model_sha = sha256_file(onnx_path)

    manifest = build_manifest(model_sha, n_params)
    with open(os.path.join(args.out, "resnet18", "vigil-model.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    print(f"resnet18: {n_params} parameters, {os.path.getsize(onnx_path)} bytes, sha256 {model_sha}")


if __name__ == "__main__":
    main()
