// Drives the viewer (`simulacra view`) in a headless Chromium through the DevTools protocol
// (playwright-core with the system's Chromium) and checks it against `simulacra inspect`:
// for every case, rounds 0 and K opened through the URL show the rates and the mean welfare
// `inspect --round K` prints, the election panel names the same winner, the keyboard moves
// between rounds, a worker can be selected, and the console stays free of errors.
// Screenshots go to the folder given (CI keeps them as artifacts). With "firefox" in the config,
// the same pages are also checked in headless Firefox.
//
// usage: node check.mjs CONFIG.json
//   CONFIG = {"bin": "target/release/simulacra", "chromium": "/usr/bin/chromium",
//             "modules": "target/browser/node_modules", "shots": "target/browser/shots",
//             "firefox": "/usr/bin/firefox-esr" (optional),
//             "cases": [{"name", "run", "url", "compare": bool, "regions": bool}]}
// A case with "regions" (a federation) also checks the regions panel against the run's
// regions.csv: each region's rates and residents at the round's first step.
import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const require = createRequire(path.resolve(config.modules) + "/");
const { chromium } = require("playwright-core");

function inspect(run, k) {
  const text = execFileSync(config.bin, ["inspect", run, "--round", String(k)], { encoding: "utf8", maxBuffer: 1 << 28 });
  const json = JSON.parse(execFileSync(config.bin, ["inspect", run, "--round", String(k), "--json"], { encoding: "utf8", maxBuffer: 1 << 28 }));
  const rates = /rates (\S+)% on/.exec(text);
  const welfare = /mean welfare (\S+),/.exec(text);
  if (!rates || !welfare) throw new Error(`cannot read inspect's output for ${run} round ${k}:\n${text.slice(0, 400)}`);
  return { rates: rates[1], welfare: welfare[1], json };
}

// regions.csv's rows of `step`: {region: {rates: "30/60/60", population: "30", good: 8725.1}}
// (good: the public good per resident, null without the column).
function regionsAt(run, step) {
  const [head, ...lines] = readFileSync(path.join(run, "regions.csv"), "utf8").trim().split("\n");
  const cols = head.split(",");
  const at = (f, name) => f[cols.indexOf(name)];
  const rateCols = cols.filter((c) => c.startsWith("rate_"));
  const out = {};
  for (const line of lines) {
    const f = line.split(",");
    if (Number(at(f, "step")) !== step) continue;
    out[at(f, "region")] = {
      rates: rateCols.map((c) => (Number(at(f, c)) * 100).toFixed(0)).join("/"),
      population: at(f, "population"),
      good: cols.includes("public_good") ? Number(at(f, "public_good")) : null,
    };
  }
  return out;
}

function rounds(run) {
  const t = JSON.parse(execFileSync(config.bin, ["inspect", run, "--json"], { encoding: "utf8", maxBuffer: 1 << 28 }));
  return t.rounds.length;
}

const failures = [];
function check(ok, what) {
  if (ok) console.log("  ok   " + what);
  else { console.log("  FAIL " + what); failures.push(what); }
}

mkdirSync(config.shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: config.chromium,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  for (const c of config.cases) {
    console.log(`${c.name}: ${c.url}`);
    const n = rounds(c.run);
    const last = n - 1;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    for (const k of [...new Set([0, last])]) {
      const want = inspect(c.run, k);
      if (k === 0) {
        await page.goto(`${c.url}#round=0`);
        await page.waitForFunction(() => document.body.dataset.ready === "0", null, { timeout: 60000 });
        const title = await page.title();
        check(title.includes(path.basename(c.run)), `the page's title names the run's folder: ${title}`);
      }
      await page.goto(`${c.url}#round=${k}`);
      // A hash-only change does not reload the page: reload so the URL alone opens round k.
      await page.reload();
      await page.waitForFunction((k) => document.body.dataset.ready === String(k), k, { timeout: 60000 });
      const rates = await page.textContent("#round-rates");
      const welfare = await page.textContent("#round-welfare");
      check(rates === want.rates, `round ${k}: round-rates ${rates} = inspect's ${want.rates}`);
      check(welfare === want.welfare, `round ${k}: round-welfare ${welfare} = inspect's ${want.welfare}`);
      const range = await page.textContent("#round-range");
      const wantRange = `steps ${want.json.first_step}-${want.json.worker_step}`;
      check(range === wantRange, `round ${k}: ${range} = inspect's ${wantRange}`);
      check(Math.abs(Number(welfare) - want.json.mean_welfare) <= 5e-5 * Math.max(1, Math.abs(want.json.mean_welfare)),
        `round ${k}: welfare within rounding of inspect --json (${want.json.mean_welfare})`);
      const e = want.json.election;
      if (e) {
        const winner = await page.textContent("#election-winner");
        check(winner === String(e.count.winner), `round ${k}: election winner ${winner} = inspect's ${e.count.winner}`);
      } else {
        check(await page.isHidden("#election"), `round ${k}: no election panel (none in the log)`);
      }
      const revenue = await page.textContent("#round-revenue");
      const wantRevenue = Math.round(want.json.mean_revenue).toLocaleString("en-US");
      check(revenue === wantRevenue, `round ${k}: revenue ${revenue} = inspect's ${want.json.mean_revenue}, with separators`);
      if (c.compare) check(await page.isVisible("#compare"), `round ${k}: the compared run is shown`);
      if (c.regions) {
        const want = regionsAt(c.run, Number(wantRange.split(" ")[1].split("-")[0]));
        check(Object.keys(want).length > 1, `round ${k}: regions.csv has the round's regions`);
        for (const [r, w] of Object.entries(want)) {
          const rates = await page.textContent(`#region-rates-${r}`);
          const pop = await page.textContent(`#region-pop-${r}`);
          check(rates === w.rates, `round ${k}: region ${r}'s rates ${rates} = regions.csv's ${w.rates}`);
          check(pop === w.population, `round ${k}: region ${r}'s residents ${pop} = regions.csv's ${w.population}`);
          if (w.good !== null) {
            // Residents stay put within a year, so a local good is the same at every step of it.
            const good = await page.textContent(`#region-good-${r}`);
            check(Math.abs(Number(good.replace(/,/g, "")) - w.good) <= 0.5,
              `round ${k}: region ${r}'s public good ${good} = regions.csv's ${w.good}`);
          } else {
            check((await page.$(`#region-good-${r}`)) === null, `round ${k}: no public good column without one`);
          }
        }
        const panel = await page.$("#regions");
        await panel.screenshot({ path: path.join(config.shots, `${c.name}-regions-round${k}.png`) });
      } else {
        check(await page.isHidden("#regions"), `round ${k}: no regions panel (not a federation)`);
      }
      await page.screenshot({ path: path.join(config.shots, `${c.name}-round${k}.png`) });
      await page.screenshot({ path: path.join(config.shots, `${c.name}-round${k}-full.png`), fullPage: true });
      await page.evaluate(() => window.scrollTo(0, 0));
    }
    if (n > 1) {
      // Keyboard: Left from the last round opens the one before it and updates the URL.
      await page.keyboard.press("ArrowLeft");
      await page.waitForFunction((k) => document.body.dataset.ready === String(k), last - 1);
      check(page.url().endsWith(`#round=${last - 1}`), `ArrowLeft opens round ${last - 1} (${page.url().split("#")[1]})`);
    }
    const rows = await page.$$("#worker-table tbody tr[data-id]");
    if (rows.length) {
      // The first row is selected when a round opens: select another one.
      const row = rows[Math.min(1, rows.length - 1)];
      const id = await row.getAttribute("data-id");
      await row.click();
      await page.waitForFunction((id) => document.body.dataset.worker === id, id, { timeout: 60000 });
      check(await page.textContent("#worker-id") === id, `worker ${id} selected`);
      check(await page.getAttribute("#worker-body", "aria-busy") === null, `worker ${id}: no loading note once drawn`);
      const head = await page.textContent("#worker-table thead");
      check(head.includes("skill $/yr per weekly h") && head.includes("income $/yr (skill x hours)"),
        "the table's skill and income say their units");
      // Sorting by income, descending, puts the richest first.
      await page.click('#worker-table th[data-key="income"]');
      await page.waitForFunction(() => document.body.dataset.table?.endsWith(":income:true:0"));
      const incomes = await page.$$eval("#worker-table tbody tr", (rs) => rs.map((r) => Number(r.cells[3].textContent)));
      check(incomes.every((v, i) => i === 0 || incomes[i - 1] >= v), "sorted by income, descending");
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(config.shots, `${c.name}-worker.png`), fullPage: true });
    }
    check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
    await context.close();
  }
} finally {
  await browser.close();
}

// Firefox (optional: when config.firefox names a binary): the same pages through WebDriver BiDi
// (puppeteer-core), rounds 0 and K against inspect, no console errors, a screenshot each.
if (config.firefox) {
  const puppeteer = require("puppeteer-core");
  const firefox = await puppeteer.launch({ browser: "firefox", executablePath: config.firefox, headless: true });
  try {
    for (const c of config.cases) {
      const last = rounds(c.run) - 1;
      for (const k of [...new Set([0, last])]) {
        const want = inspect(c.run, k);
        const page = await firefox.newPage();
        await page.setViewport({ width: 1280, height: 800 });
        const errors = [];
        page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.goto(`${c.url}#round=${k}`);
        await page.waitForFunction((k) => document.body.dataset.ready === String(k), { timeout: 60000 }, k);
        const [rates, welfare] = await page.evaluate(() =>
          ["round-rates", "round-welfare"].map((id) => document.getElementById(id).textContent));
        check(rates === want.rates && welfare === want.welfare,
          `firefox ${c.name} round ${k}: ${rates} ${welfare} = inspect's ${want.rates} ${want.welfare}`);
        check(errors.length === 0, `firefox ${c.name} round ${k}: no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
        await page.screenshot({ path: path.join(config.shots, `firefox-${c.name}-round${k}.png`) });
        await page.close();
      }
    }
  } finally {
    await firefox.close();
  }
}
if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("all browser checks passed");
