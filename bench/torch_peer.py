#!/usr/bin/env python3
"""The peer for `spherelab bench`: the same training steps in PyTorch, on the same machine.

Not a dependency of spherelab: `spherelab bench` runs this script only when `import torch` works in the
Python it finds (SPHERELAB_PYTHON, else python3), on the CPU, and again with `--device cuda` when the bench
timed a real GPU and this PyTorch sees CUDA (exit status 3 when it does not). It prints one JSON object per
case on stdout:
    {"case": "T1-selected", "steps_per_second": 81.2, "device": "cpu", "threads": 2, "torch": "2.15.0",
     "capability": "ATen AVX2, MKL_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2"}

Cases (issue "The WGSL engine", item 7):
  T1: moons, MLP 2→64→64→32, projector 32→32→3, N = 256 samples (512 views)
  T2: digits, MLP 64→256→256→128, projector 128→128→32, N = 512 samples (1024 views)
  each with InfoNCE τ = 0.2 plain ("-plain"), and with difficult-pair selection on the cosine similarities of h
  (posHigh 0.25, posLow 1.0, σ = 0.1, ρ = 0.7, combined mode; "-selected"), Adam lr 1e-3;
  loss-4096 / loss-16384: the loss alone (forward + backward) on 4,096 and 16,384 views, d = 128.
The step is the same as spherelab's: two augmented views (Gaussian jitter) of a random batch, encoder,
projector, InfoNCE on ℓ2-normalised z (with the modifiers of docs/math.md §1.1 when selected), backward, Adam.
Selection follows docs/math.md §2; like most PyTorch code it finds the per-row quantiles by sorting each row.
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def moons(n, gen):
    t = torch.rand(n, generator=gen) * math.pi
    y = torch.arange(n) % 2
    x = torch.stack([torch.cos(t), torch.sin(t)], 1)
    x[y == 1] = torch.stack([1 - torch.cos(t[y == 1]), 0.5 - torch.sin(t[y == 1])], 1)
    return x + 0.1 * torch.randn(n, 2, generator=gen), y


def digits(repo):
    path = os.path.join(repo, "crates/core/data/digits/digits.csv.gz")
    rows = [list(map(float, line.split(","))) for line in gzip.open(path, "rt").read().split("\n") if line]
    t = torch.tensor(rows)
    return t[:, :64] / 16.0, t[:, 64].long()


def select_flags(h, n, pos_high, pos_low):
    """p_ik = 1[lo_i <= c_ik < hi_i] over candidates k not in {i, j(i)} (docs/math.md §2), by sorting rows."""
    with torch.no_grad():
        hn = F.normalize(h, dim=1)
        c = hn @ hn.T
        two_n = c.shape[0]
        idx = torch.arange(two_n, device=c.device)
        pos = (idx + n) % two_n
        cand = torch.ones_like(c, dtype=torch.bool)
        cand[idx, idx] = False
        cand[idx, pos] = False
        m = two_n - 2
        masked = c.masked_fill(~cand, -float("inf"))
        sorted_rows, _ = masked.sort(dim=1, descending=True)
        r_hi = max(1, math.ceil(pos_high * m - 1e-9))
        r_lo = max(1, math.ceil(pos_low * m - 1e-9))
        hi = sorted_rows[:, r_hi - 1 : r_hi]
        lo = sorted_rows[:, r_lo - 1 : r_lo]
        return (c >= lo) & (c < hi) & cand


def infonce(z, n, tau, flags=None, sigma=0.1, rho=0.7):
    zn = F.normalize(z, dim=1)
    s = zn @ zn.T
    two_n = s.shape[0]
    idx = torch.arange(two_n, device=s.device)
    if flags is None:
        a = s / tau
    else:
        p = flags.float()
        a = (s + sigma * p) / (tau * (rho * p + 1 - p))
    a = a.masked_fill(torch.eye(two_n, dtype=torch.bool, device=s.device), -float("inf"))
    pos = (idx + n) % two_n
    return (-a[idx, pos] + torch.logsumexp(a, dim=1)).mean()


def time_steps(step, warmup, steps, device):
    """Steps per second; on a GPU the clock stops only when the queued steps have finished."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return steps / (time.perf_counter() - t0)


def train_case(x, widths, proj, n, selected, steps, gen):
    device = x.device
    enc, head = mlp(widths).to(device), mlp(proj).to(device)
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=1e-3)
    std = x.std()

    def step():
        idx = torch.randperm(x.shape[0], generator=gen, device=device)[:n]
        xb = x[idx]
        views = torch.cat([xb + 0.05 * std * torch.randn(xb.shape, generator=gen, device=device),
                           xb + 0.05 * std * torch.randn(xb.shape, generator=gen, device=device)])
        h = enc(views)
        z = head(h)
        flags = select_flags(h, n, 0.25, 1.0) if selected else None
        loss = infonce(z, n, 0.2, flags)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return time_steps(step, 5, steps, device)


def loss_case(views, d, steps, gen, device):
    z = torch.randn(views, d, generator=gen, device=device, requires_grad=True)

    def step():
        loss = infonce(z, views // 2, 0.2)
        z.grad = None
        loss.backward()

    return time_steps(step, 1, steps, device)


def capability(device):
    """The SIMD path this PyTorch runs on: ATen's own kernels as it reports them, and the caps that hold MKL's and
    oneDNN's products narrower (MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA; `spherelab bench` sets them, with
    ATEN_CPU_CAPABILITY, when its own products are forced onto AVX2)."""
    if device.type == "cuda":
        return f"CUDA {torch.version.cuda}, {torch.cuda.get_device_name(device)}"
    caps = [f"{k}={os.environ[k]}" for k in ("MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA") if os.environ.get(k)]
    text = f"ATen {torch.backends.cpu.get_cpu_capability()}"
    return text + (f", {', '.join(caps)}" if caps else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--cases", default="T1-plain,T1-selected,T2-plain,T2-selected,loss-4096,loss-16384")
    ap.add_argument("--device", default="cpu", help="where PyTorch computes: cpu, or cuda (cuda:N) on an NVIDIA GPU")
    args = ap.parse_args()
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        print(f"--device {args.device}: {e}", file=sys.stderr)
        sys.exit(2)
    if device.type not in ("cpu", "cuda"):
        print(f"--device {args.device}: use cpu or cuda", file=sys.stderr)
        sys.exit(2)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"--device {args.device}: CUDA is not available to this PyTorch (no NVIDIA GPU or driver, or a "
              "CPU-only build)", file=sys.stderr)
        sys.exit(3)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    # The data are made on the CPU (the same for every device); the steps draw from a generator on the device.
    step_gen = gen if device.type == "cpu" else torch.Generator(device=device).manual_seed(0)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for case in args.cases.split(","):
        if case.startswith("T1"):
            x, _ = moons(2048, gen)
            sps = train_case(x.to(device), [2, 64, 64, 32], [32, 32, 3], 256, case.endswith("selected"), args.steps,
                             step_gen)
        elif case.startswith("T2"):
            x, _ = digits(repo)
            sps = train_case(x.to(device), [64, 256, 256, 128], [128, 128, 32], 512, case.endswith("selected"),
                             max(args.steps // 2, 10), step_gen)
        elif case.startswith("loss-"):
            views = int(case.split("-")[1])
            sps = loss_case(views, 128, max(2, args.steps // (views // 1024)), step_gen, device)
        else:
            print(f"unknown case {case}", file=sys.stderr)
            sys.exit(2)
        print(json.dumps({"case": case, "steps_per_second": sps, "device": device.type, "threads": args.threads,
                          "torch": torch.__version__, "capability": capability(device)}), flush=True)


if __name__ == "__main__":
    main()
