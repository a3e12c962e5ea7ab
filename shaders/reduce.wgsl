// reduce.wgsl — column sums (the bias gradient db = Σ_rows d_pre of linear backward).
//
// Computes out[c] = Σ_{r < rows} x[r·cols + c] for 0 ≤ c < cols.
// One workgroup per column (folded into 2-D past 65,535): its WG threads each sum a strided share of the
// rows, then a tree in workgroup memory adds the WG partial sums (no float atomics: WebGPU has none).
// Bindings: 0 uniform Params; 1 x (read); 2 out (read_write).
// Dispatch: cols workgroups of WG threads.

struct Params { rows: u32, cols: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, {{WG}}>;

@compute @workgroup_size({{WG}}, 1, 1)
fn column_sums(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = folded_group(wid, nwg);
    if (c >= p.cols) { return; }
    var s = 0.0;
    for (var r = lid.x; r < p.rows; r += {{WG}}u) { s = s + x[r * p.cols + c]; }
    partial[lid.x] = s;
    workgroupBarrier();
    for (var stride = {{WG}}u / 2u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) { partial[lid.x] = partial[lid.x] + partial[lid.x + stride]; }
        workgroupBarrier();
    }
    if (lid.x == 0u) { out[c] = partial[0]; }
}
