//! Settling a federation: the starting regions, the federal schedule layered on the regions'
//! own, each region's settlement with its revenue (and the transfers of `equalization.rs`)
//! rebated to its own residents, and the federal equilibrium.

use super::equalization::{Equalization, transfers};
use super::public_good::{PublicGoods, provide, provision};
use crate::econ::{
    Settlement, TaxSchedule, UtilityForm, WorldParams, best_response, settle, social_welfare, stats,
};

/// Each worker's starting region: contiguous blocks of ids, sized by `shares` (which sum to
/// 1) with the largest-remainder rule, so the counts add up to `n` exactly.
pub fn assign_regions(shares: &[f64], n: usize) -> Vec<u32> {
    let k = shares.len().max(1);
    let exact: Vec<f64> = shares.iter().map(|s| s * n as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = n.saturating_sub(counts.iter().sum());
    // Largest remainders first; ties to the lower region.
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &r in order.iter().cycle().take(k * 2) {
        if left == 0 {
            break;
        }
        counts[r] += 1;
        left -= 1;
    }
    let mut out = Vec::with_capacity(n);
    for (r, &c) in counts.iter().enumerate() {
        out.extend(std::iter::repeat_n(r as u32, c));
    }
    out.resize(n, (k - 1) as u32);
    out
}

/// The residents of each of `k` regions, in id order.
pub fn residents(region_of: &[u32], k: usize) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); k];
    for (id, &r) in region_of.iter().enumerate() {
        out[r as usize].push(id as u32);
    }
    out
}

/// The federal layer of a step: its schedule (on top of the regions': marginal rates add)
/// and where its revenue goes.
#[derive(Clone, Copy, Debug)]
pub struct FederalLayer<'a> {
    pub schedule: &'a TaxSchedule,
    pub equalization: Equalization,
    /// The share of each region's gap that `GapFill` fills (unused by the other rules).
    pub gap_fill_rate: f64,
}

/// The schedule a worker faces in a region under a federal layer: the union of both
/// schedules' brackets, marginal rates added and capped at 100 %.
pub fn combine(regional: &TaxSchedule, federal: &TaxSchedule) -> TaxSchedule {
    let mut cutoffs: Vec<f64> = regional
        .cutoffs()
        .iter()
        .chain(federal.cutoffs())
        .copied()
        .collect();
    cutoffs.sort_by(f64::total_cmp);
    cutoffs.dedup();
    let rates = cutoffs
        .iter()
        .map(|&z| (regional.marginal_rate(z) + federal.marginal_rate(z)).min(1.0))
        .collect();
    TaxSchedule::new(cutoffs, rates).expect("the union of valid brackets is valid")
}

/// One step of a federation: each region's settlement over its residents (in id order), and
/// the nation's, in worker-id order.
#[derive(Clone, Debug, PartialEq)]
pub struct FederalSettlement {
    pub regions: Vec<Settlement>,
    /// The nation: every worker's income, tax and utility by id; revenue is the regions'
    /// total (and the federal layer's), rebate the mean rebate per worker, welfare the welfare
    /// function over everyone.
    pub national: Settlement,
    /// The federal layer's revenue, its transfers to each region, and its rebate to every
    /// worker (all 0 without a federal layer).
    pub federal_revenue: f64,
    pub transfers: Vec<f64>,
    pub federal_rebate: f64,
    /// How [`federal_equilibrium`]'s rebate iteration ended (none for a settlement of given
    /// hours, or when hours do not depend on the rebate).
    pub rebate_fixed_point: Option<FixedPoint>,
    /// Each region's public good per resident (`public_good.rs`; all 0 without one), paid
    /// out of its rebate before the rest is shared.
    pub provision: Vec<f64>,
}

/// How an iteration towards a fixed point ended: its rounds, the largest relative change of
/// the last round, and whether that change was within the tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedPoint {
    pub iterations: u32,
    pub residual: f64,
    pub converged: bool,
}

/// Most rounds of the federal equilibrium's rebate iteration, and its relative tolerance.
pub const REBATE_ROUNDS: u32 = 50;
pub const REBATE_TOLERANCE: f64 = 1e-9;

/// Settles a step region by region: region r taxes its residents under `schedules[r]` and
/// rebates its revenue (and any federal transfer) equally to them (under the equal-rebate
/// rule). Under a federal layer each worker also pays the federal schedule on top (marginal
/// rates add, capped at 100 %: the region's tax comes first). With public goods each region
/// first pays for its provision per resident out of that rebate, and each resident gains her
/// valuation of it (`public_good.rs`). Slices are by worker id.
// Eight inputs, each a different slice or policy of the same step: bundling them would only
// move the list into a struct every caller fills field by field.
#[allow(clippy::too_many_arguments)]
pub fn settle_regions(
    params: &WorldParams,
    schedules: &[TaxSchedule],
    federal: Option<FederalLayer>,
    public: Option<&PublicGoods>,
    region_of: &[u32],
    skills: &[f64],
    weights: &[f64],
    hours: &[f64],
) -> FederalSettlement {
    let groups = residents(region_of, schedules.len());
    let pick =
        |ids: &[u32], v: &[f64]| -> Vec<f64> { ids.iter().map(|&i| v[i as usize]).collect() };
    let (mut regions, federal_revenue, transfers, federal_rebate) = match federal {
        // Without a federal layer each region is exactly the one-nation settlement of its
        // residents.
        None => {
            let regions: Vec<Settlement> = groups
                .iter()
                .zip(schedules)
                .map(|(ids, schedule)| {
                    settle(
                        params,
                        schedule,
                        &pick(ids, skills),
                        &pick(ids, weights),
                        &pick(ids, hours),
                    )
                })
                .collect();
            (regions, 0.0, vec![0.0; schedules.len()], 0.0)
        }
        Some(layer) => {
            settle_with_federal(params, schedules, layer, &groups, skills, weights, hours)
        }
    };
    let provision = match public {
        Some(goods) => {
            let g = provision(goods, region_of, schedules.len());
            for ((s, ids), &g) in regions.iter_mut().zip(&groups).zip(&g) {
                provide(params, s, g, &pick(ids, &goods.tastes), &pick(ids, weights));
            }
            g
        }
        None => vec![0.0; schedules.len()],
    };
    let n = region_of.len();
    let (mut incomes, mut taxes, mut utilities) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for (ids, s) in groups.iter().zip(&regions) {
        for (j, &i) in ids.iter().enumerate() {
            incomes[i as usize] = s.incomes[j];
            taxes[i as usize] = s.taxes[j];
            utilities[i as usize] = s.utilities[j];
        }
    }
    let revenue: f64 = regions.iter().map(|s| s.revenue).sum::<f64>() + federal_revenue;
    let rebated: f64 = regions
        .iter()
        .zip(&groups)
        .map(|(s, ids)| s.rebate * ids.len() as f64)
        .sum();
    let welfare = social_welfare(params.welfare, &utilities, weights, &incomes);
    let national = Settlement {
        gini: stats::gini(&incomes),
        mean_hours: stats::mean(hours),
        mean_income: stats::mean(&incomes),
        mean_utility: stats::mean(&utilities),
        rebate: if n > 0 {
            rebated / n as f64 + federal_rebate
        } else {
            0.0
        },
        incomes,
        taxes,
        utilities,
        revenue,
        welfare,
    };
    FederalSettlement {
        regions,
        national,
        federal_revenue,
        transfers,
        federal_rebate,
        rebate_fixed_point: None,
        provision,
    }
}

/// The federation's settlement when every worker best-responds exactly to the schedule she
/// faces (her region's, with the federal one on top) at the rebates that result: what an
/// offline voter or leader foresees of a federal platform, as [`super::equilibrium`] is for
/// one nation. Under quasi-linear utility (or no rebate) hours ignore the rebate; otherwise
/// each worker's rebate (her region's plus the federal one) is iterated to a fixed point.
pub fn federal_equilibrium(
    params: &WorldParams,
    schedules: &[TaxSchedule],
    federal: Option<FederalLayer>,
    public: Option<&PublicGoods>,
    region_of: &[u32],
    skills: &[f64],
    weights: &[f64],
) -> FederalSettlement {
    let faced: Vec<TaxSchedule> = schedules
        .iter()
        .map(|s| match federal {
            Some(layer) => combine(s, layer.schedule),
            None => s.clone(),
        })
        .collect();
    let respond = |rebates: &[f64]| -> Vec<f64> {
        skills
            .iter()
            .zip(region_of)
            .zip(rebates)
            .map(|((&v, &r), &b)| {
                best_response(&params.form, v, &faced[r as usize], b, params.max_hours)
            })
            .collect()
    };
    let settle_at = |hours: &[f64]| {
        settle_regions(
            params, schedules, federal, public, region_of, skills, weights, hours,
        )
    };
    let mut rebates = vec![0.0; skills.len()];
    let mut settled = settle_at(&respond(&rebates));
    if matches!(params.form, UtilityForm::QuasiLinear { .. }) || !params.rebate_equal {
        return settled;
    }
    let mut fixed_point = FixedPoint {
        iterations: 0,
        residual: f64::INFINITY,
        converged: false,
    };
    for round in 1..=REBATE_ROUNDS {
        let next: Vec<f64> = region_of
            .iter()
            .map(|&r| settled.regions[r as usize].rebate + settled.federal_rebate)
            .collect();
        let residual = next
            .iter()
            .zip(&rebates)
            .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
            .fold(0.0, f64::max);
        // The test itself is the multiplied form (the one the iteration has always used).
        let converged = next
            .iter()
            .zip(&rebates)
            .all(|(a, b)| (a - b).abs() <= REBATE_TOLERANCE * a.abs().max(1.0));
        fixed_point = FixedPoint {
            iterations: round,
            residual,
            converged,
        };
        if fixed_point.converged {
            break;
        }
        rebates = next;
        settled = settle_at(&respond(&rebates));
    }
    settled.rebate_fixed_point = Some(fixed_point);
    settled
}

/// The regions' settlements under a federal layer, its revenue, transfers and rebate.
fn settle_with_federal(
    params: &WorldParams,
    schedules: &[TaxSchedule],
    layer: FederalLayer,
    groups: &[Vec<u32>],
    skills: &[f64],
    weights: &[f64],
    hours: &[f64],
) -> (Vec<Settlement>, f64, Vec<f64>, f64) {
    let n: usize = groups.iter().map(Vec::len).sum();
    // Incomes, total taxes and the regions' own shares, region by region in id order.
    let mut own = Vec::with_capacity(groups.len());
    let mut federal_revenue = 0.0;
    for (ids, schedule) in groups.iter().zip(schedules) {
        let combined = combine(schedule, layer.schedule);
        let incomes: Vec<f64> = ids
            .iter()
            .map(|&i| skills[i as usize] * hours[i as usize])
            .collect();
        let taxes: Vec<f64> = incomes.iter().map(|&z| combined.tax(z)).collect();
        let regional: Vec<f64> = incomes
            .iter()
            .zip(&taxes)
            .map(|(&z, &t)| schedule.tax(z).min(t))
            .collect();
        let revenue: f64 = regional.iter().sum();
        federal_revenue += taxes.iter().sum::<f64>() - revenue;
        own.push((incomes, taxes, revenue));
    }
    let populations: Vec<usize> = groups.iter().map(Vec::len).collect();
    let revenues: Vec<f64> = own.iter().map(|o| o.2).collect();
    let transfers = transfers(
        layer.equalization,
        layer.gap_fill_rate,
        federal_revenue,
        &revenues,
        &populations,
    );
    let federal_rebate = if params.rebate_equal && layer.equalization.rebates_leftover() && n > 0 {
        // Under `None` nothing is transferred, so this is the whole federal revenue.
        (federal_revenue - transfers.iter().sum::<f64>()) / n as f64
    } else {
        0.0
    };
    let regions = groups
        .iter()
        .zip(own)
        .zip(&transfers)
        .map(|((ids, (incomes, taxes, revenue)), transfer)| {
            let m = ids.len();
            let rebate = if params.rebate_equal && m > 0 {
                (revenue + transfer) / m as f64
            } else {
                0.0
            };
            let h: Vec<f64> = ids.iter().map(|&i| hours[i as usize]).collect();
            let w: Vec<f64> = ids.iter().map(|&i| weights[i as usize]).collect();
            let utilities: Vec<f64> = incomes
                .iter()
                .zip(&taxes)
                .zip(&h)
                .map(|((z, t), l)| params.form.utility(z - t + rebate + federal_rebate, *l))
                .collect();
            Settlement {
                gini: stats::gini(&incomes),
                mean_hours: stats::mean(&h),
                mean_income: stats::mean(&incomes),
                mean_utility: stats::mean(&utilities),
                welfare: social_welfare(params.welfare, &utilities, &w, &incomes),
                incomes,
                taxes,
                utilities,
                revenue,
                rebate,
            }
        })
        .collect();
    (regions, federal_revenue, transfers, federal_rebate)
}

/// The marginal rate at each of `cutoffs` averaged over the regions, weighted by their
/// populations: the nation's figure in `steps.csv` (regions may use other brackets, so each is
/// read at the nation's bracket starts).
pub fn mean_rates(cutoffs: &[f64], schedules: &[TaxSchedule], populations: &[usize]) -> Vec<f64> {
    let total: usize = populations.iter().sum();
    cutoffs
        .iter()
        .map(|&z| {
            schedules
                .iter()
                .zip(populations)
                .map(|(s, &p)| s.marginal_rate(z) * p as f64)
                .sum::<f64>()
                / total.max(1) as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::UtilityForm;

    fn params() -> WorldParams {
        crate::econ::world::hand_world()
    }

    #[test]
    fn blocks_follow_the_shares_and_add_up() {
        assert_eq!(assign_regions(&[0.5, 0.5], 4), vec![0, 0, 1, 1]);
        // 7 * (0.5, 0.25, 0.25) = 3.5, 1.75, 1.75 -> floors 3, 1, 1; two left go to the
        // largest remainders (0.75, 0.75: regions 1 and 2).
        assert_eq!(
            assign_regions(&[0.5, 0.25, 0.25], 7),
            vec![0, 0, 0, 1, 1, 2, 2]
        );
        assert_eq!(residents(&[1, 0, 1], 2), vec![vec![1], vec![0, 2]]);
    }

    #[test]
    fn each_region_rebates_its_own_revenue_to_its_own_residents() {
        // Region 0 (flat 20 %): worker 0, skill 10, 10 h -> z 100, tax 20, rebate 20.
        // Region 1 (flat 50 %): workers 1 and 2, skill 20, 20 h each -> z 400, tax 200 each,
        // revenue 400, rebate 200. u0 = 100 - 20 + 20 - 0.5*100 = 50;
        // u1 = u2 = 400 - 200 + 200 - 0.5*400 = 200.
        let a = TaxSchedule::new(vec![0.0], vec![0.2]).unwrap();
        let b = TaxSchedule::new(vec![0.0], vec![0.5]).unwrap();
        let f = settle_regions(
            &params(),
            &[a, b],
            None,
            None,
            &[0, 1, 1],
            &[10.0, 20.0, 20.0],
            &[1.0; 3],
            &[10.0, 20.0, 20.0],
        );
        assert_eq!(f.regions[0].rebate, 20.0);
        assert_eq!(f.regions[1].rebate, 200.0);
        assert_eq!(f.national.utilities, vec![50.0, 200.0, 200.0]);
        assert_eq!(f.national.revenue, 420.0);
        // Rebates paid: 20 + 2 * 200 = 420 over 3 workers.
        assert_eq!(f.national.rebate, 140.0);
        assert_eq!(f.national.welfare, 150.0);
        assert_eq!(
            mean_rates(
                &[0.0],
                &[
                    TaxSchedule::new(vec![0.0], vec![0.2]).unwrap(),
                    TaxSchedule::new(vec![0.0], vec![0.5]).unwrap()
                ],
                &[1, 3]
            ),
            vec![(0.2 + 3.0 * 0.5) / 4.0]
        );
    }

    #[test]
    fn a_region_settles_as_its_residents_would_alone() {
        let s = TaxSchedule::new(vec![0.0, 100.0], vec![0.1, 0.4]).unwrap();
        let t = TaxSchedule::new(vec![0.0, 100.0], vec![0.3, 0.2]).unwrap();
        let skills = [5.0, 12.0, 30.0, 8.0];
        let hours = [10.0, 20.0, 15.0, 30.0];
        let f = settle_regions(
            &params(),
            &[s.clone(), t],
            None,
            None,
            &[0, 1, 0, 1],
            &skills,
            &[1.0; 4],
            &hours,
        );
        let alone = settle(&params(), &s, &[5.0, 30.0], &[1.0; 2], &[10.0, 15.0]);
        assert_eq!(f.regions[0], alone);
    }

    #[test]
    fn federal_rates_add_to_the_regions() {
        // Region: 10 % to 100, 30 % above. Federal: 5 % to 50, 80 % above.
        let r = TaxSchedule::new(vec![0.0, 100.0], vec![0.1, 0.3]).unwrap();
        let f = TaxSchedule::new(vec![0.0, 50.0], vec![0.05, 0.8]).unwrap();
        let c = combine(&r, &f);
        assert_eq!(c.cutoffs(), &[0.0, 50.0, 100.0]);
        // 0.15, 0.1 + 0.8 = 0.9, 0.3 + 0.8 = 1.1 capped at 1.
        for (got, want) in c.rates().iter().zip([0.15, 0.9, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{:?}", c.rates());
        }
        // Taxes add below the cap: at 80, 0.1 * 80 + (0.05 * 50 + 0.8 * 30) = 8 + 26.5.
        assert!((c.tax(80.0) - (r.tax(80.0) + f.tax(80.0))).abs() < 1e-9);
        assert!((c.tax(80.0) - 34.5).abs() < 1e-9);
    }

    #[test]
    fn the_federal_equilibrium_is_the_best_response_to_both_layers() {
        // u = c_income - 0.5 l^2 with flat rates: l* = (1 - t_r - t_f) v. Region 0 taxes 20 %,
        // region 1 40 %, the federal layer 10 %: worker 0 (v 10, region 0) works 7 h, worker 1
        // (v 20, region 1) 10 h. Taxes 0.3 * 70 = 21 (14 regional, 7 federal) and 0.5 * 200
        // = 100 (80 and 20); federal revenue 27 rebated 13.5 each; region 0 rebates 14,
        // region 1 80. u0 = 70 - 21 + 14 + 13.5 - 24.5 = 52; u1 = 200 - 100 + 80 + 13.5 - 50
        // = 143.5.
        let r0 = TaxSchedule::new(vec![0.0], vec![0.2]).unwrap();
        let r1 = TaxSchedule::new(vec![0.0], vec![0.4]).unwrap();
        let fed = TaxSchedule::new(vec![0.0], vec![0.1]).unwrap();
        let layer = FederalLayer {
            schedule: &fed,
            equalization: Equalization::None,
            gap_fill_rate: 0.0,
        };
        let e = federal_equilibrium(
            &params(),
            &[r0, r1],
            Some(layer),
            None,
            &[0, 1],
            &[10.0, 20.0],
            &[1.0, 1.0],
        );
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(close(e.national.incomes[0], 70.0) && close(e.national.incomes[1], 200.0));
        assert!(close(e.federal_revenue, 27.0), "{}", e.federal_revenue);
        assert!(
            close(e.national.utilities[0], 52.0),
            "{:?}",
            e.national.utilities
        );
        assert!(
            close(e.national.utilities[1], 143.5),
            "{:?}",
            e.national.utilities
        );
    }

    #[test]
    fn one_region_without_a_federal_layer_is_the_nations_equilibrium() {
        // With an income effect (isoelastic consumption), the rebate fixed point is the
        // one-nation one.
        let p = WorldParams {
            form: UtilityForm::Crra {
                c: 0.05,
                delta: 2.0,
                eta: 1.5,
                x0: 200.0,
            },
            ..params()
        };
        let s = TaxSchedule::new(vec![0.0, 500.0], vec![0.2, 0.5]).unwrap();
        let skills = [5.0, 12.0, 30.0];
        let e = federal_equilibrium(
            &p,
            std::slice::from_ref(&s),
            None,
            None,
            &[0, 0, 0],
            &skills,
            &[1.0; 3],
        );
        let alone = crate::econ::equilibrium(&p, &s, &skills, &[1.0; 3]);
        // The rebate iteration reports how it ended: converged, within the tolerance.
        let fp = e
            .rebate_fixed_point
            .expect("an income effect needs the iteration");
        assert!(fp.converged && fp.residual <= REBATE_TOLERANCE, "{fp:?}");
        assert!(
            fp.iterations >= 2 && fp.iterations < REBATE_ROUNDS,
            "{fp:?}"
        );
        for (a, b) in e.national.utilities.iter().zip(&alone.utilities) {
            assert!((a - b).abs() < 1e-6 * b.abs().max(1.0), "{a} vs {b}");
        }
        assert!((e.national.welfare - alone.welfare).abs() < 1e-6 * alone.welfare.abs());
    }

    #[test]
    fn federal_revenue_goes_where_equalization_sends_it() {
        // Flat region rates 10 % (worker 0, skill 10, 10 h: z 100) and 30 % (worker 1,
        // skill 20, 10 h: z 200); a flat federal 10 %.
        // Own revenue: 10 and 60; federal revenue 10 + 20 = 30.
        let a = TaxSchedule::new(vec![0.0], vec![0.1]).unwrap();
        let b = TaxSchedule::new(vec![0.0], vec![0.3]).unwrap();
        let fed = TaxSchedule::new(vec![0.0], vec![0.1]).unwrap();
        let run = |equalization| {
            settle_regions(
                &params(),
                &[a.clone(), b.clone()],
                Some(FederalLayer {
                    schedule: &fed,
                    equalization,
                    gap_fill_rate: 0.5,
                }),
                None,
                &[0, 1],
                &[10.0, 20.0],
                &[1.0, 1.0],
                &[10.0, 10.0],
            )
        };
        let none = run(Equalization::None);
        assert!((none.federal_revenue - 30.0).abs() < 1e-12);
        assert_eq!(none.transfers, vec![0.0, 0.0]);
        assert!((none.federal_rebate - 15.0).abs() < 1e-12);
        // Worker 0: 100 - 20 + 10 + 15 - 0.5 * 100 = 55.
        assert!((none.national.utilities[0] - 55.0).abs() < 1e-9);
        let per_capita = run(Equalization::PerCapita);
        assert_eq!(per_capita.transfers, vec![15.0, 15.0]);
        assert!((per_capita.regions[0].rebate - 25.0).abs() < 1e-12);
        // The uncapped share: mean own revenue per head 35; region 0 falls 25 short, region 1
        // not at all: the whole pool goes to region 0.
        let sharing = run(Equalization::UncappedGapShare);
        assert_eq!(sharing.transfers, vec![30.0, 0.0]);
        assert!((sharing.regions[0].rebate - 40.0).abs() < 1e-12);
        assert!((sharing.regions[1].rebate - 60.0).abs() < 1e-12);
        // Mean own revenue per head 10 / 4 = 2.5: region 1 (5 / 3 per head) is the one short.
        assert_eq!(
            transfers(
                Equalization::UncappedGapShare,
                0.0,
                8.0,
                &[5.0, 5.0],
                &[1, 3]
            ),
            vec![0.0, 8.0]
        );
        // Nobody short: per capita.
        assert_eq!(
            transfers(
                Equalization::UncappedGapShare,
                0.0,
                8.0,
                &[5.0, 15.0],
                &[1, 3]
            ),
            vec![2.0, 6.0]
        );
        // Gap fill at half the gap: region 0's gap is 25, so it receives 12.5; the other 17.5
        // of the pool of 30 is rebated to both workers, 8.75 each. Region 0's rebate is its
        // own 10 + 12.5 = 22.5; worker 0's utility 100 - 20 + 22.5 + 8.75 - 50 = 61.25.
        let fill = run(Equalization::GapFill);
        assert_eq!(fill.transfers, vec![12.5, 0.0]);
        assert!((fill.federal_rebate - 8.75).abs() < 1e-12);
        assert!((fill.regions[0].rebate - 22.5).abs() < 1e-12);
        assert!((fill.national.utilities[0] - 61.25).abs() < 1e-9);
    }
}
