//! Checked AST -> evaluation [`Plan`].
//!
//! Every distinct sub-expression becomes one [`Node`] in a flat,
//! topologically ordered array (hash-consed: `atr(gold, 14)` written twice is
//! one node). `let`s are inlined (their explanation keeps the name). Each
//! node knows its clock: the set of symbols it reads. The engine evaluates
//! the nodes in order at every tick; a *stateful* node (an indicator, a
//! look-back) advances only at ticks where a symbol of its clock printed a
//! bar (or at every tick when it reads no symbol), the rest are cheap
//! arithmetic recomputed from their inputs.
//!
//! `na` is NaN in a slot. Booleans are `1.0`/`0.0` and never NaN: a
//! comparison with `na` is false, as LANGUAGE.md says.
//!
//! The compiler expects a file that [`crate::check::check`] accepted; it
//! still returns errors (never panics) for anything it cannot compile.

use crate::syntax::ast::{self, Expr, ExprKind, Span};
use jiff::SignedDuration;
use std::collections::HashMap;

/// Index of a node in [`Plan::nodes`].
pub type NodeId = u32;

/// The most symbols one strategy can read (clock sets are a `u64`).
pub const MAX_SYMBOLS: usize = 64;

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A plain number (a price, a count, a ratio).
    Number,
    /// A fraction shown as a percent (`0.015` is `1.50%`).
    Percent,
    /// `1.0` true, `0.0` false.
    Bool,
    /// Seconds.
    Duration,
    /// A bar count.
    Bars,
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
}

/// Comparisons (phrases compile to these).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// One-input functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    Neg,
    Not,
    Abs,
    Log,
    Sqrt,
}

/// Bar-count indicators over one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Sma,
    Ema,
    Wma,
    Rsi,
    Stdev,
    Highest,
    Lowest,
    Slope,
    /// `change(x, n bars)`
    Change,
    /// `diff(x, n bars)`
    Diff,
    /// `x[n]`
    Lookback,
}

/// Values of a session aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionValue {
    Open,
    High,
    Low,
    Close,
    Volume,
    Return,
    Drop,
}

/// What a node computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A constant (f64 bits, so that the op can be hashed).
    Const(u64),
    /// A field of a symbol's latest bar.
    Field(u16, ast::Field),
    /// A series' latest value.
    Series(u16),
    Func(Func, NodeId),
    Arith(Arith, NodeId, NodeId),
    Cmp(Cmp, NodeId, NodeId),
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    If(NodeId, NodeId, NodeId),
    /// `A crosses above|below B` (`above` true for above): `A > B and
    /// A[1] <= B[1]`, with each look-back on its operand's own clock, and
    /// true only at ticks where A's or B's clock advanced (a cross is an
    /// event of the bar where it happens, not a state).
    Cross(NodeId, NodeId, bool),
    /// A bar-count kernel with its period.
    Kernel(Kernel, NodeId, u32),
    /// `change(x, w)` over a wall-clock window (seconds).
    TimeChange(NodeId, i64),
    /// `diff(x, w)` over a wall-clock window (seconds).
    TimeDiff(NodeId, i64),
    /// `atr(sym, n)`
    Atr(u16, u32),
    /// `volatility(sym, n)`
    Volatility(u16, u32),
    /// `gap(sym)`
    Gap(u16),
    /// `bars_since(cond)`
    BarsSince(NodeId),
    /// A session aggregate of a symbol.
    Session(u16, u16, SessionValue),
    /// `in S`
    InSession(u16),
    /// `age(sym)` in seconds.
    Age(u16),
}

impl Op {
    /// Whether the node keeps state across ticks (and so advances only on its clock).
    pub fn is_stateful(&self) -> bool {
        matches!(
            self,
            Op::Kernel(..)
                | Op::TimeChange(..)
                | Op::TimeDiff(..)
                | Op::Atr(..)
                | Op::Volatility(..)
                | Op::Gap(..)
                | Op::BarsSince(..)
                | Op::Cross(..)
        )
    }
}

/// One node of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    /// Symbols read (bit i = symbol i); 0 = advances at every tick.
    pub clock: u64,
    pub unit: Unit,
    /// Bars of its clock before the first defined value (for `eval` and
    /// warm-up reporting).
    pub lookback: u32,
}

/// A declared symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolSpec {
    pub name: String,
    /// The data symbol (`XAUUSD`).
    pub data: String,
    /// `@ 4h`: resampled to this interval.
    pub resample: Option<SignedDuration>,
}

/// A declared series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSpec {
    pub name: String,
    pub data: String,
    pub as_percent: bool,
}

/// A declared session, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionSpec {
    pub name: String,
    pub session: crate::session::Session,
}

/// A protective distance: its node and whether it is a percent of the entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistanceSpec {
    pub node: NodeId,
    pub percent: bool,
}

/// The base of a rule's sizing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeSpec {
    Units(NodeId),
    Contracts(NodeId),
    FractionOfEquity(NodeId),
    Risk(NodeId),
    /// Target volatility, and the node of the acting symbol's volatility.
    TargetVol(NodeId, NodeId),
}

/// A cap on the quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CapSpec {
    Quantity(NodeId),
    FractionOfEquity(NodeId),
}

/// A compiled sizing clause.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizingSpec {
    pub base: SizeSpec,
    pub scale: Option<NodeId>,
    pub cap: Option<CapSpec>,
}

/// How long a position from a rule may be held.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HoldSpec {
    Duration(SignedDuration),
    Bars(u32),
}

/// A compiled rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RulePlan {
    pub name: String,
    pub action: ast::Action,
    pub symbol: u16,
    /// The entry/exit condition (`None`: always true).
    pub condition: Option<NodeId>,
    /// How the condition explains itself.
    pub explain: Option<Explain>,
    pub sizing: Option<SizingSpec>,
    pub stop: Option<DistanceSpec>,
    pub target: Option<DistanceSpec>,
    pub trail: Option<DistanceSpec>,
    pub hold: Option<HoldSpec>,
    pub exit_when: Option<NodeId>,
    pub exit_explain: Option<Explain>,
    pub pyramid: u32,
}

/// How a condition renders itself with its values when a signal fires:
/// the structure of the source, with the node behind each part.
#[derive(Clone, Debug, PartialEq)]
pub enum Explain {
    /// A value shown as `text = value` (or just `text` for a literal).
    Value {
        text: String,
        node: NodeId,
        literal: bool,
    },
    /// `lhs OP rhs` for comparisons and phrases, as written.
    Compare {
        node: NodeId,
        lhs: Box<Explain>,
        op: String,
        rhs: Box<Explain>,
    },
    /// `X rises|falls by P within W` with the change that decided it.
    Move {
        node: NodeId,
        subject: String,
        verb: &'static str,
        amount: Box<Explain>,
        window: String,
        change: NodeId,
    },
    /// `and`, `or`, `while`
    Logic {
        node: NodeId,
        lhs: Box<Explain>,
        op: &'static str,
        rhs: Box<Explain>,
    },
    /// `not X`
    Not {
        node: NodeId,
        inner: Box<Explain>,
    },
    Paren(Box<Explain>),
    /// A `let` shown by name with what is inside.
    Let {
        node: NodeId,
        name: String,
        inner: Box<Explain>,
    },
    /// `in S`
    InSession {
        name: String,
        node: NodeId,
    },
    /// A boolean value with no inner structure worth showing.
    Flag {
        text: String,
        node: NodeId,
    },
}

/// A compiled strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub title: Option<String>,
    pub symbols: Vec<SymbolSpec>,
    pub series: Vec<SeriesSpec>,
    pub sessions: Vec<SessionSpec>,
    /// Topologically ordered: inputs come before the nodes that read them.
    pub nodes: Vec<Node>,
    pub rules: Vec<RulePlan>,
    /// Extra outputs asked for by `eval` (name, node, explanation).
    pub outputs: Vec<(String, NodeId)>,
    /// Param values used (after overrides), in declaration order.
    pub params: Vec<(String, f64, Unit)>,
}

impl Plan {
    /// Which nodes are read from outside the evaluation (`true` at their
    /// index): rule conditions, their explanations, sizing, exits, and
    /// `eval` outputs. The evaluator need not keep the slot of a node read
    /// neither there nor by another node.
    pub fn read_outside(&self) -> Vec<bool> {
        fn explained(e: &Explain, read: &mut [bool]) {
            match e {
                Explain::Value { node, .. }
                | Explain::InSession { node, .. }
                | Explain::Flag { node, .. } => read[*node as usize] = true,
                Explain::Compare { node, lhs, rhs, .. } | Explain::Logic { node, lhs, rhs, .. } => {
                    read[*node as usize] = true;
                    explained(lhs, read);
                    explained(rhs, read);
                }
                Explain::Move {
                    node,
                    amount,
                    change,
                    ..
                } => {
                    read[*node as usize] = true;
                    read[*change as usize] = true;
                    explained(amount, read);
                }
                Explain::Not { node, inner } | Explain::Let { node, inner, .. } => {
                    read[*node as usize] = true;
                    explained(inner, read);
                }
                Explain::Paren(inner) => explained(inner, read),
            }
        }
        let mut read = vec![false; self.nodes.len()];
        for r in &self.rules {
            let mut nodes: Vec<NodeId> = Vec::new();
            nodes.extend(r.condition);
            nodes.extend(r.exit_when);
            nodes.extend([r.stop, r.target, r.trail].iter().flatten().map(|d| d.node));
            if let Some(s) = r.sizing {
                match s.base {
                    SizeSpec::Units(n)
                    | SizeSpec::Contracts(n)
                    | SizeSpec::FractionOfEquity(n)
                    | SizeSpec::Risk(n) => nodes.push(n),
                    SizeSpec::TargetVol(n, vol) => nodes.extend([n, vol]),
                }
                nodes.extend(s.scale);
                nodes.extend(s.cap.map(|c| match c {
                    CapSpec::Quantity(n) | CapSpec::FractionOfEquity(n) => n,
                }));
            }
            for n in nodes {
                read[n as usize] = true;
            }
            for e in [&r.explain, &r.exit_explain].into_iter().flatten() {
                explained(e, &mut read);
            }
        }
        for (_, n) in &self.outputs {
            read[*n as usize] = true;
        }
        read
    }
}

/// A problem compiling a checked file (an override of the wrong unit, a
/// construct the checker let through that cannot run).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    pub message: String,
    pub span: Span,
}

fn err<T>(span: Span, message: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError {
        message: message.into(),
        span,
    })
}

/// A param override from the command line (`--param drop=2%`).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamOverride {
    pub name: String,
    pub value: f64,
    pub unit: Unit,
}

impl ParamOverride {
    /// Parses `NAME=VALUE` where VALUE is a number, a percent (`2%`), a
    /// duration (`4h`) or a bar count (`20bars`/`20 bars`).
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse(text: &str) -> Result<ParamOverride, String> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: expected NAME=VALUE, e.g. drop=2%"))?;
        let name = name.trim().to_string();
        let v = value.trim().replace('_', "");
        let bad = || format!("`{text}`: `{value}` is not a number, percent, duration or bar count");
        let (value, unit) = if let Some(p) = v.strip_suffix('%') {
            (
                p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
                Unit::Percent,
            )
        } else if let Some(b) = v.strip_suffix("bars") {
            (
                b.trim().parse::<u32>().map_err(|_| bad())? as f64,
                Unit::Bars,
            )
        } else if let Some(unit) = v.chars().last().filter(|c| "smhdw".contains(*c)) {
            let n: f64 = v[..v.len() - 1].parse().map_err(|_| bad())?;
            let secs = match unit {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                'd' => 86_400.0,
                _ => 7.0 * 86_400.0,
            };
            (n * secs, Unit::Duration)
        } else if v == "true" || v == "false" {
            (if v == "true" { 1.0 } else { 0.0 }, Unit::Bool)
        } else {
            (v.parse::<f64>().map_err(|_| bad())?, Unit::Number)
        };
        if !value.is_finite() {
            return Err(bad());
        }
        Ok(ParamOverride { name, value, unit })
    }
}

#[derive(Clone, Copy)]
enum Name<'a> {
    Symbol(u16),
    Series(u16, bool),
    Param(usize),
    Session(u16),
    Let(&'a ast::LetDecl),
}

struct Compiler<'a> {
    names: HashMap<&'a str, Name<'a>>,
    nodes: Vec<Node>,
    dedup: HashMap<(Op, u64), NodeId>,
    params: Vec<(String, f64, Unit)>,
    lets: HashMap<&'a str, (NodeId, Explain)>,
    in_progress: Vec<&'a str>,
    source: &'a str,
}

/// Compiles a checked file into a plan. `extra` are expressions asked for by
/// `eval` (given as the names of `let`s in the file).
///
/// # Errors
/// A [`CompileError`] with the span of the construct that cannot compile.
pub fn compile(
    file: &ast::File,
    source: &str,
    overrides: &[ParamOverride],
    extra: &[&str],
) -> Result<Plan, CompileError> {
    let mut c = Compiler {
        names: HashMap::new(),
        nodes: Vec::new(),
        dedup: HashMap::new(),
        params: Vec::new(),
        lets: HashMap::new(),
        in_progress: Vec::new(),
        source,
    };
    let mut plan = Plan {
        title: None,
        symbols: Vec::new(),
        series: Vec::new(),
        sessions: Vec::new(),
        nodes: Vec::new(),
        rules: Vec::new(),
        outputs: Vec::new(),
        params: Vec::new(),
    };
    for item in &file.items {
        match item {
            ast::Item::Strategy(s) => plan.title = Some(s.title.node.clone()),
            ast::Item::Symbol(s) => {
                if plan.symbols.len() == MAX_SYMBOLS {
                    return err(
                        s.span,
                        format!("a strategy can read at most {MAX_SYMBOLS} symbols"),
                    );
                }
                c.names
                    .insert(&s.name.name, Name::Symbol(plan.symbols.len() as u16));
                plan.symbols.push(SymbolSpec {
                    name: s.name.name.clone(),
                    data: s.data.node.clone(),
                    resample: s
                        .resample
                        .as_ref()
                        .map(|d| SignedDuration::from_secs(d.node.seconds() as i64)),
                });
            }
            ast::Item::Series(s) => {
                c.names.insert(
                    &s.name.name,
                    Name::Series(plan.series.len() as u16, s.as_percent.is_some()),
                );
                plan.series.push(SeriesSpec {
                    name: s.name.name.clone(),
                    data: s.data.node.clone(),
                    as_percent: s.as_percent.is_some(),
                });
            }
            ast::Item::Param(p) => {
                let (value, unit) = literal_value(&p.value)?;
                let (value, unit) = match overrides.iter().find(|o| o.name == p.name.name) {
                    Some(o) if o.unit == unit || (o.unit == Unit::Number && unit == Unit::Bars) => {
                        (o.value, unit)
                    }
                    Some(o) => {
                        // A command-line problem: no span in the file.
                        return err(
                            Span::default(),
                            format!(
                                "--param {}: the value is a {}, but the param is a {}",
                                o.name,
                                unit_name(o.unit),
                                unit_name(unit)
                            ),
                        );
                    }
                    None => (value, unit),
                };
                c.names.insert(&p.name.name, Name::Param(c.params.len()));
                c.params.push((p.name.name.clone(), value, unit));
            }
            ast::Item::Session(s) => {
                c.names
                    .insert(&s.name.name, Name::Session(plan.sessions.len() as u16));
                plan.sessions.push(SessionSpec {
                    name: s.name.name.clone(),
                    session: build_session(s)?,
                });
            }
            ast::Item::Let(l) => {
                c.names.insert(&l.name.name, Name::Let(l));
            }
            ast::Item::Rule(_) => {}
        }
    }
    for o in overrides {
        if !c.params.iter().any(|(n, _, _)| *n == o.name) {
            return err(
                Span::default(),
                format!("--param {}: the strategy has no param `{}`", o.name, o.name),
            );
        }
    }
    for item in &file.items {
        if let ast::Item::Rule(r) = item {
            let rule = c.rule(r)?;
            plan.rules.push(rule);
        }
    }
    for name in extra {
        let Some(Name::Let(l)) = c.names.get(name).copied() else {
            return err(
                Span::default(),
                format!("`{name}` is not a `let` of the strategy"),
            );
        };
        let (node, _) = c.let_value(l)?;
        plan.outputs.push((name.to_string(), node));
    }
    plan.nodes = c.nodes;
    plan.params = c.params;
    Ok(plan)
}

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Number => "number",
        Unit::Percent => "percent",
        Unit::Bool => "condition",
        Unit::Duration => "duration",
        Unit::Bars => "bar count",
    }
}

/// The value and unit of a param's literal default.
fn literal_value(e: &Expr) -> Result<(f64, Unit), CompileError> {
    Ok(match &e.kind {
        ExprKind::Number(v) => (*v, Unit::Number),
        ExprKind::Percent(v) => (*v, Unit::Percent),
        ExprKind::Duration(d) => (d.seconds() as f64, Unit::Duration),
        ExprKind::Bars(n) => (*n as f64, Unit::Bars),
        ExprKind::Bool(b) => (f64::from(u8::from(*b)), Unit::Bool),
        ExprKind::Paren(inner) => literal_value(inner)?,
        ExprKind::Unary {
            op:
                ast::Spanned {
                    node: ast::UnaryOp::Neg,
                    ..
                },
            operand,
        } => {
            let (v, u) = literal_value(operand)?;
            (-v, u)
        }
        _ => return err(e.span, "a param's value must be a literal"),
    })
}

fn build_session(s: &ast::SessionDecl) -> Result<crate::session::Session, CompileError> {
    use crate::session::{Session, WeekdaySet};
    let time = |c: &ast::ClockTime| {
        jiff::civil::Time::new(c.hour as i8, c.minute as i8, 0, 0).map_err(|_| CompileError {
            message: format!("impossible clock time {:02}:{:02}", c.hour, c.minute),
            span: c.span,
        })
    };
    let windows = s
        .windows
        .iter()
        .map(|w| Ok((time(&w.start)?, time(&w.end)?)))
        .collect::<Result<Vec<_>, CompileError>>()?;
    let zone = jiff::tz::TimeZone::get(&s.zone.node).map_err(|e| CompileError {
        message: format!("unknown time zone `{}`: {e}", s.zone.node),
        span: s.zone.span,
    })?;
    let wd = |d: ast::Weekday| match d {
        ast::Weekday::Mon => jiff::civil::Weekday::Monday,
        ast::Weekday::Tue => jiff::civil::Weekday::Tuesday,
        ast::Weekday::Wed => jiff::civil::Weekday::Wednesday,
        ast::Weekday::Thu => jiff::civil::Weekday::Thursday,
        ast::Weekday::Fri => jiff::civil::Weekday::Friday,
        ast::Weekday::Sat => jiff::civil::Weekday::Saturday,
        ast::Weekday::Sun => jiff::civil::Weekday::Sunday,
    };
    let days = match &s.days {
        None => WeekdaySet::ALL,
        Some(set) => set.items.iter().fold(WeekdaySet::EMPTY, |acc, d| match d {
            ast::DaySpec::Day(d) => acc.with(wd(d.node)),
            ast::DaySpec::Range(a, b) => acc.union(WeekdaySet::range(wd(a.node), wd(b.node))),
        }),
    };
    Session::new(windows, zone, days).map_err(|e| CompileError {
        message: format!("session `{}`: {e}", s.name.name),
        span: s.span,
    })
}

impl<'a> Compiler<'a> {
    fn text(&self, span: Span) -> String {
        self.source
            .get(span.range())
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn push(&mut self, op: Op, clock: u64, unit: Unit, lookback: u32) -> NodeId {
        if let Some(&id) = self.dedup.get(&(op, clock)) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            op,
            clock,
            unit,
            lookback,
        });
        self.dedup.insert((op, clock), id);
        id
    }

    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    fn constant(&mut self, v: f64, unit: Unit) -> NodeId {
        self.push(Op::Const(v.to_bits()), 0, unit, 0)
    }

    fn symbol_arg(&self, e: &Expr) -> Result<u16, CompileError> {
        match &e.kind {
            ExprKind::Name(id) => match self.names.get(id.name.as_str()) {
                Some(Name::Symbol(s)) => Ok(*s),
                _ => err(e.span, format!("`{}` is not a symbol", id.name)),
            },
            ExprKind::Paren(inner) => self.symbol_arg(inner),
            _ => err(e.span, "expected a symbol name"),
        }
    }

    fn session_arg(&self, e: &Expr) -> Result<u16, CompileError> {
        match &e.kind {
            ExprKind::Name(id) => match self.names.get(id.name.as_str()) {
                Some(Name::Session(s)) => Ok(*s),
                _ => err(e.span, format!("`{}` is not a session", id.name)),
            },
            _ => err(e.span, "expected a session name"),
        }
    }

    /// A constant whole number (a literal, a bar count or a param).
    fn count(&mut self, e: &Expr, what: &str) -> Result<u32, CompileError> {
        let id = self.expr(e)?.0;
        let n = match self.node(id).op {
            Op::Const(bits) => f64::from_bits(bits),
            _ => return err(e.span, format!("{what} must be a constant whole number")),
        };
        if n.fract() != 0.0 || !(0.0..=1_000_000.0).contains(&n) {
            return err(
                e.span,
                format!("{what} must be a whole number from 0 to 1,000,000, not {n}"),
            );
        }
        Ok(n as u32)
    }

    fn period(&mut self, e: &Expr) -> Result<u32, CompileError> {
        let n = self.count(e, "the period")?;
        if n == 0 {
            return err(e.span, "the period must be at least 1");
        }
        Ok(n)
    }

    /// A window: a duration (seconds) or a bar count.
    fn window(&mut self, e: &Expr) -> Result<Result<i64, u32>, CompileError> {
        let id = self.expr(e)?.0;
        let node = self.node(id);
        let v = match node.op {
            Op::Const(bits) => f64::from_bits(bits),
            _ => {
                return err(
                    e.span,
                    "the window must be a constant duration or bar count",
                );
            }
        };
        match node.unit {
            Unit::Duration if v > 0.0 => Ok(Ok(v as i64)),
            Unit::Bars | Unit::Number if v >= 1.0 && v.fract() == 0.0 => Ok(Err(v as u32)),
            _ => err(
                e.span,
                "the window must be a positive duration (`1d`) or bar count (`20 bars`)",
            ),
        }
    }

    fn let_value(&mut self, l: &'a ast::LetDecl) -> Result<(NodeId, Explain), CompileError> {
        if let Some((id, ex)) = self.lets.get(l.name.name.as_str()) {
            return Ok((*id, ex.clone()));
        }
        if self.in_progress.contains(&l.name.name.as_str()) {
            return err(l.name.span, format!("`{}` refers to itself", l.name.name));
        }
        self.in_progress.push(&l.name.name);
        let (id, inner) = self.expr(&l.value)?;
        self.in_progress.pop();
        let ex = Explain::Let {
            node: id,
            name: l.name.name.clone(),
            inner: Box::new(inner),
        };
        self.lets.insert(&l.name.name, (id, ex.clone()));
        Ok((id, ex))
    }

    fn value_explain(&self, e: &Expr, id: NodeId) -> Explain {
        let literal = matches!(
            e.kind,
            ExprKind::Number(_) | ExprKind::Percent(_) | ExprKind::Duration(_) | ExprKind::Bars(_)
        );
        if self.node(id).unit == Unit::Bool && !literal {
            Explain::Flag {
                text: self.text(e.span),
                node: id,
            }
        } else {
            Explain::Value {
                text: self.text(e.span),
                node: id,
                literal,
            }
        }
    }

    fn cmp(&mut self, op: Cmp, a: NodeId, b: NodeId) -> NodeId {
        let clock = self.node(a).clock | self.node(b).clock;
        let lb = self.node(a).lookback.max(self.node(b).lookback);
        self.push(Op::Cmp(op, a, b), clock, Unit::Bool, lb)
    }

    fn binary_unit(&self, op: Arith, a: NodeId, b: NodeId) -> Unit {
        let (ua, ub) = (self.node(a).unit, self.node(b).unit);
        match op {
            Arith::Mul | Arith::Div => match (ua, ub) {
                (Unit::Percent, Unit::Number) => Unit::Percent,
                (Unit::Number, Unit::Percent) if op == Arith::Mul => Unit::Percent,
                (Unit::Duration, Unit::Number) => Unit::Duration,
                (Unit::Number, Unit::Duration) if op == Arith::Mul => Unit::Duration,
                _ => Unit::Number,
            },
            _ => {
                // `1 - x` with x a percent is a plain number (LANGUAGE.md).
                if ua == ub { ua } else { Unit::Number }
            }
        }
    }

    fn arith(&mut self, op: Arith, a: NodeId, b: NodeId) -> NodeId {
        let unit = self.binary_unit(op, a, b);
        let (na, nb) = (self.node(a), self.node(b));
        // Fold constants (params and literals) at compile time.
        if let (Op::Const(x), Op::Const(y)) = (na.op, nb.op) {
            let (x, y) = (f64::from_bits(x), f64::from_bits(y));
            return self.constant(apply_arith(op, x, y), unit);
        }
        let clock = na.clock | nb.clock;
        let lb = na.lookback.max(nb.lookback);
        self.push(Op::Arith(op, a, b), clock, unit, lb)
    }

    fn func(&mut self, f: Func, a: NodeId, unit: Unit) -> NodeId {
        let n = self.node(a);
        if let Op::Const(x) = n.op {
            return self.constant(apply_func(f, f64::from_bits(x)), unit);
        }
        let (clock, lb) = (n.clock, n.lookback);
        self.push(Op::Func(f, a), clock, unit, lb)
    }

    fn kernel(&mut self, k: Kernel, x: NodeId, n: u32, unit: Unit) -> NodeId {
        let node = self.node(x);
        let own = match k {
            Kernel::Lookback | Kernel::Change | Kernel::Diff | Kernel::Rsi => n,
            _ => n - 1,
        };
        let (clock, lb) = (node.clock, node.lookback + own);
        self.push(Op::Kernel(k, x, n), clock, unit, lb)
    }

    /// Compiles an expression into a node and its explanation.
    fn expr(&mut self, e: &Expr) -> Result<(NodeId, Explain), CompileError> {
        let id = match &e.kind {
            ExprKind::Number(v) => self.constant(*v, Unit::Number),
            ExprKind::Percent(v) => self.constant(*v, Unit::Percent),
            ExprKind::Duration(d) => self.constant(d.seconds() as f64, Unit::Duration),
            ExprKind::Bars(n) => self.constant(*n as f64, Unit::Bars),
            ExprKind::Bool(b) => self.constant(f64::from(u8::from(*b)), Unit::Bool),
            ExprKind::String(_) => return err(e.span, "a string is not a value"),
            ExprKind::Name(id) => match self.names.get(id.name.as_str()).copied() {
                Some(Name::Param(i)) => {
                    let (_, v, u) = self.params[i];
                    let node = self.constant(v, u);
                    return Ok((
                        node,
                        Explain::Value {
                            text: id.name.clone(),
                            node,
                            literal: false,
                        },
                    ));
                }
                Some(Name::Series(s, percent)) => {
                    let unit = if percent { Unit::Percent } else { Unit::Number };
                    self.push(Op::Series(s), 0, unit, 0)
                }
                Some(Name::Let(l)) => return self.let_value(l),
                Some(Name::Symbol(_)) => {
                    return err(
                        e.span,
                        format!(
                            "`{}` is a symbol: use a field such as `{}.close`",
                            id.name, id.name
                        ),
                    );
                }
                Some(Name::Session(_)) => {
                    return err(
                        e.span,
                        format!("`{}` is a session: use `in {}`", id.name, id.name),
                    );
                }
                None => return err(e.span, format!("unknown name `{}`", id.name)),
            },
            ExprKind::Field { base, field } => {
                let s = self.symbol_arg(base)?;
                let unit = Unit::Number;
                self.push(Op::Field(s, field.node), 1 << s, unit, 0)
            }
            ExprKind::Index { base, offset } => {
                let (x, _) = self.expr(base)?;
                let n = self.count(offset, "a look-back")?;
                if n == 0 {
                    x
                } else {
                    let unit = self.node(x).unit;
                    self.kernel(Kernel::Lookback, x, n, unit)
                }
            }
            ExprKind::Call { func, args } => self.call(e, func, args)?,
            ExprKind::Unary { op, operand } => {
                let (x, inner) = self.expr(operand)?;
                return Ok(match op.node {
                    ast::UnaryOp::Neg => {
                        let unit = self.node(x).unit;
                        let id = self.func(Func::Neg, x, unit);
                        (id, self.value_explain(e, id))
                    }
                    ast::UnaryOp::Not => {
                        let id = self.func(Func::Not, x, Unit::Bool);
                        (
                            id,
                            Explain::Not {
                                node: id,
                                inner: Box::new(inner),
                            },
                        )
                    }
                });
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (a, ea) = self.expr(lhs)?;
                let (b, eb) = self.expr(rhs)?;
                let (ea, eb) = (Box::new(ea), Box::new(eb));
                use ast::BinaryOp as B;
                let arith = |o| Some(o);
                let a_op = match op.node {
                    B::Add => arith(Arith::Add),
                    B::Sub => arith(Arith::Sub),
                    B::Mul => arith(Arith::Mul),
                    B::Div => arith(Arith::Div),
                    _ => None,
                };
                if let Some(o) = a_op {
                    self.arith(o, a, b)
                } else {
                    let (id, ex) = match op.node {
                        B::And | B::Or => {
                            let clock = self.node(a).clock | self.node(b).clock;
                            let lb = self.node(a).lookback.max(self.node(b).lookback);
                            let (o, word) = if op.node == B::And {
                                (Op::And(a, b), "and")
                            } else {
                                (Op::Or(a, b), "or")
                            };
                            let id = self.push(o, clock, Unit::Bool, lb);
                            (
                                id,
                                Explain::Logic {
                                    node: id,
                                    lhs: ea,
                                    op: word,
                                    rhs: eb,
                                },
                            )
                        }
                        cmp => {
                            let c = match cmp {
                                B::Lt => Cmp::Lt,
                                B::Le => Cmp::Le,
                                B::Gt => Cmp::Gt,
                                B::Ge => Cmp::Ge,
                                B::Eq => Cmp::Eq,
                                _ => Cmp::Ne,
                            };
                            let id = self.cmp(c, a, b);
                            (
                                id,
                                Explain::Compare {
                                    node: id,
                                    lhs: ea,
                                    op: op.node.as_str().to_string(),
                                    rhs: eb,
                                },
                            )
                        }
                    };
                    return Ok((id, ex));
                }
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let (a, ea) = self.expr(lhs)?;
                let (b, eb) = self.expr(rhs)?;
                let id = match op.node {
                    ast::PhraseOp::Exceeds | ast::PhraseOp::IsAbove => self.cmp(Cmp::Gt, a, b),
                    ast::PhraseOp::IsBelow => self.cmp(Cmp::Lt, a, b),
                    ast::PhraseOp::CrossesAbove | ast::PhraseOp::CrossesBelow => {
                        let above = op.node == ast::PhraseOp::CrossesAbove;
                        let clock = self.node(a).clock | self.node(b).clock;
                        let lb = self.node(a).lookback.max(self.node(b).lookback) + 1;
                        self.push(Op::Cross(a, b, above), clock, Unit::Bool, lb)
                    }
                };
                return Ok((
                    id,
                    Explain::Compare {
                        node: id,
                        lhs: Box::new(ea),
                        op: op.node.as_str().to_string(),
                        rhs: Box::new(eb),
                    },
                ));
            }
            ExprKind::Move {
                direction,
                subject,
                amount,
                window,
            } => {
                let (x, _) = self.expr(subject)?;
                let (p, ep) = self.expr(amount)?;
                let change = match self.window(window)? {
                    Ok(secs) => {
                        let n = self.node(x);
                        let (clock, lb) = (n.clock, n.lookback);
                        self.push(Op::TimeChange(x, secs), clock, Unit::Percent, lb)
                    }
                    Err(bars) => self.kernel(Kernel::Change, x, bars, Unit::Percent),
                };
                let (id, verb) = match direction.node {
                    ast::MoveDirection::Rises => (self.cmp(Cmp::Ge, change, p), "rises by"),
                    ast::MoveDirection::Falls => {
                        let minus_p = self.func(Func::Neg, p, Unit::Percent);
                        (self.cmp(Cmp::Le, change, minus_p), "falls by")
                    }
                };
                return Ok((
                    id,
                    Explain::Move {
                        node: id,
                        subject: self.text(subject.span),
                        verb,
                        amount: Box::new(ep),
                        window: self.text(window.span),
                        change,
                    },
                ));
            }
            ExprKind::While { lhs, rhs } => {
                let (a, ea) = self.expr(lhs)?;
                let (b, eb) = self.expr(rhs)?;
                let clock = self.node(a).clock | self.node(b).clock;
                let lb = self.node(a).lookback.max(self.node(b).lookback);
                let id = self.push(Op::And(a, b), clock, Unit::Bool, lb);
                return Ok((
                    id,
                    Explain::Logic {
                        node: id,
                        lhs: Box::new(ea),
                        op: "while",
                        rhs: Box::new(eb),
                    },
                ));
            }
            ExprKind::InSession(s) => {
                let idx = match self.names.get(s.name.as_str()) {
                    Some(Name::Session(i)) => *i,
                    _ => return err(s.span, format!("`{}` is not a session", s.name)),
                };
                let id = self.push(Op::InSession(idx), 0, Unit::Bool, 0);
                return Ok((
                    id,
                    Explain::InSession {
                        name: s.name.clone(),
                        node: id,
                    },
                ));
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                let (c, _) = self.expr(cond)?;
                let (a, _) = self.expr(then)?;
                let (b, _) = self.expr(otherwise)?;
                let nodes = [self.node(c), self.node(a), self.node(b)];
                let clock = nodes.iter().fold(0, |acc, n| acc | n.clock);
                let lb = nodes.iter().map(|n| n.lookback).max().unwrap_or(0);
                let unit = self.node(a).unit;
                self.push(Op::If(c, a, b), clock, unit, lb)
            }
            ExprKind::Paren(inner) => {
                let (id, ex) = self.expr(inner)?;
                return Ok((id, Explain::Paren(Box::new(ex))));
            }
        };
        Ok((id, self.value_explain(e, id)))
    }

    fn call(&mut self, e: &Expr, func: &ast::Ident, args: &[Expr]) -> Result<NodeId, CompileError> {
        let name = func.name.as_str();
        let arity = |n: usize| -> Result<(), CompileError> {
            if args.len() == n {
                Ok(())
            } else {
                err(
                    e.span,
                    format!("`{name}` takes {n} argument(s), not {}", args.len()),
                )
            }
        };
        Ok(match name {
            "sma" | "ema" | "wma" | "rsi" | "stdev" | "highest" | "lowest" | "slope" => {
                arity(2)?;
                let (x, _) = self.expr(&args[0])?;
                let n = self.period(&args[1])?;
                let unit = self.node(x).unit;
                let (k, unit) = match name {
                    "sma" => (Kernel::Sma, unit),
                    "ema" => (Kernel::Ema, unit),
                    "wma" => (Kernel::Wma, unit),
                    "rsi" => (Kernel::Rsi, Unit::Number),
                    "stdev" => (Kernel::Stdev, unit),
                    "highest" => (Kernel::Highest, unit),
                    "lowest" => (Kernel::Lowest, unit),
                    _ => (Kernel::Slope, unit),
                };
                let min = match k {
                    Kernel::Stdev | Kernel::Slope | Kernel::Rsi => 2,
                    _ => 1,
                };
                if n < min {
                    return err(
                        args[1].span,
                        format!("`{name}` needs a period of at least {min}"),
                    );
                }
                self.kernel(k, x, n, unit)
            }
            "change" | "diff" => {
                arity(2)?;
                let (x, _) = self.expr(&args[0])?;
                let unit = if name == "change" {
                    Unit::Percent
                } else {
                    self.node(x).unit
                };
                match self.window(&args[1])? {
                    Ok(secs) => {
                        let n = self.node(x);
                        let (clock, lb) = (n.clock, n.lookback);
                        let op = if name == "change" {
                            Op::TimeChange(x, secs)
                        } else {
                            Op::TimeDiff(x, secs)
                        };
                        self.push(op, clock, unit, lb)
                    }
                    Err(bars) => {
                        let k = if name == "change" {
                            Kernel::Change
                        } else {
                            Kernel::Diff
                        };
                        self.kernel(k, x, bars, unit)
                    }
                }
            }
            "atr" | "volatility" => {
                arity(2)?;
                let s = self.symbol_arg(&args[0])?;
                let n = self.period(&args[1])?;
                if name == "volatility" && n < 2 {
                    return err(args[1].span, "`volatility` needs a period of at least 2");
                }
                let op = if name == "atr" {
                    Op::Atr(s, n)
                } else {
                    Op::Volatility(s, n)
                };
                let unit = if name == "atr" {
                    Unit::Number
                } else {
                    Unit::Percent
                };
                self.push(op, 1 << s, unit, n)
            }
            "gap" => {
                arity(1)?;
                let s = self.symbol_arg(&args[0])?;
                self.push(Op::Gap(s), 1 << s, Unit::Percent, 1)
            }
            "age" => {
                arity(1)?;
                let s = self.symbol_arg(&args[0])?;
                self.push(Op::Age(s), 0, Unit::Duration, 0)
            }
            "abs" | "log" | "sqrt" => {
                arity(1)?;
                let (x, _) = self.expr(&args[0])?;
                let (f, unit) = match name {
                    "abs" => (Func::Abs, self.node(x).unit),
                    "log" => (Func::Log, Unit::Number),
                    _ => (Func::Sqrt, Unit::Number),
                };
                self.func(f, x, unit)
            }
            "min" | "max" => {
                arity(2)?;
                let (a, _) = self.expr(&args[0])?;
                let (b, _) = self.expr(&args[1])?;
                self.arith(
                    if name == "min" {
                        Arith::Min
                    } else {
                        Arith::Max
                    },
                    a,
                    b,
                )
            }
            "bars_since" => {
                arity(1)?;
                let (c, _) = self.expr(&args[0])?;
                let n = self.node(c);
                let clock = n.clock;
                self.push(Op::BarsSince(c), clock, Unit::Number, 0)
            }
            "session_open" | "session_high" | "session_low" | "session_close"
            | "session_volume" | "session_return" | "session_drop" => {
                arity(2)?;
                let s = self.symbol_arg(&args[0])?;
                let ses = self.session_arg(&args[1])?;
                let (what, unit) = match name {
                    "session_open" => (SessionValue::Open, Unit::Number),
                    "session_high" => (SessionValue::High, Unit::Number),
                    "session_low" => (SessionValue::Low, Unit::Number),
                    "session_close" => (SessionValue::Close, Unit::Number),
                    "session_volume" => (SessionValue::Volume, Unit::Number),
                    "session_return" => (SessionValue::Return, Unit::Percent),
                    _ => (SessionValue::Drop, Unit::Percent),
                };
                self.push(Op::Session(s, ses, what), 1 << s, unit, 1)
            }
            _ => return err(func.span, format!("unknown function `{name}`")),
        })
    }

    fn distance(&mut self, e: &Expr) -> Result<DistanceSpec, CompileError> {
        let (node, _) = self.expr(e)?;
        let percent = self.node(node).unit == Unit::Percent;
        Ok(DistanceSpec { node, percent })
    }

    fn rule(&mut self, r: &'a ast::RuleDecl) -> Result<RulePlan, CompileError> {
        let mut plan = RulePlan {
            name: r.name.name.clone(),
            action: ast::Action::Buy,
            symbol: 0,
            condition: None,
            explain: None,
            sizing: None,
            stop: None,
            target: None,
            trail: None,
            hold: None,
            exit_when: None,
            exit_explain: None,
            pyramid: 1,
        };
        let mut has_action = false;
        for clause in &r.clauses {
            match &clause.kind {
                ast::ClauseKind::Action(a) => {
                    has_action = true;
                    plan.action = a.action.node;
                    plan.symbol = match self.names.get(a.symbol.name.as_str()) {
                        Some(Name::Symbol(s)) => *s,
                        _ => {
                            return err(
                                a.symbol.span,
                                format!("`{}` is not a symbol", a.symbol.name),
                            );
                        }
                    };
                    if let Some(c) = &a.condition {
                        let (id, ex) = self.expr(&c.expr)?;
                        plan.condition = Some(id);
                        plan.explain = Some(ex);
                    }
                }
                ast::ClauseKind::When(c) => {
                    let (id, ex) = self.expr(c)?;
                    plan.condition = Some(id);
                    plan.explain = Some(ex);
                }
                ast::ClauseKind::Size(s) => plan.sizing = Some(self.sizing(s, r)?),
                ast::ClauseKind::Stop(e) => plan.stop = Some(self.distance(e)?),
                ast::ClauseKind::Target(e) => plan.target = Some(self.distance(e)?),
                ast::ClauseKind::Trail(e) => plan.trail = Some(self.distance(e)?),
                ast::ClauseKind::ExitAfter(e) => {
                    plan.hold = Some(match self.window(e)? {
                        Ok(secs) => HoldSpec::Duration(SignedDuration::from_secs(secs)),
                        Err(bars) => HoldSpec::Bars(bars),
                    })
                }
                ast::ClauseKind::ExitWhen(c) => {
                    let (id, ex) = self.expr(c)?;
                    plan.exit_when = Some(id);
                    plan.exit_explain = Some(ex);
                }
                ast::ClauseKind::Pyramid(e) => {
                    let n = self.count(e, "pyramid")?;
                    if n == 0 {
                        return err(e.span, "pyramid must be at least 1");
                    }
                    plan.pyramid = n;
                }
            }
        }
        if !has_action {
            return err(r.name.span, format!("rule `{}` has no action", r.name.name));
        }
        Ok(plan)
    }

    fn sizing(&mut self, s: &ast::Sizing, r: &ast::RuleDecl) -> Result<SizingSpec, CompileError> {
        let base = match &s.base {
            ast::SizeBase::Units(e) => SizeSpec::Units(self.expr(e)?.0),
            ast::SizeBase::Contracts(e) => SizeSpec::Contracts(self.expr(e)?.0),
            ast::SizeBase::PercentOfEquity(e) => SizeSpec::FractionOfEquity(self.expr(e)?.0),
            ast::SizeBase::Risk(e) => SizeSpec::Risk(self.expr(e)?.0),
            ast::SizeBase::TargetVol(e) => {
                let target = self.expr(e)?.0;
                // The acting symbol's volatility over 20 bars (docs/semantics.md).
                let sym = r
                    .clauses
                    .iter()
                    .find_map(|c| match &c.kind {
                        ast::ClauseKind::Action(a) => {
                            match self.names.get(a.symbol.name.as_str()) {
                                Some(Name::Symbol(s)) => Some(*s),
                                _ => None,
                            }
                        }
                        _ => None,
                    })
                    .ok_or_else(|| CompileError {
                        message: "target_vol needs the rule's acting symbol".into(),
                        span: s.span,
                    })?;
                let vol = self.push(
                    Op::Volatility(sym, TARGET_VOL_BARS),
                    1 << sym,
                    Unit::Percent,
                    TARGET_VOL_BARS,
                );
                SizeSpec::TargetVol(target, vol)
            }
        };
        let scale = match &s.scaled_by {
            Some(e) => Some(self.expr(e)?.0),
            None => None,
        };
        let cap = match &s.max {
            Some(ast::SizeCap::Contracts(e)) | Some(ast::SizeCap::Units(e)) => {
                Some(CapSpec::Quantity(self.expr(e)?.0))
            }
            Some(ast::SizeCap::PercentOfEquity(e)) => {
                Some(CapSpec::FractionOfEquity(self.expr(e)?.0))
            }
            None => None,
        };
        Ok(SizingSpec { base, scale, cap })
    }
}

/// Bars of volatility used by `target_vol` sizing.
pub const TARGET_VOL_BARS: u32 = 20;

/// Applies an arithmetic operator (`na` in, `na` out; x / 0 is `na`).
#[inline]
pub fn apply_arith(op: Arith, x: f64, y: f64) -> f64 {
    match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div => {
            if y == 0.0 {
                f64::NAN
            } else {
                x / y
            }
        }
        Arith::Min => {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.min(y)
            }
        }
        Arith::Max => {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.max(y)
            }
        }
    }
}

/// Applies a one-input function (`log` and `sqrt` of invalid inputs are `na`).
#[inline]
pub fn apply_func(f: Func, x: f64) -> f64 {
    match f {
        Func::Neg => -x,
        Func::Not => f64::from(u8::from(x != 1.0)),
        Func::Abs => x.abs(),
        Func::Log => {
            if x > 0.0 {
                x.ln()
            } else {
                f64::NAN
            }
        }
        Func::Sqrt => {
            if x >= 0.0 {
                x.sqrt()
            } else {
                f64::NAN
            }
        }
    }
}
