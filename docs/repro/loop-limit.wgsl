// reference: colsum
// llvmpipe (Mesa's lavapipe) ends every loop of a shader invocation after 65,535 loop iterations in all and
// carries on: every output row here should be the column sums of z (out[i, c] = Σ_k z[k, c], k over all
// rows), accumulated 16 rows at a time. From about 7,136 rows (446 tiles × ~137 counted iterations) each row
// holds the sum of the first 7,136 rows only, whatever the row count. With `kk < 16u` in place of `kk < kmax`
// the compiler unrolls the inner loop, only ~1,000 iterations are counted, and the result is right at 16,384
// rows. See docs/gpu-large-batch.md; run with
//   cargo run -p spherelab-gpu --release --example wgsl_repro -- docs/repro/loop-limit.wgsl 7168 128
struct Params { rows: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

var<workgroup> ones: array<f32, 256>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let tid = lid.y * 16u + lid.x;
    var acc: array<f32, 8>;
    for (var a = 0u; a < 8u; a++) { acc[a] = 0.0; }
    for (var k0 = 0u; k0 < p.rows; k0 += 16u) {
        ones[tid] = 1.0;
        workgroupBarrier();
        let kmax = min(16u, p.rows - k0);
        for (var a = 0u; a < 8u; a++) {
            let e = tid + 256u * a;
            let dim = e % 128u;
            let r = e / 128u;
            var sum = acc[a];
            for (var kk = 0u; kk < kmax; kk++) {
                sum = sum + ones[r * 16u + kk] * z[(k0 + kk) * 128u + dim];
            }
            acc[a] = sum;
        }
        workgroupBarrier();
    }
    for (var a = 0u; a < 8u; a++) {
        let e = tid + 256u * a;
        grad[(wid.x * 16u + e / 128u) * 128u + e % 128u] = acc[a];
    }
}
