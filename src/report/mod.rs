//! Run outputs: statistics now; the CSV/JSON sinks follow with the engine.

pub mod metrics;
