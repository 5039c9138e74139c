//! Run outputs: statistics and the sinks that write signals, trades and equity.

pub mod metrics;
pub mod sinks;
pub mod text;
