//! `simulacra view`: a run in the browser, round by round. `RUN_DIR/view/index.html` (it opens
//! from `file://`), or `--serve` on 127.0.0.1 for large runs; `--compare RUN_B` shows a second
//! run (a fork and its parent) beside the first. The page, its data and the server are
//! `simulacra::view`; see docs/viewer.md.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::run_lock::lock_existing_run_dir;
use simulacra::view::{data, page, serve};

#[derive(clap::Args)]
pub struct Args {
    /// The run folder (the one holding run.log).
    run_dir: PathBuf,
    /// Write the page into this folder (default: RUN_DIR/view).
    #[arg(long, conflicts_with = "serve")]
    out: Option<PathBuf>,
    /// Serve the page on 127.0.0.1 and read each round when it is opened (for large runs).
    #[arg(long)]
    serve: bool,
    /// With --serve: the port (0 = any free port).
    #[arg(long, default_value_t = 8737, requires = "serve")]
    port: u16,
    /// Another run shown beside this one on the same rounds (a fork and its parent).
    #[arg(long, value_name = "RUN_B")]
    compare: Option<PathBuf>,
    /// Show a log that holds fewer steps than its run (a stopped, cut or damaged run, or one
    /// still running) up to its last whole step, with a warning, instead of refusing it.
    #[arg(long)]
    partial: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let open = || -> anyhow::Result<Vec<data::Run>> {
        let mut runs = vec![data::Run::open(&args.run_dir, args.partial)?];
        if let Some(b) = &args.compare {
            runs.push(data::Run::open(b, args.partial)?);
        }
        Ok(runs)
    };
    if args.serve {
        let runs = open()?;
        serve::serve(runs, args.port)?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.out.unwrap_or_else(|| args.run_dir.join("view"));
    // Pages written into the run folder are the run's: held until they are written.
    // Taken before the run is read: a run being written is refused as such, not as short.
    let _lock = if super::inside(&out, &args.run_dir) {
        lock_existing_run_dir(&args.run_dir)?
    } else {
        None
    };
    let runs = open()?;
    let page = page::write_static(&runs, &out)?;
    println!("wrote {} (open it in a browser)", page.display());
    Ok(ExitCode::SUCCESS)
}
