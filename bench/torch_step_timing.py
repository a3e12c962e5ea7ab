#!/usr/bin/env python3
"""PyTorch (CPU) timing of the step spherelab's CPU backend is compared with: difficult-pair selection
(docs/math.md §2, done the usual way with a sort) plus InfoNCE with the combined modifiers (§1.1), forward and
backward, at 2N = 512 views. Prints milliseconds per step; compare with
`cargo run --release -p spherelab-core --example loss_timing` on the same machine and load."""

import math
import sys
import time

import torch

torch.manual_seed(0)


def step(z, h, tau=0.2, sigma=0.1, rho=0.7, pos_high=0.1, pos_low=0.9):
    n2 = z.shape[0]
    n = n2 // 2
    idx = torch.arange(n2)
    j = (idx + n) % n2
    with torch.no_grad():
        hh = torch.nn.functional.normalize(h, dim=1)
        c = hh @ hh.T
        cand = torch.ones(n2, n2, dtype=torch.bool)
        cand[idx, idx] = False
        cand[idx, j] = False
        m = n2 - 2
        vals = c[cand].view(n2, m).sort(dim=1, descending=True).values
        r_hi = max(1, math.ceil(pos_high * m - 1e-9))
        r_lo = max(1, math.ceil(pos_low * m - 1e-9))
        hi = vals[:, r_hi - 1 : r_hi]
        lo = vals[:, r_lo - 1 : r_lo]
        p = ((c >= lo) & (c < hi) & cand).to(z.dtype)
    zh = torch.nn.functional.normalize(z, dim=1)
    s = zh @ zh.T
    tau_ik = tau * (rho * p + 1 - p)
    a = (s + sigma * p) / tau_ik
    a = a.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    loss = (-a[idx, j] + torch.logsumexp(a, dim=1)).mean()
    loss.backward()
    return loss


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
    torch.set_num_threads(threads)
    for d, dh in [(3, 16), (32, 32)]:
        for dtype in [torch.float32, torch.float64]:
            z = torch.randn(512, d, dtype=dtype, requires_grad=True)
            h = torch.randn(512, dh, dtype=dtype)
            for _ in range(20):
                step(z, h)
            iters = 200
            t0 = time.perf_counter()
            for _ in range(iters):
                z.grad = None
                step(z, h)
            ms = (time.perf_counter() - t0) / iters * 1e3
            print(f"torch {str(dtype)[6:]} {threads} thread(s) 512 views d={d} d_h={dh}: selection+InfoNCE fwd+bwd {ms:.3f} ms")


if __name__ == "__main__":
    main()
