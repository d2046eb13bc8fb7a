// Times the served viewer in headless Chromium: first contentful paint, the round's figures
// filled in (#round-rates), and the first page of the worker table, from navigation start.
// A measurement, not a test (docs/viewer.md reports its numbers).
//
// usage: node first_paint.mjs URL [MODULES_DIR] [CHROMIUM]
import { createRequire } from "node:module";
import path from "node:path";

const [url, modules = "target/browser/node_modules", exe = "/usr/bin/chromium"] = process.argv.slice(2);
const require = createRequire(path.resolve(modules) + "/");
const { chromium } = require("playwright-core");

const browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--disable-gpu"] });
try {
  for (const label of ["cold (server's first request for the round)", "warm (round cached)"]) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("round-rates").textContent !== "", null, { timeout: 600000 });
    const figures = await page.evaluate(() => performance.now());
    await page.waitForSelector("#worker-table tbody tr[data-id]", { timeout: 600000 });
    const table = await page.evaluate(() => performance.now());
    const fcp = await page.evaluate(() =>
      performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint")?.startTime);
    console.log(`${label}: first contentful paint ${fcp?.toFixed(0)} ms, round figures ${figures.toFixed(0)} ms, ` +
      `worker table ${table.toFixed(0)} ms; console errors: ${errors.length}`);
    await page.close();
  }
} finally {
  await browser.close();
}
