// Issue 15, the shape of the pre-fix row_grad (shaders/contrastive.wgsl at 9496e1b, InfoNCE terms left out):
// grad = (Z Zᵀ) Z through 16 × 16 shared tiles, every column tile of Z walked by one workgroup. On llvmpipe
// rows 2–15 of every 16-row tile come back exactly 0 from 3,584 rows × 128 on (docs/gpu-large-batch.md).
struct Params { rows: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

const T: u32 = 16u;
const ACC: u32 = 8u;
var<workgroup> tile_i: array<f32, 256>;
var<workgroup> tile_k: array<f32, 256>;
var<workgroup> red: array<f32, 256>;

fn tile_dot(i0: u32, k0: u32, lid: vec3<u32>) -> f32 {
    var acc = 0.0;
    for (var t0 = 0u; t0 < p.d; t0 += T) {
        let ri = i0 + lid.y;
        let rk = k0 + lid.y;
        let c = t0 + lid.x;
        tile_i[lid.y * T + lid.x] = select(0.0, z[ri * p.d + c], ri < p.rows && c < p.d);
        tile_k[lid.y * T + lid.x] = select(0.0, z[rk * p.d + c], rk < p.rows && c < p.d);
        workgroupBarrier();
        let tmax = min(T, p.d - t0);
        for (var tt = 0u; tt < tmax; tt++) {
            acc = acc + tile_i[lid.y * T + tt] * tile_k[lid.x * T + tt];
        }
        workgroupBarrier();
    }
    return acc;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let i0 = wid.x * T;
    let tid = lid.y * T + lid.x;
    let dim0 = wid.y * T * ACC;
    let dc = min(p.d - dim0, T * ACC);
    var acc: array<f32, 8>;
    for (var a = 0u; a < ACC; a++) { acc[a] = 0.0; }
    for (var k0 = 0u; k0 < p.rows; k0 += T) {
        let s = tile_dot(i0, k0, lid);
        red[tid] = s;
        workgroupBarrier();
        let kmax = min(T, p.rows - k0);
        for (var a = 0u; a < ACC; a++) {
            let e = tid + T * T * a;
            if (e >= T * dc) { break; }
            let r = e / dc;
            let dim = dim0 + e % dc;
            var sum = acc[a];
            for (var kk = 0u; kk < kmax; kk++) {
                sum = sum + red[r * T + kk] * z[(k0 + kk) * p.d + dim];
            }
            acc[a] = sum;
        }
        workgroupBarrier();
    }
    for (var a = 0u; a < ACC; a++) {
        let e = tid + T * T * a;
        if (e >= T * dc) { break; }
        let row = i0 + e / dc;
        let dim = dim0 + e % dc;
        if (row >= p.rows) { continue; }
        grad[row * p.d + dim] = acc[a];
    }
}
