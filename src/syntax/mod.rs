//! Source text to AST. `parser.rs` is the only file in the crate that knows pest.

pub mod ast;
