//! Which runs of a sweep one process runs: `--shard I/N`, or I and N taken from a Slurm job
//! array's or a Kubernetes Indexed Job's environment.
//!
//! The assignment is a pure function of a run's position in the sweep's stable order
//! (configurations x seeds): run k belongs to shard k mod N. Shards differ in size by at most
//! one run, and consecutive runs (often one configuration's seeds, of similar cost) land on
//! different shards.

use anyhow::{Context, bail};

/// One shard of N (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether run `k` (its position in the sweep's order) is this shard's.
    pub fn owns(&self, k: usize) -> bool {
        shard_of(k, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard of run `k` among `count` shards.
pub fn shard_of(k: usize, count: usize) -> usize {
    k % count.max(1)
}

const USAGE: &str = "expected I/N (e.g. 0/4), slurm, slurm/N or k8s/N";

/// Parses `--shard`: `I/N`, `slurm`, `slurm/N` or `k8s/N`. `env` looks a variable up (the
/// process environment in use; a map in tests).
pub fn parse_shard(text: &str, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Shard> {
    let t = text.trim();
    let (head, tail) = match t.split_once('/') {
        Some((h, n)) => (h.trim(), Some(n.trim())),
        None => (t, None),
    };
    let count = |n: &str| -> anyhow::Result<usize> {
        let c: usize = n
            .parse()
            .with_context(|| format!("--shard {text:?}: {n:?} is not a shard count; {USAGE}"))?;
        if c == 0 {
            bail!("--shard {text:?}: the shard count must be at least 1");
        }
        Ok(c)
    };
    let shard = match (head, tail) {
        ("slurm", None) => slurm_array(env)?,
        ("slurm", Some(n)) => {
            let n = count(n)?;
            let id = var_u64(
                env,
                "SLURM_ARRAY_TASK_ID",
                "`--shard slurm/N` in a job array",
            )?;
            in_range(id, n, "SLURM_ARRAY_TASK_ID", "submit with --array=0-N-1")?
        }
        ("k8s", Some(n)) => {
            let n = count(n)?;
            let id = var_u64(
                env,
                "JOB_COMPLETION_INDEX",
                "`--shard k8s/N` in a Kubernetes Job with completionMode: Indexed",
            )?;
            in_range(
                id,
                n,
                "JOB_COMPLETION_INDEX",
                "set completions: N in the Job",
            )?
        }
        ("k8s", None) => bail!(
            "--shard k8s needs the shard count, the Job's completions: --shard k8s/N \
             (Kubernetes does not pass it to the pod)"
        ),
        (i, Some(n)) => {
            let n = count(n)?;
            let i: u64 = i
                .parse()
                .with_context(|| format!("--shard {text:?}: {i:?} is not an index; {USAGE}"))?;
            if i >= n as u64 {
                bail!("--shard {text:?}: the index must be below the count (0-based: 0..{n})");
            }
            Shard {
                index: i as usize,
                count: n,
            }
        }
        _ => bail!("--shard {text:?}: {USAGE}"),
    };
    Ok(shard)
}

fn var_u64(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    needed_by: &str,
) -> anyhow::Result<u64> {
    let Some(v) = env(name) else {
        bail!("{name} is not set: {needed_by} reads the shard index from it");
    };
    v.trim()
        .parse()
        .with_context(|| format!("{name}={v:?} is not a non-negative integer"))
}

fn in_range(id: u64, n: usize, name: &str, hint: &str) -> anyhow::Result<Shard> {
    if id >= n as u64 {
        bail!("{name}={id} is not below the shard count {n} (0-based); {hint}");
    }
    Ok(Shard {
        index: id as usize,
        count: n,
    })
}

/// I and N of a Slurm job array task: I = (ID - MIN) / STEP, N = the array's task count,
/// checked against whichever of COUNT, MIN, MAX and STEP Slurm set.
fn slurm_array(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Shard> {
    let needed = "`--shard slurm` in a job array (sbatch --array=0-3)";
    let id = var_u64(env, "SLURM_ARRAY_TASK_ID", needed)?;
    let opt = |name: &str| -> anyhow::Result<Option<u64>> {
        env(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .with_context(|| format!("{name}={v:?} is not a non-negative integer"))
            })
            .transpose()
    };
    let count = opt("SLURM_ARRAY_TASK_COUNT")?;
    let min = opt("SLURM_ARRAY_TASK_MIN")?;
    let max = opt("SLURM_ARRAY_TASK_MAX")?;
    let step = opt("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
    if step == 0 {
        bail!("SLURM_ARRAY_TASK_STEP=0 is inconsistent (a step is at least 1)");
    }
    let first = min.unwrap_or(0);
    if id < first {
        bail!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={first}");
    }
    if (id - first) % step != 0 {
        bail!(
            "SLURM_ARRAY_TASK_ID={id} is not on the array's step ({step} from {first}); \
             use a plain range such as --array=0-3, or --shard slurm/N"
        );
    }
    let from_range = match (min, max) {
        (Some(a), Some(b)) if b >= a => Some((b - a) / step + 1),
        (Some(a), Some(b)) => bail!(
            "SLURM_ARRAY_TASK_MAX={b} is below SLURM_ARRAY_TASK_MIN={a}: the array variables are inconsistent"
        ),
        _ => None,
    };
    let n = match (count, from_range) {
        (Some(c), Some(r)) if c != r => bail!(
            "SLURM_ARRAY_TASK_COUNT={c} does not match SLURM_ARRAY_TASK_MIN..MAX (step {step}), \
             which hold {r} tasks: the array is not one range (e.g. --array=0,2,7); submit a \
             range such as --array=0-3, or give the count: --shard slurm/N"
        ),
        (Some(c), _) => c,
        (None, Some(r)) => r,
        (None, None) => bail!(
            "neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX \
             are set: `--shard slurm` needs the array's size (or give it: --shard slurm/N)"
        ),
    };
    let index = (id - first) / step;
    if n == 0 || index >= n {
        bail!("SLURM_ARRAY_TASK_ID={id} is outside the array of {n} tasks from {first}");
    }
    Ok(Shard {
        index: index as usize,
        count: n as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn explicit_shards_parse_and_are_checked() {
        let none = with(&[]);
        assert_eq!(
            parse_shard("1/4", &none).unwrap(),
            Shard { index: 1, count: 4 }
        );
        assert!(
            parse_shard("4/4", &none)
                .unwrap_err()
                .to_string()
                .contains("below")
        );
        assert!(parse_shard("0/0", &none).is_err());
        assert!(parse_shard("x/2", &none).is_err());
        assert!(parse_shard("2", &none).is_err());
        assert!(
            parse_shard("k8s", &none)
                .unwrap_err()
                .to_string()
                .contains("k8s/N")
        );
    }

    #[test]
    fn slurm_arrays_give_index_and_count_and_name_a_bad_variable() {
        let s = parse_shard(
            "slurm",
            &with(&[
                ("SLURM_ARRAY_TASK_ID", "7"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_MIN", "5"),
                ("SLURM_ARRAY_TASK_MAX", "8"),
            ]),
        )
        .unwrap();
        assert_eq!(s, Shard { index: 2, count: 4 });
        // Only MIN and MAX (older Slurm): the count is their range.
        let s = parse_shard(
            "slurm",
            &with(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(s, Shard { index: 3, count: 4 });
        // A stepped range: --array=0-6:2 is 4 tasks.
        let s = parse_shard(
            "slurm",
            &with(&[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "6"),
                ("SLURM_ARRAY_TASK_STEP", "2"),
            ]),
        )
        .unwrap();
        assert_eq!(s, Shard { index: 2, count: 4 });
        let missing = parse_shard("slurm", &with(&[])).unwrap_err().to_string();
        assert!(missing.contains("SLURM_ARRAY_TASK_ID"), "{missing}");
        let no_size = parse_shard("slurm", &with(&[("SLURM_ARRAY_TASK_ID", "0")]))
            .unwrap_err()
            .to_string();
        assert!(no_size.contains("SLURM_ARRAY_TASK_COUNT"), "{no_size}");
        // --array=0,2,7: three tasks, but MIN..MAX spans eight.
        let gappy = parse_shard(
            "slurm",
            &with(&[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "7"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(gappy.contains("SLURM_ARRAY_TASK_COUNT=3"), "{gappy}");
        let bad = parse_shard(
            "slurm",
            &with(&[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(bad.contains("SLURM_ARRAY_TASK_ID=\"x\""), "{bad}");
        // slurm/N: the task id is the index, whatever the array (a resubmitted --array=2).
        let s = parse_shard(
            "slurm/4",
            &with(&[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(s, Shard { index: 2, count: 4 });
        assert!(parse_shard("slurm/2", &with(&[("SLURM_ARRAY_TASK_ID", "2")])).is_err());
    }

    #[test]
    fn kubernetes_indexed_jobs_give_the_index() {
        let s = parse_shard("k8s/3", &with(&[("JOB_COMPLETION_INDEX", "2")])).unwrap();
        assert_eq!(s, Shard { index: 2, count: 3 });
        let e = parse_shard("k8s/3", &with(&[])).unwrap_err().to_string();
        assert!(e.contains("JOB_COMPLETION_INDEX"), "{e}");
        let e = parse_shard("k8s/3", &with(&[("JOB_COMPLETION_INDEX", "3")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("JOB_COMPLETION_INDEX=3"), "{e}");
    }

    #[test]
    fn shards_are_balanced_within_one_run_and_cover_every_run_once() {
        for total in [0usize, 1, 5, 12, 13] {
            for n in 1..=5usize {
                let sizes: Vec<usize> = (0..n)
                    .map(|i| (0..total).filter(|&k| shard_of(k, n) == i).count())
                    .collect();
                assert_eq!(sizes.iter().sum::<usize>(), total);
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "{total} runs over {n}: {sizes:?}");
            }
        }
    }
}
