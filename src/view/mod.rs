//! `simulacra view`: a run in the browser, round by round. It owns the command's arguments, the
//! data the page shows ([`data`], read through the log readers `inspect` and `logview`), the
//! page and its static writer ([`page`], assets under `assets/`) and the local server
//! ([`serve`]) that loads each round on demand for large runs.
//!
//! `simulacra view RUN_DIR` writes `RUN_DIR/view/index.html` (it opens from `file://`);
//! `--serve` serves it on 127.0.0.1; `--compare RUN_B` shows a second run (a fork and its
//! parent) beside the first. See docs/viewer.md.

pub mod data;
pub mod page;
pub mod serve;

use std::path::PathBuf;

/// `simulacra view`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ViewArgs {
    /// The run folder (the one holding run.log).
    pub run_dir: PathBuf,
    /// Write the page into this folder (default: RUN_DIR/view).
    #[arg(long, conflicts_with = "serve")]
    pub out: Option<PathBuf>,
    /// Serve the page on 127.0.0.1 and read each round when it is opened (for large runs).
    #[arg(long)]
    pub serve: bool,
    /// With --serve: the port (0 = any free port).
    #[arg(long, default_value_t = 8737, requires = "serve")]
    pub port: u16,
    /// Another run shown beside this one on the same rounds (a fork and its parent).
    #[arg(long, value_name = "RUN_B")]
    pub compare: Option<PathBuf>,
}

/// Writes or serves the page; prints where it is.
pub fn execute(args: ViewArgs) -> anyhow::Result<()> {
    let mut runs = vec![data::Run::open(&args.run_dir)?];
    if let Some(b) = &args.compare {
        runs.push(data::Run::open(b)?);
    }
    if args.serve {
        return serve::serve(runs, args.port);
    }
    let out = args.out.unwrap_or_else(|| args.run_dir.join("view"));
    let page = page::write_static(&runs, &out)?;
    println!("wrote {} (open it in a browser)", page.display());
    Ok(())
}
