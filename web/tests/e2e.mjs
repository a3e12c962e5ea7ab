// spherelab's browser test: the built site (web/dist, served by web/test.sh) in headless Chromium, twice —
// with WebGPU (the run must train on the GPU) and without (it must fall back to the CPU) — plus links that
// carry a configuration, a broken link, the back button and a panic, on the CPU.
//
// Each run checks what a visitor would see: the page loads, says which backend computes, trains (step and
// loss read from `window.spherelab`, the status object the app keeps up to date), the loss falls below its
// starting value, and the screenshot is not blank (its pixels are counted). Screenshots go to out/.
//
// Usage: node e2e.mjs http://127.0.0.1:PORT/
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const base = process.argv[2];
if (!base) {
  console.error("usage: node e2e.mjs http://127.0.0.1:PORT/");
  process.exit(2);
}
const out = join(dirname(fileURLToPath(import.meta.url)), "out");
mkdirSync(out, { recursive: true });

// Flags every launch needs on a build machine (no sandbox for root, no network chatter, no updates).
const common = [
  "--no-sandbox",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];
// Headless WebGPU: a SwiftShader adapter through Vulkan. Without these flags there is no adapter.
const webgpu = ["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=native"];
const STEPS = Number(process.env.SPHERELAB_E2E_STEPS || 150);

let failures = 0;
function check(ok, what) {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

async function status(page) {
  return page.evaluate(() => ({ ...(window.spherelab || {}) }));
}

/// Waits until `pred(status)` holds; returns the last status either way.
async function waitFor(page, pred, timeoutMs) {
  const start = Date.now();
  let s = await status(page);
  while (!pred(s) && !s.error && Date.now() - start < timeoutMs) {
    await page.waitForTimeout(250);
    s = await status(page);
  }
  return s;
}

/// Counts what a screenshot shows: the PNG is decoded by the page itself (no image library needed here).
async function pixelStats(page, png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = "data:image/png;base64," + b64;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    const counts = new Map();
    for (let i = 0; i < d.length; i += 4) {
      const key = (d[i] >> 3) << 10 | (d[i + 1] >> 3) << 5 | (d[i + 2] >> 3);
      colours.add(key);
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    const top = Math.max(...counts.values());
    return { width: c.width, height: c.height, colours: colours.size, dominant: top / (d.length / 4) };
  }, png.toString("base64"));
}

async function openPage(browser, url, log, options = {}) {
  const { welcome = false, ...pageOptions } = options;
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, ...pageOptions });
  // A returning visitor: the welcome card was answered before (the app keeps that in local storage), so it does
  // not cover what a check clicks. `welcome: true` opens the page as a first-time visitor.
  if (!welcome) await page.addInitScript(() => localStorage.setItem("spherelab.welcome", "true"));
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") log.push(`console: ${m.text()}`);
  });
  // Records the interval between animation frames as the page sees them: what a visitor feels, drawing included.
  await page.addInitScript(() => {
    window.__frameGaps = [];
    let last = 0;
    const tick = (t) => {
      if (last) window.__frameGaps.push(t - last);
      if (window.__frameGaps.length > 2000) window.__frameGaps.splice(0, 1000);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.goto(url);
  return page;
}

/// One visitor's run: loads, trains, reports its backend, learns, draws.
async function trainingRun(browser, name, url, expectBackend) {
  console.log(`\n[${name}] ${url}`);
  const log = [];
  const page = await openPage(browser, url, log);
  const t0 = Date.now();
  let s = await waitFor(page, (s) => s.ready, 60_000);
  check(s.ready === true && !s.error, `the page loads (${((Date.now() - t0) / 1000).toFixed(1)} s) ${s.error || ""}`);
  check(s.backend === expectBackend, `it computes on ${expectBackend}: "${s.backendLine}"`);
  s = await waitFor(page, (s) => s.step >= STEPS && s.lossesRead >= STEPS - 64 && s.metrics >= 2, 240_000);
  const secs = (Date.now() - t0) / 1000;
  check(s.step >= STEPS, `it trains: step ${s.step} after ${secs.toFixed(1)} s, ${s.lossesRead} losses read back`);
  check(s.lossRecent < s.firstLoss, `the loss falls: first ${s.firstLoss?.toFixed(4)}, mean of the last 20 ${s.lossRecent?.toFixed(4)}`);
  check(s.snapshotStep > 0, `the views follow the training (snapshot of step ${s.snapshotStep})`);
  // Frame timings over a full window of frames after start-up (the first frames build the font atlas).
  const f0 = s.frames;
  s = await waitFor(page, (s) => s.frames >= f0 + 120, 90_000);
  console.log(
    `  frames: ${s.stepsPerFrame?.toFixed(2)} steps/frame, ${s.stepsPerSecond?.toFixed(0)} steps/s; over the last 120 frames ` +
      `(mean / p95 / max ms): training ${s.tickMsAvg?.toFixed(1)} / ${s.tickMsP95?.toFixed(1)} / ${s.tickMsMax?.toFixed(1)}, ` +
      `update (training + layout) ${s.frameMsAvg?.toFixed(1)} / ${s.frameMsP95?.toFixed(1)} / ${s.frameMsMax?.toFixed(1)}`,
  );
  const parts = Object.entries(s.frameParts || {})
    .map(([k, [mean, max]]) => `${k} ${mean.toFixed(1)}/${max.toFixed(1)}`)
    .join(", ");
  console.log(`  parts (mean/max ms): ${parts}`);
  console.log(
    `  eframe's whole frame in wasm (update, tessellation, WebGL calls): ${s.cpuMsAvg?.toFixed(1)} / ` +
      `${s.cpuMsP95?.toFixed(1)} / ${s.cpuMsMax?.toFixed(1)} ms; training's budget now ${s.trainBudgetMs?.toFixed(1)} ms`,
  );
  const gaps = await page.evaluate(() => window.__frameGaps.slice(-240));
  const sorted = [...gaps].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  console.log(
    `  frame intervals seen by the page (requestAnimationFrame, last ${gaps.length}): median ${q(0.5)?.toFixed(1)} ms, ` +
      `p95 ${q(0.95)?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`,
  );
  const png = await page.screenshot();
  writeFileSync(join(out, `web-${name}.png`), png);
  const px = await pixelStats(page, png);
  check(
    px.colours > 50 && px.dominant < 0.9,
    `the screenshot is drawn: ${px.width}×${px.height}, ${px.colours} colours, the commonest covers ${(px.dominant * 100).toFixed(0)}%`,
  );
  check(log.length === 0, `no errors in the console${log.length ? ": " + log.slice(0, 3).join(" | ") : ""}`);
  await page.close();
  return s;
}

/// Links: a configuration in the hash is restored, a broken one falls back with a notice, back works,
/// and `?backend=gpu` without WebGPU falls back with a notice.
async function linkChecks(browser) {
  console.log("\n[links]");
  const log = [];
  const page = await openPage(browser, `${base}?backend=gpu#seed=7&loss.tau=0.3&data.dataset=moons`, log);
  let s = await waitFor(page, (s) => s.ready && s.seed === 7, 60_000);
  check(s.seed === 7 && Math.abs(s.tau - 0.3) < 1e-6, `a link's config is restored: seed ${s.seed}, τ ${s.tau}`);
  check(s.backend === "cpu-f32" && /WebGPU/.test(s.notice), `?backend=gpu without WebGPU falls back: "${s.notice}"`);
  await page.evaluate(() => (location.hash = "#seed=9&loss.tau=0.5"));
  s = await waitFor(page, (s) => s.seed === 9, 10_000);
  check(s.seed === 9 && Math.abs(s.tau - 0.5) < 1e-6, `editing the hash applies it: seed ${s.seed}, τ ${s.tau}`);
  await page.goBack();
  s = await waitFor(page, (s) => s.seed === 7, 10_000);
  check(s.seed === 7 && Math.abs(s.tau - 0.3) < 1e-6, `the back button restores the previous config: seed ${s.seed}`);
  await page.evaluate(() => (location.hash = "#loss.tau=hot"));
  s = await waitFor(page, (s) => /could not be used/.test(s.notice), 10_000);
  check(/could not be used/.test(s.notice) && Math.abs(s.tau - 0.2) < 1e-6, `a broken hash falls back to the defaults: "${s.notice}"`);
  check(!/tau=hot/.test(await page.evaluate(() => location.hash)), "and the broken hash is replaced by the defaults' link");
  check(log.length === 0, `no errors in the console${log.length ? ": " + log.slice(0, 3).join(" | ") : ""}`);
  await page.close();

  const crash = await browser.newPage();
  await crash.goto(`${base}?crash-test`);
  const text = await crash
    .waitForSelector("#spherelab_error.shown", { timeout: 30_000 })
    .then((el) => el.textContent())
    .catch(() => "");
  check(/internal error/.test(text) && /crash test/.test(text), `a panic is shown on the page: "${text.split("\n")[0]}"`);
  const crashed = await status(crash);
  check(crashed.crashed === true && /defaults/.test(crashed.recovery || ""), `the status object says it crashed and how to recover`);
  const again = await crash.$("text=Start again with the defaults");
  check(!!(await crash.$("text=Copy the error")), "the crash page offers \"Copy the error\"");
  if (again) {
    await Promise.all([crash.waitForNavigation({ timeout: 30_000 }).catch(() => {}), again.click()]);
    const s = await waitFor(crash, (s) => s.ready && s.step > 3, 90_000);
    check(s.step > 3 && !s.crashed && !/crash-test/.test(crash.url()), `"Start again with the defaults" recovers: step ${s.step} at ${crash.url()}`);
  } else {
    check(false, "the crash page offers \"Start again with the defaults\"");
  }
  await crash.close();
}

/// Links that are well-formed but too big, or numbers that are not numbers (issue 16): the page stays alive,
/// says what was refused, and trains the defaults — never a dead page.
async function hostileLinkChecks(browser) {
  console.log("\n[hostile links]");
  const links = [
    ["model.encoder=100000,100000", /width 100000/],
    ["data.n=50000000", /data\.n = 50000000/],
    ["train.batch_size=10000000&data.n=20000000", /budget|batch/],
    ["model.encoder=" + Array(1000).fill(8).join(","), /layers/],
    ["loss.tau=NaN", /tau/],
    ["data.omega=inf", /omega/],
    ["data.n=-5", /data\.n/],
    ["train.steps=1e400", /train\.steps/],
  ];
  const page = await openPage(browser, `${base}#seed=3`, []);
  await waitFor(page, (s) => s.ready && s.seed === 3, 60_000);
  for (const [hash, says] of links) {
    await page.evaluate((h) => (location.hash = "#" + h), hash);
    const s = await waitFor(page, (s) => /could not be used/.test(s.notice || ""), 10_000);
    check(
      /could not be used/.test(s.notice || "") && says.test(s.notice) && !s.error && Math.abs(s.tau - 0.2) < 1e-6,
      `#${hash.slice(0, 40)}${hash.length > 40 ? "…" : ""} → defaults, notice "${(s.notice || "").slice(0, 110)}"`,
    );
    await page.evaluate(() => (location.hash = "#seed=3"));
    await waitFor(page, (s) => s.seed === 3 && !/could not be used/.test(s.notice || ""), 10_000);
  }
  // Opened directly (not edited), the worst of them: the page still loads and trains the defaults.
  const fresh = await openPage(browser, `${base}#model.encoder=100000,100000&data.n=50000000`, []);
  const s = await waitFor(fresh, (s) => s.ready && s.step > 3, 90_000);
  check(s.step > 3 && !s.error && /could not be used/.test(s.notice || ""), `a huge link opened directly trains the defaults: step ${s.step}`);
  await fresh.close();
  await page.close();
}

/// The page's frames with training and without: the same page (`?continuous` redraws every frame even when
/// nothing changes) first playing, then paused with the Space bar. Reported, not asserted (speed is measured,
/// never asserted in tests): it shows how much of a frame is training's and how much is the browser's.
async function trainingVersusIdle(browser, backend) {
  console.log(`\n[training vs idle, ${backend}]`);
  const log = [];
  const page = await openPage(browser, `${base}?backend=${backend}&continuous`, log);
  let s = await waitFor(page, (s) => s.ready && s.step >= 30, 180_000);
  let f0 = s.frames;
  s = await waitFor(page, (s) => s.frames >= f0 + 120, 90_000);
  const stats = (gaps) => {
    const v = [...gaps].sort((a, b) => a - b);
    const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))]?.toFixed(1);
    return `median ${q(0.5)} ms, p95 ${q(0.95)} ms`;
  };
  const playing = { gaps: await page.evaluate(() => window.__frameGaps.slice(-120)), cpu: s.cpuMsAvg, p95: s.cpuMsP95 };
  await page.mouse.click(1000, 600); // on the embedding view: the page has the keyboard, no widget has focus
  await page.keyboard.press("Space");
  s = await waitFor(page, (s) => s.playing === false, 10_000);
  check(s.playing === false, "the Space bar pauses the run");
  f0 = s.frames;
  const stepPaused = s.step;
  s = await waitFor(page, (s) => s.frames >= f0 + 120, 90_000);
  check(s.step === stepPaused, `nothing trains while paused (step ${s.step})`);
  const idle = { gaps: await page.evaluate(() => window.__frameGaps.slice(-120)), cpu: s.cpuMsAvg, p95: s.cpuMsP95 };
  console.log(`  training: page's frame work ${playing.cpu?.toFixed(1)} ms (p95 ${playing.p95?.toFixed(1)}), animation frames ${stats(playing.gaps)}`);
  console.log(`  paused:   page's frame work ${idle.cpu?.toFixed(1)} ms (p95 ${idle.p95?.toFixed(1)}), animation frames ${stats(idle.gaps)}`);
  check(log.length === 0, `no errors in the console${log.length ? ": " + log.slice(0, 3).join(" | ") : ""}`);
  await page.close();
}

/// `?selftest` on SwiftShader: the GPU self-test (every op of a step and a 4,096-view × 128 InfoNCE against the
/// CPU engine) reports its verdict in window.spherelab.selftest, and passes.
async function selfTest(browser) {
  console.log("\nGPU self-test (?selftest, SwiftShader):");
  const log = [];
  const page = await openPage(browser, `${base}?selftest`, log);
  const t0 = Date.now();
  const s = await waitFor(page, (s) => s.selftest, 300_000);
  const t = s.selftest || {};
  console.log(`  ${t.summary || t.error || "no report"} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (t.report) console.log(t.report.split("\n").map((l) => "    " + l).join("\n"));
  check(t.passed === true, `the self-test passes on ${t.adapter || "the adapter"}`);
  check(t.checks >= 20 && typeof t.worstRatio === "number", `it names ${t.checks} checks and the worst error`);
  check(!s.error, `the page is alive${s.error ? ": " + s.error : ""}`);
  await page.close();
}

/// With only a software WebGPU adapter (SwiftShader), the default `auto` trains on the CPU engine and the notice
/// names the adapter it saw.
async function autoSkipsSoftwareAdapter(browser) {
  console.log("\n[auto with a software adapter]");
  const log = [];
  const page = await openPage(browser, base, log);
  const s = await waitFor(page, (s) => s.step > 0, 60_000);
  check(s.backend === "cpu-f32", `auto trains on the CPU engine, not on SwiftShader: "${s.backend}"`);
  check(/software renderer/.test(s.backendLine || ""), `the status line says why: "${s.backendLine}"`);
  await page.close();
}

/// Lessons in the browser: a lesson link opens at its step, a hide= link folds panels away, an embed link shows
/// the lesson without chrome, an unknown lesson opens the lab with a notice naming it, presenter mode at
/// 1280×720, a phone (390×844, touch) lays the lesson out for a narrow screen, and a first visit shows the
/// welcome card over a lab that trains behind it. Screenshots of presenter mode and the phone go to out/.
async function lessonChecks(browser) {
  console.log("\n[lessons]");
  const log = [];
  const open = async (hash, options) => {
    const page = await openPage(browser, `${base}${hash}`, log, options);
    await waitFor(page, (s) => s.ready && s.frames > 5, 60_000);
    return page;
  };
  let page = await open("#lesson=temperature&step=3");
  let s = await waitFor(page, (s) => s.lesson && s.lesson.step === 3, 10_000);
  check(
    s.lesson?.id === "temperature" && s.lesson.step === 3 && s.lesson.steps >= 4 && /emperature/.test(s.lesson.title),
    `a lesson link opens the lesson at its step: ${JSON.stringify(s.lesson)}`,
  );
  check(s.welcome === false && s.presenter === false && s.lessons === 7, `no welcome card over a lesson link; 7 lessons`);
  check(/lesson=temperature/.test(await page.evaluate(() => location.hash)), "the address keeps the lesson");
  await page.close();

  page = await open("#hide=loss,theory&seed=5");
  s = await status(page);
  check(
    s.lesson === null && s.hidden?.includes("loss") && s.hidden?.includes("theory") && s.seed === 5,
    `a hide= link folds the named panels away: hidden ${JSON.stringify(s.hidden)}, seed ${s.seed}`,
  );
  await page.close();

  page = await open("#lesson=uniformity&embed=1", { viewport: { width: 900, height: 560 } });
  s = await status(page);
  check(s.embed === true && s.lesson?.id === "uniformity" && s.lesson.step === 1, `an embed link: embed ${s.embed}, ${JSON.stringify(s.lesson)}`);
  await page.close();

  page = await open("#lesson=entropy&step=2");
  s = await status(page);
  check(s.lesson === null && /'entropy'/.test(s.notice) && !s.error, `an unknown lesson opens the lab and names it: "${s.notice}"`);
  await page.close();

  page = await open("#lesson=temperature&step=2&presenter=1", { viewport: { width: 1280, height: 720 } });
  s = await waitFor(page, (s) => s.step > 20, 30_000);
  check(s.presenter === true && s.lesson?.step === 2 && s.narrow === false, `presenter mode at 1280×720: presenter ${s.presenter}`);
  let png = await page.screenshot();
  writeFileSync(join(out, "web-presenter.png"), png);
  let px = await pixelStats(page, png);
  check(px.colours > 50 && px.dominant < 0.9, `presenter mode is drawn: ${px.colours} colours`);
  await page.close();

  // Device scale 1: at an emulated scale of 2 headless Chromium's ResizeObserver reports CSS pixels as device
  // pixels, so eframe would lay this phone out 195 points wide, not the 390 a real phone gets (the narrow
  // widths themselves are held by crates/app/tests/lessons.rs).
  const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
  page = await open("#lesson=temperature&step=1", phone);
  s = await waitFor(page, (s) => s.step > 20, 30_000);
  check(s.narrow === true && s.lesson?.step === 1 && s.step > 20, `a phone lays the lesson out narrow and trains: step ${s.step}`);
  png = await page.screenshot();
  writeFileSync(join(out, "web-phone-lesson.png"), png);
  px = await pixelStats(page, png);
  check(px.colours > 50 && px.dominant < 0.9, `the phone's page is drawn: ${px.width}×${px.height}, ${px.colours} colours`);
  await page.close();

  page = await open("", { welcome: true });
  s = await waitFor(page, (s) => s.step > 10, 30_000);
  check(s.welcome === true && s.step > 10, `a first visit shows the welcome card over a training lab: step ${s.step}`);
  writeFileSync(join(out, "web-welcome.png"), await page.screenshot());
  await page.close();
  check(log.length === 0, `no errors in the console${log.length ? ": " + log.slice(0, 3).join(" | ") : ""}`);
}

const launch = (args) => chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args });

const only = process.env.SPHERELAB_E2E_ONLY || "";
if (!only || only === "webgpu") {
  const browser = await launch([...common, ...webgpu]);
  // SwiftShader is a software adapter: `auto` computes on the CPU engine and says so; ?backend=gpu uses it.
  await autoSkipsSoftwareAdapter(browser);
  await trainingRun(browser, "webgpu", `${base}?backend=gpu`, "gpu");
  await trainingVersusIdle(browser, "gpu");
  await selfTest(browser);
  await browser.close();
}
if (!only || only === "cpu") {
  const browser = await launch(common);
  await trainingRun(browser, "cpu", base, "cpu-f32");
  await trainingVersusIdle(browser, "cpu");
  await linkChecks(browser);
  await hostileLinkChecks(browser);
  await lessonChecks(browser);
  await browser.close();
}
if (only === "lessons") {
  const browser = await launch(common);
  await lessonChecks(browser);
  await browser.close();
}

console.log(failures ? `\n${failures} check(s) failed` : "\nall browser checks passed");
process.exit(failures ? 1 : 0);
