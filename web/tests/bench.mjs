// The browser's bench (issue 14 item 3): opens the built site with `?bench`, which times T1-plain and
// T1-selected training steps in the page on the CPU engine (wasm, one thread) and on WebGPU (SwiftShader in
// headless Chromium), and prints the table. web/test.sh runs it and prints the native figures beside it.
//
// Usage (from the repository root, with web/dist served): node web/tests/bench.mjs URL [cpu]
//   cpu: `?bench=cpu`, the CPU engine only (the WebGPU cases take minutes on SwiftShader)
import { chromium } from "playwright-core";

const [base, only] = process.argv.slice(2);
if (!base) {
  console.error("usage: node web/tests/bench.mjs URL");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=native"],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(new URL(only === "cpu" ? "?bench=cpu" : "?bench", base).toString());
  await page.waitForFunction(() => window.spherelab?.bench?.done === true, null, { timeout: 300_000 });
  const { rows, ceiling } = await page.evaluate(() => window.spherelab.bench);
  // The page's own limit, timed in the page (crates/app/src/page_ceiling.rs): a CPU case's GFLOP/s beside it.
  console.log(ceiling?.gflops > 0 ? `page ceiling: ${ceiling.gflops.toFixed(1)} GFLOP/s = ${ceiling.how}`
    : `page ceiling: ${ceiling?.error ?? "not timed"}`);
  console.log("| case | backend (browser) | steps/s | GFLOP/s | % of page ceiling |");
  console.log("|---|---|---:|---:|---:|");
  for (const r of rows) {
    const cell = r.stepsPerSecond !== undefined ? r.stepsPerSecond.toFixed(1) : `— (${r.error})`;
    const gflops = r.gflops !== undefined ? r.gflops.toFixed(1) : "—";
    const share = r.shareOfCeiling !== undefined ? `${(100 * r.shareOfCeiling).toFixed(1)} %` : "—";
    console.log(`| ${r.case} | ${r.backend} | ${cell} | ${gflops} | ${share} |`);
    // The CPU engine runs everywhere: a CPU row without a figure is a failure; WebGPU may be missing.
    if (r.backend.startsWith("cpu") && !(r.stepsPerSecond > 0)) failed = true;
  }
  // The ceiling is timed before any case: a page that could not time it has a broken clock or loop.
  if (!(ceiling?.gflops > 0)) {
    console.error("error: the page did not time its ceiling");
    failed = true;
  }
} catch (e) {
  console.error(`error: the ?bench page did not finish: ${e.message}`);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
