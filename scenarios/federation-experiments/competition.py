#!/usr/bin/env python3
"""Tax competition (docs/federation.md, "Tax competition"): K = 2 regions whose planners
best-respond to each other (planner = "nash", migration anticipated), scored per capita (the
average resident: population swings count), on their original residents (natives, whom no
migration moves in or out) or on the nation (cooperative regions: the benchmark), each with
mobility alike across skills and rising with skill (mobility_by_skill = 2). The movers are
those of the page's alternatives (a fifth re-deciding each year at consistent rebates, starting
regions drawn from tastes). Paired by seed: each competing run against the cooperative run of
the same seed and mobility; 95 % intervals are mean +- 1.96 standard errors over the seeds.
The cooperative regions choose the best of all flat profiles together (in the planners'
model), which in about half the seeds empties one region; a second table splits the seeds by
that. Prints the Markdown tables the page
shows.

    python3 scenarios/federation-experiments/competition.py [BIN] [OUT_DIR] [SEEDS] [WORKERS] [JOBS]
    (defaults: target/release/simulacra, runs/federation-competition, 30, 1000, 2)
"""
from concurrent.futures import ThreadPoolExecutor

from common import arguments, ci, pct, play

BIN, OUT, SEEDS, WORKERS, JOBS = arguments("runs/federation-competition")

BASE = [
    "baselines.enabled=false", f"simulation.num_agents={WORKERS}", "simulation.timesteps=1000",
    'planner.policy="nash"', "federation.regions=2", "federation.taste_scale=5000",
    "federation.moving_cost=1000", "federation.move_share=0.2",
    'federation.move_expectations="consistent"', 'federation.initial_regions="by-taste"',
]
OBJECTIVES = ["per-capita", "original-residents", "national"]
MOBILITY = {"alike": "0", "rising with skill": "2"}


def run(objective, mobility, seed):
    out = OUT / objective / f"mobility{MOBILITY[mobility]}" / f"seed{seed}"
    return play(BIN, out, [f"simulation.seed={seed}"] + BASE + [
        f'federation.objective="{objective}"', f"federation.mobility_by_skill={MOBILITY[mobility]}"])


jobs = [(o, m, seed) for o in OBJECTIVES for m in MOBILITY for seed in SEEDS]
with ThreadPoolExecutor(JOBS) as pool:
    done = dict(zip(jobs, pool.map(lambda j: run(*j), jobs)))


def mean_rate(summary):
    """The regions' flat equilibrium rates, weighted by their populations there (%)."""
    n = summary["federation"]["nash"]
    total = sum(n["populations"])
    return 100 * sum(r[0] * p for r, p in zip(n["rates"], n["populations"])) / total


def split(summary):
    """True when the cooperative run keeps both regions populated (the smaller at least 10 %)."""
    pops = summary["federation"]["nash"]["populations"]
    return min(pops) >= 0.1 * sum(pops)


print(f"{WORKERS} workers, seeds {SEEDS[0]}-{SEEDS[-1]}, K = 2; mean [95 % interval] over seeds.")
print()
print("| regions score | mobility | equilibrium rate (%, population-weighted) | lower region's rate (%) "
      "| welfare over the run vs cooperative (%) | welfare with location, last year, vs cooperative (%) "
      "| best responses settled |")
print("|---|---|---|---|---|---|---|")
for o in OBJECTIVES:
    for m in MOBILITY:
        rs = [done[(o, m, s)] for s in SEEDS]
        coop = [done[("national", m, s)] for s in SEEDS]
        rate = ci([mean_rate(r) for r in rs], "{:.0f}")
        low = ci([100 * min(x[0] for x in r["federation"]["nash"]["rates"]) for r in rs], "{:.0f}")
        settled = sum(r["federation"]["nash"]["converged"] for r in rs)
        if o == "national":
            vs = loc = "(benchmark)"
        else:
            vs = ci([pct(r["swf_mean"], c["swf_mean"]) for r, c in zip(rs, coop)])
            loc = ci([pct(r["federation"]["swf_with_location"], c["federation"]["swf_with_location"])
                      for r, c in zip(rs, coop)])
        print(f"| {o} | {m} | {rate} | {low} | {vs} | {loc} | {settled} of {len(SEEDS)} |")

print()
print("Split by what the cooperative regions did in the same seed: kept both regions populated "
      "(the smaller at least 10 %), or emptied one (a prohibitive rate there).")
print()
print("| regions score | mobility | seeds, cooperative kept two regions | welfare over the run vs cooperative (%) "
      "| seeds, cooperative emptied one | welfare over the run vs cooperative (%) |")
print("|---|---|---|---|---|---|")
for o in OBJECTIVES[:-1]:
    for m in MOBILITY:
        groups = {True: [], False: []}
        for s in SEEDS:
            c = done[("national", m, s)]
            groups[split(c)].append(pct(done[(o, m, s)]["swf_mean"], c["swf_mean"]))
        print(f"| {o} | {m} | {len(groups[True])} | {ci(groups[True])} | {len(groups[False])} | {ci(groups[False])} |")
