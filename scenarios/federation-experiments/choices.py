#!/usr/bin/env python3
"""What the federation's modelling choices drive (docs/federation.md, "What the modelling
choices drive"): K = 2 regions under high mobility against the same planner centrally, for
three planners (hill-climb, Saez, a fixed 70/50/50 schedule), under the defaults (regions
scored per capita, every worker re-deciding at last year's rebates, regions starting as blocks
of ids) and under the alternatives (regions scored on their original residents, a fifth of the
workers re-deciding each year at rebates consistent with everyone's choices, regions drawn from
tastes), and, for hill-climb, each alternative alone. Paired by seed: each federation run is compared with the central run of the same seed
and planner, and the two federation settings with each other; 95 % intervals are mean +- 1.96
standard errors over the seeds. Prints the Markdown tables the page shows.

    python3 scenarios/federation-experiments/choices.py [BIN] [OUT_DIR] [SEEDS] [WORKERS] [JOBS]
    (defaults: target/release/simulacra, runs/federation-choices, 30, 1000, 2)
"""
from concurrent.futures import ThreadPoolExecutor

from common import arguments, ci, pct, play

BIN, OUT, SEEDS, WORKERS, JOBS = arguments("runs/federation-choices")

# 40 tax years of 25 steps, as the page's other experiments.
BASE = ["baselines.enabled=false", f"simulation.num_agents={WORKERS}", "simulation.timesteps=1000"]
PLANNERS = {
    "hill-climb": ['planner.policy="hill-climb"'],
    "saez": ['planner.policy="saez"'],
    "fixed 70/50/50": ['planner.policy="fixed"', "planner.rates=[0.7, 0.5, 0.5]"],
}
HIGH = ["federation.regions=2", "federation.taste_scale=5000", "federation.moving_cost=1000"]
OBJECTIVE = ['federation.objective="original-residents"']
MOVERS = ["federation.move_share=0.2", 'federation.move_expectations="consistent"']
START = ['federation.initial_regions="by-taste"']
SETTINGS = {
    "central": [],
    "defaults": HIGH,
    "alternatives": HIGH + OBJECTIVE + MOVERS + START,
}
# One alternative at a time, for the planner whose result moves (hill-climb).
ALONE = {"objective only": HIGH + OBJECTIVE, "movers only": HIGH + MOVERS, "start only": HIGH + START}


def run(planner, setting, seed):
    out = OUT / planner.replace(" ", "").replace("/", "-") / setting.replace(" ", "-") / f"seed{seed}"
    sets = [f"simulation.seed={seed}"] + BASE + PLANNERS[planner] + {**SETTINGS, **ALONE}[setting]
    return play(BIN, out, sets, warnings=True)


jobs = [(p, s, seed) for p in PLANNERS for s in SETTINGS for seed in SEEDS]
jobs += [("hill-climb", s, seed) for s in ALONE for seed in SEEDS]
with ThreadPoolExecutor(JOBS) as pool:
    done = dict(zip(jobs, pool.map(lambda j: run(*j), jobs)))


print(f"{WORKERS} workers, seeds {SEEDS[0]}-{SEEDS[-1]}, K = 2, high mobility; mean [95 % interval] over seeds.")
print()
print("| planner | setting | welfare over the run vs central (%) | top rate, end (%) | moves per year | largest region's share, end | movers' fixed points converged |")
print("|---|---|---|---|---|---|---|")
rows = [(p, s) for p in PLANNERS for s in ("defaults", "alternatives")]
rows += [("hill-climb", s) for s in ALONE]
for p, s in rows:
    if True:
        rs = [done[(p, s, seed)] for seed in SEEDS]
        d = [pct(r["swf_mean"], done[(p, "central", seed)]["swf_mean"]) for r, seed in zip(rs, SEEDS)]
        top = [100 * r["tax_rates_final"][-1] for r in rs]
        fed = [r["federation"] for r in rs]
        moves = [f["moves_total"] / max(1, len(f["moves_per_year"])) for f in fed]
        share = [max(g["population"] for g in r["regions"]) / WORKERS for r in rs]
        fixed = [f.get("mover_fixed_points") for f in fed]
        fixed = [x for x in fixed if x]
        conv = f"{sum(x[1] for x in fixed)} of {sum(x[0] for x in fixed)} years" if fixed else "-"
        print(f"| {p} | {s} | {ci(d)} | {ci(top, '{:.0f}')} | {ci(moves, '{:.0f}')} | {ci(share, '{:.2f}')} | {conv} |")

print()
print("| planner | alternatives vs defaults, welfare over the run (%) | welfare with location, last year: alternatives vs defaults (%) |")
print("|---|---|---|")
for p in PLANNERS:
    d = [pct(done[(p, "alternatives", s)]["swf_mean"], done[(p, "defaults", s)]["swf_mean"]) for s in SEEDS]
    loc = [
        pct(done[(p, "alternatives", s)]["federation"]["swf_with_location"],
            done[(p, "defaults", s)]["federation"]["swf_with_location"])
        for s in SEEDS
    ]
    print(f"| {p} | {ci(d)} | {ci(loc)} |")
