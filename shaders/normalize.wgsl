// normalize.wgsl — row normalisation and the spectral loss's norm clip, forward and backward.
//
// forward:        n_r = max(‖z_r‖, ε) (ε = 1e-12, the floor of cpu/layers.rs), ẑ_r = z_r / n_r
// backward:       ∂L/∂z_r = (g_r − ẑ_r·(ẑ_rᵀg_r)) / n_r                        (docs/math.md §1.1, g = ∂L/∂ẑ)
// clip_forward:   w_r = z_r·min(1, √μ/‖z_r‖)    (docs/math.md §1.2: rows longer than √μ are scaled to √μ)
// clip_backward:  ∂L/∂z_r = g_r if ‖z_r‖ ≤ √μ, else (√μ/‖z_r‖)·(g_r − ẑ_r·(ẑ_rᵀg_r))   (g = ∂L/∂w)
// Bindings: 0 uniform Params; 1 x (read: z, or ẑ for backward); 2 y (read: norms for backward, unused else);
//           3 g (read: the incoming gradient for the backward entries); 4 out (read_write); 5 out2 (read_write:
//           norms for forward).
// Dispatch: ⌈rows/WG⌉ workgroups of WG threads, folded into 2-D past 65,535; one thread per row.

struct Params { rows: u32, cols: u32, sqrt_mu: f32, _pad0: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> out2: array<f32>;

const NORM_FLOOR: f32 = 1e-12;

fn row_of(lid: vec3<u32>, wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return folded_group(wid, nwg) * {{WG}}u + lid.x;
}

fn row_norm(r: u32) -> f32 {
    var s = 0.0;
    for (var c = 0u; c < p.cols; c++) { let v = x[r * p.cols + c]; s = s + v * v; }
    return sqrt(s);
}

@compute @workgroup_size({{WG}}, 1, 1)
fn forward(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = row_of(lid, wid, nwg);
    if (r >= p.rows) { return; }
    let n = max(row_norm(r), NORM_FLOOR);
    out2[r] = n;
    for (var c = 0u; c < p.cols; c++) { out[r * p.cols + c] = x[r * p.cols + c] / n; }
}

@compute @workgroup_size({{WG}}, 1, 1)
fn backward(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = row_of(lid, wid, nwg);
    if (r >= p.rows) { return; }
    var proj = 0.0;
    for (var c = 0u; c < p.cols; c++) { proj = proj + x[r * p.cols + c] * g[r * p.cols + c]; }
    let n = y[r];
    for (var c = 0u; c < p.cols; c++) {
        out[r * p.cols + c] = (g[r * p.cols + c] - x[r * p.cols + c] * proj) / n;
    }
}

@compute @workgroup_size({{WG}}, 1, 1)
fn clip_forward(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = row_of(lid, wid, nwg);
    if (r >= p.rows) { return; }
    let n = row_norm(r);
    var scale = 1.0;
    if (n > p.sqrt_mu) { scale = p.sqrt_mu / n; }
    for (var c = 0u; c < p.cols; c++) { out[r * p.cols + c] = x[r * p.cols + c] * scale; }
}

@compute @workgroup_size({{WG}}, 1, 1)
fn clip_backward(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = row_of(lid, wid, nwg);
    if (r >= p.rows) { return; }
    let n = row_norm(r);
    if (n <= p.sqrt_mu) {
        for (var c = 0u; c < p.cols; c++) { out[r * p.cols + c] = g[r * p.cols + c]; }
        return;
    }
    var proj = 0.0;
    for (var c = 0u; c < p.cols; c++) { proj = proj + x[r * p.cols + c] * g[r * p.cols + c]; }
    proj = proj / n;
    for (var c = 0u; c < p.cols; c++) {
        out[r * p.cols + c] = (g[r * p.cols + c] - x[r * p.cols + c] / n * proj) * (p.sqrt_mu / n);
    }
}
