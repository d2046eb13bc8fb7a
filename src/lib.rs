//! simulacra: the LLM Economist's Stackelberg tax game on a deterministic actor runtime.
//!
//! Read a run top-down:
//! - [`run`] builds a run from a [`config::Scenario`] and writes its outputs (one file per
//!   concern: header, assembly, resume and replay, fork, summary, governance compare);
//! - the scheduler actor (crate `simulacra-actors`) drives [`game::Economy`] step by step;
//! - [`game`] is one timestep: the planner actor's move (or an election), the worker actors'
//!   hours, the world's settlement;
//! - [`agents`] are the actors, [`policy`] their decision rules;
//! - [`econ`] is the pure economics (taxes, utility, best responses, welfare, Saez, GB2);
//! - [`frames`] is what the message log holds and [`runlog`] the one reader of it; [`snapshot`]
//!   keeps a run's state ([`memory`]) every few tax years for `resume` and `fork`.
//! - [`inspect`] and [`logview`] read a log back for `inspect`, [`inspect_agent`], [`export`]
//!   and [`report`] (plots via [`plot`]) and [`view`] (a run in the browser); [`sweep`] runs
//!   seed and parameter grids, whole or in shards over a cluster; [`run_lock`] keeps a run
//!   folder to one writer; [`experiments`] holds the empirical-Saez experiment and the
//!   Stackelberg optimum search; [`table`] sizes the label columns of text tables.

pub mod agents;
pub mod bench;
pub mod config;
pub mod diff;
pub mod econ;
pub mod experiments;
pub mod export;
pub mod frames;
pub mod game;
pub mod governance;
pub mod inspect;
pub mod inspect_agent;
pub mod inspect_regions;
pub mod llm;
pub mod logview;
pub mod memory;
pub mod outfile;
pub mod plot;
pub mod policy;
pub mod population;
pub mod report;
pub mod resolved;
pub mod run;
pub mod run_lock;
pub mod runlog;
pub mod snapshot;
pub mod sweep;
pub mod table;
pub mod view;
