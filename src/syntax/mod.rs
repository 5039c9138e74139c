//! Source text to AST. `parser.rs` is the only file in the crate that knows pest.
//!
//! The grammar is `grammar/playbook.pest`. Parsing runs in three steps: a
//! cheap scan (comments, string problems, nesting depth), the pest grammar,
//! and lowering of pest's pairs into the [`ast`] types, where operator
//! precedence and the non-associativity of comparisons are applied.

pub mod ast;
mod parser;
mod rule_names;
mod scan;

use crate::diagnostic::Diagnostic;

/// The deepest expression nesting accepted (parentheses, brackets, call
/// arguments, runs of `not`/`-`, and `if`/`then`/`else`), so that hostile
/// input cannot overflow the stack.
pub const MAX_NESTING: usize = 64;

/// Parses a strategy file into its syntax tree.
///
/// Only the syntax is checked here; names, types and units are checked by
/// [`crate::check`].
///
/// # Errors
///
/// Returns every problem found when the text is not a valid strategy file:
/// grammar errors ([`Code::Syntax`](crate::diagnostic::Code::Syntax)), input
/// nested deeper than [`MAX_NESTING`], invalid literals, chained comparisons
/// such as `a < b < c`, unterminated strings and unknown string escapes.
/// Each diagnostic carries the span of the offending text.
///
/// # Example
///
/// ```
/// use playbook::syntax::{ast::Item, parse};
///
/// let file = parse("symbol gold = XAUUSD\nlet up = gold.close > gold.open  # rising bar\n")
///     .expect("valid syntax");
/// assert_eq!(file.items.len(), 2);
/// assert!(matches!(file.items[1], Item::Let(_)));
/// assert_eq!(file.comments[0].text, " rising bar");
///
/// let errors = parse("let x = 1 < 2 < 3").unwrap_err();
/// assert_eq!(errors[0].code.as_str(), "E0004");
/// ```
pub fn parse(source: &str) -> Result<ast::File, Vec<Diagnostic>> {
    parser::parse(source)
}
