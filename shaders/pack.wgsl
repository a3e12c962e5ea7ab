// pack.wgsl — packs an explicit 0/1 pair matrix (rows × cols, f32) into bits, 32 pairs per u32 word.
//
// Computes bits[w] = Σ_b 2^b · 1[m[32w + b] ≠ 0] over 32w + b < len, so the loss kernels read an N² input
// at 1 bit per pair (the only N² input the engine takes: a user's file).
// Bindings: 0 uniform Params; 1 m (read); 2 bits (read_write, u32).
// Dispatch: ⌈words/WG⌉ workgroups of WG threads, folded into 2-D past 65,535; one word per thread.

struct Params { len: u32, words: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> bits: array<u32>;

@compute @workgroup_size({{WG}}, 1, 1)
fn pack(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = folded_group(wid, nwg) * {{WG}}u + lid.x;
    if (w >= p.words) { return; }
    var word = 0u;
    for (var b = 0u; b < 32u; b++) {
        let e = w * 32u + b;
        if (e < p.len && m[e] != 0.0) { word = word | (1u << b); }
    }
    bits[w] = word;
}
