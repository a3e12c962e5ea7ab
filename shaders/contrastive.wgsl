// contrastive.wgsl — InfoNCE, DCL, SupCon and alignment + uniformity: value and gradient, in tiles of the
// similarity matrix (docs/math.md §1.1, §1.3, §1.4, §1.5). Nothing of size (2N)² is stored.
//
// On ẑ (2N × d, rows normalised by normalize.wgsl), s_ik = ẑ_iᵀẑ_k, j(i) = (i + N) mod 2N.
// Flags p_ik (InfoNCE/DCL only; 0 for k ∈ {i, j(i)}): pairs (codes.rs) = none, all, selected — recomputed as
// 1[lo_i ≤ c_ik < hi_i] with c_ik = ĥ_iᵀĥ_k accumulated exactly as select.wgsl does —, explicit (bits).
// Logits per kind:
//   InfoNCE/DCL: a_ik = s_ik(1 − p_ik)/τ (removal), else (s_ik + σp_ik)/τ_ik, τ_ik = τ(ρp_ik + 1 − p_ik)
//   SupCon:      a_ik = s_ik/τ
//   align-unif:  a_ik = −t‖ẑ_i − ẑ_k‖² = 2t·s_ik − 2t, for k ≠ i in the same view as i
// Denominator sets D(i): k ≠ i (InfoNCE, SupCon), k ∉ {i, j(i)} (DCL), same view k ≠ i (align-unif).
//
// Columns are split into chunks of C = col_chunk columns (a multiple of T; sizes.rs bounds it), one per
// grid z, so that no workgroup walks more than C columns whatever the batch: one workgroup looping over
// thousands of column tiles is what Mesa's lavapipe computed wrong (docs/gpu-large-batch.md). Each chunk
// writes partial results; a second pass combines them in chunk order, so the result is deterministic.
// row_stats (pass 1): per row and column chunk c, online max-shifted log-sum-exp over the chunk's tiles:
//   m_i = max_{k∈D(i)} a_ik, l_i = Σ_{k∈D(i)} exp(a_ik − m_i); pos_i = a_{i,j(i)} (InfoNCE/DCL),
//   Σ_{p∈P(i)} a_ip (SupCon), ‖ẑ_i − ẑ_{j(i)}‖² (align-unif); npos_i = |P(i)| (SupCon); written to
//   stats[4((1 + c)·rows + i) ..+4] = (m, l, pos, npos).
// merge_stats: per row, the chunks' (m, l) merged in chunk order (m = max, l = Σ l_c·exp(m_c − m)), pos and
//   npos summed: stats[4i..4i+4].
// finish: one workgroup reduces the rows into the value and the constants the gradient needs:
//   InfoNCE/DCL: ℓ_i = −pos_i + m_i + log l_i, L = (1/2N) Σ ℓ_i, w = 1/2N
//   SupCon:      ℓ_i = m_i + log l_i − pos_i/npos_i over the V rows with npos_i > 0, L = (1/V) Σ ℓ_i, w = 1/V
//   align-unif:  per view v, M_v = max m_i, S_v = Σ l_i·exp(m_i − M_v), L_unif(v) = M_v + log S_v − log(N(N−1))
//                (mean over i≠j = mean over i<j); L = w_a·(1/N)Σ_{i<N}‖ẑ1_i − ẑ2_i‖^α + w_u·(L_u(1) + L_u(2))/2.
//                metric = 1 instead writes [(1/N) Σ‖ẑ1_i − ẑ2_i‖², L_unif(1)].
//   out[0] = L, out[1] = w, out[2..6] = (M_1, S_1, M_2, S_2).
// row_grad (pass 2): ∂L/∂ẑ_i = Σ_k (G_ik + G_ki)·ẑ_k with G_ik = ∂L/∂a_ik · ∂a_ik/∂s_ik, recomputing each
//   tile's s (and c for flags); G_ki uses row k's stats. Chunk c sums over its columns k into
//   grad[(c·rows + i)·d + dim]; sum_grad then adds the chunks in order into grad[i·d + dim] (and the
//   alignment term). ∂L/∂a_ik:
//   InfoNCE/DCL: w·(1[k∈D(i)]·exp(a_ik − m_i)/l_i − 1[k = j(i)])
//   SupCon:      w·(exp(a_ik − m_i)/l_i − 1[k∈P(i)]/npos_i) for rows with npos_i > 0, else 0
//   align-unif:  (w_u/2)·exp(a_ik − M_v)/S_v, ∂a/∂s = 2t; plus the alignment term w_a·(α/N)·‖δ_i‖^(α−2)·δ_i,
//                δ_i = ẑ_i − ẑ_{j(i)}.
//   The gradient with respect to z is then normalize.wgsl's backward.
//
// Bindings: 0 uniform Params; 1 zhat (read); 2 hhat (read); 3 thr (read, rows × 2); 4 bits (read, u32);
//           5 labels (read, f32 class ids); 6 stats (read_write, (1 + chunks)·rows × 4); 7 out (read_write,
//           8 values); 8 grad (read_write, chunks·rows × d: the chunks' partial ∂L/∂ẑ, the sum in the first).
// Dispatch: row_stats: (⌈2N/T⌉, 1, chunks) workgroups of T × T threads: a block of T rows (y) against the
//   chunk's column tiles of T (x), walked in order; each thread keeps its own online (m, l) and a tree over
//   x merges them. merge_stats: ⌈2N/WG⌉ workgroups of WG threads (folded), one thread per row.
//   row_grad: (⌈2N/T⌉, ⌈d/(T·ACC)⌉, chunks): y of the grid picks a slice of T·ACC output dimensions; the
//   T rows × slice outputs are dealt round-robin to the T·T threads (at most ACC each). sum_grad: one thread
//   per element of ∂L/∂ẑ (folded). finish: (1, 1, 1) workgroup of T·T threads.

struct Params {
    rows: u32, n: u32, d: u32, dh: u32,
    kind: u32, pairs: u32, removal: u32, metric: u32,
    tau: f32, sigma: f32, rho: f32, t: f32,
    alpha: f32, w_align: f32, w_unif: f32, _pad0: f32,
    col_chunk: u32, chunks: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> zhat: array<f32>;
@group(0) @binding(2) var<storage, read> hhat: array<f32>;
@group(0) @binding(3) var<storage, read> thr: array<f32>;
@group(0) @binding(4) var<storage, read> bits: array<u32>;
@group(0) @binding(5) var<storage, read> labels: array<f32>;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad: array<f32>;

const T: u32 = {{PAIR_TILE}}u;
const ACC: u32 = {{PAIR_ACC}}u;
const KIND_INFONCE: u32 = {{LOSS_INFONCE}}u;
const KIND_DCL: u32 = {{LOSS_DCL}}u;
const KIND_SUPCON: u32 = {{LOSS_SUPCON}}u;
const KIND_AU: u32 = {{LOSS_ALIGN_UNIFORM}}u;
const NEG_BIG: f32 = -3.0e38;

var<workgroup> tile_i: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;
var<workgroup> tile_k: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;
var<workgroup> red_m: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;
var<workgroup> red_l: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;
var<workgroup> red_a: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;
var<workgroup> red_b: array<f32, {{PAIR_TILE}} * {{PAIR_TILE}}>;

fn partner(i: u32) -> u32 { return (i + p.n) % p.rows; }
fn view_of(i: u32) -> u32 { return select(0u, 1u, i >= p.n); }

// Dot products of rows (i0 + y) and (k0 + x) of `src` (cols wide) through workgroup tiles; every thread of
// the workgroup must call it (it has barriers). Rows past the end read as zeros. Accumulates in dimension
// order with dot_step, as select.wgsl.
fn tile_dot_z(i0: u32, k0: u32, lid: vec3<u32>) -> f32 {
    var acc = 0.0;
    for (var t0 = 0u; t0 < p.d; t0 += T) {
        let ri = i0 + lid.y;
        let rk = k0 + lid.y;
        let c = t0 + lid.x;
        tile_i[lid.y * T + lid.x] = select(0.0, zhat[ri * p.d + c], ri < p.rows && c < p.d);
        tile_k[lid.y * T + lid.x] = select(0.0, zhat[rk * p.d + c], rk < p.rows && c < p.d);
        workgroupBarrier();
        let tmax = min(T, p.d - t0);
        for (var tt = 0u; tt < tmax; tt++) {
            acc = dot_step(acc, tile_i[lid.y * T + tt], tile_k[lid.x * T + tt]);
        }
        workgroupBarrier();
    }
    return acc;
}

fn tile_dot_h(i0: u32, k0: u32, lid: vec3<u32>) -> f32 {
    var acc = 0.0;
    for (var t0 = 0u; t0 < p.dh; t0 += T) {
        let ri = i0 + lid.y;
        let rk = k0 + lid.y;
        let c = t0 + lid.x;
        tile_i[lid.y * T + lid.x] = select(0.0, hhat[ri * p.dh + c], ri < p.rows && c < p.dh);
        tile_k[lid.y * T + lid.x] = select(0.0, hhat[rk * p.dh + c], rk < p.rows && c < p.dh);
        workgroupBarrier();
        let tmax = min(T, p.dh - t0);
        for (var tt = 0u; tt < tmax; tt++) {
            acc = dot_step(acc, tile_i[lid.y * T + tt], tile_k[lid.x * T + tt]);
        }
        workgroupBarrier();
    }
    return acc;
}

fn label_of(i: u32) -> i32 { return i32(round(labels[i])); }

fn flagged(i: u32, k: u32, c: f32) -> bool {
    if (k == i || k == partner(i)) { return false; }
    switch p.pairs {
        case {{PAIRS_ALL}}u: { return true; }
        case {{PAIRS_SELECTED}}u: { return thr[2u * i] <= c && c < thr[2u * i + 1u]; }
        case {{PAIRS_EXPLICIT}}u: {
            let e = i * p.rows + k;
            return ((bits[e / 32u] >> (e % 32u)) & 1u) == 1u;
        }
        default: { return false; }
    }
}

fn in_denominator(i: u32, k: u32) -> bool {
    if (k == i || k >= p.rows) { return false; }
    if (p.kind == KIND_DCL) { return k != partner(i); }
    if (p.kind == KIND_AU) { return view_of(k) == view_of(i); }
    return true;
}

// (a_ik, ∂a_ik/∂s_ik) for a pair in the denominator or the positive.
fn logit(i: u32, k: u32, s: f32, c: f32) -> vec2<f32> {
    if (p.kind == KIND_SUPCON) { return vec2<f32>(s / p.tau, 1.0 / p.tau); }
    if (p.kind == KIND_AU) { return vec2<f32>(2.0 * p.t * s - 2.0 * p.t, 2.0 * p.t); }
    let f = flagged(i, k, c);
    if (p.removal == 1u) {
        if (f) { return vec2<f32>(0.0, 0.0); }
        return vec2<f32>(s / p.tau, 1.0 / p.tau);
    }
    if (f) {
        let tau_ik = p.tau * p.rho;
        return vec2<f32>((s + p.sigma) / tau_ik, 1.0 / tau_ik);
    }
    return vec2<f32>(s / p.tau, 1.0 / p.tau);
}

fn is_positive(i: u32, k: u32) -> bool {
    if (p.kind == KIND_SUPCON) { return k != i && label_of(k) == label_of(i); }
    return k == partner(i);
}

@compute @workgroup_size({{PAIR_TILE}}, {{PAIR_TILE}}, 1)
fn row_stats(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let i0 = wid.x * T;
    let i = i0 + lid.y;
    let chunk = wid.z;
    let k_end = min((chunk + 1u) * p.col_chunk, p.rows);
    var m = NEG_BIG;
    var l = 0.0;
    var pos = 0.0;
    var npos = 0.0;
    for (var k0 = chunk * p.col_chunk; k0 < k_end; k0 += T) {
        let s = tile_dot_z(i0, k0, lid);
        var c = 0.0;
        if (p.pairs == {{PAIRS_SELECTED}}u) { c = tile_dot_h(i0, k0, lid); }
        let k = k0 + lid.x;
        if (i < p.rows && k < p.rows) {
            let a = logit(i, k, s, c).x;
            if (in_denominator(i, k)) {
                let m_new = max(m, a);
                l = l * exp(m - m_new) + exp(a - m_new);
                m = m_new;
            }
            if (p.kind == KIND_AU) {
                if (k == partner(i)) { pos = max(2.0 - 2.0 * s, 0.0); }
            } else if (is_positive(i, k)) {
                pos = pos + a;
                npos = npos + 1.0;
            }
        }
    }
    // Merge the T column lanes of each row: a tree over x.
    let slot = lid.y * T + lid.x;
    red_m[slot] = m;
    red_l[slot] = l;
    red_a[slot] = pos;
    red_b[slot] = npos;
    workgroupBarrier();
    for (var stride = T / 2u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            let m1 = red_m[slot];
            let m2 = red_m[slot + stride];
            let mm = max(m1, m2);
            red_l[slot] = red_l[slot] * exp(m1 - mm) + red_l[slot + stride] * exp(m2 - mm);
            red_m[slot] = mm;
            red_a[slot] = red_a[slot] + red_a[slot + stride];
            red_b[slot] = red_b[slot] + red_b[slot + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u && i < p.rows) {
        let b = 4u * ((1u + chunk) * p.rows + i);
        stats[b] = red_m[slot];
        stats[b + 1u] = red_l[slot];
        stats[b + 2u] = red_a[slot];
        stats[b + 3u] = red_b[slot];
    }
}

@compute @workgroup_size({{WG}}, 1, 1)
fn merge_stats(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = folded_group(wid, nwg) * {{WG}}u + lid.x;
    if (i >= p.rows) { return; }
    var m = NEG_BIG;
    var l = 0.0;
    var pos = 0.0;
    var npos = 0.0;
    for (var c = 0u; c < p.chunks; c++) {
        let b = 4u * ((1u + c) * p.rows + i);
        let mc = stats[b];
        let mm = max(m, mc);
        l = l * exp(m - mm) + stats[b + 1u] * exp(mc - mm);
        m = mm;
        pos = pos + stats[b + 2u];
        npos = npos + stats[b + 3u];
    }
    stats[4u * i] = m;
    stats[4u * i + 1u] = l;
    stats[4u * i + 2u] = pos;
    stats[4u * i + 3u] = npos;
}

// Tree sum (or max) over the T·T threads of the finish workgroup, in red_a.
fn tree_sum(tid: u32, v: f32) -> f32 {
    workgroupBarrier();
    red_a[tid] = v;
    workgroupBarrier();
    for (var stride = T * T / 2u; stride > 0u; stride = stride / 2u) {
        if (tid < stride) { red_a[tid] = red_a[tid] + red_a[tid + stride]; }
        workgroupBarrier();
    }
    return red_a[0];
}

fn tree_max(tid: u32, v: f32) -> f32 {
    workgroupBarrier();
    red_a[tid] = v;
    workgroupBarrier();
    for (var stride = T * T / 2u; stride > 0u; stride = stride / 2u) {
        if (tid < stride) { red_a[tid] = max(red_a[tid], red_a[tid + stride]); }
        workgroupBarrier();
    }
    return red_a[0];
}

@compute @workgroup_size({{PAIR_TILE}}, {{PAIR_TILE}}, 1)
fn finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    let tid = lid.y * T + lid.x;
    let nt = T * T;
    if (p.kind == KIND_AU) {
        var ms = array<f32, 2>(0.0, 0.0);
        var ss = array<f32, 2>(0.0, 0.0);
        var lu = array<f32, 2>(0.0, 0.0);
        for (var v = 0u; v < 2u; v++) {
            var mloc = NEG_BIG;
            for (var i = v * p.n + tid; i < (v + 1u) * p.n; i += nt) { mloc = max(mloc, stats[4u * i]); }
            let mv = tree_max(tid, mloc);
            var sloc = 0.0;
            for (var i = v * p.n + tid; i < (v + 1u) * p.n; i += nt) {
                sloc = sloc + stats[4u * i + 1u] * exp(stats[4u * i] - mv);
            }
            let sv = tree_sum(tid, sloc);
            ms[v] = mv;
            ss[v] = sv;
            let nf = f32(p.n);
            lu[v] = mv + log(sv) - log(nf * (nf - 1.0));
        }
        var aloc = 0.0;
        var a2loc = 0.0;
        for (var i = tid; i < p.n; i += nt) {
            let d2 = stats[4u * i + 2u];
            aloc = aloc + pow(d2, 0.5 * p.alpha);
            a2loc = a2loc + d2;
        }
        let align_a = tree_sum(tid, aloc) / f32(p.n);
        let align_2 = tree_sum(tid, a2loc) / f32(p.n);
        if (tid == 0u) {
            if (p.metric == 1u) {
                out[0] = align_2;
                out[1] = lu[0];
            } else {
                out[0] = p.w_align * align_a + p.w_unif * 0.5 * (lu[0] + lu[1]);
                out[1] = 0.5 * p.w_unif;
            }
            out[2] = ms[0];
            out[3] = ss[0];
            out[4] = ms[1];
            out[5] = ss[1];
        }
        return;
    }
    var sum = 0.0;
    var valid = 0.0;
    for (var i = tid; i < p.rows; i += nt) {
        let m = stats[4u * i];
        let l = stats[4u * i + 1u];
        let pos = stats[4u * i + 2u];
        let npos = stats[4u * i + 3u];
        if (p.kind == KIND_SUPCON) {
            if (npos > 0.0) {
                sum = sum + m + log(l) - pos / npos;
                valid = valid + 1.0;
            }
        } else {
            sum = sum + m + log(l) - pos;
            valid = valid + 1.0;
        }
    }
    let total = tree_sum(tid, sum);
    let count = tree_sum(tid, valid);
    if (tid == 0u) {
        if (count > 0.0) {
            out[0] = total / count;
            out[1] = 1.0 / count;
        } else {
            out[0] = 0.0;
            out[1] = 0.0;
        }
    }
}

// G_ik = ∂L/∂a_ik · ∂a_ik/∂s_ik for the ordered pair (i, k), k ≠ i.
fn pair_grad(i: u32, k: u32, s: f32, c: f32) -> f32 {
    if (k == i || k >= p.rows || i >= p.rows) { return 0.0; }
    let w = out[1];
    let m = stats[4u * i];
    let l = stats[4u * i + 1u];
    if (p.kind == KIND_AU) {
        if (!in_denominator(i, k)) { return 0.0; }
        let v = view_of(i);
        let a = 2.0 * p.t * s - 2.0 * p.t;
        return w * exp(a - out[2u + 2u * v]) / out[3u + 2u * v] * 2.0 * p.t;
    }
    let ad = logit(i, k, s, c);
    var dl_da = 0.0;
    if (in_denominator(i, k)) { dl_da = exp(ad.x - m) / l; }
    if (p.kind == KIND_SUPCON) {
        let npos = stats[4u * i + 3u];
        if (npos == 0.0) { return 0.0; }
        if (is_positive(i, k)) { dl_da = dl_da - 1.0 / npos; }
    } else if (k == partner(i)) {
        dl_da = dl_da - 1.0;
    }
    return w * dl_da * ad.y;
}

@compute @workgroup_size({{PAIR_TILE}}, {{PAIR_TILE}}, 1)
fn row_grad(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let i0 = wid.x * T;
    let i = i0 + lid.y;
    let tid = lid.y * T + lid.x;
    let chunk = wid.z;
    let k_end = min((chunk + 1u) * p.col_chunk, p.rows);
    // This workgroup's outputs: T rows × dc dimensions from dim0, flattened as e = r·dc + (dim − dim0), and
    // dealt to the T·T threads round-robin (e = tid + T·T·a), so small d keeps every thread busy.
    let dim0 = wid.y * T * ACC;
    let dc = min(p.d - dim0, T * ACC);
    var acc: array<f32, {{PAIR_ACC}}>;
    for (var a = 0u; a < ACC; a++) { acc[a] = 0.0; }
    for (var k0 = chunk * p.col_chunk; k0 < k_end; k0 += T) {
        let s = tile_dot_z(i0, k0, lid);
        var c = 0.0;
        if (p.pairs == {{PAIRS_SELECTED}}u) { c = tile_dot_h(i0, k0, lid); }
        let k = k0 + lid.x;
        // s and c are symmetric (the same products summed in the same order), so (k, i) reuses them.
        let g = pair_grad(i, k, s, c) + pair_grad(k, i, s, c);
        red_m[tid] = g;
        workgroupBarrier();
        let kmax = min(T, p.rows - k0);
        for (var a = 0u; a < ACC; a++) {
            let e = tid + T * T * a;
            if (e < T * dc) {
                let r = e / dc;
                let dim = dim0 + e % dc;
                var sum = acc[a];
                for (var kk = 0u; kk < kmax; kk++) {
                    sum = sum + red_m[r * T + kk] * zhat[(k0 + kk) * p.d + dim];
                }
                acc[a] = sum;
            }
        }
        workgroupBarrier();
    }
    let base = chunk * p.rows * p.d;
    for (var a = 0u; a < ACC; a++) {
        let e = tid + T * T * a;
        let row = i0 + e / dc;
        if (e < T * dc && row < p.rows) {
            grad[base + row * p.d + dim0 + e % dc] = acc[a];
        }
    }
}

@compute @workgroup_size({{WG}}, 1, 1)
fn sum_grad(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = folded_group(wid, nwg) * {{WG}}u + lid.x;
    let size = p.rows * p.d;
    if (e >= size) { return; }
    var v = 0.0;
    for (var c = 0u; c < p.chunks; c++) { v = v + grad[c * size + e]; }
    if (p.kind == KIND_AU && p.w_align != 0.0) {
        // Alignment: ∂/∂ẑ_i of w_a·(1/N)·‖δ_i‖^α = w_a·(α/N)·‖δ_i‖^(α−2)·δ_i.
        let row = e / p.d;
        let dim = e % p.d;
        let d2 = stats[4u * row + 2u];
        var coef = 0.0;
        if (d2 > 0.0) { coef = p.w_align * p.alpha / f32(p.n) * pow(d2, 0.5 * p.alpha - 1.0); }
        v = v + coef * (zhat[row * p.d + dim] - zhat[partner(row) * p.d + dim]);
    }
    grad[e] = v;
}
