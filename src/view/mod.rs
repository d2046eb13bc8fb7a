//! What `simulacra view` shows and how: the data the page shows ([`data`], read through the one
//! log reader `runlog` via `inspect` and `logview`), the page and its static writer ([`page`],
//! assets under `assets/`) and the local server ([`serve`]) that loads each round on demand for
//! large runs. The command's arguments and dispatch are in the binary's `cli/view.rs`; see
//! docs/viewer.md.

pub mod data;
pub mod page;
pub mod regions;
pub mod serve;
