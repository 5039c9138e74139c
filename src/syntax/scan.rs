//! A cheap pass over the source before the grammar runs.
//!
//! It splits the text into rough tokens (used to name what was found in
//! syntax errors), collects every `#` comment, reports string problems
//! (unterminated strings, unknown escapes) with precise spans, and measures
//! expression nesting so that input nested deeper than
//! [`MAX_NESTING`](super::MAX_NESTING) is rejected before the recursive grammar
//! ever sees it.

use super::MAX_NESTING;
use super::ast::{Comment, Span};
use crate::diagnostic::{Code, Diagnostic};

/// The rough class of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// A name or keyword.
    Word,
    /// Digits, with any `.`, `_`, `%` or unit letters glued to them.
    Number,
    /// A string literal, quotes included.
    Str,
    /// Punctuation or an operator (one or two characters).
    Punct,
}

/// A rough token with its span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub kind: TokKind,
    pub span: Span,
}

/// The result of [`scan`].
pub(crate) struct Scan {
    /// Tokens in source order, comments excluded.
    pub tokens: Vec<Token>,
    /// Every comment in source order.
    pub comments: Vec<Comment>,
    /// String and nesting problems found.
    pub errors: Vec<Diagnostic>,
    /// Start offsets of `)` and `]` that close nothing.
    pub unmatched_closers: Vec<usize>,
}

impl Scan {
    /// The token starting at or containing `pos`, or the first token after it.
    pub fn token_at(&self, pos: usize) -> Option<Token> {
        let i = self
            .tokens
            .partition_point(|t| (t.span.end as usize) <= pos);
        self.tokens.get(i).copied()
    }

    /// The last token that ends at or before `pos`.
    pub fn token_before(&self, pos: usize) -> Option<Token> {
        let i = self
            .tokens
            .partition_point(|t| (t.span.end as usize) <= pos);
        i.checked_sub(1).map(|i| self.tokens[i])
    }
}

/// Words that start a declaration: nesting counts restart at them.
const DECLARATION_WORDS: &[&str] = &[
    "strategy", "symbol", "series", "param", "session", "let", "rule",
];

/// Words that start a clause: pending `if` counts restart at them.
const CLAUSE_WORDS: &[&str] = &[
    "buy", "sell", "short", "cover", "exit", "size", "stop", "target", "trail", "when", "pyramid",
];

/// Words after which a `-` is binary (they end an operand).
const OPERAND_END_WORDS: &[&str] = &["true", "false", "bars", "percent"];

/// Words that are reserved keywords (kept in step with the grammar's `keyword`).
pub(crate) const KEYWORDS: &[&str] = &[
    "strategy",
    "symbol",
    "series",
    "param",
    "session",
    "let",
    "rule",
    "as",
    "in",
    "step",
    "if",
    "then",
    "else",
    "while",
    "and",
    "or",
    "not",
    "exceeds",
    "is",
    "above",
    "below",
    "crosses",
    "rises",
    "falls",
    "by",
    "within",
    "buy",
    "sell",
    "short",
    "cover",
    "exit",
    "size",
    "stop",
    "target",
    "trail",
    "after",
    "when",
    "pyramid",
    "units",
    "contracts",
    "of",
    "equity",
    "risk",
    "target_vol",
    "scaled",
    "bars",
    "true",
    "false",
    "percent",
];

/// Whether `word` is a reserved keyword.
pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Scans `src` into tokens and comments, and checks strings and nesting.
pub(crate) fn scan(src: &str) -> Scan {
    let bytes = src.as_bytes();
    let mut tokens = Vec::with_capacity(src.len() / 4);
    let mut comments = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            // A byte-order mark is whitespace, as in the grammar.
            0xEF if bytes[i..].starts_with("\u{FEFF}".as_bytes()) => i += 3,
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                let text = src[start + 1..i].trim_end();
                comments.push(Comment {
                    text: text.to_string(),
                    span: Span::new(start, start + 1 + text.len()),
                });
            }
            b'"' => {
                let start = i;
                i = scan_string(src, i, &mut errors);
                tokens.push(Token {
                    kind: TokKind::Str,
                    span: Span::new(start, i),
                });
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokKind::Word,
                    span: Span::new(start, i),
                });
            }
            b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() {
                    let c = bytes[i];
                    let decimal_point =
                        c == b'.' && bytes.get(i + 1).is_some_and(|d| d.is_ascii_digit());
                    if c.is_ascii_alphanumeric() || c == b'_' || c == b'%' || decimal_point {
                        i += 1;
                    } else {
                        break;
                    }
                }
                tokens.push(Token {
                    kind: TokKind::Number,
                    span: Span::new(start, i),
                });
            }
            _ => {
                let start = i;
                let two = bytes.get(i..i + 2);
                let len = match two {
                    Some(b"<=" | b">=" | b"==" | b"!=" | b"..") => 2,
                    _ => src[i..].chars().next().map_or(1, char::len_utf8),
                };
                i += len;
                tokens.push(Token {
                    kind: TokKind::Punct,
                    span: Span::new(start, i),
                });
            }
        }
    }
    let mut scan = Scan {
        tokens,
        comments,
        errors,
        unmatched_closers: Vec::new(),
    };
    check_nesting(src, &mut scan);
    scan
}

/// Scans the string starting at the quote at `start`; returns the offset after it.
fn scan_string(src: &str, start: usize, errors: &mut Vec<Diagnostic>) -> usize {
    let bytes = src.as_bytes();
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None | Some(b'\n' | b'\r') => {
                errors.push(
                    Diagnostic::new(
                        Code::UnterminatedString,
                        Span::new(start, start + 1),
                        "unterminated string",
                    )
                    .with_label("this string is never closed")
                    .with_help("add the closing `\"` before the end of the line"),
                );
                return i;
            }
            Some(b'"') => return i + 1,
            Some(b'\\') => {
                let Some(c) = src[i + 1..].chars().next() else {
                    i += 1;
                    continue;
                };
                if c == '\n' || c == '\r' {
                    i += 1;
                    continue;
                }
                if !matches!(c, '"' | '\\' | 'n' | 't') {
                    let end = i + 1 + c.len_utf8();
                    errors.push(
                        Diagnostic::new(
                            Code::InvalidEscape,
                            Span::new(i, end),
                            format!("unknown escape `\\{c}` in a string"),
                        )
                        .with_label("not an escape")
                        .with_help(
                            "the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\` for a backslash",
                        ),
                    );
                }
                i += 1 + c.len_utf8();
            }
            Some(_) => {
                i += src[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
}

/// Measures nesting: open brackets, pending `if`s and runs of prefix operators.
fn check_nesting(src: &str, scan: &mut Scan) {
    // One entry per open bracket (plus the outermost level): the `if`s
    // opened at that level and not yet finished by a `,` or a clause.
    let mut frames: Vec<usize> = vec![0];
    let mut ifs = 0usize;
    let mut prefix_run = 0usize;
    let mut unmatched = Vec::new();
    let text = |t: &Token| &src[t.span.range()];
    for (k, tok) in scan.tokens.iter().enumerate() {
        let word = text(tok);
        let prev = k.checked_sub(1).map(|p| &scan.tokens[p]);
        match (tok.kind, word) {
            (TokKind::Punct, "(" | "[") => {
                frames.push(0);
                prefix_run = 0;
            }
            (TokKind::Punct, ")" | "]") => {
                if frames.len() > 1 {
                    ifs -= frames.pop().unwrap_or(0);
                } else {
                    unmatched.push(tok.span.start as usize);
                }
                prefix_run = 0;
            }
            (TokKind::Punct, ",") => {
                if let Some(top) = frames.last_mut() {
                    ifs -= *top;
                    *top = 0;
                }
                prefix_run = 0;
            }
            (TokKind::Word, "not") => prefix_run += 1,
            (TokKind::Punct, "-") => {
                let binary = prev.is_some_and(|p| match p.kind {
                    TokKind::Number | TokKind::Str => true,
                    TokKind::Word => {
                        let w = text(p);
                        !is_keyword(w) || OPERAND_END_WORDS.contains(&w)
                    }
                    TokKind::Punct => matches!(text(p), ")" | "]"),
                });
                if binary {
                    prefix_run = 0;
                } else {
                    prefix_run += 1;
                }
            }
            (TokKind::Word, "if") => {
                // `buy gold if COND` is a condition, not an `if` expression.
                let is_condition = k >= 2
                    && matches!(
                        text(&scan.tokens[k - 2]),
                        "buy" | "sell" | "short" | "cover" | "exit"
                    );
                if !is_condition {
                    if let Some(top) = frames.last_mut() {
                        *top += 1;
                    }
                    ifs += 1;
                }
                prefix_run = 0;
            }
            (TokKind::Word, w) if DECLARATION_WORDS.contains(&w) => {
                frames.clear();
                frames.push(0);
                ifs = 0;
                prefix_run = 0;
            }
            (TokKind::Word, w) if CLAUSE_WORDS.contains(&w) => {
                if let Some(top) = frames.last_mut() {
                    ifs -= *top;
                    *top = 0;
                }
                prefix_run = 0;
            }
            _ => prefix_run = 0,
        }
        let depth = frames.len() - 1 + ifs + prefix_run;
        if depth > MAX_NESTING {
            scan.errors.push(
                Diagnostic::new(
                    Code::NestingTooDeep,
                    tok.span,
                    "expression nested too deeply",
                )
                .with_label(format!("this is nesting level {depth}"))
                .with_help(format!(
                    "expressions may nest at most {MAX_NESTING} levels (parentheses, brackets, \
                     call arguments, `not`/`-` and `if`); split it into `let` declarations"
                )),
            );
            return;
        }
    }
    scan.unmatched_closers = unmatched;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_list_matches_the_grammar() {
        for kw in KEYWORDS {
            assert!(
                crate::syntax::parse(&format!("let {kw} = 1")).is_err(),
                "the grammar accepts `{kw}` as a name"
            );
        }
        for word in ["max", "mon", "index", "stops"] {
            assert!(!is_keyword(word));
            assert!(crate::syntax::parse(&format!("let {word} = 1")).is_ok());
        }
    }

    #[test]
    fn comments_skip_strings() {
        let s = scan("let x = \"# no\" # yes  \n# two");
        let texts: Vec<_> = s.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, [" yes", " two"]);
        assert!(s.errors.is_empty());
    }

    #[test]
    fn minus_after_an_operand_is_binary() {
        // 70 binary minuses never count as nesting.
        let src = format!("let x = a{}", " - a".repeat(70));
        assert!(scan(&src).errors.is_empty());
        let src = format!("let x = {}a", "- ".repeat(70));
        assert_eq!(scan(&src).errors[0].code, Code::NestingTooDeep);
    }
}
