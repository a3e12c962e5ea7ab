// spectral.wgsl — spectral contrastive loss (HaoChen et al. 2021, docs/math.md §1.2), value and gradient in tiles
// of the N × N cross-view matrix. Nothing of size N² is stored.
//
// On w = clip(z) (normalize.wgsl's clip_forward; rows 0..N are view 1, rows N..2N view 2):
//   x_ij = w1_iᵀw2_j + m·p_ij,  e_ij = 0 if (removal and p_ij) else 1
//   L = (part1 + part2)/μ,  part1 = −(2/N) Σ_i w1_iᵀw2_i,  part2 = (1/(N(N−1))) Σ_{i≠j} e_ij·x_ij²
//   ∂L/∂w1_i = (1/μ)·[−(2/N)·w2_i + (2/(N(N−1))) Σ_{j≠i} e_ij·x_ij·w2_j]
//   ∂L/∂w2_j = (1/μ)·[−(2/N)·w1_j + (2/(N(N−1))) Σ_{i≠j} e_ij·x_ij·w1_i]
// Flags p_ij (pairs: none, all, selected, explicit; codes.rs) are those of view-1 row i: selected ones are
// recomputed as 1[lo_i ≤ c_ij < hi_i], c_ij = ĥ_iᵀĥ_{N+j}, accumulated exactly as select.wgsl does.
//
// cross_view (role 0): anchor rows r = view-1 rows, columns c = view-2 rows, pair (i, j) = (r, c); writes
//   ∂L/∂w1 into grad rows 0..N and each row's share of the value, Σ_c (c = r ? −(2/N)·s_rr : e·x²/(N(N−1)))/μ,
//   into partial[r]. role 1: anchors = view-2 rows, columns = view-1 rows, pair (i, j) = (c, r); writes ∂L/∂w2
//   into grad rows N..2N.
// Columns are split into chunks of col_chunk columns over grid z (as in contrastive.wgsl, for the reason given
//   there): chunk q writes its rows' shares into partial[q·N + r] and its partial gradient into
//   grad[q·2N·d + …]; sum_grad adds the chunks in order into grad[0 .. 2N·d].
// finish: one workgroup sums partial (chunks × N) into out[0] = L (a tree in workgroup memory).
//
// Bindings: 0 uniform Params; 1 w (read, 2N × d); 2 hhat (read, 2N × dh); 3 thr (read, N × 2); 4 bits (read,
//           u32, N × N packed); 5 partial (read_write, chunks × N); 6 grad (read_write, chunks × 2N × d: ∂L/∂w
//           in the first); 7 out (read_write).
// Dispatch: cross_view: (⌈N/T⌉, ⌈d/(T·ACC)⌉, chunks) workgroups of T × T threads (T rows (y) against column tiles of
//   T (x)); the T rows × d-slice outputs are dealt round-robin to the threads; grid y = 0 also writes partial.
//   sum_grad: one thread per element of 2N × d (WG per workgroup, folded). finish: (1, 1, 1) of T·T threads.

struct Params {
    n: u32, d: u32, dh: u32, role: u32,
    pairs: u32, removal: u32, col_chunk: u32, chunks: u32,
    mu: f32, margin: f32, _pad2: f32, _pad3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> hhat: array<f32>;
@group(0) @binding(3) var<storage, read> thr: array<f32>;
@group(0) @binding(4) var<storage, read> bits: array<u32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

const T: u32 = {{PAIR_TILE}}u;
const ACC: u32 = {{PAIR_ACC}}u;

var<workgroup> tile_a: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;
var<workgroup> tile_b: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;
var<workgroup> red: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;

// Rows of the anchor view and of the column view, as offsets into w and hhat.
fn anchor_off() -> u32 { return select(0u, p.n, p.role == 1u); }
fn column_off() -> u32 { return select(p.n, 0u, p.role == 1u); }

// Dot products of anchor row (r0 + y) and column row (c0 + x) of `src` (width `cols`) through workgroup tiles;
// every thread calls it (barriers). `use_h` picks hhat (for flags) instead of w.
fn tile_dot(r0: u32, c0: u32, lid: vec3<u32>, use_h: bool) -> f32 {
    var cols = p.d;
    if (use_h) { cols = p.dh; }
    var acc = 0.0;
    for (var t0 = 0u; t0 < cols; t0 += T) {
        let ra = r0 + lid.y;
        let rb = c0 + lid.y;
        let c = t0 + lid.x;
        var va = 0.0;
        var vb = 0.0;
        if (c < cols && ra < p.n) {
            if (use_h) { va = hhat[(anchor_off() + ra) * cols + c]; } else { va = w[(anchor_off() + ra) * cols + c]; }
        }
        if (c < cols && rb < p.n) {
            if (use_h) { vb = hhat[(column_off() + rb) * cols + c]; } else { vb = w[(column_off() + rb) * cols + c]; }
        }
        tile_a[lid.y * T + lid.x] = va;
        tile_b[lid.y * T + lid.x] = vb;
        workgroupBarrier();
        let tmax = min(T, cols - t0);
        for (var tt = 0u; tt < tmax; tt++) {
            acc = dot_step(acc, tile_a[lid.y * T + tt], tile_b[lid.x * T + tt]);
        }
        workgroupBarrier();
    }
    return acc;
}

// p_ij for view-1 row i and view-2 row j (i ≠ j).
fn flagged(i: u32, j: u32, c: f32) -> bool {
    switch p.pairs {
        case {{PAIRS_ALL}}u: { return true; }
        case {{PAIRS_SELECTED}}u: { return thr[2u * i] <= c && c < thr[2u * i + 1u]; }
        case {{PAIRS_EXPLICIT}}u: {
            let e = i * p.n + j;
            return ((bits[e / 32u] >> (e % 32u)) & 1u) == 1u;
        }
        default: { return false; }
    }
}

@compute @workgroup_size({{PAIR_TILE}}, {{PAIR_TILE}}, 1)
fn cross_view(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let r0 = wid.x * T;
    let r = r0 + lid.y;
    let tid = lid.y * T + lid.x;
    let chunk = wid.z;
    let c_end = min((chunk + 1u) * p.col_chunk, p.n);
    // Outputs T rows × dc dimensions, dealt round-robin to the threads as in contrastive.wgsl's row_grad.
    let dim0 = wid.y * T * ACC;
    let dc = min(p.d - dim0, T * ACC);
    let nf = f32(p.n);
    let pair_scale = 1.0 / (nf * (nf - 1.0));
    var acc: array<f32, {{PAIR_ACC}}>;
    for (var a = 0u; a < ACC; a++) { acc[a] = 0.0; }
    var value = 0.0;
    for (var c0 = chunk * p.col_chunk; c0 < c_end; c0 += T) {
        let s = tile_dot(r0, c0, lid, false);
        var ch = 0.0;
        if (p.pairs == {{PAIRS_SELECTED}}u) { ch = tile_dot(r0, c0, lid, true); }
        let c = c0 + lid.x;
        var coef = 0.0;
        if (r < p.n && c < p.n) {
            if (c == r) {
                coef = -2.0 / nf;
                value = value + coef * s;
            } else {
                var i = r;
                var j = c;
                if (p.role == 1u) { i = c; j = r; }
                let f = flagged(i, j, ch);
                if (!(p.removal == 1u && f)) {
                    let x = s + select(0.0, p.margin, f);
                    coef = 2.0 * x * pair_scale;
                    value = value + x * x * pair_scale;
                }
            }
        }
        red[tid] = coef / p.mu;
        workgroupBarrier();
        let kmax = min(T, p.n - c0);
        for (var a = 0u; a < ACC; a++) {
            let e = tid + T * T * a;
            if (e < T * dc) {
                let rr = e / dc;
                let dim = dim0 + e % dc;
                var sum = acc[a];
                for (var kk = 0u; kk < kmax; kk++) {
                    sum = sum + red[rr * T + kk] * w[(column_off() + c0 + kk) * p.d + dim];
                }
                acc[a] = sum;
            }
        }
        workgroupBarrier();
    }
    // This row's share of the value: a tree over the T column lanes.
    red[tid] = value / p.mu;
    workgroupBarrier();
    for (var stride = T / 2u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) { red[tid] = red[tid] + red[tid + stride]; }
        workgroupBarrier();
    }
    if (p.role == 0u && wid.y == 0u && lid.x == 0u && r < p.n) { partial[chunk * p.n + r] = red[tid]; }
    let base = chunk * 2u * p.n * p.d;
    for (var a = 0u; a < ACC; a++) {
        let e = tid + T * T * a;
        let row = r0 + e / dc;
        if (e < T * dc && row < p.n) {
            grad[base + (anchor_off() + row) * p.d + dim0 + e % dc] = acc[a];
        }
    }
}

@compute @workgroup_size({{WG}}, 1, 1)
fn sum_grad(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = folded_group(wid, nwg) * {{WG}}u + lid.x;
    let size = 2u * p.n * p.d;
    if (e >= size) { return; }
    var v = 0.0;
    for (var q = 0u; q < p.chunks; q++) { v = v + grad[q * size + e]; }
    grad[e] = v;
}

@compute @workgroup_size({{PAIR_TILE}}, {{PAIR_TILE}}, 1)
fn finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    let tid = lid.y * T + lid.x;
    var s = 0.0;
    for (var i = tid; i < p.n * p.chunks; i += T * T) { s = s + partial[i]; }
    red[tid] = s;
    workgroupBarrier();
    for (var stride = T * T / 2u; stride > 0u; stride = stride / 2u) {
        if (tid < stride) { red[tid] = red[tid] + red[tid + stride]; }
        workgroupBarrier();
    }
    if (tid == 0u) { out[0] = red[0]; }
}
