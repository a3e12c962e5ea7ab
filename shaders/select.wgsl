// select.wgsl — per-row thresholds of the difficult-pair selection (docs/math.md §2), without sorting.
//
// For anchor row i the candidates are the cosine similarities c_ik = ĥ_iᵀĥ_k:
//   layout 0 (all views, rows = 2N): k ∈ [0, 2N) \ {i, j(i)}, j(i) = (i + N) mod 2N, M = 2N − 2
//   layout 1 (cross view, rows = N): c_ik = ĥ_iᵀĥ_{N+k}, k ∈ [0, N) \ {i},            M = N − 1
// hi_i = the r_hi-th largest candidate and lo_i = the r_lo-th largest, r(q) = max(1, ⌈q·M⌉) (ranks from the
// host). Output: thr[2i] = lo_i, thr[2i + 1] = hi_i.
//
// How, without sorting or storing the row: a radix select over the candidates' order-preserving u32 keys
// (a float's bits with the sign bit flipped for positives and all bits flipped for negatives, so that key
// order is float order). Four passes of 8 bits, most significant first; each pass recomputes the row's
// candidates, counts those whose key matches the prefix found so far into a 256-bucket histogram (u32
// atomics in workgroup memory; integers only), and one thread walks the buckets from the top to find the
// bucket holding the wanted rank and the rank left within it. After the 4th pass the prefix is the exact
// key of the r-th largest value. Both ranks (lo and hi) are searched together.
// c_ik is accumulated with dot_step in dimension order, as the loss kernels recompute it.
//
// Bindings: 0 uniform Params; 1 hhat (read, rows_h × dh: normalised h); 2 thr (read_write, rows × 2).
// Dispatch: one workgroup of WG threads per row, folded into 2-D past 65,535 rows.

struct Params { rows: u32, n: u32, dh: u32, cross_view: u32, r_lo: u32, r_hi: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> hhat: array<f32>;
@group(0) @binding(2) var<storage, read_write> thr: array<f32>;

var<workgroup> hist_lo: array<atomic<u32>, 256>;
var<workgroup> hist_hi: array<atomic<u32>, 256>;
// [prefix_lo, rank_lo, prefix_hi, rank_hi]
var<workgroup> state: array<u32, 4>;

fn key_of(v: f32) -> u32 {
    let u = bitcast<u32>(v);
    return select(u | 0x80000000u, ~u, (u & 0x80000000u) != 0u);
}

fn value_of(k: u32) -> f32 {
    return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

// Walks the histogram from the top bucket down: returns (bucket, rank left inside it).
fn find_bucket(lo: bool, rank: u32) -> vec2<u32> {
    var cum = 0u;
    for (var b = 255i; b >= 0i; b--) {
        var h: u32;
        if (lo) { h = atomicLoad(&hist_lo[b]); } else { h = atomicLoad(&hist_hi[b]); }
        if (cum + h >= rank) { return vec2<u32>(u32(b), rank - cum); }
        cum += h;
    }
    return vec2<u32>(0u, 1u);
}

@compute @workgroup_size({{WG}}, 1, 1)
fn thresholds(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = folded_group(wid, nwg);
    if (i >= p.rows) { return; }
    var cols = p.rows;
    var col_off = 0u;
    var partner = (i + p.n) % p.rows;
    if (p.cross_view == 1u) { col_off = p.n; partner = i; }
    if (lid.x == 0u) {
        state[0] = 0u; state[1] = p.r_lo; state[2] = 0u; state[3] = p.r_hi;
    }
    var mask = 0u;
    for (var pass_ = 0u; pass_ < 4u; pass_++) {
        let shift = 24u - 8u * pass_;
        atomicStore(&hist_lo[lid.x], 0u);
        atomicStore(&hist_hi[lid.x], 0u);
        workgroupBarrier();
        let pre_lo = state[0];
        let pre_hi = state[2];
        for (var k = lid.x; k < cols; k += {{WG}}u) {
            if (k == i || k == partner) { continue; }
            var c = 0.0;
            for (var t = 0u; t < p.dh; t++) {
                c = dot_step(c, hhat[i * p.dh + t], hhat[(col_off + k) * p.dh + t]);
            }
            let key = key_of(c);
            let digit = (key >> shift) & 255u;
            if ((key & mask) == pre_lo) { atomicAdd(&hist_lo[digit], 1u); }
            if ((key & mask) == pre_hi) { atomicAdd(&hist_hi[digit], 1u); }
        }
        workgroupBarrier();
        if (lid.x == 0u) {
            let blo = find_bucket(true, state[1]);
            state[0] = state[0] | (blo.x << shift);
            state[1] = blo.y;
            let bhi = find_bucket(false, state[3]);
            state[2] = state[2] | (bhi.x << shift);
            state[3] = bhi.y;
        }
        mask = mask | (255u << shift);
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        thr[2u * i] = value_of(state[0]);
        thr[2u * i + 1u] = value_of(state[2]);
    }
}
