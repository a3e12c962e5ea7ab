// The WGSL reproducer of issue 15 (docs/repro/*.wgsl, as run natively by `cargo run -p spherelab-gpu
// --example wgsl_repro`) in headless Chromium's WebGPU — SwiftShader there, a different compiler from Mesa's
// llvmpipe. Every output row of a `// reference: colsum` kernel must be the column sums of z.
//
// Usage (from web/tests, after npm ci): node wgsl-repro.mjs ../../docs/repro/loop-limit.wgsl ROWS [ROWS ...]
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [file, ...rowArgs] = process.argv.slice(2);
if (!file || rowArgs.length === 0) {
  console.error("usage: node wgsl-repro.mjs KERNEL.wgsl ROWS [ROWS ...]");
  process.exit(2);
}
const source = readFileSync(file, "utf8");
if (!source.startsWith("// reference: colsum")) {
  console.error(`error: ${file} is not a colsum kernel (its first line must be "// reference: colsum")`);
  process.exit(2);
}
// WebGPU needs a secure context: a page from 127.0.0.1 is one.
const server = createServer((_, res) => res.end("<!doctype html><title>repro</title>"));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = server.address().port;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=native"],
});
let failed = false;
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  for (const rows of rowArgs.map(Number)) {
    const r = await page.evaluate(async ({ source, rows }) => {
      const d = 128;
      const adapter = await navigator.gpu?.requestAdapter();
      if (!adapter) return { error: "no WebGPU adapter" };
      const info = adapter.info || {};
      const device = await adapter.requestDevice();
      // The same inputs as the native harness: xorshift64 from the same seed, top 24 bits, minus 0.5.
      let s = 0x9e3779b97f4a7c15n;
      const mask = (1n << 64n) - 1n;
      const z = new Float32Array(rows * d);
      for (let i = 0; i < z.length; i++) {
        s ^= (s << 13n) & mask;
        s ^= s >> 7n;
        s ^= (s << 17n) & mask;
        z[i] = Number(s >> 40n) / 16777216 - 0.5;
      }
      const mk = (data, usage) => {
        const b = device.createBuffer({ size: data.byteLength, usage, mappedAtCreation: true });
        new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer));
        b.unmap();
        return b;
      };
      const params = mk(new Uint32Array([rows, d, 0, 0]), GPUBufferUsage.UNIFORM);
      const zb = mk(z, GPUBufferUsage.STORAGE);
      const bytes = rows * d * 4;
      const out = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const module = device.createShaderModule({ code: source });
      const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [0, 1, 2].map((i) => ({ binding: i, resource: { buffer: [params, zb, out][i] } })),
      });
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(Math.ceil(rows / 16), Math.ceil(d / 128), 1);
      pass.end();
      enc.copyBufferToBuffer(out, 0, staging, 0, bytes);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const got = new Float32Array(staging.getMappedRange().slice(0));
      const sums = new Float64Array(d);
      for (let k = 0; k < rows; k++) for (let c = 0; c < d; c++) sums[c] += z[k * d + c];
      const scale = Math.max(...sums.map(Math.abs));
      let zeroRows = 0, wrongRows = 0, worst = 0;
      for (let i = 0; i < rows; i++) {
        let zero = true, err = 0;
        for (let c = 0; c < d; c++) {
          const v = got[i * d + c];
          if (v !== 0) zero = false;
          err = Math.max(err, Math.abs(v - sums[c]));
        }
        worst = Math.max(worst, err);
        if (zero) zeroRows++;
        else if (err > 1e-4 * scale) wrongRows++;
      }
      return { adapter: `${info.vendor || "?"} ${info.architecture || ""} ${info.description || ""}`.trim(), zeroRows, wrongRows, worst, scale };
    }, { source, rows });
    if (r.error) {
      console.log(`error: ${r.error}`);
      failed = true;
      break;
    }
    const ok = r.zeroRows === 0 && r.wrongRows === 0;
    failed ||= !ok;
    console.log(`${file} at ${rows} × 128 on ${r.adapter}: rows exactly 0: ${r.zeroRows}, other rows wrong: ${r.wrongRows}, worst abs error ${r.worst.toExponential(3)} (scale ${r.scale.toExponential(3)}) ${ok ? "RIGHT" : "WRONG"}`);
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
