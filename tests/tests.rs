//! The one integration-test binary (so CI links once); a module per area.

mod check;
mod cli;
mod clock;
mod config;
mod data;
mod docs;
mod fmt;
mod indicators;
mod parse;
mod resample;
mod run;
mod session;
