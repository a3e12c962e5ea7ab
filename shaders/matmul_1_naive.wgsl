// matmul_1_naive.wgsl — version 1 of the linear layer's matrix product: one thread per output element, the sum
// over k in order from 0 in one accumulator, exactly the formula. The readable statement of what
// matmul_2_tiled.wgsl (version 2, the one a run uses) computes faster; the parity tests hold both to
// ops::linear::reference, and `spherelab bench --gpu-kernels all` times both.
//
// For 0 ≤ r < m, 0 ≤ c < n, with A(r, k) = a[r·a_rs + k·a_cs] and B(k, c) = b[k·b_rs + c·b_cs] (a transpose is a
// swap of strides: x·W + b, d·Wᵀ and xᵀ·d from one kernel):
//   pre[r, c] = Σ_k A(r, k)·B(k, c) + bias[c]          (bias only when has_bias = 1)
//   out[r, c] = act(pre[r, c])                          (pre is written only when write_pre = 1)
//
// Same Params and bindings as matmul_2_tiled.wgsl's main, so one launcher serves both; no split-K (k_split is
// ignored: each thread sums the whole of k). Bindings: 0 uniform Params; 1 a; 2 b; 3 bias; 4 pre; 5 out.
// Dispatch: ⌈m·n/WG⌉ workgroups (folded past 65,535) of WG threads.

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

@compute @workgroup_size({{WG}}, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = folded_group(wid, nwg) * {{WG}}u + lid.x;
    if (e >= p.m * p.n) { return; }
    let r = e / p.n;
    let c = e % p.n;
    var v = 0.0;
    for (var k = 0u; k < p.k; k++) {
        v = v + a[r * p.a_rs + k * p.a_cs] * b[k * p.b_rs + c * p.b_cs];
    }
    if (p.has_bias == 1u) { v = v + bias[c]; }
    if (p.write_pre == 1u) { pre[e] = v; }
    out[e] = act_forward(v, p.act);
}
