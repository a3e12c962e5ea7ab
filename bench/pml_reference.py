#!/usr/bin/env python3
"""Golden values from pytorch-metric-learning (PML) for spherelab's CPU losses (docs/math.md §1.1 and §1.4).

Writes crates/core/tests/fixtures/pml_golden.json: for fixed small inputs, the loss value and its gradient
with respect to the raw embeddings z (2N × d, rows [view 1 of samples 0..N; view 2 of samples 0..N]) for
  - NTXentLoss(temperature=τ) on z with labels cat(0..N, 0..N)   (InfoNCE, docs/math.md §1.1)
  - SupConLoss(temperature=τ) on z with per-view labels          (SupCon, docs/math.md §1.4)
computed in float64. The Rust test `loss::tests::losses_match_pytorch_metric_learning_golden_values` reads the
fixture; Rust tests never run Python. Re-generate with:
    pip install torch pytorch-metric-learning
    python3 bench/pml_reference.py
"""

import json
import math
import os

import pytorch_metric_learning
import torch
from pytorch_metric_learning.losses import NTXentLoss, SupConLoss

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "crates", "core", "tests", "fixtures", "pml_golden.json")


def fixed_matrix(rows, cols, seed):
    """Deterministic inputs without an RNG, so the fixture is reproducible on any version of torch."""
    return [[math.sin(seed * 1.3 + 0.7 * r + 1.9 * c + 0.11 * r * c) * (1.0 + 0.5 * math.cos(r + seed))
             for c in range(cols)] for r in range(rows)]


def run(loss_fn, z_rows, labels):
    z = torch.tensor(z_rows, dtype=torch.float64, requires_grad=True)
    value = loss_fn(z, torch.tensor(labels))
    value.backward()
    return value.item(), z.grad.flatten().tolist()


def main():
    cases = []
    for n, d, tau, seed in [(3, 2, 0.5, 1), (4, 3, 0.1, 2), (8, 5, 0.25, 3), (16, 8, 1.0, 4)]:
        z = fixed_matrix(2 * n, d, seed)
        labels = list(range(n)) * 2
        value, grad = run(NTXentLoss(temperature=tau), z, labels)
        cases.append({"loss": "ntxent", "tau": tau, "rows": 2 * n, "cols": d, "z": sum(z, []),
                      "labels": labels, "value": value, "grad": grad})
    for n, d, tau, sample_labels, seed in [
        (4, 3, 0.5, [0, 1, 0, 2], 5),            # label 2 appears on one sample: its two views pair only
        (6, 4, 0.1, [0, 1, 1, 2, 0, 1], 6),
        (5, 3, 0.3, [3, 3, 3, 1, 0], 7),
    ]:
        z = fixed_matrix(2 * n, d, seed)
        labels = sample_labels * 2
        value, grad = run(SupConLoss(temperature=tau), z, labels)
        cases.append({"loss": "supcon", "tau": tau, "rows": 2 * n, "cols": d, "z": sum(z, []),
                      "labels": labels, "value": value, "grad": grad})
    # A view whose label appears nowhere else (no positive): PML's AvgNonZeroReducer leaves it out.
    n, d, tau = 4, 3, 0.5
    z = fixed_matrix(2 * n, d, 8)
    labels = [0, 1, 0, 2, 0, 1, 0, 9]
    value, grad = run(SupConLoss(temperature=tau), z, labels)
    cases.append({"loss": "supcon", "tau": tau, "rows": 2 * n, "cols": d, "z": sum(z, []),
                  "labels": labels, "value": value, "grad": grad})

    doc = {
        "generator": "bench/pml_reference.py",
        "torch": torch.__version__,
        "pytorch_metric_learning": pytorch_metric_learning.__version__,
        "dtype": "float64",
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
