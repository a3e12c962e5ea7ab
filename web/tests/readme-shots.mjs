// Screenshots for the README (not a test): presenter mode at 1280×720 and a lesson on a 390×844 phone, each
// after the run has trained a while. Usage: node readme-shots.mjs http://127.0.0.1:PORT/ OUTDIR
import { chromium } from "playwright-core";
import { join } from "node:path";

const [base, outDir] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
async function shot(hash, options, steps, file) {
  const page = await browser.newPage(options);
  await page.addInitScript(() => localStorage.setItem("spherelab.welcome", "true"));
  await page.goto(`${base}${hash}`);
  const start = Date.now();
  while (Date.now() - start < 240_000) {
    const s = await page.evaluate(() => ({ ...(window.spherelab || {}) }));
    if (s.step >= steps && s.metrics >= 2) break;
    await page.waitForTimeout(500);
  }
  await page.screenshot({ path: join(outDir, file) });
  const s = await page.evaluate(() => ({ ...(window.spherelab || {}) }));
  console.log(file, "step", s.step, JSON.stringify(s.lesson));
  await page.close();
}
await shot("#lesson=temperature&step=2&presenter=1", { viewport: { width: 1280, height: 720 } }, 250, "web-presenter.png");
// Device scale 1: headless Chromium's emulated scale leaves ResizeObserver's device-pixel sizes in CSS pixels,
// so at scale 2 eframe lays a 390-pixel phone out 195 points wide, twice the size a real phone shows.
await shot("#lesson=temperature&step=1", { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true }, 250, "web-phone-lesson.png");
await browser.close();
