//! Platforms as economics: the schedules a leader may move to from the current one (the
//! planner's action space), each with its equilibrium under exact best responses, and each
//! worker's own utility under it. Pure functions; the election uses them to let offline
//! candidates choose platforms and offline voters rank them.

use serde::Serialize;

use crate::econ::federation::{FederalLayer, federal_equilibrium};
use crate::econ::schedule::percent;
use crate::econ::{TaxSchedule, WorldParams, best_response, equilibrium};

/// One schedule a leader could set, with what it would produce.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlatformOption {
    /// The move from the current schedule, in points per bracket (after clamping to [0, 100]).
    pub deltas: Vec<i32>,
    pub rates: Vec<f64>,
    /// The equilibrium rebate and welfare when every worker best-responds.
    pub rebate: f64,
    pub welfare: f64,
}

/// The moves a leader can make: every vector in {-max..max step 10}^K for K <= 3 brackets
/// (125 with the paper's +-20); for more brackets, no move and every single-bracket move (the
/// full product, 5^7 = 78,125 for the US brackets, is too many to evaluate each year).
pub fn delta_vectors(brackets: usize, max_delta: i32) -> Vec<Vec<i32>> {
    let steps: Vec<i32> = (-max_delta / 10..=max_delta / 10).map(|s| s * 10).collect();
    let mut out = vec![vec![0; brackets]];
    if brackets <= 3 {
        let mut all: Vec<Vec<i32>> = vec![Vec::new()];
        for _ in 0..brackets {
            all = all
                .into_iter()
                .flat_map(|prefix| {
                    steps.iter().map(move |s| {
                        let mut v = prefix.clone();
                        v.push(*s);
                        v
                    })
                })
                .collect();
        }
        out.extend(all.into_iter().filter(|v| v.iter().any(|d| *d != 0)));
    } else {
        for j in 0..brackets {
            for s in steps.iter().filter(|s| **s != 0) {
                let mut v = vec![0; brackets];
                v[j] = *s;
                out.push(v);
            }
        }
    }
    out
}

/// The moves a candidate may write from the rates in force, exactly: for each bracket, the
/// changes (points, steps of 10 up to `max_delta`) that keep its rate within [0, 100] %; with
/// more than three brackets only one bracket may change (as [`delta_vectors`]). Every such move
/// is a platform of the book with these very deltas (none of them is clamped).
#[derive(Clone, Debug, PartialEq)]
pub struct AllowedMoves {
    /// Per bracket, the changes allowed, ascending (0 included).
    pub per_bracket: Vec<Vec<i32>>,
    /// Only one bracket may change (more than three brackets).
    pub one_bracket: bool,
}

impl AllowedMoves {
    pub fn from_rates(rates: &[f64], max_delta: i32) -> AllowedMoves {
        let steps: Vec<i32> = (-max_delta / 10..=max_delta / 10).map(|s| s * 10).collect();
        let per_bracket = rates
            .iter()
            .map(|r| {
                let points = r * 100.0;
                steps
                    .iter()
                    .copied()
                    .filter(|d| {
                        let moved = points + f64::from(*d);
                        (-1e-6..=100.0 + 1e-6).contains(&moved)
                    })
                    .collect()
            })
            .collect();
        AllowedMoves {
            per_bracket,
            one_bracket: rates.len() > 3,
        }
    }

    /// Whether `deltas` is one of the moves allowed.
    pub fn allows(&self, deltas: &[i32]) -> bool {
        deltas.len() == self.per_bracket.len()
            && deltas
                .iter()
                .zip(&self.per_bracket)
                .all(|(d, ok)| ok.contains(d))
            && (!self.one_bracket || deltas.iter().filter(|d| **d != 0).count() <= 1)
    }

    /// The moves, as the stand question states them: for each bracket the changes that keep
    /// its rate within 0..100 % (and, with more than three brackets, that only one bracket may
    /// change), so a move the prompt allows is never refused. `rates`: the rates in force.
    pub fn describe(&self, rates: &[f64]) -> String {
        let list = |ds: &[i32]| {
            let items: Vec<String> = ds.iter().map(i32::to_string).collect();
            match items.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => items.join(""),
            }
        };
        let brackets: Vec<String> = self
            .per_bracket
            .iter()
            .zip(rates)
            .enumerate()
            .map(|(j, (ds, r))| format!("bracket {} (now {}): {}", j + 1, percent(*r), list(ds)))
            .collect();
        let rule = if self.one_bracket {
            "You may change at most one bracket (every other entry of DELTA is 0), and no rate may go below 0% or above 100%."
        } else {
            "Any combination of brackets may change, but no rate may go below 0% or above 100%."
        };
        format!(
            "{rule} The changes allowed, in the order of the brackets: {}.",
            brackets.join("; ")
        )
    }
}

/// Every distinct schedule reachable from `current` by one move, the status quo first, with
/// the move as applied (points per bracket, after clamping to [0, 100]). Clamping makes some
/// moves land on the same schedule: the first is kept.
fn reachable(current: &TaxSchedule, max_delta: i32) -> Vec<(Vec<i32>, TaxSchedule)> {
    let mut out: Vec<(Vec<i32>, TaxSchedule)> = Vec::new();
    for deltas in delta_vectors(current.num_brackets(), max_delta) {
        let Ok(schedule) = current.apply_deltas(&deltas) else {
            continue;
        };
        if out.iter().any(|(_, s)| s.rates() == schedule.rates()) {
            continue;
        }
        let applied = schedule
            .rates()
            .iter()
            .zip(current.rates())
            .map(|(a, b)| ((a - b) * 100.0).round() as i32)
            .collect();
        out.push((applied, schedule));
    }
    out
}

/// Every distinct schedule reachable from `current`, the status quo first, with its equilibrium.
pub fn platform_book(
    params: &WorldParams,
    current: &TaxSchedule,
    skills: &[f64],
    weights: &[f64],
    max_delta: i32,
) -> Vec<PlatformOption> {
    reachable(current, max_delta)
        .into_iter()
        .map(|(deltas, schedule)| {
            let s = equilibrium(params, &schedule, skills, weights);
            PlatformOption {
                deltas,
                rates: schedule.rates().to_vec(),
                rebate: s.rebate,
                welfare: s.welfare,
            }
        })
        .collect()
}

/// The federal platforms a federal leader may move to from `current` (the federal schedule),
/// each with the federation's equilibrium under it (every region's own schedule unchanged):
/// the book, with national welfare and the mean rebate per worker, and each worker's own
/// utility under each option, by option then worker id. A federal platform is worth what it
/// leaves a worker in her own region, so unlike a nation's book her utility is not a function
/// of her skill alone.
#[allow(clippy::too_many_arguments)]
pub fn federal_platform_book(
    params: &WorldParams,
    current: FederalLayer,
    regional: &[TaxSchedule],
    region_of: &[u32],
    skills: &[f64],
    weights: &[f64],
    max_delta: i32,
) -> (Vec<PlatformOption>, Vec<Vec<f64>>) {
    let mut book = Vec::new();
    let mut utilities = Vec::new();
    for (deltas, schedule) in reachable(current.schedule, max_delta) {
        let layer = FederalLayer {
            schedule: &schedule,
            ..current
        };
        let s = federal_equilibrium(
            params,
            regional,
            Some(layer),
            None,
            region_of,
            skills,
            weights,
        );
        warn_unsettled(&s, "a federal platform");
        book.push(PlatformOption {
            deltas,
            rates: schedule.rates().to_vec(),
            rebate: s.national.rebate,
            welfare: s.national.welfare,
        });
        utilities.push(s.national.utilities);
    }
    (book, utilities)
}

/// The platforms region `region`'s leader may move to from its schedule, under a federal
/// layer: each valued at the federation's equilibrium with every other region's schedule and
/// the federal one unchanged (the book's rebate and welfare are the region's), and each
/// worker's own utility under each, by option then worker id. Under a federal layer a
/// region's platform is worth what it leaves a resident after the federal tax and rebate too,
/// which a book over the region's schedule alone would miss.
#[allow(clippy::too_many_arguments)]
pub fn regional_platform_book(
    params: &WorldParams,
    region: usize,
    regional: &[TaxSchedule],
    federal: FederalLayer,
    region_of: &[u32],
    skills: &[f64],
    weights: &[f64],
    max_delta: i32,
) -> (Vec<PlatformOption>, Vec<Vec<f64>>) {
    let mut book = Vec::new();
    let mut utilities = Vec::new();
    let mut schedules = regional.to_vec();
    for (deltas, schedule) in reachable(&regional[region], max_delta) {
        let rates = schedule.rates().to_vec();
        schedules[region] = schedule;
        let s = federal_equilibrium(
            params,
            &schedules,
            Some(federal),
            None,
            region_of,
            skills,
            weights,
        );
        warn_unsettled(&s, "a regional platform");
        book.push(PlatformOption {
            deltas,
            rates,
            rebate: s.regions[region].rebate,
            welfare: s.regions[region].welfare,
        });
        utilities.push(s.national.utilities);
    }
    (book, utilities)
}

/// Says so when a platform's value comes from an equilibrium whose rebates did not settle: the
/// value is then that of the last round, not of a fixed point.
fn warn_unsettled(s: &crate::econ::federation::FederalSettlement, what: &str) {
    if let Some(fp) = s.rebate_fixed_point.filter(|fp| !fp.converged) {
        tracing::warn!(
            iterations = fp.iterations,
            residual = fp.residual,
            "the federation's equilibrium valuing {what} did not settle: after {} rounds the \
             rebates still changed by {:.1e} of their size (tolerance {:.0e}); the platform is \
             valued at the last round's rebates",
            fp.iterations,
            fp.residual,
            crate::econ::federation::REBATE_TOLERANCE
        );
    }
}

/// The option with the highest utility in `utils` (ties: the earlier, so the status quo wins
/// ties), and its gain over the status quo (option 0).
pub fn best_of(utils: &[f64]) -> (usize, f64) {
    let mut best = 0;
    for (i, u) in utils.iter().enumerate() {
        if *u > utils[best] {
            best = i;
        }
    }
    (
        best,
        utils.get(best).copied().unwrap_or(0.0) - utils.first().copied().unwrap_or(0.0),
    )
}

/// A worker's own utility (consumption minus labor cost at her best response) under an option.
pub fn own_utility(
    params: &WorldParams,
    cutoffs: &[f64],
    skill: f64,
    option: &PlatformOption,
) -> f64 {
    let Ok(schedule) = TaxSchedule::new(cutoffs.to_vec(), option.rates.clone()) else {
        return f64::NEG_INFINITY;
    };
    let hours = best_response(
        &params.form,
        skill,
        &schedule,
        option.rebate,
        params.max_hours,
    );
    let z = skill * hours;
    params
        .form
        .utility(z - schedule.tax(z) + option.rebate, hours)
}

/// The option a worker of `skill` likes best (ties: the earlier option, so the status quo wins
/// ties), and its gain over the status quo (option 0).
pub fn favourite(
    params: &WorldParams,
    cutoffs: &[f64],
    skill: f64,
    book: &[PlatformOption],
) -> (usize, f64) {
    let utils: Vec<f64> = book
        .iter()
        .map(|o| own_utility(params, cutoffs, skill, o))
        .collect();
    best_of(&utils)
}

/// The option with the highest equilibrium welfare (ties: the earlier).
pub fn welfare_best(book: &[PlatformOption]) -> usize {
    let mut best = 0;
    for (i, o) in book.iter().enumerate() {
        if o.welfare > book[best].welfare {
            best = i;
        }
    }
    best
}

/// The option whose move equals `deltas`, if any.
pub fn option_of(book: &[PlatformOption], deltas: &[i32]) -> Option<usize> {
    book.iter().position(|o| o.deltas == deltas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::{UtilityForm, WelfareKind};

    fn params() -> WorldParams {
        WorldParams {
            form: UtilityForm::QuasiLinear {
                c: 0.0237,
                delta: 3.5,
            },
            welfare: WelfareKind::Utilitarian,
            rebate_equal: true,
            max_hours: 100.0,
        }
    }

    #[test]
    fn the_action_space_has_the_papers_size() {
        assert_eq!(delta_vectors(3, 20).len(), 125);
        assert_eq!(delta_vectors(1, 20).len(), 5);
        // Seven brackets: no move plus 4 single-bracket moves each.
        assert_eq!(delta_vectors(7, 20).len(), 1 + 7 * 4);
        assert_eq!(delta_vectors(3, 20)[0], vec![0, 0, 0]);
    }

    #[test]
    fn every_allowed_move_is_a_platform_with_its_own_deltas() {
        // Three brackets at the bounds, and seven brackets with some at 0 % and 100 %.
        for (cutoffs, rates) in [
            (vec![0.0, 100.0, 200.0], vec![0.0, 0.1, 1.0]),
            (
                (0..7).map(|j| f64::from(j) * 100.0).collect::<Vec<_>>(),
                vec![0.0, 0.5, 1.0, 0.9, 0.1, 0.05, 0.5],
            ),
        ] {
            let current = TaxSchedule::new(cutoffs, rates.clone()).unwrap();
            let book = platform_book(&params(), &current, &[20.0, 40.0], &[1.0, 1.0], 20);
            let allowed = AllowedMoves::from_rates(&rates, 20);
            assert_eq!(allowed.per_bracket[0], vec![0, 10, 20]);
            let every: Vec<Vec<i32>> = delta_vectors(rates.len(), 20)
                .into_iter()
                .filter(|d| allowed.allows(d))
                .collect();
            for d in &every {
                assert!(option_of(&book, d).is_some(), "{d:?} is no platform");
            }
            // And nothing else of the book but clamped moves.
            for o in &book {
                let clamped = o.deltas.iter().any(|d| d % 10 != 0);
                assert!(clamped || allowed.allows(&o.deltas), "{:?}", o.deltas);
            }
        }
        assert!(!AllowedMoves::from_rates(&[0.5; 7], 20).allows(&[10, 10, 0, 0, 0, 0, 0]));
        assert!(AllowedMoves::from_rates(&[0.5; 3], 20).allows(&[10, 10, -20]));
    }

    #[test]
    fn clamped_duplicates_are_dropped_and_the_status_quo_comes_first() {
        let current = TaxSchedule::new(vec![0.0], vec![0.0]).unwrap();
        let book = platform_book(&params(), &current, &[20.0, 40.0], &[1.0, 1.0], 20);
        // From 0%: -20 and -10 clamp to 0 (the status quo); +10 and +20 remain.
        assert_eq!(book.len(), 3);
        assert_eq!(book[0].deltas, vec![0]);
    }

    #[test]
    fn a_federal_book_over_one_untaxed_region_is_the_nations_book() {
        // One region taxing nothing: the federal schedule is the only tax and its revenue the
        // only rebate, so each federal platform is worth what the same national one is.
        let p = params();
        let current = TaxSchedule::new(vec![0.0, 100.0], vec![0.3, 0.5]).unwrap();
        let untaxed = TaxSchedule::new(vec![0.0, 100.0], vec![0.0, 0.0]).unwrap();
        let skills = [5.0, 12.0, 30.0];
        let nation = platform_book(&p, &current, &skills, &[1.0; 3], 20);
        let (book, utilities) = federal_platform_book(
            &p,
            FederalLayer {
                schedule: &current,
                equalization: crate::econ::federation::Equalization::None,
                gap_fill_rate: 0.0,
            },
            &[untaxed],
            &[0, 0, 0],
            &skills,
            &[1.0; 3],
            20,
        );
        assert_eq!(book.len(), nation.len());
        for (o, (f, n)) in book.iter().zip(&nation).enumerate() {
            assert_eq!(f.rates, n.rates);
            assert!((f.welfare - n.welfare).abs() < 1e-9 * n.welfare.abs().max(1.0));
            for (i, &v) in skills.iter().enumerate() {
                let want = own_utility(&p, &[0.0, 100.0], v, n);
                assert!((utilities[o][i] - want).abs() < 1e-9 * want.abs().max(1.0));
            }
        }
    }

    #[test]
    fn a_federal_raise_costs_more_where_it_shrinks_a_regions_own_base() {
        // Two workers of equal skill, alone in their regions: one untaxed, one taxing 40 %.
        // A federal raise of 20 points (0.2 -> 0.4) cuts both workers' hours, and so the taxed
        // region's own revenue and its rebate to her (the vertical fiscal externality): with
        // c = 0.0237 and delta = 3.5 she works 8.97 -> 6.80 h, and her regional rebate falls
        // from 179.4 to 136.0. She loses more than her untaxed twin; a nation's book, which
        // values a platform by skill alone, would give both the same loss.
        let p = params();
        let current = TaxSchedule::new(vec![0.0], vec![0.2]).unwrap();
        let low = TaxSchedule::new(vec![0.0], vec![0.0]).unwrap();
        let high = TaxSchedule::new(vec![0.0], vec![0.4]).unwrap();
        let (book, utilities) = federal_platform_book(
            &p,
            FederalLayer {
                schedule: &current,
                equalization: crate::econ::federation::Equalization::None,
                gap_fill_rate: 0.0,
            },
            &[low, high],
            &[0, 1],
            &[50.0, 50.0],
            &[1.0; 2],
            20,
        );
        let raise = book.iter().position(|o| o.deltas == [20]).unwrap();
        let loss = |i: usize| utilities[0][i] - utilities[raise][i];
        assert!(loss(1) > loss(0) + 5.0, "{} vs {}", loss(1), loss(0));
    }

    #[test]
    fn a_regional_book_under_an_empty_federal_layer_is_its_residents_book() {
        // A federal layer taxing nothing: region 1 (workers 1 and 3) is on its own, so its
        // platforms are worth to its residents what a nation of them would make of them.
        let p = params();
        let r0 = TaxSchedule::new(vec![0.0, 100.0], vec![0.2, 0.4]).unwrap();
        let r1 = TaxSchedule::new(vec![0.0, 100.0], vec![0.3, 0.5]).unwrap();
        let none = TaxSchedule::new(vec![0.0, 100.0], vec![0.0, 0.0]).unwrap();
        let skills = [5.0, 12.0, 30.0, 8.0];
        let layer = FederalLayer {
            schedule: &none,
            equalization: crate::econ::federation::Equalization::None,
            gap_fill_rate: 0.0,
        };
        let (book, utilities) = regional_platform_book(
            &p,
            1,
            &[r0, r1.clone()],
            layer,
            &[0, 1, 0, 1],
            &skills,
            &[1.0; 4],
            20,
        );
        let alone = platform_book(&p, &r1, &[12.0, 8.0], &[1.0; 2], 20);
        assert_eq!(book.len(), alone.len());
        for (o, (b, a)) in book.iter().zip(&alone).enumerate() {
            assert_eq!(b.rates, a.rates);
            assert!((b.welfare - a.welfare).abs() < 1e-9 * a.welfare.abs().max(1.0));
            for (id, v) in [(1, 12.0), (3, 8.0)] {
                let want = own_utility(&p, &[0.0, 100.0], v, a);
                assert!((utilities[o][id] - want).abs() < 1e-9 * want.abs().max(1.0));
            }
        }
    }

    #[test]
    fn the_poor_want_more_redistribution_than_the_rich() {
        // Two workers, flat tax, equal rebate: the low-skill worker gains from a higher rate
        // (she receives more rebate than she pays), the high-skill one loses.
        let p = params();
        let current = TaxSchedule::new(vec![0.0], vec![0.3]).unwrap();
        let skills = [10.0, 200.0];
        let book = platform_book(&p, &current, &skills, &[1.0, 1.0], 20);
        let (poor, _) = favourite(&p, &[0.0], skills[0], &book);
        let (rich, _) = favourite(&p, &[0.0], skills[1], &book);
        assert!(book[poor].rates[0] > 0.3, "{:?}", book[poor]);
        assert!(book[rich].rates[0] < 0.3, "{:?}", book[rich]);
    }
}
