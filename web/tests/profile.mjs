// Where the page's training step goes (issue 14 item 3): opens `?bench=cpu` in headless Chromium with V8's
// sampling profiler on (Chrome DevTools Protocol), keeps the samples taken inside a training step, and prints
// for T1-plain and T1-selected the share of each part of the step and the functions with the most self time.
// The page's steps/s are printed too, but the profiler slows the page: time with web/tests/bench.mjs.
//
// Needs a build that keeps the functions' names:
//   SPHERELAB_WASM_NAMES=1 ./web/build.sh && python3 -m http.server -d web/dist 8080 &
//   node web/tests/profile.mjs http://localhost:8080/
// Every function is compiled by the optimising tier before it first runs (--no-liftoff), so the samples are
// of the code the bench times, not of the baseline code the page starts on.
import { chromium } from "playwright-core";

const [base] = process.argv.slice(2);
if (!base) {
  console.error("usage: node web/tests/profile.mjs URL   (of a build made with SPHERELAB_WASM_NAMES=1)");
  process.exit(2);
}

// The parts of a step, by the functions on a sample's stack (first match wins).
const PARTS = [
  ["selection (cosines, thresholds, flags)", /selection::/],
  // d ≥ 5: S = ẐẐᵀ and (G + Gᵀ)·Ẑ are GEMMs under the loss. A thin Ẑ (T1, d = 3) has none: S's rows, the
  // softmax and (G + Gᵀ)·Ẑ are one fused loop (ops/loss/mod.rs `thin`), inlined into the loss's own function.
  ["loss: products (S = ẐẐᵀ, (G + Gᵀ)·Ẑ; d ≥ 5)", /(infonce|dcl|supcon)::.*\b(product|gemm|add_transpose)/],
  ["loss: rows (for a thin Ẑ with S's rows and (G + Gᵀ)·Ẑ)", /(infonce|dcl|supcon)::|similarity_loss/],
  ["forward: products", /Model<T>::forward.*\b(product|gemm)/],
  ["forward: the rest", /Model<T>::forward/],
  ["backward: products", /\b(product|gemm)/],
];
const STEP = /Trainer<B>::step/;
// T1-selected is told apart from T1-plain by its selection functions: the page starts the second case in
// the frame that finishes the first, so there is no frame boundary between them.
const SECOND_CASE = /selection::(cosine_similarities|thresholds_from_cosines)/;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--js-flags=--no-liftoff"],
});
let profile, rows;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 }); // µs
  await cdp.send("Profiler.start");
  await page.goto(new URL("?bench=cpu", base).toString());
  await page.waitForFunction(() => window.spherelab?.bench?.done === true, null, { timeout: 300_000 });
  profile = (await cdp.send("Profiler.stop")).profile;
  rows = await page.evaluate(() => window.spherelab.bench.rows);
} finally {
  await browser.close();
}

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const strip = (name) => name.replace(/::h[0-9a-f]{16}$/, "");
const stacks = new Map(); // node id → its frames, leaf first
const stackOf = (id) => {
  if (!stacks.has(id)) {
    const frames = [];
    for (let n = id; n !== undefined; n = parent.get(n)) frames.push(strip(byId.get(n).callFrame.functionName));
    stacks.set(id, frames);
  }
  return stacks.get(id);
};
if (!profile.nodes.some((n) => STEP.test(n.callFrame.functionName))) {
  console.error("error: no function is named in the profile: build with SPHERELAB_WASM_NAMES=1 ./web/build.sh");
  process.exit(1);
}

const cases = [
  { name: "T1-plain", us: 0, parts: new Map(), self: new Map() },
  { name: "T1-selected", us: 0, parts: new Map(), self: new Map() },
];
let current = 0;
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
profile.samples.forEach((id, i) => {
  const frames = stackOf(id);
  if (!frames.some((f) => STEP.test(f))) return;
  if (current === 0 && frames.some((f) => SECOND_CASE.test(f))) current = 1;
  const us = profile.timeDeltas[i + 1] ?? 0;
  const c = cases[current];
  c.us += us;
  // Frames from the step down to the leaf, joined, so a pattern can ask "a product under the forward pass".
  const below = frames.slice(0, frames.findIndex((f) => STEP.test(f))).reverse().join(" > ");
  add(c.parts, (PARTS.find(([, re]) => re.test(below)) ?? ["the rest"])[0], us);
  add(c.self, frames[0], us);
});

for (const c of cases) {
  const row = rows.find((r) => r.case === c.name);
  const rate = row?.stepsPerSecond ? `${row.stepsPerSecond.toFixed(1)} steps/s under the profiler` : row?.error;
  console.log(`\n${c.name}: ${(c.us / 1000).toFixed(0)} ms of samples inside a step (${rate})`);
  console.log("| part of the step | share |\n|---|---:|");
  for (const [part, us] of [...c.parts].sort((a, b) => b[1] - a[1])) {
    console.log(`| ${part} | ${((100 * us) / c.us).toFixed(1)} % |`);
  }
  console.log("functions with the most self time:");
  for (const [f, us] of [...c.self].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`  ${((100 * us) / c.us).toFixed(1).padStart(5)} %  ${f.slice(0, 120)}`);
  }
}
