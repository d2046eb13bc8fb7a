//! Criterion benchmarks: one timestep of the game through the actors (scheduler side, the
//! sharded worker actors, the settlement), and the pure settlement alone.
//!
//! `cargo bench --bench timestep`. The whole-run scale figure (1M workers x 100 steps) is
//! `simulacra bench`, whose numbers the README quotes.

use std::hint::black_box;
use std::sync::Arc;

use actix::System;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use simulacra::config::{DEFAULT_SCENARIO, Scenario};
use simulacra::econ::{TaxSchedule, settle};
use simulacra::game::Economy;
use simulacra::population::Population;
use simulacra::resolved::ResolvedScenario;
use simulacra::run::assemble::planner_policy;
use simulacra_actors::{Game, StepFrames};

fn scenario(n: usize, policy: &str) -> ResolvedScenario {
    let sets = vec![
        format!("simulation.num_agents={n}"),
        format!("workers.policy={policy}"),
        "simulation.tax_year_length=1000000".to_string(),
        "baselines.enabled=false".to_string(),
    ];
    ResolvedScenario::new(Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).unwrap()).unwrap()
}

fn timestep(c: &mut Criterion) {
    let mut group = c.benchmark_group("timestep");
    group.sample_size(20);
    for policy in ["rational", "bounded"] {
        for n in [1_000usize, 10_000, 100_000] {
            let s = scenario(n, policy);
            let sys = System::new();
            let population = Arc::new(Population::generate(&s));
            let planner = planner_policy(s.planner.policy, &s, &population, None).unwrap();
            let mut economy = sys.block_on(Economy::start(&s, population, planner, None));
            let mut step = 0u64;
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(policy, n), &n, |b, _| {
                b.iter(|| {
                    let mut frames = StepFrames::new();
                    sys.block_on(economy.step(step, &mut frames)).unwrap();
                    step += 1;
                    black_box(frames.frames().len())
                })
            });
            economy.stop();
        }
    }
    group.finish();
}

fn settlement(c: &mut Criterion) {
    let s = scenario(100_000, "rational");
    let population = Population::generate(&s);
    let params = &s.world;
    let schedule = TaxSchedule::uniform(s.cutoffs.clone(), 0.3).unwrap();
    let hours: Vec<f64> = (0..population.len()).map(|i| (i % 101) as f64).collect();
    let mut group = c.benchmark_group("settle");
    group.throughput(Throughput::Elements(hours.len() as u64));
    group.bench_function("100k", |b| {
        b.iter(|| {
            black_box(
                settle(
                    params,
                    &schedule,
                    &population.skills,
                    &population.weights,
                    &hours,
                )
                .welfare,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, timestep, settlement);
criterion_main!(benches);
