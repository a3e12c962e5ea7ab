// elementwise.wgsl — activation backward (cpu/layers.rs `activation_backward`).
//
// Computes d_pre[e] = d_out[e] · act'(pre[e]) for 0 ≤ e < len (act' from common.wgsl).
// Bindings: 0 uniform Params; 1 pre (read); 2 d_out (read); 3 d_pre (read_write).
// Dispatch: ⌈len/WG⌉ workgroups of WG threads, folded into 2-D past 65,535 (one element per thread).

struct Params { len: u32, act: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pre: array<f32>;
@group(0) @binding(2) var<storage, read> d_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> d_pre: array<f32>;

@compute @workgroup_size({{WG}}, 1, 1)
fn activation_backward(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = folded_group(wid, nwg) * {{WG}}u + lid.x;
    if (e >= p.len) { return; }
    d_pre[e] = d_out[e] * act_derivative(pre[e], p.act);
}
