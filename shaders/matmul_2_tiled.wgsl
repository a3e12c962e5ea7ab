// matmul_2_tiled.wgsl — version 2 of the linear layer's matrix product (bias and activation fused; linear
// forward, dx and dW of linear backward): workgroup tiles and register blocks. Version 1, matmul_1_naive.wgsl,
// computes the same thing one output per thread; the parity tests and `spherelab bench --gpu-kernels all`
// run both (crates/gpu/src/ops/linear.rs, `MatmulVersion`).
//
// Computes, for 0 ≤ r < m, 0 ≤ c < n:
//   pre[r, c] = Σ_k A(r, k)·B(k, c) + bias[c]          (bias only when has_bias = 1)
//   out[r, c] = act(pre[r, c])                          (pre is written only when write_pre = 1)
// A(r, k) = a[r·a_rs + k·a_cs] and B(k, c) = b[k·b_rs + c·b_cs]: a transpose is a swap of strides, so the
// same kernel gives x·W + b (forward), d·Wᵀ (dx) and xᵀ·d (dW) of docs/math.md / cpu/layers.rs.
// The sum over k runs in order from 0 in one accumulator per output (like the CPU reference's naive loop).
//
// Bindings: 0 uniform Params; 1 a (read); 2 b (read); 3 bias (read); 4 pre (read_write); 5 out (read_write).
// Dispatch: (⌈n/BN⌉, ⌈m/BM⌉, S) workgroups of (BN/TN) × (BM/TM) threads. Each workgroup computes a BM × BN
// block of the output; it walks k in steps of BK, staging a BM × BK tile of A and a BK × BN tile of B in
// workgroup memory; each thread accumulates a TM × TN sub-block in registers.
// Split-K (S > 1, for products with a small output and a long k such as dW = xᵀ·d over a batch): grid z
// takes k in [z·k_split, (z+1)·k_split) and writes its partial block to out[z·m·n + …] (no bias, no
// activation); `sum_splits` then adds the S partials of each element in order (no atomics).
//
// sum_splits: out[e] = Σ_{s<S} a[s·len + e] for e < len = p.m, S = p.k. Dispatch ⌈len/WG⌉ (folded) × WG.

struct Params {
    m: u32, n: u32, k: u32, act: u32,
    a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32,
    has_bias: u32, write_pre: u32, k_split: u32, _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> pre: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const BM: u32 = {{GEMM_BM}}u;
const BN: u32 = {{GEMM_BN}}u;
const BK: u32 = {{GEMM_BK}}u;
const TM: u32 = {{GEMM_TM}}u;
const TN: u32 = {{GEMM_TN}}u;
const TX: u32 = BN / TN;
const TY: u32 = BM / TM;
const NT: u32 = TX * TY;

// As[kk·BM + mm], Bs[kk·BN + nn]
var<workgroup> As: array<f32, {{GEMM_BM}} * {{GEMM_BK}}>;
var<workgroup> Bs: array<f32, {{GEMM_BK}} * {{GEMM_BN}}>;

@compute @workgroup_size({{GEMM_TX}}, {{GEMM_TY}}, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * TX + lid.x;
    var acc: array<f32, {{GEMM_TM}} * {{GEMM_TN}}>;
    for (var i = 0u; i < TM * TN; i++) { acc[i] = 0.0; }
    var ar: array<f32, {{GEMM_TM}}>;
    var br: array<f32, {{GEMM_TN}}>;

    let k_begin = wid.z * p.k_split;
    let k_end = min(p.k, k_begin + p.k_split);
    let base = wid.z * p.m * p.n;
    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        for (var e = tid; e < BM * BK; e += NT) {
            let mm = e / BK;
            let kk = e % BK;
            let gm = row0 + mm;
            let gk = k0 + kk;
            var v = 0.0;
            if (gm < p.m && gk < k_end) { v = a[gm * p.a_rs + gk * p.a_cs]; }
            As[kk * BM + mm] = v;
        }
        for (var e = tid; e < BK * BN; e += NT) {
            let kk = e / BN;
            let nn = e % BN;
            let gk = k0 + kk;
            let gn = col0 + nn;
            var v = 0.0;
            if (gk < k_end && gn < p.n) { v = b[gk * p.b_rs + gn * p.b_cs]; }
            Bs[kk * BN + nn] = v;
        }
        workgroupBarrier();
        let kmax = min(BK, k_end - k0);
        for (var kk = 0u; kk < kmax; kk++) {
            for (var i = 0u; i < TM; i++) { ar[i] = As[kk * BM + lid.y + i * TY]; }
            for (var j = 0u; j < TN; j++) { br[j] = Bs[kk * BN + lid.x + j * TX]; }
            for (var i = 0u; i < TM; i++) {
                for (var j = 0u; j < TN; j++) {
                    acc[i * TN + j] = acc[i * TN + j] + ar[i] * br[j];
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < TM; i++) {
        let gm = row0 + lid.y + i * TY;
        if (gm >= p.m) { continue; }
        for (var j = 0u; j < TN; j++) {
            let gn = col0 + lid.x + j * TX;
            if (gn >= p.n) { continue; }
            var v = acc[i * TN + j];
            if (p.has_bias == 1u) { v = v + bias[gn]; }
            if (p.write_pre == 1u) { pre[gm * p.n + gn] = v; }
            out[base + gm * p.n + gn] = act_forward(v, p.act);
        }
    }
}

@compute @workgroup_size({{WG}}, 1, 1)
fn sum_splits(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = folded_group(wid, nwg) * {{WG}}u + lid.x;
    if (e >= p.m) { return; }
    var s = 0.0;
    for (var z = 0u; z < p.k; z++) { s = s + a[z * p.m + e]; }
    out[e] = s;
}
