//! The abstract syntax tree of a strategy file.
//!
//! Everything after parsing works on these types; nothing here knows pest.
//! Every node carries a [`Span`] (byte offsets into the source). Phrases such
//! as `exceeds` or `falls by .. within ..` stay visible as their own nodes so
//! that a signal's explanation can show them as the trader wrote them.
//!
//! Literal values keep both their meaning (e.g. `1.5%` is `0.015`) and their
//! span; the formatter reprints literals from the source text so that `1_000_000`
//! stays `1_000_000`.

use std::fmt;

/// A half-open byte range `[start, end)` into the source text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, serde::Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// Makes a span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The byte range, for slicing the source.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}..{}", self.start, self.end)
    }
}

/// A value with the span it was written at.
#[derive(Clone, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.node, f)?;
        write!(f, " {:?}", self.span)
    }
}

/// A user-chosen name (symbol alias, param, session, let, rule) or a built-in
/// function name at a call site.
#[derive(Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.name, self.span)
    }
}

/// A whole strategy file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Top-level declarations in source order.
    pub items: Vec<Item>,
    /// Every `#` comment of the file in source order (kept for the formatter).
    pub comments: Vec<Comment>,
}

/// A `#` comment; `text` is everything after the `#` up to the line end
/// (trailing whitespace removed).
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Strategy(StrategyDecl),
    Symbol(SymbolDecl),
    Series(SeriesDecl),
    Param(ParamDecl),
    Session(SessionDecl),
    Let(LetDecl),
    Rule(RuleDecl),
}

impl Item {
    /// The span of the whole declaration.
    pub fn span(&self) -> Span {
        match self {
            Item::Strategy(d) => d.span,
            Item::Symbol(d) => d.span,
            Item::Series(d) => d.span,
            Item::Param(d) => d.span,
            Item::Session(d) => d.span,
            Item::Let(d) => d.span,
            Item::Rule(d) => d.span,
        }
    }

    /// The declared name (`None` for `strategy "title"`).
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Strategy(_) => None,
            Item::Symbol(d) => Some(&d.name),
            Item::Series(d) => Some(&d.name),
            Item::Param(d) => Some(&d.name),
            Item::Session(d) => Some(&d.name),
            Item::Let(d) => Some(&d.name),
            Item::Rule(d) => Some(&d.name),
        }
    }
}

/// `strategy "title"`
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyDecl {
    /// The title with escapes resolved.
    pub title: Spanned<String>,
    pub span: Span,
}

/// `symbol NAME = DATA_SYMBOL [@ INTERVAL]`
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolDecl {
    pub name: Ident,
    /// The data symbol as written (`XAUUSD`, `^N225`, `ZN=F`).
    pub data: Spanned<String>,
    /// `@ 4h`: resample to this wall-clock interval.
    pub resample: Option<Spanned<Duration>>,
    pub span: Span,
}

/// `series NAME = DATA_SERIES [as percent]`
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesDecl {
    pub name: Ident,
    pub data: Spanned<String>,
    /// The span of `as percent`, when present.
    pub as_percent: Option<Span>,
    pub span: Span,
}

/// `param NAME = LITERAL [in LO..HI [step S]]`
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: Ident,
    /// The default: a literal, possibly with a unary minus (checked).
    pub value: Expr,
    pub range: Option<ParamRange>,
    pub span: Span,
}

/// `in LO..HI [step S]`
#[derive(Clone, Debug, PartialEq)]
pub struct ParamRange {
    pub lo: Expr,
    pub hi: Expr,
    pub step: Option<Expr>,
    pub span: Span,
}

/// `session NAME = HH:MM-HH:MM[, HH:MM-HH:MM ...] ZONE [DAYS]`
#[derive(Clone, Debug, PartialEq)]
pub struct SessionDecl {
    pub name: Ident,
    pub windows: Vec<ClockWindow>,
    /// The IANA zone name as written (validated by the checker).
    pub zone: Spanned<String>,
    pub days: Option<DaySet>,
    pub span: Span,
}

/// `09:00-15:00`: half-open `[start, end)`; `end <= start` crosses midnight.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockWindow {
    pub start: ClockTime,
    pub end: ClockTime,
    pub span: Span,
}

/// `HH:MM` as written; the parser accepts any two-digit numbers, the checker
/// rejects impossible ones such as `25:00` or `09:60`.
#[derive(Clone, PartialEq)]
pub struct ClockTime {
    pub hour: u32,
    pub minute: u32,
    pub span: Span,
}

impl fmt::Debug for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02} {:?}", self.hour, self.minute, self.span)
    }
}

/// `mon-fri` or `mon,wed,fri` (or a mix: `mon-wed,fri`).
#[derive(Clone, Debug, PartialEq)]
pub struct DaySet {
    pub items: Vec<DaySpec>,
    pub span: Span,
}

/// One element of a [`DaySet`].
#[derive(Clone, Debug, PartialEq)]
pub enum DaySpec {
    Day(Spanned<Weekday>),
    /// `fri-mon` wraps around the week end.
    Range(Spanned<Weekday>, Spanned<Weekday>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// `let NAME = EXPR`
#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `rule NAME:` followed by clauses in any order.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    pub name: Ident,
    /// Clauses in source order; the checker enforces "exactly one action" and
    /// "each clause at most once".
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub kind: ClauseKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClauseKind {
    /// `buy gold [if|when COND]`
    Action(ActionClause),
    /// A separate `when COND` clause.
    When(Expr),
    /// `size SIZING`
    Size(Sizing),
    /// `stop DISTANCE`
    Stop(Expr),
    /// `target DISTANCE`
    Target(Expr),
    /// `trail DISTANCE`
    Trail(Expr),
    /// `exit after DURATION`
    ExitAfter(Expr),
    /// `exit when COND`
    ExitWhen(Expr),
    /// `pyramid N`
    Pyramid(Expr),
}

/// `ACTION SYMBOL [if|when COND]`
#[derive(Clone, Debug, PartialEq)]
pub struct ActionClause {
    pub action: Spanned<Action>,
    pub symbol: Ident,
    pub condition: Option<Condition>,
}

/// The condition attached to an action with `if` or `when`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub keyword: Spanned<CondKeyword>,
    pub expr: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondKeyword {
    If,
    When,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// open/add long; reverses a short
    Buy,
    /// close long
    Sell,
    /// open/add short; reverses a long
    Short,
    /// close short
    Cover,
    /// flatten
    Exit,
}

/// `size BASE [scaled by EXPR] [max CAP]`
#[derive(Clone, Debug, PartialEq)]
pub struct Sizing {
    pub base: SizeBase,
    pub scaled_by: Option<Expr>,
    pub max: Option<SizeCap>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SizeBase {
    /// `N units`
    Units(Expr),
    /// `N contracts`
    Contracts(Expr),
    /// `P of equity` (P usually a percent)
    PercentOfEquity(Expr),
    /// `risk P of equity` (needs a `stop`)
    Risk(Expr),
    /// `target_vol P`
    TargetVol(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SizeCap {
    /// `max N contracts`
    Contracts(Expr),
    /// `max N units`
    Units(Expr),
    /// `max P of equity`
    PercentOfEquity(Expr),
}

/// A wall-clock duration literal such as `4h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Duration {
    pub count: u64,
    pub unit: TimeUnit,
}

impl Duration {
    /// Length in seconds (a day is 86,400 s, a week 7 days).
    pub fn seconds(self) -> u64 {
        self.count.saturating_mul(self.unit.seconds())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl TimeUnit {
    pub fn seconds(self) -> u64 {
        match self {
            TimeUnit::Seconds => 1,
            TimeUnit::Minutes => 60,
            TimeUnit::Hours => 3600,
            TimeUnit::Days => 86_400,
            TimeUnit::Weeks => 7 * 86_400,
        }
    }

    /// The suffix as written (`s m h d w`).
    pub fn suffix(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "s",
            TimeUnit::Minutes => "m",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
            TimeUnit::Weeks => "w",
        }
    }
}

/// An expression with its span.
#[derive(Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.kind, f)?;
        write!(f, " {:?}", self.span)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `12`, `1.5`, `1_000_000`
    Number(f64),
    /// `1.5%`; the value is the fraction (`0.015`).
    Percent(f64),
    /// `30s 15m 4h 1d 1w`
    Duration(Duration),
    /// `20 bars`
    Bars(u64),
    /// `true`, `false`
    Bool(bool),
    /// `"text"` with escapes resolved.
    String(String),
    /// A reference to a declared name or a zero-argument built-in.
    Name(Ident),
    /// `gold.close`
    Field {
        base: Box<Expr>,
        field: Spanned<Field>,
    },
    /// `EXPR[n]`: the value n bars ago on the expression's own clock.
    Index { base: Box<Expr>, offset: Box<Expr> },
    /// `sma(gold.close, 20)`
    Call { func: Ident, args: Vec<Expr> },
    Unary {
        op: Spanned<UnaryOp>,
        operand: Box<Expr>,
    },
    Binary {
        op: Spanned<BinaryOp>,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `A exceeds B`, `A is above B`, `A is below B`, `A crosses above B`,
    /// `A crosses below B`
    Compare {
        op: Spanned<PhraseOp>,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `X rises by P within W`, `X falls by P within W`
    Move {
        direction: Spanned<MoveDirection>,
        subject: Box<Expr>,
        amount: Box<Expr>,
        window: Box<Expr>,
    },
    /// `A while B`
    While { lhs: Box<Expr>, rhs: Box<Expr> },
    /// `in S`
    InSession(Ident),
    /// `if C then A else B`
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `( EXPR )`, kept so the formatter and explanations show what was written.
    Paren(Box<Expr>),
}

/// A bar field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Open => "open",
            Field::High => "high",
            Field::Low => "low",
            Field::Close => "close",
            Field::Volume => "volume",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhraseOp {
    Exceeds,
    IsAbove,
    IsBelow,
    CrossesAbove,
    CrossesBelow,
}

impl PhraseOp {
    /// The phrase as written.
    pub fn as_str(self) -> &'static str {
        match self {
            PhraseOp::Exceeds => "exceeds",
            PhraseOp::IsAbove => "is above",
            PhraseOp::IsBelow => "is below",
            PhraseOp::CrossesAbove => "crosses above",
            PhraseOp::CrossesBelow => "crosses below",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoveDirection {
    Rises,
    Falls,
}

/// Visits every direct sub-expression of `expr`.
pub fn for_each_child(expr: &Expr, mut f: impl FnMut(&Expr)) {
    match &expr.kind {
        ExprKind::Number(_)
        | ExprKind::Percent(_)
        | ExprKind::Duration(_)
        | ExprKind::Bars(_)
        | ExprKind::Bool(_)
        | ExprKind::String(_)
        | ExprKind::Name(_)
        | ExprKind::InSession(_) => {}
        ExprKind::Field { base, .. } => f(base),
        ExprKind::Index { base, offset } => {
            f(base);
            f(offset);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(f),
        ExprKind::Unary { operand, .. } => f(operand),
        ExprKind::Binary { lhs, rhs, .. }
        | ExprKind::Compare { lhs, rhs, .. }
        | ExprKind::While { lhs, rhs } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::Move {
            subject,
            amount,
            window,
            ..
        } => {
            f(subject);
            f(amount);
            f(window);
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            f(cond);
            f(then);
            f(otherwise);
        }
        ExprKind::Paren(inner) => f(inner),
    }
}
