// optim.wgsl — optimiser updates, element-wise, exactly as crates/core/src/cpu/optim.rs (docs/math.md §6).
//
// SGD:   g ← g + wd·p; m ← μ·m + g; step = g + μ·m (Nesterov) or m (μ > 0) or g; p ← p − lr·step
// Adam:  g ← g + wd·p; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·m̂/(√v̂ + ε),
//        m̂ = m/c1, v̂ = v/c2 with c1 = 1 − β1^t, c2 = 1 − β2^t (computed on the host)
// AdamW: as Adam without wd in g, and p ← p·(1 − lr·wd) first (decoupled decay, as PyTorch)
// Bindings: 0 uniform Params; 1 grad (read); 2 param (read_write); 3 m (read_write); 4 v (read_write).
// Dispatch: ⌈len/WG⌉ workgroups of WG threads, folded into 2-D past 65,535; one element per thread.

struct Params {
    len: u32, kind: u32, nesterov: u32, has_momentum: u32,
    lr: f32, momentum: f32, wd: f32, beta1: f32,
    beta2: f32, eps: f32, c1: f32, c2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size({{WG}}, 1, 1)
fn update(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = folded_group(wid, nwg) * {{WG}}u + lid.x;
    if (i >= p.len) { return; }
    if (p.kind == {{OPT_SGD}}u) {
        let g = grad[i] + p.wd * param[i];
        var s = g;
        if (p.has_momentum == 1u) {
            let mi = p.momentum * m[i] + g;
            m[i] = mi;
            s = select(mi, g + p.momentum * mi, p.nesterov == 1u);
        }
        param[i] = param[i] - p.lr * s;
    } else {
        var g = grad[i];
        var w = param[i];
        if (p.kind == {{OPT_ADAMW}}u) { w = w * (1.0 - p.lr * p.wd); } else { g = g + p.wd * w; }
        let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
        let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        let mhat = mi / p.c1;
        let vhat = vi / p.c2;
        param[i] = w - p.lr * mhat / (sqrt(vhat) + p.eps);
    }
}
