//! Problems found in a strategy file, as data.
//!
//! The parser and the checker produce [`Diagnostic`]s; rendering them (rustc's
//! layout, colour on a terminal) happens at the edge, in [`crate::render`].
//! Every [`Code`] is listed with an example in `docs/errors.md`.

use crate::syntax::ast::Span;
use serde::Serialize;

/// How bad a diagnostic is. Warnings do not fail `playbook check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A stable diagnostic code such as `E0101`.
///
/// Each variant's doc comment shows an input that triggers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Code {
    // ----- syntax (E00xx) -----
    /// The text does not follow the grammar: `buy gold if`
    Syntax,
    /// Expressions nested deeper than the documented limit: `((((...))))`
    NestingTooDeep,
    /// A literal that cannot be represented: `99999999999999999999999 bars`
    InvalidLiteral,
    /// Comparisons do not chain: `a < b < c`
    ChainedComparison,
    /// A string without its closing quote: `strategy "Gold`
    UnterminatedString,
    /// An unknown escape in a string: `"a\qb"`
    InvalidEscape,

    // ----- names (E01xx) -----
    /// A name that is not declared: `gld.close`
    UnknownName,
    /// A name declared twice: `param x = 1` ... `param x = 2`
    DuplicateDeclaration,
    /// A call to a function that does not exist: `smaa(x, 3)`
    UnknownFunction,
    /// A field that bars do not have: `gold.closing`
    UnknownField,
    /// `let`s that refer to each other in a cycle: `let a = b` `let b = a`
    LetCycle,
    /// A name used in a position that needs another kind of thing: `in gold`
    WrongKindOfName,

    // ----- types and units (E02xx) -----
    /// A value of the wrong type: `sma(asia, 3)` (a session where a number is expected)
    TypeMismatch,
    /// A value in the wrong unit: `exit after 2%` (a percent where a duration is expected)
    UnitMismatch,
    /// A built-in called with the wrong number of arguments: `sma(gold.close)`
    WrongArity,

    // ----- declarations (E03xx) -----
    /// A time zone that is not in the IANA database: `Asia/Tokio`
    UnknownTimeZone,
    /// A clock time that cannot exist: `25:00`, `09:60`
    InvalidClockTime,
    /// A session window that is empty: `09:00-09:00`
    EmptySessionWindow,
    /// A param range that is empty or inverted: `in 3%..1%`
    InvalidParamRange,
    /// A param default outside its range: `param x = 5 in 1..3`
    ParamOutOfRange,
    /// A param whose default is not a literal: `param x = gold.close`
    ParamNotLiteral,
    /// A resample interval that is not supported: `symbol g = XAUUSD @ 7m`
    InvalidInterval,
    /// `strategy "..."` given twice.
    DuplicateStrategy,

    // ----- rules (E04xx) -----
    /// A rule without `buy`, `sell`, `short`, `cover` or `exit`.
    MissingAction,
    /// A rule with two actions.
    MultipleActions,
    /// A clause given twice in one rule: two `stop` clauses.
    DuplicateClause,
    /// `size risk 1% of equity` without a `stop`.
    RiskWithoutStop,
    /// A look-back that is negative, fractional or absurdly large: `x[-1]`, `x[1000000]`
    InvalidLookback,
    /// A session function on a symbol whose bars are a day or longer:
    /// `session_return(hsi_daily, asia)` with `symbol hsi_daily = HSI @ 1d`
    SessionOnDailySymbol,
    /// An action's condition given both inline and in a separate `when` clause.
    DuplicateCondition,
    /// A value out of its allowed range elsewhere: `pyramid 0`
    InvalidValue,
    /// A clause that has no meaning for the rule's action: `size` in a `sell` rule.
    ClauseNotForAction,

    // ----- warnings (W0xxx) -----
    /// A declaration that nothing uses.
    UnusedDeclaration,
    /// A percent compared with a price: `gold.close > 2%`
    PercentComparedWithPrice,
}

impl Code {
    /// Every code, in the order of `docs/errors.md`.
    pub const ALL: &'static [Code] = &[
        Code::Syntax,
        Code::NestingTooDeep,
        Code::InvalidLiteral,
        Code::ChainedComparison,
        Code::UnterminatedString,
        Code::InvalidEscape,
        Code::UnknownName,
        Code::DuplicateDeclaration,
        Code::UnknownFunction,
        Code::UnknownField,
        Code::LetCycle,
        Code::WrongKindOfName,
        Code::TypeMismatch,
        Code::UnitMismatch,
        Code::WrongArity,
        Code::UnknownTimeZone,
        Code::InvalidClockTime,
        Code::EmptySessionWindow,
        Code::InvalidParamRange,
        Code::ParamOutOfRange,
        Code::ParamNotLiteral,
        Code::InvalidInterval,
        Code::DuplicateStrategy,
        Code::MissingAction,
        Code::MultipleActions,
        Code::DuplicateClause,
        Code::RiskWithoutStop,
        Code::InvalidLookback,
        Code::SessionOnDailySymbol,
        Code::DuplicateCondition,
        Code::InvalidValue,
        Code::ClauseNotForAction,
        Code::UnusedDeclaration,
        Code::PercentComparedWithPrice,
    ];

    /// The stable code string, e.g. `E0101`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "E0001",
            Code::NestingTooDeep => "E0002",
            Code::InvalidLiteral => "E0003",
            Code::ChainedComparison => "E0004",
            Code::UnterminatedString => "E0005",
            Code::InvalidEscape => "E0006",
            Code::UnknownName => "E0101",
            Code::DuplicateDeclaration => "E0102",
            Code::UnknownFunction => "E0103",
            Code::UnknownField => "E0104",
            Code::LetCycle => "E0105",
            Code::WrongKindOfName => "E0106",
            Code::TypeMismatch => "E0201",
            Code::UnitMismatch => "E0202",
            Code::WrongArity => "E0203",
            Code::UnknownTimeZone => "E0301",
            Code::InvalidClockTime => "E0302",
            Code::EmptySessionWindow => "E0303",
            Code::InvalidParamRange => "E0304",
            Code::ParamOutOfRange => "E0305",
            Code::ParamNotLiteral => "E0306",
            Code::InvalidInterval => "E0307",
            Code::DuplicateStrategy => "E0308",
            Code::MissingAction => "E0401",
            Code::MultipleActions => "E0402",
            Code::DuplicateClause => "E0403",
            Code::RiskWithoutStop => "E0404",
            Code::InvalidLookback => "E0405",
            Code::SessionOnDailySymbol => "E0406",
            Code::DuplicateCondition => "E0407",
            Code::InvalidValue => "E0408",
            Code::ClauseNotForAction => "E0409",
            Code::UnusedDeclaration => "W0001",
            Code::PercentComparedWithPrice => "W0002",
        }
    }

    /// Warnings start with `W`.
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A secondary label: another place in the source that explains the problem
/// (the first declaration of a duplicate, the other links of a `let` cycle).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem in a strategy file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// One line, lower case, no final period: "unknown name `gld`".
    pub message: String,
    /// Where the problem is.
    pub span: Span,
    /// A short note under the primary span ("not declared").
    pub label: Option<String>,
    /// Other places that explain the problem.
    pub secondary: Vec<Label>,
    /// A suggestion: "did you mean `gold`?".
    pub help: Option<String>,
    /// Extra facts ("the cycle is a -> b -> a").
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the severity of its code.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            span,
            label: None,
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A source text with its name and a line index, for turning byte offsets
/// into 1-based line and column numbers.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self.text[start..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }
}

/// Finds the candidate closest to `name` by edit distance, for "did you mean".
///
/// Returns `None` when nothing is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        let d = strsim::damerau_levenshtein(&name.to_lowercase(), &cand.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && cand < bc)) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let f = SourceFile::new("a.play", "ab\ncd\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(1), (1, 2));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(6), (3, 1));
    }

    #[test]
    fn suggestions_pick_the_closest_name() {
        assert_eq!(did_you_mean("gld", ["gold", "usdjpy"]), Some("gold"));
        assert_eq!(
            did_you_mean("Asia/Tokio", ["Asia/Tokyo", "Asia/Tomsk"]),
            Some("Asia/Tokyo")
        );
        assert_eq!(did_you_mean("zzz", ["gold"]), None);
    }

    #[test]
    fn codes_are_unique() {
        let mut seen: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), Code::ALL.len());
    }
}
