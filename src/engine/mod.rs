//! The trading side of a run: sizing orders and keeping the book.
//!
//! The evaluator (compile + engine) submits orders here; these modules are
//! leaves that know nothing of the language.

pub mod book;
pub mod eval;
pub mod history;
pub mod run;
pub mod sizing;
