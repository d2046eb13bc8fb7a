#!/usr/bin/env python3
"""The federation experiments of docs/federation.md: one central hill-climbing planner against
K = 2 and 4 equal regions with hill-climbing planners, without mobility and at two levels of
mobility, a federal layer under each equalization rule, and a federal layer set by its
planner or by a leader the nation elects; 30 seeds, 1,000 rational workers, 40 tax years.
Every difference from the central planner is paired by seed; brackets are 95 % intervals of the
mean (1.96 standard errors over the seeds). Prints the Markdown tables the page shows.

    python3 scenarios/federation-experiments/run.py [BIN] [OUT_DIR] [SEEDS] [WORKERS] [JOBS]
    (defaults: target/release/simulacra, runs/federation, 30, 1000, 2)
"""
import csv
import statistics
from concurrent.futures import ThreadPoolExecutor

from common import arguments, ci, play

BIN, OUT, SEEDS, WORKERS, JOBS = arguments("runs/federation")

BASE = ["baselines.enabled=false", f"simulation.num_agents={WORKERS}", "simulation.timesteps=1000"]
# Mobility: the taste scale sigma and the moving cost m, in utility units (dollars of
# consumption); a worker's utility is of the order of 30,000.
MOBILITY = {
    "none": ["federation.move_every_years=0"],
    "low": ["federation.taste_scale=20000", "federation.moving_cost=5000"],
    "high": ["federation.taste_scale=5000", "federation.moving_cost=1000"],
}
CONFIGS = {"central": []}
for k in (2, 4):
    for level, sets in MOBILITY.items():
        CONFIGS[f"K={k}, mobility {level}"] = [f"federation.regions={k}"] + sets
# The mobility sweep: K = 2, moving cost 1000, the taste scale falling (mobility rising).
SWEEP = [40000, 20000, 10000, 5000, 2500]
for sigma in SWEEP:
    CONFIGS[f"K=2, sigma {sigma}"] = [
        "federation.regions=2",
        f"federation.taste_scale={sigma}",
        "federation.moving_cost=1000",
    ]
for eq in ("none", "per-capita", "gap-fill", "uncapped-gap-share"):
    CONFIGS[f"K=2, mobility high, federal, equalization {eq}"] = (
        ["federation.regions=2"]
        + MOBILITY["high"]
        + ["federation.federal_planner=hill-climb", f"federation.equalization={eq}"]
    )
# Who sets the federal schedule: its hill-climbing planner, or a leader the whole nation elects
# by plurality every tax year (federal rates starting at 0 % in both).
ELECTED = ["federation.federal_governance=election", "federation.federal_rule=plurality",
           "federation.federal_term_years=1"]
for level in ("none", "high"):
    CONFIGS[f"K=2, mobility {level}, federal planner"] = (
        ["federation.regions=2"] + MOBILITY[level] + ["federation.federal_planner=hill-climb"]
    )
    CONFIGS[f"K=2, mobility {level}, federal elected"] = (
        ["federation.regions=2"] + MOBILITY[level] + ELECTED
    )


def run(name, sets, seed):
    out = OUT / name.replace(" ", "").replace(",", "_").replace("=", "") / f"seed{seed}"
    summary = play(BIN, out, [f"simulation.seed={seed}"] + BASE + sets)
    with open(out / "steps.csv") as f:
        rows = list(csv.DictReader(f))
    top = [float(r[[k for k in r if k.startswith("rate_")][-1]]) for r in rows[::25]]
    return summary, top


def ms(xs, fmt="{:.0f}"):
    """A level: mean [95 % interval], whole numbers unless `fmt` says otherwise."""
    return ci(xs, fmt)


jobs = [(name, seed) for name in CONFIGS for seed in SEEDS]
with ThreadPoolExecutor(JOBS) as pool:
    done = dict(zip(jobs, pool.map(lambda j: run(j[0], CONFIGS[j[0]], j[1]), jobs)))
results = {name: [done[(name, s)] for s in SEEDS] for name in CONFIGS}
central = {s: r[0] for s, r in zip(SEEDS, results["central"])}

MAIN = [n for n in results if "sigma" not in n]
SWEPT = ["central"] + [n for n in results if "sigma" in n]


def table(names):
    return {n: results[n] for n in names}


print(f"{WORKERS} workers, seeds {SEEDS[0]}-{SEEDS[-1]}; mean [95 % interval] over seeds; differences paired by seed.")
print()
print("| setting | welfare, last year | vs central | welfare, whole run | vs central | top rate, end (%) | top rate, mean over run (%) | moves per year | income segregation |")
print("|---|---|---|---|---|---|---|---|---|")
for name, rs in table(MAIN).items():
    last = [r[0]["swf_final"] for r in rs]
    whole = [r[0]["swf_mean"] for r in rs]
    d_last = [100 * (r[0]["swf_final"] / central[s]["swf_final"] - 1) for s, r in zip(SEEDS, rs)]
    d_whole = [100 * (r[0]["swf_mean"] / central[s]["swf_mean"] - 1) for s, r in zip(SEEDS, rs)]
    top_end = [100 * r[0]["tax_rates_final"][-1] for r in rs]
    top_mean = [100 * statistics.mean(r[1]) for r in rs]
    fed = [r[0].get("federation") for r in rs]
    moves = [f["moves_total"] / max(1, len(f["moves_per_year"])) for f in fed if f]
    seg = [f["income_segregation"] for f in fed if f]
    print(
        f"| {name} | {ms(last)} | {ms(d_last, '{:+.1f}')} % | {ms(whole)} | {ms(d_whole, '{:+.1f}')} % "
        f"| {ms(top_end)} | {ms(top_mean)} | {ms(moves, '{:.1f}') if moves else '-'} "
        f"| {ms(seg, '{:.2f}') if seg else '-'} |"
    )

print()
years = list(range(0, 40, 5)) + [39]
print("| setting | " + " | ".join(f"year {y}" for y in years) + " |")
print("|---|" + "---|" * len(years))
for name, rs in table(MAIN).items():
    cells = [f"{100 * statistics.mean(r[1][y] for r in rs):.0f}" for y in years]
    print(f"| {name} | " + " | ".join(cells) + " |")

print()
print("| setting | federal top rate, end (%) | federal revenue per step | transfers per step | regions' top rates, end (%) | largest region's share |")
print("|---|---|---|---|---|---|")
for name, rs in results.items():
    if "federal" not in name:
        continue
    fr = [100 * r[0]["federation"]["federal_rates"][-1] for r in rs]
    rev = [r[0]["federation"].get("federal_revenue") or 0.0 for r in rs]
    tr = [r[0]["federation"]["transfers"] for r in rs]
    reg = [statistics.mean(100 * g["rates"][-1] for g in r[0]["regions"]) for r in rs]
    share = [max(g["population"] for g in r[0]["regions"]) / WORKERS for r in rs]
    print(f"| {name} | {ms(fr)} | {ms(rev)} | {ms(tr)} | {ms(reg)} | {ms(share, '{:.2f}')} |")

print()
print("| K = 2, moving cost 1000 | taste scale | moves per year | welfare vs central, whole run | top rate, mean over run (%) | top rate, end (%) |")
print("|---|---|---|---|---|---|")
for name, rs in table(SWEPT).items():
    sigma = name.split("sigma ")[1] if "sigma" in name else "-"
    fed = [r[0].get("federation") for r in rs]
    moves = [f["moves_total"] / max(1, len(f["moves_per_year"])) for f in fed if f]
    d_whole = [100 * (r[0]["swf_mean"] / central[s]["swf_mean"] - 1) for s, r in zip(SEEDS, rs)]
    top_mean = [100 * statistics.mean(r[1]) for r in rs]
    top_end = [100 * r[0]["tax_rates_final"][-1] for r in rs]
    print(
        f"| {name} | {sigma} | {ms(moves, '{:.1f}') if moves else '-'} | {ms(d_whole, '{:+.1f}')} % "
        f"| {ms(top_mean)} | {ms(top_end)} |"
    )

print()
print("| K = 2 | federal rates by bracket, end (%) | federal revenue per step | welfare vs central, whole run | distinct federal leaders |")
print("|---|---|---|---|---|")
for name, rs in results.items():
    if not name.endswith(("federal planner", "federal elected")):
        continue
    rates = [r[0]["federation"]["federal_rates"] for r in rs]
    by_bracket = " / ".join(
        f"{statistics.mean(100 * x[j] for x in rates):.0f}" for j in range(len(rates[0]))
    )
    rev = [r[0]["federation"].get("federal_revenue") or 0.0 for r in rs]
    d_whole = [100 * (r[0]["swf_mean"] / central[s]["swf_mean"] - 1) for s, r in zip(SEEDS, rs)]
    g = [r[0]["federation"].get("federal_governance") for r in rs]
    leaders = [x["distinct_winners"] for x in g if x]
    print(
        f"| {name.removeprefix('K=2, ')} | {by_bracket} | {ms(rev)} | {ms(d_whole, '{:+.1f}')} % "
        f"| {ms(leaders, '{:.1f}') if leaders else '-'} |"
    )

print()
print("| setting | top rate, end, vs central (points) | top rate, mean over run, vs central (points) |")
print("|---|---|---|")
for name, rs in results.items():
    if name == "central":
        continue
    d_end = [100 * (r[0]["tax_rates_final"][-1] - central[s]["tax_rates_final"][-1]) for s, r in zip(SEEDS, rs)]
    cmean = {s: 100 * statistics.mean(r[1]) for s, r in zip(SEEDS, results["central"])}
    d_mean = [100 * statistics.mean(r[1]) - cmean[s] for s, r in zip(SEEDS, rs)]
    print(f"| {name} | {ms(d_end, '{:+.1f}')} | {ms(d_mean, '{:+.1f}')} |")
