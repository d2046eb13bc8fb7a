//! The reader model: deterministic, rule-based answers to every LLM question from the prompt
//! text alone, served over the OpenAI chat API (`server`), so a false or missing sentence in a
//! prompt makes its answer differ from the offline rule's.

#![allow(dead_code)]

pub mod elections;
pub mod moves;
pub mod planner;
pub mod server;
pub mod text;
pub mod worker;
