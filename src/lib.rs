//! `playbook`: a rule language for hand-written trading strategies, and the
//! streaming engine that runs them over history and live bars.
//!
//! The flow: `syntax::parse` -> `check` -> (compile -> engine), with bars
//! coming in through `data`, `session`, `resample` and `clock`.

pub mod check;
pub mod clock;
pub mod compile;
pub mod config;
pub mod data;
pub mod diagnostic;
pub mod engine;
pub mod fmt;
pub mod indicators;
pub mod prefetch;
pub mod render;
pub mod report;
pub mod resample;
pub mod session;
pub mod syntax;
pub mod synth;
#[cfg(test)]
mod testing;
