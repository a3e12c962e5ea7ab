#!/usr/bin/env python3
"""An independent PyTorch implementation of docs/math.md §1 (losses with the difficult-pair modifiers) and §2
(selection, done the plain way with a full sort), with gradients from autograd, in float64.

Writes crates/core/tests/fixtures/torch_golden.json: fixed inputs z (2N × d) and h (2N × d_h), the
selection thresholds and flags for both layouts, and for each loss and pair mode the value and ∂L/∂z.
The Rust test `loss::tests::losses_and_selection_match_an_independent_torch_implementation` reads it;
Rust tests never run Python. Re-generate with `python3 bench/torch_reference.py` (torch installed).
Every hyper-parameter is a binary fraction, so the f32 fields of LossParams hold it exactly.
"""

import json
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "crates", "core", "tests", "fixtures", "torch_golden.json")
F = torch.float64


def fixed_matrix(rows, cols, seed):
    return torch.tensor([[math.sin(seed * 1.3 + 0.7 * r + 1.9 * c + 0.11 * r * c) * (0.4 + 0.9 * abs(math.cos(r + seed)))
                          for c in range(cols)] for r in range(rows)], dtype=F)


def rank(q, m):
    return min(m, max(1, math.ceil(q * m - 1e-9)))


def select(h, layout, pos_high, pos_low):
    """docs/math.md §2 with a full sort: returns (thresholds rows×2 [lo, hi], flags rows×rows as 0/1)."""
    n2 = h.shape[0]
    n = n2 // 2
    hh = torch.nn.functional.normalize(h, dim=1)
    if layout == "all_views":
        c = hh @ hh.T
        rows = n2
        cand = torch.ones(rows, rows, dtype=torch.bool)
        idx = torch.arange(rows)
        cand[idx, idx] = False
        cand[idx, (idx + n) % n2] = False
    else:
        c = hh[:n] @ hh[n:].T
        rows = n
        cand = ~torch.eye(rows, dtype=torch.bool)
    m = int(cand[0].sum())
    vals = c[cand].view(rows, m).sort(dim=1, descending=True).values
    hi = vals[:, rank(pos_high, m) - 1]
    lo = vals[:, rank(pos_low, m) - 1]
    p = (c >= lo[:, None]) & (c < hi[:, None]) & cand
    return torch.stack([lo, hi], dim=1), p.to(F)


def infonce(z, p, mode, tau, sigma, rho, decoupled=False):
    n2 = z.shape[0]
    n = n2 // 2
    idx = torch.arange(n2)
    j = (idx + n) % n2
    zh = z / z.norm(dim=1, keepdim=True)
    s = zh @ zh.T
    if mode == "none":
        p = torch.zeros_like(p)
    if mode == "removal":
        a = s * (1 - p) / tau
    else:
        sig = sigma if mode in ("margin", "combined") else 0.0
        r = rho if mode in ("temperature", "combined") else 1.0
        a = (s + sig * p) / (tau * (r * p + 1 - p))
    keep = ~torch.eye(n2, dtype=torch.bool)
    if decoupled:
        keep[idx, j] = False
    den = torch.logsumexp(a.masked_fill(~keep, float("-inf")), dim=1)
    return (-a[idx, j] + den).mean()


def spectral(z, p, mode, mu, margin):
    n = z.shape[0] // 2
    norms = z.norm(dim=1, keepdim=True)
    c = torch.where(norms > math.sqrt(mu), z * math.sqrt(mu) / norms, z)
    z1, z2 = c[:n], c[n:]
    part1 = -2.0 / n * (z1 * z2).sum()
    pp = z1 @ z2.T
    off = ~torch.eye(n, dtype=torch.bool)
    m = margin if mode in ("margin", "combined") else 0.0
    if mode == "none":
        p = torch.zeros_like(p)
    e = (pp + m * p) ** 2
    if mode == "removal":
        e = e * (1 - p)
    part2 = (e * off).sum() / (n * (n - 1))
    return (part1 + part2) / mu


def align_uniform(z, alpha, t, wa, wu):
    n = z.shape[0] // 2
    zh = z / z.norm(dim=1, keepdim=True)
    align = ((zh[:n] - zh[n:]).norm(dim=1) ** alpha).mean()

    def unif(x):
        return torch.pdist(x, p=2).pow(2).mul(-t).exp().mean().log()

    return wa * align + wu * (unif(zh[:n]) + unif(zh[n:])) / 2


def supcon(z, labels, tau):
    n2 = z.shape[0]
    zh = z / z.norm(dim=1, keepdim=True)
    a = (zh @ zh.T) / tau
    eye = torch.eye(n2, dtype=torch.bool)
    lab = torch.tensor(labels)
    pos = (lab[:, None] == lab[None, :]) & ~eye
    logp = a - torch.logsumexp(a.masked_fill(eye, float("-inf")), dim=1, keepdim=True)
    npos = pos.sum(dim=1)
    has = npos > 0
    li = -(logp * pos).sum(dim=1)[has] / npos[has]
    return li.mean()


def value_grad(fn, z):
    z = z.clone().requires_grad_(True)
    v = fn(z)
    v.backward()
    return v.item(), z.grad.flatten().tolist()


def main():
    n, d, dh = 8, 4, 6
    z = fixed_matrix(2 * n, d, 11)  # norms straddle 1: spectral clips some rows, not others
    h = fixed_matrix(2 * n, dh, 12)
    labels = [0, 1, 2, 0, 1, 2, 3, 0] * 2
    params = {"tau": 0.5, "sigma": 0.25, "rho": 0.75, "margin": 0.25, "mu": 1.0, "alpha": 1.0, "t": 2.0,
              "w_align": 0.5, "w_unif": 1.5, "pos_high": 0.25, "pos_low": 0.75}
    sel = {}
    for layout in ("all_views", "cross_view"):
        th, p = select(h, layout, params["pos_high"], params["pos_low"])
        sel[layout] = {"thresholds": th.flatten().tolist(), "flags": p.flatten().tolist(), "rows": p.shape[0]}
    p_all = torch.tensor(sel["all_views"]["flags"], dtype=F).view(2 * n, 2 * n)
    p_cross = torch.tensor(sel["cross_view"]["flags"], dtype=F).view(n, n)
    cases = []
    for mode in ("none", "removal", "margin", "temperature", "combined"):
        for loss, fn in [
            ("infonce", lambda x: infonce(x, p_all, mode, params["tau"], params["sigma"], params["rho"])),
            ("dcl", lambda x: infonce(x, p_all, mode, params["tau"], params["sigma"], params["rho"], True)),
            ("spectral", lambda x: spectral(x, p_cross, mode, params["mu"], params["margin"])),
        ]:
            v, g = value_grad(fn, z)
            cases.append({"loss": loss, "mode": mode, "mu": params["mu"], "value": v, "grad": g})
    v, g = value_grad(lambda x: spectral(x, p_cross, "margin", 2.0, params["margin"]), z)
    cases.append({"loss": "spectral", "mode": "margin", "mu": 2.0, "value": v, "grad": g})
    v, g = value_grad(lambda x: align_uniform(x, params["alpha"], params["t"], params["w_align"], params["w_unif"]), z)
    cases.append({"loss": "align-uniform", "mode": "none", "mu": params["mu"], "value": v, "grad": g})
    v, g = value_grad(lambda x: supcon(x, labels, params["tau"]), z)
    cases.append({"loss": "supcon", "mode": "none", "mu": params["mu"], "value": v, "grad": g})

    doc = {
        "generator": "bench/torch_reference.py",
        "torch": torch.__version__,
        "n": n, "d": d, "d_h": dh,
        "z": z.flatten().tolist(), "h": h.flatten().tolist(), "labels": labels,
        "params": params, "selection": sel, "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print(f"wrote {len(cases)} loss cases and 2 selections to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
