#!/usr/bin/env python3
"""Local public goods (docs/federation.md, "Local public goods"): K = 2 regions provide a good
out of their rebates, each at the Samuelson level of its own residents' tastes ("local") or
every region at the nation's level ("central", the uniform provision of Oates' benchmark).
Tastes for the good differ between the regions (mean 200 where one half starts, 20 where the
other does) or are alike (110 in both); each worker's taste is her region's mean times a
uniform draw on [0, 2). Workers stay where they start, or move (a fifth re-deciding each year
at consistent rebates, starting regions drawn from tastes, as on the page's other tables).
Regions are run by the fixed 30/30/30 schedule or by hill-climbing planners. Paired by seed:
local against central, and provision at all ("central") against none; 95 % intervals are
mean +- 1.96 standard errors over the seeds. Prints the Markdown table the page shows.

    python3 scenarios/federation-experiments/public_goods.py [BIN] [OUT_DIR] [SEEDS] [WORKERS] [JOBS]
    (defaults: target/release/simulacra, runs/federation-public-goods, 30, 1000, 2)
"""
from concurrent.futures import ThreadPoolExecutor

from common import arguments, ci, pct, play

BIN, OUT, SEEDS, WORKERS, JOBS = arguments("runs/federation-public-goods")

BASE = [
    "baselines.enabled=false", f"simulation.num_agents={WORKERS}", "simulation.timesteps=500",
    "federation.regions=2",
]
PLANNERS = {
    "fixed 30/30/30": ['planner.policy="fixed"', "planner.rates=[0.3,0.3,0.3]"],
    "hill-climb": ['planner.policy="hill-climb"'],
}
MOBILITY = {
    "none": ["federation.move_every_years=0"],
    "movers": ["federation.taste_scale=5000", "federation.moving_cost=1000",
               "federation.move_share=0.2", 'federation.move_expectations="consistent"',
               'federation.initial_regions="by-taste"'],
}
TASTES = {"differ (200, 20)": (200.0, 20.0), "alike (110, 110)": (110.0, 110.0)}
RULES = ["local", "central", "none"]


def run(planner, mobility, tastes, rule, seed):
    slug = lambda s: s.split(" ")[0]
    out = OUT / slug(planner) / mobility / slug(tastes) / rule / f"seed{seed}"
    sets = BASE + PLANNERS[planner] + MOBILITY[mobility] + [f"simulation.seed={seed}"]
    if rule != "none":
        a, b = TASTES[tastes]
        sets += [f'federation.public_good="{rule}"',
                 f"federation.region=[{{public_good_taste={a}}}, {{public_good_taste={b}}}]"]
    return play(BIN, out, sets)


jobs = [(p, m, t, r, s) for p in PLANNERS for m in MOBILITY for t in TASTES for r in RULES
        for s in SEEDS if not (r == "none" and t != next(iter(TASTES)))]
with ThreadPoolExecutor(JOBS) as pool:
    done = dict(zip(jobs, pool.map(lambda j: run(*j), jobs)))


def get(p, m, t, r, s):
    # Without a good the tastes play no part: one set of runs serves both rows.
    return done[(p, m, next(iter(TASTES)) if r == "none" else t, r, s)]


def with_location(s):
    return s["federation"]["swf_with_location"]


print(f"{WORKERS} workers, seeds {SEEDS[0]}-{SEEDS[-1]}, K = 2, 500 steps; "
      "mean [95 % interval] over seeds of the paired difference (%).")
print()
print("| regions' planner | movers | tastes for the good | local vs central, welfare over the run "
      "| local vs central, welfare with location, last year | central vs no good, welfare over the run |")
print("|---|---|---|---|---|---|")
for p in PLANNERS:
    for m in MOBILITY:
        for t in TASTES:
            local = [get(p, m, t, "local", s) for s in SEEDS]
            central = [get(p, m, t, "central", s) for s in SEEDS]
            none = [get(p, m, t, "none", s) for s in SEEDS]
            run_vs = ci([pct(a["swf_mean"], b["swf_mean"]) for a, b in zip(local, central)], "{:+.2f}")
            loc_vs = ci([pct(with_location(a), with_location(b)) for a, b in zip(local, central)],
                        "{:+.2f}")
            good = ci([pct(a["swf_mean"], b["swf_mean"]) for a, b in zip(central, none)], "{:+.2f}")
            print(f"| {p} | {m} | {t} | {run_vs} | {loc_vs} | {good} |")
