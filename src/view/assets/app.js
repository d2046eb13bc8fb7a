// simulacra view: the page's script. It loads the run's overview, then each round, page of
// workers and trajectory when they are shown: from data/*.js beside the page (file://, where
// fetch is refused but scripts load) or from the local server's /api (simulacra view --serve).
// Charts are small hand-drawn SVG (no library: the page must work offline from one file).
"use strict";
(function () {
  const BOOT = window.SIMULACRA_BOOT;
  const RUNS = BOOT.runs; // [{key, table, trajectories}], the first viewed, a second compared
  const SVGNS = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f5fbf", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"];
  const BASE_COLORS = { "2024 US": "#7f8c8d", "Saez": "#27ae60" };
  const $ = (id) => document.getElementById(id);

  // ---- data -------------------------------------------------------------------------------
  const pending = {};
  window.simulacraData = function (key, value) {
    const p = pending[key];
    if (p) { delete pending[key]; p(value); }
  };
  const cache = new Map();
  function get(path) {
    if (cache.has(path)) return cache.get(path);
    let p;
    if (BOOT.mode === "serve") {
      p = fetch("api/" + path).then((r) =>
        r.ok ? r.json() : r.text().then((t) => { throw new Error(t); }));
    } else {
      p = new Promise((resolve, reject) => {
        pending[path] = resolve;
        const s = document.createElement("script");
        s.src = "data/" + path + ".js";
        s.onerror = () => { delete pending[path]; reject(new Error("cannot load data/" + path + ".js")); };
        document.head.appendChild(s);
      });
    }
    cache.set(path, p);
    p.catch(() => cache.delete(path));
    return p;
  }

  // ---- formatting (as the command line prints) -----------------------------------------------
  const fix = (v, d) => (v === null || v === undefined || Number.isNaN(v)) ? "-" : Number(v).toFixed(d);
  const pct = (rates) => rates.map((r) => (r * 100).toFixed(0)).join("/");
  function money(v) {
    const a = Math.abs(v);
    if (a >= 1e6) return "$" + (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    if (a >= 1e3) return "$" + (v / 1e3).toFixed(0) + "k";
    return "$" + v.toFixed(0);
  }
  const thousands = (v) => (v === null || v === undefined || Number.isNaN(v)) ? "-" : Math.round(v).toLocaleString("en-US");
  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  }
  const signed = (d) => (d > 0 ? "+" : "") + d;

  // ---- charts ---------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    const e = document.createElementNS(SVGNS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function ticks(lo, hi, n, integer) {
    const span = hi - lo || 1;
    const raw = integer ? Math.max(1, span / n) : span / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n && (!integer || Number.isInteger(s))) || raw;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(t);
    return out;
  }
  // Tick labels with as many digits as the tick spacing needs (30,000 and 30,250 must differ).
  function autofmt(step) {
    return (v) => {
      if (step >= 1000 && Math.abs(v) >= 1e4) return (v / 1e3).toFixed(Number.isInteger(step / 1000) ? 0 : 1) + "k";
      return v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
    };
  }
  // opts: {w, h, x: [lo, hi], y: [lo, hi], series: [{pts, color, dash, width}], bars: [{x0, x1, y, color}],
  //        vlines: [{x, cls}], band: [x0, x1], xfmt, yfmt, xint/yint (whole-number ticks), onclick(x)}
  function chart(svg, opts) {
    // Drawn at the element's own pixel width, so text keeps its size at any window width.
    const w = Math.round(svg.getBoundingClientRect().width) || opts.w || 420, h = opts.h || 190;
    const m = { l: 52, r: 18, t: 8, b: 22 };
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.replaceChildren();
    const [x0, x1] = opts.x, [y0, y1] = opts.y;
    const X = (v) => m.l + (v - x0) / ((x1 - x0) || 1) * (w - m.l - m.r);
    const Y = (v) => h - m.b - (v - y0) / ((y1 - y0) || 1) * (h - m.t - m.b);
    const yt = ticks(y0, y1, 4, opts.yint);
    const yfmt = opts.yfmt || autofmt(yt.length > 1 ? yt[1] - yt[0] : 1);
    for (const t of yt) {
      el("line", { class: "grid", x1: m.l, x2: w - m.r, y1: Y(t), y2: Y(t) }, svg);
      el("text", { x: m.l - 4, y: Y(t) + 3, "text-anchor": "end" }, svg).textContent = yfmt(t);
    }
    for (const t of ticks(x0, x1, 5, opts.xint)) {
      el("text", { x: X(t), y: h - 6, "text-anchor": "middle" }, svg).textContent = (opts.xfmt || String)(t);
    }
    for (const v of opts.vlines || []) {
      el("line", { class: v.cls, x1: X(v.x), x2: X(v.x), y1: m.t, y2: h - m.b }, svg);
    }
    if (opts.band) {
      const a = X(Math.max(x0, opts.band[0])), b = X(Math.min(x1, opts.band[1]));
      el("rect", { class: "band", x: a, y: m.t, width: Math.max(2, b - a), height: h - m.t - m.b }, svg);
    }
    for (const b of opts.bars || []) {
      const top = Y(b.y);
      el("rect", { x: X(b.x0) + 0.5, y: top, width: Math.max(0.5, X(b.x1) - X(b.x0) - 1),
                   height: Math.max(0, h - m.b - top), fill: b.color, opacity: b.opacity || 0.8 }, svg);
    }
    for (const s of opts.series || []) {
      if (!s.pts.length) continue;
      const d = s.pts.map((p, i) => (i ? "L" : "M") + X(p[0]).toFixed(1) + " " + Y(p[1]).toFixed(1)).join("");
      const a = { d, fill: "none", stroke: s.color, "stroke-width": s.width || 1.5 };
      if (s.dash) a["stroke-dasharray"] = s.dash;
      el("path", a, svg);
    }
    el("line", { class: "axis", x1: m.l, x2: m.l, y1: m.t, y2: h - m.b }, svg);
    el("line", { class: "axis", x1: m.l, x2: w - m.r, y1: h - m.b, y2: h - m.b }, svg);
    if (opts.onclick) {
      svg.classList.add("clickable");
      svg.onclick = (ev) => {
        const r = svg.getBoundingClientRect();
        const px = (ev.clientX - r.left) / r.width * w;
        opts.onclick(x0 + (px - m.l) / (w - m.l - m.r) * (x1 - x0));
      };
    }
  }
  function legend(div, items) {
    div.innerHTML = items.map((i) =>
      `<span style="color:${i.color}"><i class="${i.dash ? "dash" : ""}" style="${i.dash ? "" : "background:" + i.color}"></i></span><span>${esc(i.name)}</span>`
    ).map((s) => `<span>${s}</span>`).join("");
  }
  function span(values, pad) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!Number.isFinite(lo)) return [0, 1];
    const p = (hi - lo) * (pad || 0.05) || Math.abs(hi) * 0.05 || 1;
    return [lo - p, hi + p];
  }
  function schedulePts(cutoffs, rates, xmax) {
    const pts = [];
    rates.forEach((r, j) => {
      const a = cutoffs[j];
      if (a > xmax) return;
      const b = Math.min(j + 1 < cutoffs.length ? cutoffs[j + 1] : xmax, xmax);
      pts.push([a, r], [b, r]);
    });
    return pts;
  }

  // ---- state ------------------------------------------------------------------------------------
  const state = { k: 0, ov: [], sort: "id", desc: false, offset: 0, limit: 25, worker: null, round: [] };
  const nRounds = () => state.ov[0].rounds.length;
  function roundOfStep(ov, step) {
    let k = 0;
    for (const r of ov.rounds) if (r.first_step <= step) k = r.tax_year;
    return k;
  }
  function showError(e) {
    const p = $("error");
    p.hidden = false;
    p.textContent = String(e && e.message ? e.message : e);
  }

  // ---- the whole run ------------------------------------------------------------------------------
  function drawWhole() {
    const [a, b] = state.ov;
    const r = a.rounds.find((x) => x.tax_year === state.k) || a.rounds[0];
    const last = a.steps.step[a.steps.step.length - 1] || 1;
    const xmax = Math.max(last, b ? b.steps.step[b.steps.step.length - 1] || 0 : 0, 1);
    const band = [r.first_step, r.first_step + r.steps];
    const vlines = a.rounds.length <= 400 ? a.rounds.map((x) => ({ x: x.first_step, cls: "year" })) : [];
    const fork = a.fork_at ?? (b && b.fork_at);
    if (b && fork !== null && fork !== undefined) vlines.push({ x: fork, cls: "fork" });
    const click = (x) => go(roundOfStep(a, Math.round(x)));
    const zip = (ov, col) => ov.steps.step.map((s, i) => [s, col[i]]);

    const wSeries = [{ pts: zip(a, a.steps.welfare), color: COLORS[0], name: a.setter }];
    if (b) wSeries.push({ pts: zip(b, b.steps.welfare), color: "#c0392b", dash: "5 3", name: "compared: " + b.setter });
    for (const base of a.baselines) {
      wSeries.push({ pts: [[0, base.swf], [xmax, base.swf]], color: BASE_COLORS[base.name] || "#999",
                     dash: "3 3", name: `${base.name} (${base.swf_text})` });
    }
    const ys = [].concat(...wSeries.map((s) => s.pts.map((p) => p[1])));
    chart($("chart-welfare"), { x: [0, xmax], y: span(ys), series: wSeries, vlines, band, onclick: click,
                                xint: true });
    legend($("legend-welfare"), wSeries);

    // Lower brackets drawn wider and first, so brackets at the same rate all stay visible.
    const k = a.steps.rates.length;
    const rSeries = a.steps.rates.map((col, j) => ({ pts: zip(a, col), color: COLORS[j % COLORS.length],
                                                     name: "bracket " + j, width: 1.5 + 2 * (k - 1 - j) }));
    if (b) b.steps.rates.forEach((col, j) => rSeries.push({ pts: zip(b, col), color: COLORS[j % COLORS.length], dash: "5 3", width: 1 }));
    chart($("chart-rates"), { x: [0, xmax], y: [0, 1], series: rSeries, vlines, band, onclick: click, xint: true,
                              yfmt: (v) => (v * 100).toFixed(0) + "%" });
    legend($("legend-rates"), rSeries.filter((s) => s.name).concat(b ? [{ name: "compared run", color: "#555", dash: true }] : []));

    const gSeries = [{ pts: zip(a, a.steps.gini), color: COLORS[3], name: "Gini" }];
    if (b) gSeries.push({ pts: zip(b, b.steps.gini), color: "#c0392b", dash: "5 3", name: "compared run" });
    chart($("chart-gini"), { x: [0, xmax], y: span([].concat(...gSeries.map((s) => s.pts.map((p) => p[1])))),
                             series: gSeries, vlines, band, onclick: click, xint: true });
    legend($("legend-gini"), gSeries.concat(b && fork != null ? [{ name: "fork at step " + fork, color: "#8e44ad", dash: true }] : []));
    drawRegionSeries(a, { xmax, vlines, band, click, zip });
  }

  // A federation: each region's residents, top rate and welfare over the run.
  function drawRegionSeries(a, o) {
    $("regions").hidden = !a.regions;
    if (!a.regions) return;
    const g = a.regions;
    const series = (cols) => cols.map((col, r) => ({ pts: o.zip(a, col), color: COLORS[r % COLORS.length], name: g.names[r] }));
    const opts = (extra) => Object.assign({ x: [0, o.xmax], vlines: o.vlines, band: o.band, onclick: o.click, xint: true }, extra);
    const pop = series(g.population);
    chart($("chart-region-pop"), opts({ y: [0, a.num_workers], series: pop }));
    legend($("legend-region-pop"), pop);
    const rate = series(g.top_rate);
    chart($("chart-region-rate"), opts({ y: [0, 1], series: rate, yfmt: (v) => (v * 100).toFixed(0) + "%" }));
    legend($("legend-region-rate"), rate);
    const welfare = series(g.welfare);
    chart($("chart-region-welfare"), opts({ y: span([].concat(...welfare.map((s) => s.pts.map((p) => p[1])))), series: welfare }));
    legend($("legend-region-welfare"), welfare);
  }

  // A federation: the round's regions and the moves between them at its start.
  function drawRegionRound(r) {
    const box = $("regions-round");
    if (!r.regions || !r.regions.length) { box.innerHTML = ""; return; }
    const withLoc = r.regions.some((g) => g.welfare_with_location_text !== "");
    const goods = r.regions.some((g) => g.public_good_text !== "");
    const head = `<thead><tr><th class="text">region</th><th>residents</th><th>rates %</th><th class="text">move (points)</th>
      <th>mean welfare</th>${withLoc ? "<th>with location</th>" : ""}<th>revenue $/step</th>${goods ? "<th>public good $/resident</th>" : ""}</tr></thead>`;
    const rows = r.regions.map((g) => `<tr><td class="text">${esc(g.name)}</td>
      <td id="region-pop-${g.region}">${g.population}</td><td id="region-rates-${g.region}">${g.rates_text}</td>
      <td class="text">${esc(g.move_text)}</td><td>${g.welfare_text}</td>${withLoc ? `<td>${g.welfare_with_location_text}</td>` : ""}
      <td>${g.revenue_text}</td>${goods ? `<td id="region-good-${g.region}">${g.public_good_text}</td>` : ""}</tr>`).join("");
    const flows = r.flows && r.flows.length
      ? "Moves at the round's start: " + r.flows.map(([f, t, n]) => `<span id="flow-${f}-${t}">${n}</span> from region ${f} to region ${t}`).join(", ") + "."
      : "Nobody moved at the round's start.";
    box.innerHTML = `<h3>Round ${r.tax_year}</h3><div class="table-wrap"><table>${head}<tbody>${rows}</tbody></table></div><p>${flows}</p>`;
  }

  // ---- round K -----------------------------------------------------------------------------------
  function drawRound(rd, rdB) {
    const r = rd.round;
    $("round-k").textContent = r.tax_year;
    $("round-range").textContent = `steps ${r.first_step}-${r.worker_step}`;
    $("round-rates").textContent = r.rates_text;
    $("round-welfare").textContent = r.welfare_text;
    $("round-revenue").textContent = r.revenue_text;
    $("round-rebate").textContent = r.rebate_text;
    $("round-hours").textContent = r.hours_text;
    $("round-gini").textContent = r.gini_text;

    const a = state.ov[0];
    const sched = [{ cut: r.cutoffs, rates: r.rates, color: COLORS[0], name: `round ${r.tax_year}: ${r.rates_text} %`, width: 2.5 }];
    if (rdB) sched.push({ cut: rdB.round.cutoffs, rates: rdB.round.rates, color: "#c0392b", dash: "6 3",
                          name: `compared run: ${rdB.round.rates_text} %`, width: 2 });
    for (const base of a.baselines) sched.push({ cut: base.cutoffs, rates: base.rates, color: BASE_COLORS[base.name] || "#999", dash: "3 3", name: base.name });
    const top = Math.max(...sched.map((s) => s.cut[s.cut.length - 1] || 0));
    const xmax = Math.max(top * 1.3, 200000);
    const series = sched.map((s) => ({ pts: schedulePts(s.cut, s.rates, xmax), color: s.color, dash: s.dash, width: s.width, name: s.name }));
    chart($("chart-schedule"), { x: [0, xmax], y: [0, 1], series, xfmt: money, yfmt: (v) => (v * 100).toFixed(0) + "%", h: 210 });
    legend($("legend-schedule"), series);

    drawMove(r);
    drawElection(r);
    drawRegionRound(r);
    drawHist($("hist-hours"), r.hours_hist, (v) => v.toFixed(0) + " h", rdB && rdB.round.hours_hist);
    drawHist($("hist-income"), r.income_hist, (v) => money(Math.pow(10, v)), rdB && rdB.round.income_hist);
    legend($("legend-hist"), rdB ? [{ name: "this run", color: COLORS[0] }, { name: "compared run", color: "#c0392b" }] : []);
    drawCompare(rd, rdB);
  }

  function exchangeHtml(e, open) {
    const who = e.role === "planner" ? (e.planner || "planner") : e.role === "worker" ? "worker " + e.agent : `${e.role}, worker ${e.agent}`;
    const msgs = e.messages ? e.messages.map(([role, text]) => `<div class="muted small">[${esc(role)}]</div><pre>${esc(text)}</pre>`).join("")
      : `<p class="muted">prompt not logged (llm.log_prompts = false)</p>`;
    let ans;
    if (e.outcome.Response) {
      const o = e.outcome.Response;
      ans = `<div class="muted small">[answer, ${o.prompt_tokens} + ${o.completion_tokens} tokens]</div><pre>${esc(o.text)}</pre>`;
    } else {
      const f = e.outcome.Failed || {};
      ans = `<div class="muted small">[failed: ${esc(f.kind)}]</div><pre>${esc(f.message)}</pre>`;
    }
    return `<details${open ? " open" : ""}><summary>step ${e.step}, ${esc(who)}, attempt ${e.attempt} (${esc(e.model)})</summary>${msgs}${ans}</details>`;
  }

  function drawMove(r) {
    const m = r.planner_move;
    const box = $("move");
    if (!m) { box.innerHTML = `<p class="muted">No move logged for this round.</p>`; return; }
    if (r.regions && r.regions.length) {
      box.innerHTML = `<p>Each region sets its own schedule (see <a href="#regions">Regions</a>, with each region's move or
        election). The national rates above, <b>${pct(m.rates)} %</b>, are the regions' marginal rates averaged by their
        residents at the nation's bracket starts: no region need have used them.</p>`;
      return;
    }
    const deltas = m.deltas_points.length
      ? m.deltas_points.map((d) => `<span class="${d > 0 ? "delta-up" : d < 0 ? "delta-down" : ""}">${signed(d)}</span>`).join(", ") + " points"
      : "set the schedule (no move in points)";
    const leader = r.election ? `worker ${r.election.winner}, elected by ${esc(r.election.rule)}` : esc(m.policy);
    let html = `<dl class="kv">
      <dt>leader</dt><dd id="move-leader">${leader}</dd>
      <dt>policy</dt><dd>${esc(m.policy)}</dd>
      <dt>saw welfare</dt><dd>${m.observed_welfare === null ? "none (no tax year before this one)" : fix(m.observed_welfare, 4)}</dd>
      <dt>previous rates</dt><dd>${pct(m.previous_rates)} %</dd>
      <dt>moved</dt><dd>${deltas}</dd>
      <dt>new rates</dt><dd>${pct(m.rates)} %</dd>
      <dt>cut-offs</dt><dd>${m.cutoffs.map(money).join(" / ")}</dd>
    </dl>`;
    const planner = r.exchanges.filter((e) => e.role === "planner");
    if (planner.length) html += `<h3>The planner's prompt and raw answer</h3>` + planner.map((e, i) => exchangeHtml(e, i === 0)).join("");
    for (const n of r.notes) html += `<p class="note">${esc(n)}</p>`;
    box.innerHTML = html;
  }

  function drawElection(r) {
    const e = r.election;
    $("election").hidden = !e;
    if (!e) return;
    const max = Math.max(1, ...e.candidates.map((c) => c.tally));
    // Highest tally first; past the first ten, the rest fold away.
    const ranked = e.candidates.slice().sort((x, y) => y.tally - x.tally || y.first_choices - x.first_choices || x.id - y.id);
    const row = (c) => `<tr class="${c.id === e.winner ? "winner" : ""}">
      <td class="text">${c.id}${c.id === e.winner ? " (winner)" : ""}</td>
      <td class="text">${c.platform.length ? c.platform.map(signed).join(", ") : "-"}</td>
      <td>${+c.tally.toFixed(2)}<span class="bar" style="width:${(60 * c.tally / max).toFixed(0)}px"></span></td>
      <td>${c.first_choices}</td><td>${c.approvals}</td><td>${c.borda}</td></tr>`;
    const head = `<thead><tr><th class="text">candidate</th><th class="text">platform (points)</th>
      <th>${esc(e.rule)} tally</th><th>first choices</th><th>approvals</th><th>Borda points</th></tr></thead>`;
    let html = `<p>Rule <b>${esc(e.rule)}</b>: ${e.candidates.length} candidates, ${e.ballots} ballots (turnout ${e.turnout_text}),
      winner <b id="election-winner">${e.winner}</b> by a margin of ${e.margin_text}${e.tie_broken ? " (tie broken by lot)" : ""}${e.exhausted ? `; ${e.exhausted} ballots exhausted` : ""}.</p>
      <div class="table-wrap"><table>${head}<tbody>${ranked.slice(0, 10).map(row).join("")}</tbody></table></div>`;
    if (ranked.length > 10) {
      html += `<details><summary>the other ${ranked.length - 10} candidates</summary><div class="table-wrap"><table>${head}<tbody>${ranked.slice(10).map(row).join("")}</tbody></table></div></details>`;
    }
    if (e.pairwise) {
      const ids = e.candidates.map((c) => c.id);
      html += `<h3>Pairwise: ballots preferring the row to the column</h3><div class="table-wrap"><table><thead><tr><th></th>${ids.map((i) => `<th>${i}</th>`).join("")}</tr></thead><tbody>` +
        e.pairwise.map((row, i) => `<tr><th>${ids[i]}</th>${row.map((v, j) => `<td>${i === j ? "-" : v}</td>`).join("")}</tr>`).join("") + `</tbody></table></div>`;
    }
    if (e.notes.length) html += `<h3>The count</h3><ul>${e.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`;
    $("election-body").innerHTML = html;
  }

  function drawHist(svg, bins, xfmt, binsB) {
    if (!bins.length) {
      svg.replaceChildren();
      svg.setAttribute("viewBox", "0 0 420 40");
      el("text", { x: 10, y: 24 }, svg).textContent = "not available: the run logged digests of the hours";
      return;
    }
    const all = bins.concat(binsB || []);
    const x = [Math.min(...all.map((b) => b[0])), Math.max(...all.map((b) => b[1]))];
    const ymax = Math.max(1, ...all.map((b) => b[2]));
    const bars = bins.map(([x0, x1, y]) => ({ x0, x1, y, color: COLORS[0] }));
    if (binsB) for (const [x0, x1, y] of binsB) bars.push({ x0, x1, y, color: "#c0392b", opacity: 0.35 });
    chart(svg, { x, y: [0, ymax * 1.05], bars, xfmt, yint: true, h: 150 });
  }

  function drawCompare(rd, rdB) {
    if (!rdB && RUNS.length < 2) return;
    $("compare").hidden = false;
    const [a, b] = state.ov;
    $("compare-name").textContent = b.dir;
    const fork = a.fork_at ?? b.fork_at;
    const note = fork === null || fork === undefined ? "Neither run is a fork of the other; they are shown on the same rounds."
      : `${a.fork_at != null ? "This run" : "The compared run"} is a fork: it was the other run until step ${fork} (round ${roundOfStep(a, fork)}).`;
    if (!rdB) {
      $("compare-body").innerHTML = `<p>${esc(note)}</p><p class="muted">The compared run has no round ${state.k}.</p>`;
      return;
    }
    const ra = rd.round, rb = rdB.round;
    const mv = (r) => r.planner_move ? (r.election ? `worker ${r.election.winner} won: ` : "") + (r.planner_move.deltas_points.map(signed).join(", ") || "set") : "-";
    const row = (name, x, y) => `<tr><td class="text">${name}</td><td>${esc(x)}</td><td>${esc(y)}</td><td class="text">${x === y ? "" : "differs"}</td></tr>`;
    $("compare-body").innerHTML = `<p>${esc(note)}</p><table><thead><tr><th class="text">round ${state.k}</th>
      <th>this run (${esc(a.setter)})</th><th>compared run (${esc(b.setter)})</th><th></th></tr></thead><tbody>
      ${row("rates %", ra.rates_text, rb.rates_text)}${row("mean welfare", ra.welfare_text, rb.welfare_text)}
      ${row("revenue $/step", ra.revenue_text, rb.revenue_text)}${row("mean hours", ra.hours_text, rb.hours_text)}
      ${row("Gini", ra.gini_text, rb.gini_text)}${row("move (points)", mv(ra), mv(rb))}</tbody></table>`;
  }

  // ---- workers ------------------------------------------------------------------------------------
  // Skill is dollars a year per weekly hour (income = skill x hours, both annual), as the prompts say.
  const COLS = [["id", "worker", 0], ["skill", "skill $/yr per weekly h", 2], ["hours", "hours/week", 2], ["income", "income $/yr (skill x hours)", 2],
    ["tax", "tax", 2], ["utility", "utility", 2], ["occupation", "occupation"], ["sex", "sex"], ["age", "age", 0], ["kind", "type"]];
  const SORTABLE = new Set(["id", "skill", "hours", "income", "tax", "utility", "age"]);

  async function workerPage(rd) {
    const run = RUNS[0];
    if (!run.table) return null;
    if (BOOT.mode === "serve") {
      const q = `sort=${state.sort}&desc=${state.desc}&offset=${state.offset}&limit=${state.limit}`;
      return get(`a/round/${state.k}/workers?${q}`);
    }
    if (!rd.workers) return { total: 0, offset: 0, rows: [] };
    const key = state.sort;
    const rows = rd.workers.slice().sort((x, y) => {
      const o = x[key] < y[key] ? -1 : x[key] > y[key] ? 1 : 0;
      return (state.desc ? -o : o) || x.id - y.id;
    });
    return { total: rows.length, offset: state.offset, rows: rows.slice(state.offset, state.offset + state.limit) };
  }

  async function drawWorkers(rd) {
    const thead = $("worker-table").tHead, tbody = $("worker-table").tBodies[0];
    thead.innerHTML = "<tr>" + COLS.map(([k, name]) => {
      const sort = k === state.sort ? ` aria-sort="${state.desc ? "descending" : "ascending"}"` : "";
      const cls = COLS.find((c) => c[0] === k)[2] === undefined ? "text" : "";
      return SORTABLE.has(k) ? `<th class="${cls}" data-key="${k}" tabindex="0"${sort}>${name}</th>` : `<th class="${cls}">${name}</th>`;
    }).join("") + "</tr>";
    const page = await workerPage(rd);
    if (!page) {
      tbody.innerHTML = `<tr><td class="text" colspan="${COLS.length}">This run has ${state.ov[0].num_workers} workers: the page written for file:// does not list them. Open it with <code>simulacra view RUN_DIR --serve</code>.</td></tr>`;
      $("page-info").textContent = "";
      return;
    }
    if (!page.rows.length && rd.round.notes.length) {
      tbody.innerHTML = `<tr><td class="text" colspan="${COLS.length}">${esc(rd.round.notes[0])}</td></tr>`;
    } else {
      tbody.innerHTML = page.rows.map((w) => `<tr data-id="${w.id}" tabindex="0" class="${w.id === state.worker ? "selected" : ""}">` +
        COLS.map(([k, , d]) => d === undefined ? `<td class="text" title="${esc(w[k])}">${esc(w[k])}</td>` : `<td>${fix(w[k], d)}</td>`).join("") + "</tr>").join("");
    }
    if (state.worker === null && page.rows.length) {
      state.worker = page.rows[0].id;
      tbody.rows[0].classList.add("selected");
    }
    document.body.dataset.table = `${state.k}:${state.sort}:${state.desc}:${page.offset}`;
    const to = Math.min(page.total, page.offset + page.rows.length);
    $("page-info").textContent = page.total ? `workers ${page.offset + 1}-${to} of ${page.total}` : "";
    $("page-prev").disabled = state.offset <= 0;
    $("page-next").disabled = to >= page.total;
  }

  async function drawWorker(rd) {
    const id = state.worker;
    if (id === null) return;
    $("worker-id").textContent = id;
    const body = $("worker-body");
    const mine = rd.round.exchanges.filter((e) => e.agent === id);
    const ex = mine.length ? `<h3>This worker's prompts and answers in round ${state.k}</h3>` + mine.map((e) => exchangeHtml(e, false)).join("")
      : (state.ov[0].llm_workers ? `<p class="muted">No exchanges of this worker's in round ${state.k}.</p>` : "");
    if (!RUNS[0].trajectories) {
      body.innerHTML = `<p class="muted">Trajectories of a run this large are in the served viewer (<code>--serve</code>).</p>` + ex;
      document.body.dataset.worker = String(id);
      return;
    }
    // A large run's trajectory takes a moment: say so instead of leaving the previous worker's
    // charts under the new heading.
    body.setAttribute("aria-busy", "true");
    body.innerHTML = `<p class="muted" id="worker-loading">Loading worker ${id}'s trajectory...</p>`;
    const t = await get(`a/worker/${id}`);
    if (state.worker !== id) return;
    body.removeAttribute("aria-busy");
    const r = state.ov[0].rounds.find((x) => x.tax_year === state.k);
    body.innerHTML = `<p>${esc(t.persona)}</p><dl class="kv"><dt>skill</dt><dd>${fix(t.skill, 2)} $/year per weekly hour</dd>
      <dt>census income</dt><dd>${thousands(t.census_income)} $/year: the survey income this worker's skill was calibrated
      from, not the game's income (the table's income is skill x hours)</dd></dl>
      <figure><figcaption>Hours per step</figcaption><svg id="traj-hours"></svg></figure>
      <figure><figcaption>Utility per step</figcaption><svg id="traj-utility"></svg></figure>` + ex;
    const last = t.step[t.step.length - 1] || 1;
    const band = r ? [r.first_step, r.first_step + r.steps] : null;
    const pts = (col) => t.step.map((s, i) => [s, col[i]]);
    chart($("traj-hours"), { x: [0, last], y: span(t.hours), series: [{ pts: pts(t.hours), color: COLORS[0] }], band, h: 150, xint: true });
    document.body.dataset.worker = String(id);
    chart($("traj-utility"), { x: [0, last], y: span(t.utility), series: [{ pts: pts(t.utility), color: COLORS[2] }], band, h: 150, xint: true });
  }

  // ---- navigation ----------------------------------------------------------------------------------
  let drawing = 0;
  // body[data-ready] = the round fully drawn, body[data-table] = the table's round, sort and
  // offset once its rows are in, body[data-worker] = the worker panel's worker once drawn:
  // what a test (or a user script) waits for.
  async function show() {
    const token = ++drawing;
    delete document.body.dataset.ready;
    const k = state.k;
    $("round-input").value = k;
    $("round-count").textContent = `of 0-${nRounds() - 1}`;
    const r = state.ov[0].rounds.find((x) => x.tax_year === k);
    $("round-steps").textContent = r ? `steps ${r.first_step}-${r.first_step + r.steps - 1}` : "";
    $("prev").disabled = k <= 0;
    $("next").disabled = k >= nRounds() - 1;
    drawWhole();
    const b = state.ov[1];
    const [rd, rdB] = await Promise.all([
      get(`a/round/${k}`),
      b && b.rounds.some((x) => x.tax_year === k) ? get(`b/round/${k}`) : Promise.resolve(null),
    ]);
    if (token !== drawing) return;
    state.round = [rd, rdB];
    drawRound(rd, rdB);
    await drawWorkers(rd);
    await drawWorker(rd);
    if (token === drawing) document.body.dataset.ready = String(k);
  }
  function go(k) {
    k = Math.max(0, Math.min(nRounds() - 1, k | 0));
    if (location.hash !== "#round=" + k) history.replaceState(null, "", "#round=" + k);
    if (k !== state.k || !state.round.length) { state.k = k; state.offset = 0; show().catch(showError); }
  }
  function hashRound() {
    const m = /round=(\d+)/.exec(location.hash);
    return m ? Number(m[1]) : 0;
  }

  function wire() {
    $("prev").onclick = () => go(state.k - 1);
    $("next").onclick = () => go(state.k + 1);
    $("round-input").onchange = (e) => go(Number(e.target.value));
    window.addEventListener("hashchange", () => go(hashRound()));
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => {
        if (!state.round.length) return;
        drawWhole();
        drawRound(...state.round);
        drawWorker(state.round[0]).catch(showError);
      }, 150);
    });
    document.addEventListener("keydown", (e) => {
      if (e.target.tagName === "INPUT" || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === "ArrowLeft") { go(state.k - 1); e.preventDefault(); }
      else if (e.key === "ArrowRight") { go(state.k + 1); e.preventDefault(); }
      else if (e.key === "Home") { go(0); e.preventDefault(); }
      else if (e.key === "End") { go(nRounds() - 1); e.preventDefault(); }
    });
    const thead = $("worker-table").tHead, tbody = $("worker-table").tBodies[0];
    const sortBy = (key) => {
      if (!key) return;
      if (state.sort === key) state.desc = !state.desc; else { state.sort = key; state.desc = key !== "id"; }
      state.offset = 0;
      drawWorkers(state.round[0]).catch(showError);
    };
    thead.onclick = (e) => sortBy(e.target.dataset.key);
    thead.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { sortBy(e.target.dataset.key); e.preventDefault(); } };
    const select = (tr) => {
      if (!tr || tr.dataset.id === undefined) return;
      state.worker = Number(tr.dataset.id);
      for (const x of tbody.rows) x.classList.toggle("selected", x === tr);
      drawWorker(state.round[0]).catch(showError);
    };
    tbody.onclick = (e) => select(e.target.closest("tr"));
    tbody.onkeydown = (e) => {
      const tr = e.target.closest("tr");
      if (e.key === "Enter") { select(tr); e.preventDefault(); }
      else if (e.key === "ArrowDown" && tr && tr.nextElementSibling) { tr.nextElementSibling.focus(); e.preventDefault(); }
      else if (e.key === "ArrowUp" && tr && tr.previousElementSibling) { tr.previousElementSibling.focus(); e.preventDefault(); }
    };
    $("page-prev").onclick = () => { state.offset = Math.max(0, state.offset - state.limit); drawWorkers(state.round[0]).catch(showError); };
    $("page-next").onclick = () => { state.offset += state.limit; drawWorkers(state.round[0]).catch(showError); };
  }

  async function start() {
    wire();
    state.ov = await Promise.all(RUNS.map((r) => get(`${r.key}/overview`)));
    const a = state.ov[0];
    // A sweep's runs all carry their scenario's name ("default"): the folder tells them apart.
    const folder = String(a.dir).split(/[\\/]/).filter(Boolean).pop() || "";
    const title = folder && folder !== a.name ? `${a.name} (${folder})` : a.name;
    document.title = `simulacra view: ${title}`;
    $("run-title").textContent = title;
    $("run-meta").title = a.dir;
    $("run-meta").textContent = `${a.num_workers.toLocaleString("en-US")} workers, ${a.steps.step.length} steps, ` +
      `tax year ${a.tax_year_length} steps, seed ${a.seed}, schedule set by ${a.setter} - ${a.dir}`;
    if (a.damaged) showError("the log ends badly after the rounds shown: " + a.damaged);
    state.k = -1;
    go(hashRound());
  }
  start().catch(showError);
})();
