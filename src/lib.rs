//! simulacra: the LLM Economist's Stackelberg tax game on a deterministic actor runtime.
//!
//! Read a run top-down:
//! - [`run`] builds a run from a [`config::Scenario`] and writes its outputs;
//! - the scheduler actor (crate `simulacra-actors`) drives [`game::Economy`] step by step;
//! - [`game`] is one timestep: the planner actor's move, the worker actors' hours, the world's
//!   settlement;
//! - [`agents`] are the actors, [`policy`] their decision rules;
//! - [`econ`] is the pure economics (taxes, utility, best responses, welfare, Saez, GB2);
//! - [`frames`] is what the message log holds; [`inspect`] reads it back.

pub mod agents;
pub mod bench;
pub mod config;
pub mod econ;
pub mod frames;
pub mod game;
pub mod governance;
pub mod inspect;
pub mod llm;
pub mod policy;
pub mod population;
pub mod run;
