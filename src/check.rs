//! The checker: names, types, units, cycles and declaration sanity of a
//! parsed strategy file.
//!
//! [`check`] walks a [`File`] once and reports *every* problem it finds (not
//! only the first) as [`Diagnostic`]s, sorted by source position. Alongside the
//! diagnostics it returns a [`Checked`] value that the compile stage walks
//! without resolving anything again:
//!
//! - [`Checked::names`] maps each declared name to a [`DeclId`] (kind + index
//!   into the per-kind tables [`Checked::symbols`], [`Checked::series`],
//!   [`Checked::params`], [`Checked::sessions`], [`Checked::lets`],
//!   [`Checked::rules`]);
//! - [`Checked::refs`] maps the span of every name *use* (in expressions, in
//!   `in S`, as an action's symbol) to the declaration it refers to;
//! - [`Checked::calls`] maps the span of every call to its [`Builtin`];
//! - [`Checked::types`] gives the [`Type`] (with its [`Unit`]) of every
//!   expression, by span;
//! - [`Checked::let_order`] lists the lets in an order in which each one comes
//!   after every let it uses.
//!
//! The compile stage should only run when [`Checked::has_errors`] is false;
//! with errors, the tables are still filled as far as possible (useful for
//! editors), but some entries carry [`Type::Error`] or `None`.
//!
//! Units: a number is either plain (a price, a count, a ratio) or a percent.
//! `+ -` of the same unit keep it; a percent times or divided by a plain number
//! stays a percent; any other arithmetic mixing the two, and a percent times
//! or divided by a percent, gives a plain number.

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::syntax::ast::{
    self, Action, BinaryOp, Clause, ClauseKind, DaySpec, Expr, ExprKind, File, Ident, Item,
    MoveDirection, SizeBase, SizeCap, Span, UnaryOp, Weekday,
};
use std::collections::{BTreeMap, HashMap};

/// Deepest expression nesting the checker walks (left-nested operator chains
/// such as `a + a + ... + a` are not limited by the parser's bracket limit).
pub const MAX_DEPTH: usize = 400;

/// The furthest a look-back `x[n]` may reach, in bars.
pub const MAX_LOOKBACK: i64 = 10_000;

/// Whether a number is a plain number (price, count, ratio) or a percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Unit {
    /// A price, a quantity, a count or any other unitless number.
    Plain,
    /// A fraction shown in percent (`1.5%` is 0.015).
    Percent,
}

/// The type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Type {
    /// A number with its unit.
    Number(Unit),
    /// A condition: true or false.
    Bool,
    /// A wall-clock duration (`4h`).
    Duration,
    /// A count of bars (`20 bars`).
    Bars,
    /// A symbol name (`gold`): only usable as a call argument or field base.
    Symbol,
    /// A session name (`asia`): only usable as a call argument or after `in`.
    Session,
    /// A string literal (only valid as the strategy title).
    String,
    /// The expression has an error that was already reported.
    Error,
}

impl Type {
    /// A phrase naming the type for messages: "a percent", "a condition".
    pub fn describe(self) -> &'static str {
        match self {
            Type::Number(Unit::Plain) => "a plain number",
            Type::Number(Unit::Percent) => "a percent",
            Type::Bool => "a condition (true or false)",
            Type::Duration => "a duration",
            Type::Bars => "a bar count",
            Type::Symbol => "a symbol",
            Type::Session => "a session",
            Type::String => "a string",
            Type::Error => "an invalid value",
        }
    }
}

/// The kind of a declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum DeclKind {
    Symbol,
    Series,
    Param,
    Session,
    Let,
    Rule,
}

impl DeclKind {
    /// "a symbol", "a param", ...
    pub fn describe(self) -> &'static str {
        match self {
            DeclKind::Symbol => "a symbol",
            DeclKind::Series => "a series",
            DeclKind::Param => "a param",
            DeclKind::Session => "a session",
            DeclKind::Let => "a let",
            DeclKind::Rule => "a rule",
        }
    }

    /// The declaration keyword: `symbol`, `param`, ...
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Symbol => "symbol",
            DeclKind::Series => "series",
            DeclKind::Param => "param",
            DeclKind::Session => "session",
            DeclKind::Let => "let",
            DeclKind::Rule => "rule",
        }
    }
}

/// A declaration: its kind and its index in the table of that kind in
/// [`Checked`] (e.g. `DeclId { kind: Symbol, index: 1 }` is `checked.symbols[1]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct DeclId {
    pub kind: DeclKind,
    pub index: usize,
}

/// A constant value: a param's default or range bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Const {
    /// A plain number.
    Number(f64),
    /// A percent, as a fraction (`1.5%` is 0.015).
    Percent(f64),
    /// A wall-clock duration.
    Duration(ast::Duration),
    /// A bar count.
    Bars(u64),
    /// `true` or `false`.
    Bool(bool),
}

impl Const {
    /// The type of the value.
    pub fn ty(self) -> Type {
        match self {
            Const::Number(_) => Type::Number(Unit::Plain),
            Const::Percent(_) => Type::Number(Unit::Percent),
            Const::Duration(_) => Type::Duration,
            Const::Bars(_) => Type::Bars,
            Const::Bool(_) => Type::Bool,
        }
    }

    /// The value as a number for ordering (durations in seconds, bools 0/1).
    pub fn magnitude(self) -> f64 {
        match self {
            Const::Number(v) | Const::Percent(v) => v,
            Const::Duration(d) => d.seconds() as f64,
            Const::Bars(n) => n as f64,
            Const::Bool(b) => b as u8 as f64,
        }
    }
}

/// `symbol NAME = DATA [@ INTERVAL]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolInfo {
    pub name: String,
    /// The data symbol (`XAUUSD`).
    pub data: String,
    /// The resample interval, if any (valid when the file has no errors).
    pub resample: Option<ast::Duration>,
    /// Index of the declaration in `File::items`.
    pub item: usize,
}

/// `series NAME = DATA [as percent]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesInfo {
    pub name: String,
    pub data: String,
    /// Values are percent points (`5.25` means 5.25 %); the series is then a percent.
    pub as_percent: bool,
    pub item: usize,
}

/// `param NAME = DEFAULT [in LO..HI [step S]]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    /// The default value; `None` only when the default is not a literal (an error).
    pub default: Option<Const>,
    /// The sweep range, when given and made of literals.
    pub range: Option<ParamRangeInfo>,
    /// The param's type (from its default).
    pub ty: Type,
    pub item: usize,
}

/// `in LO..HI [step S]` of a param.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamRangeInfo {
    pub lo: Const,
    pub hi: Const,
    pub step: Option<Const>,
}

/// One `HH:MM-HH:MM` window in minutes after local midnight; `end <= start`
/// means the window crosses midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowInfo {
    pub start_minute: u32,
    pub end_minute: u32,
}

/// `session NAME = WINDOWS ZONE [DAYS]`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionInfo {
    pub name: String,
    /// The zone name as written.
    pub zone_name: String,
    /// The zone; `None` when the name is not in the tz database (an error).
    pub zone: Option<jiff::tz::TimeZone>,
    pub windows: Vec<WindowInfo>,
    /// Days on which a window may start, Monday first; all true by default.
    pub days: [bool; 7],
    pub item: usize,
}

/// `let NAME = EXPR`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct LetInfo {
    pub name: String,
    /// The type of the value ([`Type::Error`] when it has errors or is in a cycle).
    pub ty: Type,
    pub item: usize,
}

/// `rule NAME:`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleInfo {
    pub name: String,
    /// The rule's action (`None` only when it has none, an error).
    pub action: Option<Action>,
    /// Index into [`Checked::symbols`] of the acting symbol.
    pub symbol: Option<usize>,
    pub item: usize,
}

/// The result of [`check`]: diagnostics plus everything resolved.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    /// Errors and warnings, sorted by source position.
    pub diagnostics: Vec<Diagnostic>,
    /// The strategy title, if given.
    pub title: Option<String>,
    /// Every declared name (the first declaration when one is duplicated).
    pub names: BTreeMap<String, DeclId>,
    pub symbols: Vec<SymbolInfo>,
    pub series: Vec<SeriesInfo>,
    pub params: Vec<ParamInfo>,
    pub sessions: Vec<SessionInfo>,
    pub lets: Vec<LetInfo>,
    pub rules: Vec<RuleInfo>,
    /// Indexes into [`Checked::lets`]: every let after all the lets it uses
    /// (lets caught in a cycle are left out).
    pub let_order: Vec<usize>,
    /// The declaration each name use refers to, keyed by the use's span.
    pub refs: HashMap<Span, DeclId>,
    /// The built-in of each call, keyed by the call expression's span.
    pub calls: HashMap<Span, Builtin>,
    /// The type of each expression, keyed by its span.
    pub types: HashMap<Span, Type>,
}

impl Checked {
    /// Whether any diagnostic is an error (warnings do not count).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }

    /// The declaration a name refers to.
    pub fn lookup(&self, name: &str) -> Option<DeclId> {
        self.names.get(name).copied()
    }
}

/// What a built-in's argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// Any number (`x`).
    Value,
    /// A constant duration or bar count (`w` of `change`).
    Window,
    /// A constant positive whole number of bars (`n` of `sma`).
    Length,
    /// A declared symbol.
    Symbol,
    /// A declared session.
    Session,
    /// A condition.
    Cond,
}

macro_rules! builtins {
    ($($variant:ident $name:literal ($($arg:literal : $kind:ident),*);)*) => {
        /// A built-in function.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum Builtin { $($variant,)* }

        impl Builtin {
            /// Every built-in, in documentation order.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$variant,)*];

            /// The name as written in a call.
            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name,)* }
            }

            /// Argument names and what each must be.
            pub fn params(self) -> &'static [(&'static str, ArgKind)] {
                match self { $(Builtin::$variant => &[$(($arg, ArgKind::$kind)),*],)* }
            }
        }
    };
}

builtins! {
    Change "change" ("x": Value, "w": Window);
    Diff "diff" ("x": Value, "w": Window);
    Sma "sma" ("x": Value, "n": Length);
    Ema "ema" ("x": Value, "n": Length);
    Wma "wma" ("x": Value, "n": Length);
    Rsi "rsi" ("x": Value, "n": Length);
    Stdev "stdev" ("x": Value, "n": Length);
    Highest "highest" ("x": Value, "n": Length);
    Lowest "lowest" ("x": Value, "n": Length);
    Slope "slope" ("x": Value, "n": Length);
    Atr "atr" ("sym": Symbol, "n": Length);
    Volatility "volatility" ("sym": Symbol, "n": Length);
    Gap "gap" ("sym": Symbol);
    Abs "abs" ("x": Value);
    Log "log" ("x": Value);
    Sqrt "sqrt" ("x": Value);
    Min "min" ("a": Value, "b": Value);
    Max "max" ("a": Value, "b": Value);
    SessionOpen "session_open" ("sym": Symbol, "s": Session);
    SessionHigh "session_high" ("sym": Symbol, "s": Session);
    SessionLow "session_low" ("sym": Symbol, "s": Session);
    SessionClose "session_close" ("sym": Symbol, "s": Session);
    SessionVolume "session_volume" ("sym": Symbol, "s": Session);
    SessionReturn "session_return" ("sym": Symbol, "s": Session);
    SessionDrop "session_drop" ("sym": Symbol, "s": Session);
    BarsSince "bars_since" ("cond": Cond);
    Age "age" ("sym": Symbol);
}

impl Builtin {
    /// The built-in called `name`.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == name)
    }

    /// The call signature for messages: `sma(x, n)`.
    pub fn signature(self) -> String {
        let args: Vec<&str> = self.params().iter().map(|(n, _)| *n).collect();
        format!("{}({})", self.name(), args.join(", "))
    }

    /// Whether the function reads session values (needs intraday bars).
    pub fn is_session_function(self) -> bool {
        self.params().iter().any(|(_, k)| *k == ArgKind::Session)
    }

    /// The result type given the unit of the first numeric argument.
    fn result(self, input: Unit) -> Type {
        use Builtin::*;
        match self {
            Change | Volatility | Gap | SessionReturn | SessionDrop => Type::Number(Unit::Percent),
            Rsi | Atr | SessionOpen | SessionHigh | SessionLow | SessionClose | SessionVolume
            | BarsSince => Type::Number(Unit::Plain),
            Age => Type::Duration,
            Diff | Sma | Ema | Wma | Stdev | Highest | Lowest | Slope | Abs | Log | Sqrt | Min
            | Max => Type::Number(input),
        }
    }
}

/// Checks a parsed file: every problem is reported, and the resolved tables
/// are returned for the compile stage.
///
/// # Example
/// ```
/// use playbook::syntax::ast::File;
/// let checked = playbook::check::check(&File { items: vec![], comments: vec![] });
/// assert!(!checked.has_errors());
/// ```
pub fn check(file: &File) -> Checked {
    let mut c = Checker {
        file,
        out: Checked::default(),
        diags: Vec::new(),
        used: Vec::new(),
        decl_of_item: vec![None; file.items.len()],
        let_state: Vec::new(),
        depth: 0,
        too_deep: false,
    };
    c.run();
    let mut diags = c.diags;
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    let mut out = c.out;
    out.diagnostics = merge_unknown_names(diags);
    out
}

/// Keeps one "unknown name" error per name (the first use), noting how many
/// more uses there are, so that one missing declaration gives one error.
fn merge_unknown_names(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut more: Vec<usize> = Vec::new();
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    for d in diags {
        if d.code == Code::UnknownName {
            if let Some(&i) = first.get(&d.message) {
                more[i] += 1;
                continue;
            }
            first.insert(d.message.clone(), kept.len());
        }
        more.push(0);
        kept.push(d);
    }
    for (d, n) in kept.iter_mut().zip(more) {
        if n > 0 {
            let times = if n == 1 { "time" } else { "times" };
            d.notes.push(format!(
                "this name is used {n} more {times} in the file; the same fix applies there"
            ));
        }
    }
    kept
}

#[derive(Clone, Copy, PartialEq)]
enum LetState {
    Unchecked,
    Checking,
    Done,
}

struct Checker<'a> {
    file: &'a File,
    out: Checked,
    diags: Vec<Diagnostic>,
    /// Whether each declaration (by `decl_of_item` order) is used.
    used: Vec<(DeclId, bool)>,
    decl_of_item: Vec<Option<DeclId>>,
    let_state: Vec<LetState>,
    depth: usize,
    too_deep: bool,
}

/// The lets each let refers to directly, with the span of each reference.
type LetEdges = Vec<Vec<(usize, Span)>>;

impl<'a> Checker<'a> {
    fn run(&mut self) {
        self.declare();
        let edges = self.let_edges();
        let cyclic = self.let_cycles(&edges);
        self.let_order(&edges, &cyclic);
        self.let_state = vec![LetState::Unchecked; self.out.lets.len()];
        // Lets in evaluation order, so each let's type is known before use.
        for i in self.out.let_order.clone() {
            self.check_let(i);
        }
        for (i, is_cyclic) in cyclic.iter().enumerate() {
            if *is_cyclic {
                self.check_let(i);
                self.out.lets[i].ty = Type::Error;
            }
        }
        for (index, item) in self.file.items.iter().enumerate() {
            match item {
                Item::Symbol(d) => self.check_symbol(d),
                Item::Param(d) => self.check_param(index, d),
                Item::Session(d) => self.check_session(index, d),
                Item::Rule(d) => self.check_rule(index, d),
                Item::Strategy(_) | Item::Series(_) | Item::Let(_) => {}
            }
        }
        self.unused();
    }

    fn emit(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // ----- declarations -----

    fn declare(&mut self) {
        let mut first_strategy: Option<Span> = None;
        let mut first_span: HashMap<&str, (Span, DeclKind)> = HashMap::new();
        for (index, item) in self.file.items.iter().enumerate() {
            let (kind, table_index) = match item {
                Item::Strategy(d) => {
                    if let Some(first) = first_strategy {
                        self.emit(
                            Diagnostic::new(
                                Code::DuplicateStrategy,
                                d.span,
                                "`strategy` is given twice",
                            )
                            .with_label("second title")
                            .with_secondary(first, "first title here")
                            .with_help("a file has one title; remove one of them"),
                        );
                    } else {
                        first_strategy = Some(d.span);
                        self.out.title = Some(d.title.node.clone());
                    }
                    continue;
                }
                Item::Symbol(d) => {
                    self.out.symbols.push(SymbolInfo {
                        name: d.name.name.clone(),
                        data: d.data.node.clone(),
                        resample: d.resample.as_ref().map(|r| r.node),
                        item: index,
                    });
                    (DeclKind::Symbol, self.out.symbols.len() - 1)
                }
                Item::Series(d) => {
                    self.out.series.push(SeriesInfo {
                        name: d.name.name.clone(),
                        data: d.data.node.clone(),
                        as_percent: d.as_percent.is_some(),
                        item: index,
                    });
                    (DeclKind::Series, self.out.series.len() - 1)
                }
                Item::Param(d) => {
                    let default = literal(&d.value).ok();
                    self.out.params.push(ParamInfo {
                        name: d.name.name.clone(),
                        default,
                        range: None,
                        ty: default.map_or(Type::Error, Const::ty),
                        item: index,
                    });
                    (DeclKind::Param, self.out.params.len() - 1)
                }
                Item::Session(d) => {
                    self.out.sessions.push(SessionInfo {
                        name: d.name.name.clone(),
                        zone_name: d.zone.node.clone(),
                        zone: None,
                        windows: Vec::new(),
                        days: [true; 7],
                        item: index,
                    });
                    (DeclKind::Session, self.out.sessions.len() - 1)
                }
                Item::Let(d) => {
                    self.out.lets.push(LetInfo {
                        name: d.name.name.clone(),
                        ty: Type::Error,
                        item: index,
                    });
                    (DeclKind::Let, self.out.lets.len() - 1)
                }
                Item::Rule(d) => {
                    self.out.rules.push(RuleInfo {
                        name: d.name.name.clone(),
                        action: None,
                        symbol: None,
                        item: index,
                    });
                    (DeclKind::Rule, self.out.rules.len() - 1)
                }
            };
            let id = DeclId {
                kind,
                index: table_index,
            };
            self.decl_of_item[index] = Some(id);
            let name = item
                .name()
                .expect("every declaration but strategy has a name");
            if let Some(&(first, first_kind)) = first_span.get(name.name.as_str()) {
                let what = if first_kind == kind {
                    format!("`{}` is already declared", name.name)
                } else {
                    format!(
                        "`{}` is already declared as {}",
                        name.name,
                        first_kind.describe()
                    )
                };
                self.emit(
                    Diagnostic::new(Code::DuplicateDeclaration, name.span, what)
                        .with_label("declared again here")
                        .with_secondary(first, "first declared here")
                        .with_help("every name is declared once; rename or remove one of them"),
                );
            } else {
                first_span.insert(name.name.as_str(), (name.span, kind));
                self.out.names.insert(name.name.clone(), id);
                if kind != DeclKind::Rule {
                    self.used.push((id, false));
                }
            }
        }
    }

    fn mark_used(&mut self, id: DeclId) {
        if let Some(entry) = self.used.iter_mut().find(|(d, _)| *d == id) {
            entry.1 = true;
        }
    }

    fn decl_name_span(&self, id: DeclId) -> Span {
        let item = match id.kind {
            DeclKind::Symbol => self.out.symbols[id.index].item,
            DeclKind::Series => self.out.series[id.index].item,
            DeclKind::Param => self.out.params[id.index].item,
            DeclKind::Session => self.out.sessions[id.index].item,
            DeclKind::Let => self.out.lets[id.index].item,
            DeclKind::Rule => self.out.rules[id.index].item,
        };
        self.file.items[item]
            .name()
            .map_or_else(Span::default, |n| n.span)
    }

    fn unused(&mut self) {
        let mut found = Vec::new();
        for &(id, used) in &self.used {
            if !used {
                found.push(id);
            }
        }
        for id in found {
            let span = self.decl_name_span(id);
            let name = self.name_of(id).to_string();
            let help = match id.kind {
                DeclKind::Symbol => "use it in a rule or an expression, or remove it",
                _ => "use it in a rule, or remove it",
            };
            self.emit(
                Diagnostic::new(
                    Code::UnusedDeclaration,
                    span,
                    format!("{} `{}` is never used", id.kind.keyword(), name),
                )
                .with_label("declared here but never used")
                .with_help(help),
            );
        }
    }

    fn name_of(&self, id: DeclId) -> &str {
        match id.kind {
            DeclKind::Symbol => &self.out.symbols[id.index].name,
            DeclKind::Series => &self.out.series[id.index].name,
            DeclKind::Param => &self.out.params[id.index].name,
            DeclKind::Session => &self.out.sessions[id.index].name,
            DeclKind::Let => &self.out.lets[id.index].name,
            DeclKind::Rule => &self.out.rules[id.index].name,
        }
    }

    fn names_of_kind(&self, kinds: &[DeclKind]) -> Vec<&str> {
        self.out
            .names
            .iter()
            .filter(|(_, id)| kinds.contains(&id.kind))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    fn let_decl(&self, index: usize) -> &'a ast::LetDecl {
        match &self.file.items[self.out.lets[index].item] {
            Item::Let(d) => d,
            _ => unreachable!("let table points at a let"),
        }
    }

    // ----- lets: graph, cycles, order -----

    fn let_edges(&self) -> LetEdges {
        let mut edges = Vec::with_capacity(self.out.lets.len());
        for i in 0..self.out.lets.len() {
            let mut out = Vec::new();
            let mut stack = vec![&self.let_decl(i).value];
            while let Some(e) = stack.pop() {
                if let ExprKind::Name(id) = &e.kind
                    && let Some(DeclId {
                        kind: DeclKind::Let,
                        index,
                    }) = self.out.names.get(&id.name).copied()
                {
                    out.push((index, id.span));
                }
                stack.extend(children(e));
            }
            out.sort_by_key(|(_, s)| s.start);
            edges.push(out);
        }
        edges
    }

    /// Finds cycles (iterative DFS), reports each once and returns which lets
    /// are on a reported cycle or depend on one only through a cycle.
    fn let_cycles(&mut self, edges: &LetEdges) -> Vec<bool> {
        let n = edges.len();
        let mut color = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut cyclic = vec![false; n];
        for root in 0..n {
            if color[root] != 0 {
                continue;
            }
            // (node, next edge index)
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            color[root] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if *next < edges[node].len() {
                    let (to, _) = edges[node][*next];
                    *next += 1;
                    match color[to] {
                        0 => {
                            color[to] = 1;
                            stack.push((to, 0));
                        }
                        1 => {
                            let pos = stack
                                .iter()
                                .position(|&(s, _)| s == to)
                                .expect("node on stack");
                            let path: Vec<usize> = stack[pos..].iter().map(|&(s, _)| s).collect();
                            if path.iter().all(|&p| !cyclic[p]) {
                                // The edge used from each node is the one
                                // just taken (`next - 1`).
                                let links: Vec<Span> = stack[pos..]
                                    .iter()
                                    .map(|&(s, nx)| edges[s][nx - 1].1)
                                    .collect();
                                self.report_cycle(&path, &links);
                            }
                            for p in path {
                                cyclic[p] = true;
                            }
                        }
                        _ => {}
                    }
                } else {
                    color[node] = 2;
                    stack.pop();
                }
            }
        }
        cyclic
    }

    fn report_cycle(&mut self, path: &[usize], links: &[Span]) {
        let mut names: Vec<&str> = path
            .iter()
            .map(|&i| self.out.lets[i].name.as_str())
            .collect();
        names.push(names[0]);
        let chain = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" -> ");
        let first = &self.let_decl(path[0]).name;
        let message = if path.len() == 1 {
            format!("`let {}` refers to itself", first.name)
        } else {
            format!("`let` cycle: {}", names.join(" -> "))
        };
        let mut d = Diagnostic::new(Code::LetCycle, first.span, message)
            .with_label("this let is part of a cycle")
            .with_note(format!("the cycle is {chain}"))
            .with_help(
                "a let cannot depend on itself; compute one of them from other values, \
                 or use a look-back such as `x[1]` inside an indicator",
            );
        for (k, span) in links.iter().enumerate() {
            let from = self.out.lets[path[k]].name.as_str();
            let to = self.out.lets[path[(k + 1) % path.len()]].name.as_str();
            d = d.with_secondary(*span, format!("`{from}` uses `{to}` here"));
        }
        self.emit(d);
    }

    fn let_order(&mut self, edges: &LetEdges, cyclic: &[bool]) {
        let n = edges.len();
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        for root in 0..n {
            if done[root] || cyclic[root] {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            done[root] = true;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if *next < edges[node].len() {
                    let (to, _) = edges[node][*next];
                    *next += 1;
                    if !done[to] && !cyclic[to] {
                        done[to] = true;
                        stack.push((to, 0));
                    }
                } else {
                    order.push(node);
                    stack.pop();
                }
            }
        }
        self.out.let_order = order;
    }

    fn check_let(&mut self, i: usize) {
        if self.let_state[i] != LetState::Unchecked {
            return;
        }
        self.let_state[i] = LetState::Checking;
        let d = self.let_decl(i);
        let ty = self.top_expr(&d.value);
        let ty = match ty {
            Type::Symbol | Type::Session | Type::String => {
                let msg = format!("a let must be a value, but this is {}", ty.describe());
                let help = match (ty, &d.value.kind) {
                    (Type::Symbol, ExprKind::Name(n)) => {
                        format!("use a field of the symbol, e.g. `{}.close`", n.name)
                    }
                    (Type::Session, ExprKind::Name(n)) => {
                        format!(
                            "to test whether the time is inside the session, write `in {}`",
                            n.name
                        )
                    }
                    _ => "a let names a number, a condition or a duration".to_string(),
                };
                self.emit(
                    Diagnostic::new(Code::TypeMismatch, d.value.span, msg)
                        .with_label(format!("this is {}", ty.describe()))
                        .with_help(help),
                );
                Type::Error
            }
            t => t,
        };
        self.out.lets[i].ty = ty;
        self.let_state[i] = LetState::Done;
    }

    // ----- symbols, params, sessions -----

    fn check_symbol(&mut self, d: &ast::SymbolDecl) {
        let Some(r) = &d.resample else { return };
        let secs = r.node.seconds();
        if !interval_is_supported(r.node) {
            let written = format!("{}{}", r.node.count, r.node.unit.suffix());
            let why = if secs < 60 {
                "intervals shorter than a minute are not supported"
            } else if secs > 7 * 86_400 {
                "intervals longer than a week are not supported"
            } else if secs > 12 * 3600 {
                "intervals between 12h and 1w other than 1d are not supported"
            } else if secs % 60 != 0 {
                "the interval is not a whole number of minutes"
            } else {
                "the interval does not divide a day evenly"
            };
            self.emit(
                Diagnostic::new(
                    Code::InvalidInterval,
                    r.span,
                    format!("cannot resample `{}` to `{written}`", d.name.name),
                )
                .with_label(why)
                .with_help(
                    "use a whole number of minutes that divides a day (1m, 2m, 3m, 5m, 10m, 15m, \
                     20m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h), or 1d or 1w",
                ),
            );
        }
    }

    fn check_param(&mut self, item: usize, d: &ast::ParamDecl) {
        let Some(DeclId { index, .. }) = self.decl_of_item[item] else {
            return;
        };
        let default = self.param_literal(&d.value, "default");
        let Some(r) = &d.range else { return };
        let lo = self.param_literal(&r.lo, "lower bound");
        let hi = self.param_literal(&r.hi, "upper bound");
        let step = r.step.as_ref().map(|s| self.param_literal(s, "step"));
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return;
        };
        let step = match step {
            Some(None) => return,
            Some(Some(s)) => Some(s),
            None => None,
        };
        if let Some(def) = default {
            if def.ty() == Type::Bool {
                self.emit(
                    Diagnostic::new(
                        Code::InvalidParamRange,
                        r.span,
                        format!(
                            "param `{}` is true or false and cannot have a range",
                            d.name.name
                        ),
                    )
                    .with_label("a range needs numbers")
                    .with_help("remove the range; a sweep tries `true` and `false` by itself"),
                );
                return;
            }
            let mut unit_ok = true;
            for (name, bound, e) in [("lower bound", lo, &r.lo), ("upper bound", hi, &r.hi)]
                .into_iter()
                .chain(step.map(|s| ("step", s, r.step.as_ref().expect("step"))))
            {
                if bound.ty() != def.ty() {
                    unit_ok = false;
                    let help = match (def, bound) {
                        (Const::Percent(_), Const::Number(v)) => {
                            format!("write the {name} as a percent: `{}%`", fmt_num(v))
                        }
                        (Const::Number(_), Const::Percent(_)) => format!(
                            "write the default as a percent too, or the {name} as a plain number"
                        ),
                        _ => format!("write the {name} as {}", def.ty().describe()),
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::UnitMismatch,
                            e.span,
                            format!(
                                "the {name} of param `{}` is {}, but its default is {}",
                                d.name.name,
                                bound.ty().describe(),
                                def.ty().describe()
                            ),
                        )
                        .with_label(format!("this is {}", bound.ty().describe()))
                        .with_secondary(d.value.span, format!("this is {}", def.ty().describe()))
                        .with_help(help),
                    );
                }
            }
            if !unit_ok {
                return;
            }
        } else if lo.ty() != hi.ty() {
            return;
        }
        let (l, h) = (lo.magnitude(), hi.magnitude());
        if l >= h {
            let (msg, label) = if l > h {
                (
                    format!("the range of param `{}` is inverted", d.name.name),
                    "the lower bound is above the upper bound",
                )
            } else {
                (
                    format!("the range of param `{}` is empty", d.name.name),
                    "both bounds are the same",
                )
            };
            let help = if l > h {
                format!(
                    "write the smaller bound first: `in {}..{}`",
                    show_const(hi),
                    show_const(lo)
                )
            } else {
                "give a range with a lower bound below the upper bound, or remove it".to_string()
            };
            self.emit(
                Diagnostic::new(Code::InvalidParamRange, r.span, msg)
                    .with_label(label)
                    .with_help(help),
            );
            return;
        }
        if let (Some(s), Some(se)) = (step, &r.step) {
            let sv = s.magnitude();
            if sv <= 0.0 {
                self.emit(
                    Diagnostic::new(
                        Code::InvalidParamRange,
                        se.span,
                        format!("the step of param `{}` must be above zero", d.name.name),
                    )
                    .with_label("a sweep would never advance")
                    .with_help("use a positive step"),
                );
                return;
            }
            if sv > h - l {
                self.emit(
                    Diagnostic::new(
                        Code::InvalidParamRange,
                        se.span,
                        format!(
                            "the step of param `{}` is larger than its range",
                            d.name.name
                        ),
                    )
                    .with_label(format!(
                        "a step of {} from {} passes {} at once",
                        show_const(s),
                        show_const(lo),
                        show_const(hi)
                    ))
                    .with_help("use a step no larger than the distance between the bounds"),
                );
                return;
            }
        }
        if let Some(def) = default {
            let v = def.magnitude();
            if v < l || v > h {
                self.emit(
                    Diagnostic::new(
                        Code::ParamOutOfRange,
                        d.value.span,
                        format!(
                            "the default of param `{}` is outside its range",
                            d.name.name
                        ),
                    )
                    .with_label(format!(
                        "{} is not within {}..{}",
                        show_const(def),
                        show_const(lo),
                        show_const(hi)
                    ))
                    .with_secondary(r.span, "the range")
                    .with_help("choose a default inside the range, or widen the range"),
                );
            }
        }
        self.out.params[index].range = Some(ParamRangeInfo { lo, hi, step });
    }

    fn param_literal(&mut self, e: &Expr, what: &str) -> Option<Const> {
        match literal(e) {
            Ok(c) => Some(c),
            Err(reason) if reason == NEGATIVE_DURATION => {
                self.emit(
                    Diagnostic::new(
                        Code::ParamNotLiteral,
                        e.span,
                        format!("the {what} of a param cannot be a negative duration or bar count"),
                    )
                    .with_label(reason)
                    .with_help("durations and bar counts cannot be negative: remove the `-`"),
                );
                None
            }
            Err(reason) => {
                let help = if what == "default" {
                    "a param is a constant you can tune: write a number, percent, duration, \
                     bar count or `true`/`false`; use `let` for computed values"
                } else {
                    "range bounds and steps are literals such as `1%` or `20`"
                };
                self.emit(
                    Diagnostic::new(
                        Code::ParamNotLiteral,
                        e.span,
                        format!("the {what} of a param must be a literal"),
                    )
                    .with_label(reason)
                    .with_help(help),
                );
                None
            }
        }
    }

    fn check_session(&mut self, item: usize, d: &ast::SessionDecl) {
        let Some(DeclId { index, .. }) = self.decl_of_item[item] else {
            return;
        };
        // zone
        match jiff::tz::TimeZone::get(&d.zone.node) {
            Ok(tz) => self.out.sessions[index].zone = Some(tz),
            Err(_) => {
                let names: Vec<String> = jiff::tz::db()
                    .available()
                    .map(|n| n.as_str().to_string())
                    .collect();
                let written = d.zone.node.to_lowercase();
                let suggestion = did_you_mean(&d.zone.node, names.iter().map(String::as_str))
                    .or_else(|| {
                        // `New_York` for `America/New_York`, `tokyo` for `Asia/Tokyo`.
                        names
                            .iter()
                            .filter(|n| n.contains('/'))
                            .find(|n| {
                                n.rsplit('/')
                                    .next()
                                    .is_some_and(|last| last.to_lowercase() == written)
                            })
                            .map(String::as_str)
                    });
                let help = match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "use an IANA zone name such as `Asia/Tokyo`, `Europe/London` or \
                             `America/New_York`"
                        .to_string(),
                };
                self.emit(
                    Diagnostic::new(
                        Code::UnknownTimeZone,
                        d.zone.span,
                        format!("unknown time zone `{}`", d.zone.node),
                    )
                    .with_label("not in the IANA time zone database")
                    .with_help(help),
                );
            }
        }
        let mut windows = Vec::new();
        for w in &d.windows {
            let mut ok = true;
            for t in [&w.start, &w.end] {
                if t.hour > 23 || t.minute > 59 {
                    ok = false;
                    let (label, help) = if t.hour == 24 && t.minute == 0 {
                        (
                            "hours run from 00 to 23",
                            "write midnight as `00:00`; a window ending at midnight is e.g. \
                             `18:00-00:00`"
                                .to_string(),
                        )
                    } else if t.hour > 23 {
                        (
                            "hours run from 00 to 23",
                            "use a time between 00:00 and 23:59".to_string(),
                        )
                    } else {
                        (
                            "minutes run from 00 to 59",
                            "use a time between 00:00 and 23:59".to_string(),
                        )
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidClockTime,
                            t.span,
                            format!("`{:02}:{:02}` is not a time of day", t.hour, t.minute),
                        )
                        .with_label(label)
                        .with_help(help),
                    );
                }
            }
            if ok && w.start.hour == w.end.hour && w.start.minute == w.end.minute {
                ok = false;
                self.emit(
                    Diagnostic::new(
                        Code::EmptySessionWindow,
                        w.span,
                        format!(
                            "the session window `{:02}:{:02}-{:02}:{:02}` is empty",
                            w.start.hour, w.start.minute, w.end.hour, w.end.minute
                        ),
                    )
                    .with_label("it starts and ends at the same time")
                    .with_help(
                        "a window is half-open [start, end); give it an end after its start, \
                         or one before it to cross midnight (`22:00-06:00`)",
                    ),
                );
            }
            if ok {
                windows.push(WindowInfo {
                    start_minute: w.start.hour * 60 + w.start.minute,
                    end_minute: w.end.hour * 60 + w.end.minute,
                });
            }
        }
        self.out.sessions[index].windows = windows;
        if let Some(days) = &d.days {
            let mut set = [false; 7];
            for spec in &days.items {
                match spec {
                    DaySpec::Day(day) => set[weekday_index(day.node)] = true,
                    DaySpec::Range(a, b) => {
                        let (mut i, end) = (weekday_index(a.node), weekday_index(b.node));
                        loop {
                            set[i] = true;
                            if i == end {
                                break;
                            }
                            i = (i + 1) % 7;
                        }
                    }
                }
            }
            self.out.sessions[index].days = set;
        }
    }

    // ----- rules -----

    fn check_rule(&mut self, item: usize, d: &ast::RuleDecl) {
        let rule_index = self.decl_of_item[item].map(|id| id.index);
        let mut action: Option<(&ast::ActionClause, Span)> = None;
        let mut seen: Vec<(&'static str, Span)> = Vec::new();
        let mut when_clause: Option<Span> = None;
        let mut stop = false;
        for clause in &d.clauses {
            if let ClauseKind::Action(a) = &clause.kind {
                if let Some((first, first_span)) = action {
                    self.emit(
                        Diagnostic::new(
                            Code::MultipleActions,
                            clause.span,
                            format!("rule `{}` has more than one action", d.name.name),
                        )
                        .with_label(format!("second action `{}`", action_word(a.action.node)))
                        .with_secondary(
                            first_span,
                            format!("first action `{}` here", action_word(first.action.node)),
                        )
                        .with_help("a rule has exactly one action; split it into two rules"),
                    );
                } else {
                    action = Some((a, clause.span));
                }
                continue;
            }
            let name = clause_name(clause);
            if let Some(&(_, first)) = seen.iter().find(|(n, _)| *n == name) {
                self.emit(
                    Diagnostic::new(
                        Code::DuplicateClause,
                        clause.span,
                        format!("`{name}` is given twice in rule `{}`", d.name.name),
                    )
                    .with_label("second clause")
                    .with_secondary(first, "first given here")
                    .with_help(if name == "when" || name == "exit when" {
                        "combine the conditions with `and` or `or` in one clause"
                    } else {
                        "keep only one of them"
                    }),
                );
            } else {
                seen.push((name, clause.span));
            }
            match &clause.kind {
                ClauseKind::When(_) => {
                    when_clause.get_or_insert(clause.span);
                }
                ClauseKind::Stop(_) => stop = true,
                _ => {}
            }
        }

        // The action.
        let act = action.map(|(a, _)| a.action.node);
        let mut acting_symbol = None;
        if let Some((a, _)) = action {
            acting_symbol = self.action_symbol(&a.symbol, a.action.node);
            if let Some(cond) = &a.condition {
                self.condition(
                    &cond.expr,
                    &format!("the condition of `{}`", action_word(a.action.node)),
                );
                if let Some(when) = when_clause {
                    let inline = cond.keyword.span.to(cond.expr.span);
                    let (primary, secondary) = if when.start > inline.start {
                        (when, inline)
                    } else {
                        (inline, when)
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::DuplicateCondition,
                            primary,
                            format!("rule `{}` has two conditions", d.name.name),
                        )
                        .with_label("second condition")
                        .with_secondary(secondary, "first condition here")
                        .with_help(
                            "give the condition once, either after the action or in a `when` \
                             clause; combine several with `and`",
                        ),
                    );
                }
            }
        } else {
            self.emit(
                Diagnostic::new(
                    Code::MissingAction,
                    d.name.span,
                    format!("rule `{}` has no action", d.name.name),
                )
                .with_label("this rule never trades")
                .with_help(
                    "add an action such as `buy gold`, `sell gold`, `short gold`, `cover gold` \
                     or `exit gold`",
                ),
            );
        }
        if let Some(i) = rule_index {
            self.out.rules[i].action = act;
            self.out.rules[i].symbol = acting_symbol;
        }

        // The other clauses.
        let closing = matches!(act, Some(Action::Sell | Action::Cover | Action::Exit));
        for clause in &d.clauses {
            if closing && !matches!(clause.kind, ClauseKind::Action(_) | ClauseKind::When(_)) {
                let word = action_word(act.expect("closing implies an action"));
                let name = clause_name(clause);
                self.emit(
                    Diagnostic::new(
                        Code::ClauseNotForAction,
                        clause.span,
                        format!("`{name}` has no effect in a `{word}` rule"),
                    )
                    .with_label(format!("`{word}` closes the whole position"))
                    .with_help(
                        "sizes, stops, targets, trails, exits and `pyramid` belong to the `buy` \
                         or `short` rule that opens the position; move it there or remove it",
                    ),
                );
            }
            match &clause.kind {
                ClauseKind::Action(_) => {}
                ClauseKind::When(e) => self.condition(e, "the `when` clause"),
                ClauseKind::ExitWhen(e) => self.condition(e, "the `exit when` clause"),
                ClauseKind::Size(s) => self.sizing(s, stop, d),
                ClauseKind::Stop(e) => self.distance(e, "stop"),
                ClauseKind::Target(e) => self.distance(e, "target"),
                ClauseKind::Trail(e) => self.distance(e, "trail"),
                ClauseKind::ExitAfter(e) => self.exit_after(e),
                ClauseKind::Pyramid(e) => self.pyramid(e),
            }
        }
    }

    fn action_symbol(&mut self, sym: &Ident, action: Action) -> Option<usize> {
        match self.out.names.get(&sym.name).copied() {
            Some(
                id @ DeclId {
                    kind: DeclKind::Symbol,
                    index,
                },
            ) => {
                self.mark_used(id);
                self.out.refs.insert(sym.span, id);
                Some(index)
            }
            Some(id) => {
                let help = match self.suggest(&sym.name, &[DeclKind::Symbol]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        let symbols = self.names_of_kind(&[DeclKind::Symbol]);
                        if symbols.is_empty() {
                            "declare a symbol first, e.g. `symbol gold = XAUUSD`".to_string()
                        } else {
                            format!(
                                "the symbols declared are: {}",
                                symbols
                                    .iter()
                                    .map(|s| format!("`{s}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    }
                };
                self.emit(
                    Diagnostic::new(
                        Code::WrongKindOfName,
                        sym.span,
                        format!(
                            "`{}` is {}, but `{}` needs a symbol",
                            sym.name,
                            id.kind.describe(),
                            action_word(action)
                        ),
                    )
                    .with_label("orders go to a symbol declared with `symbol`")
                    .with_help(help),
                );
                None
            }
            None => {
                let help = self.symbol_help(&sym.name);
                self.emit(
                    Diagnostic::new(
                        Code::UnknownName,
                        sym.span,
                        format!("unknown symbol `{}`", sym.name),
                    )
                    .with_label("not declared")
                    .with_help(help),
                );
                None
            }
        }
    }

    /// "did you mean" over the declarations of `kinds`; marks the suggested
    /// declaration as used so that a typo does not also warn "unused".
    fn suggest(&mut self, name: &str, kinds: &[DeclKind]) -> Option<String> {
        let candidates = self.names_of_kind(kinds);
        let s = did_you_mean(name, candidates.iter().copied())?.to_string();
        if let Some(id) = self.out.names.get(&s).copied() {
            self.mark_used(id);
        }
        Some(s)
    }

    fn symbol_help(&mut self, name: &str) -> String {
        match self.suggest(name, &[DeclKind::Symbol]) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "declare it first, e.g. `symbol {name} = {}`",
                name.to_uppercase()
            ),
        }
    }

    fn sizing(&mut self, s: &ast::Sizing, has_stop: bool, rule: &ast::RuleDecl) {
        match &s.base {
            SizeBase::Units(e) => self.quantity(e, "units"),
            SizeBase::Contracts(e) => self.quantity(e, "contracts"),
            SizeBase::PercentOfEquity(e) => self.percent_amount(e, "`of equity`"),
            SizeBase::Risk(e) => {
                self.percent_amount(e, "`risk ... of equity`");
                if !has_stop {
                    self.emit(
                        Diagnostic::new(
                            Code::RiskWithoutStop,
                            s.span,
                            format!("rule `{}` sizes by risk but has no `stop`", rule.name.name),
                        )
                        .with_label("the quantity is equity × risk / stop distance")
                        .with_help(
                            "add a protective stop, e.g. `stop 2%` or `stop 2 * atr(gold, 14)`",
                        ),
                    );
                }
            }
            SizeBase::TargetVol(e) => self.percent_amount(e, "`target_vol`"),
        }
        if let Some(e) = &s.scaled_by {
            let t = self.top_expr(e);
            self.want_number(e, t, "`scaled by`");
        }
        match &s.max {
            Some(SizeCap::Contracts(e)) => self.quantity(e, "contracts"),
            Some(SizeCap::Units(e)) => self.quantity(e, "units"),
            Some(SizeCap::PercentOfEquity(e)) => self.percent_amount(e, "`max ... of equity`"),
            None => {}
        }
    }

    fn quantity(&mut self, e: &Expr, what: &str) {
        let t = self.top_expr(e);
        match t {
            Type::Number(Unit::Plain) => {
                self.positive_if_constant(e, &format!("a number of {what}"))
            }
            Type::Number(Unit::Percent) => self.emit(
                Diagnostic::new(
                    Code::UnitMismatch,
                    e.span,
                    format!("a number of {what} cannot be a percent"),
                )
                .with_label("this is a percent")
                .with_help(format!(
                    "write a count such as `2 {what}`, or size by equity: `{} of equity`",
                    show(e)
                )),
            ),
            t => {
                self.want_number(e, t, &format!("a number of {what}"));
            }
        }
    }

    fn percent_amount(&mut self, e: &Expr, what: &str) {
        let t = self.top_expr(e);
        match t {
            Type::Number(Unit::Percent) => {
                self.positive_if_constant(e, &format!("the amount of {what}"))
            }
            Type::Number(Unit::Plain) => {
                let help = match self.const_value(e, 0) {
                    Some(Const::Number(v)) if v.abs() < 1.0 => {
                        format!("write it as a percent: `{}%`", fmt_num(v * 100.0))
                    }
                    Some(Const::Number(v)) => format!("did you mean `{}%`?", fmt_num(v)),
                    _ => "write a percent such as `1%`".to_string(),
                };
                self.emit(
                    Diagnostic::new(
                        Code::UnitMismatch,
                        e.span,
                        format!("{what} needs a percent, but this is a plain number"),
                    )
                    .with_label("a plain number")
                    .with_help(help),
                );
            }
            t => {
                self.want_number(e, t, &format!("the amount of {what}"));
            }
        }
    }

    fn positive_if_constant(&mut self, e: &Expr, what: &str) {
        if let Some(c) = self.const_value(e, 0)
            && c.magnitude() <= 0.0
        {
            self.emit(
                Diagnostic::new(
                    Code::InvalidValue,
                    e.span,
                    format!("{what} must be above zero"),
                )
                .with_label(format!("this is {}", show_const(c)))
                .with_help("a size of zero or less never trades"),
            );
        }
    }

    fn distance(&mut self, e: &Expr, clause: &str) {
        let t = self.top_expr(e);
        match t {
            Type::Number(_) | Type::Error => {
                if let Some(c) = self.const_value(e, 0)
                    && c.magnitude() <= 0.0
                {
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidValue,
                            e.span,
                            format!("a `{clause}` distance must be above zero"),
                        )
                        .with_label(format!("this is {}", show_const(c)))
                        .with_help(format!(
                            "the distance is measured from the entry price, e.g. `{clause} 2%`"
                        )),
                    );
                }
            }
            Type::Duration | Type::Bars => self.emit(
                Diagnostic::new(
                    Code::UnitMismatch,
                    e.span,
                    format!("a `{clause}` distance must be a price distance or a percent, found {}", t.describe()),
                )
                .with_label(format!("this is {}", t.describe()))
                .with_help(format!(
                    "for a time exit write `exit after {}`; a `{clause}` is e.g. `{clause} 2%` or `{clause} 2 * atr(gold, 14)`",
                    show(e)
                )),
            ),
            Type::Bool => self.emit(
                Diagnostic::new(
                    Code::TypeMismatch,
                    e.span,
                    format!("a `{clause}` distance must be a number, found a condition"),
                )
                .with_label("this is true or false")
                .with_help(format!(
                    "a `{clause}` is a distance from the entry price, e.g. `{clause} 3%`; \
                     to exit when a condition holds, write `exit when {}`",
                    show(e)
                )),
            ),
            _ => {
                self.want_number(e, t, &format!("a `{clause}` distance"));
            }
        }
    }

    fn exit_after(&mut self, e: &Expr) {
        let t = self.top_expr(e);
        match t {
            Type::Duration | Type::Bars => {
                if let Some(c) = self.const_value(e, 0)
                    && c.magnitude() <= 0.0
                {
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidValue,
                            e.span,
                            "`exit after` must be longer than zero",
                        )
                        .with_label("this exits at once")
                        .with_help("give a duration such as `3d` or a bar count such as `5 bars`"),
                    );
                }
            }
            Type::Number(u) => {
                let help = match (u, self.const_value(e, 0)) {
                    (Unit::Plain, Some(Const::Number(v))) if v.fract() == 0.0 && v > 0.0 => {
                        format!(
                            "write `{} bars` or a duration such as `{}d`",
                            fmt_num(v),
                            fmt_num(v)
                        )
                    }
                    (Unit::Percent, _) => {
                        "to exit on a price move use `target` or `stop`; `exit after` takes a \
                         duration such as `3d` or a bar count such as `5 bars`"
                            .to_string()
                    }
                    _ => {
                        "write a duration such as `3d` or a bar count such as `5 bars`".to_string()
                    }
                };
                self.emit(
                    Diagnostic::new(
                        Code::UnitMismatch,
                        e.span,
                        format!(
                            "`exit after` needs a duration or a bar count, found {}",
                            t.describe()
                        ),
                    )
                    .with_label(format!("this is {}", t.describe()))
                    .with_help(help),
                );
            }
            Type::Error => {}
            _ => self.emit(
                Diagnostic::new(
                    Code::TypeMismatch,
                    e.span,
                    format!(
                        "`exit after` needs a duration or a bar count, found {}",
                        t.describe()
                    ),
                )
                .with_label(format!("this is {}", t.describe()))
                .with_help("to exit when something happens, write `exit when CONDITION`"),
            ),
        }
    }

    fn pyramid(&mut self, e: &Expr) {
        let t = self.top_expr(e);
        match t {
            Type::Number(Unit::Plain) => match self.const_value(e, 0) {
                Some(Const::Number(v)) if v >= 1.0 && v.fract() == 0.0 => {}
                Some(c) => self.emit(
                    Diagnostic::new(
                        Code::InvalidValue,
                        e.span,
                        "`pyramid` needs a whole number of entries, at least 1",
                    )
                    .with_label(format!("this is {}", show_const(c)))
                    .with_help("`pyramid 3` allows up to three entries in the same direction"),
                ),
                None => self.emit(
                    Diagnostic::new(Code::InvalidValue, e.span, "`pyramid` needs a constant")
                        .with_label("this changes from bar to bar")
                        .with_help("write a whole number such as `pyramid 3`, or use a param"),
                ),
            },
            Type::Error => {}
            _ => self.emit(
                Diagnostic::new(
                    if matches!(t, Type::Number(_) | Type::Duration | Type::Bars) {
                        Code::UnitMismatch
                    } else {
                        Code::TypeMismatch
                    },
                    e.span,
                    format!(
                        "`pyramid` needs a whole number of entries, found {}",
                        t.describe()
                    ),
                )
                .with_label(format!("this is {}", t.describe()))
                .with_help("`pyramid 3` allows up to three entries in the same direction"),
            ),
        }
    }

    fn condition(&mut self, e: &Expr, what: &str) {
        let t = self.top_expr(e);
        self.want_cond(e, t, what);
    }

    // ----- expressions -----

    fn top_expr(&mut self, e: &Expr) -> Type {
        self.too_deep = false;
        self.depth = 0;
        self.expr(e)
    }

    fn expr(&mut self, e: &Expr) -> Type {
        if self.depth >= MAX_DEPTH {
            if !self.too_deep {
                self.too_deep = true;
                self.emit(
                    Diagnostic::new(Code::NestingTooDeep, e.span, "expression nested too deeply")
                        .with_label(format!("more than {MAX_DEPTH} levels deep"))
                        .with_help("split the expression into several `let`s"),
                );
            }
            return Type::Error;
        }
        self.depth += 1;
        let t = self.expr_inner(e);
        self.depth -= 1;
        self.out.types.insert(e.span, t);
        t
    }

    fn expr_inner(&mut self, e: &Expr) -> Type {
        match &e.kind {
            ExprKind::Number(_) => Type::Number(Unit::Plain),
            ExprKind::Percent(_) => Type::Number(Unit::Percent),
            ExprKind::Duration(_) => Type::Duration,
            ExprKind::Bars(_) => Type::Bars,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::String(_) => self.string_expr(e),
            ExprKind::Name(id) => self.name_value(id),
            ExprKind::Field { base, .. } => {
                if self.field_base(base) {
                    Type::Number(Unit::Plain)
                } else {
                    Type::Error
                }
            }
            ExprKind::Index { .. } => self.index_expr(e),
            ExprKind::Call { func, args } => self.call(e, func, args),
            ExprKind::Unary { .. } => self.unary_expr(e),
            ExprKind::Binary { .. } => self.binary_expr(e),
            ExprKind::Compare { op, lhs, rhs } => {
                let lt = self.expr(lhs);
                let rt = self.expr(rhs);
                self.compare(op.node.as_str(), lhs, lt, rhs, rt, false);
                Type::Bool
            }
            ExprKind::Move { .. } => self.move_expr(e),
            ExprKind::While { lhs, rhs } => {
                let lt = self.expr(lhs);
                let rt = self.expr(rhs);
                self.want_cond(lhs, lt, "each side of `while`");
                self.want_cond(rhs, rt, "each side of `while`");
                Type::Bool
            }
            ExprKind::InSession(id) => {
                self.session_ref(id, "`in`");
                Type::Bool
            }
            ExprKind::If { .. } => self.if_expr(e),
            ExprKind::Paren(inner) => self.expr(inner),
        }
    }

    fn string_expr(&mut self, e: &Expr) -> Type {
        self.emit(
            Diagnostic::new(Code::TypeMismatch, e.span, "a string is not a value")
                .with_label("strings are only used as the strategy title")
                .with_help("remove the quotes if you meant a name"),
        );
        Type::Error
    }

    fn index_expr(&mut self, e: &Expr) -> Type {
        let ExprKind::Index { base, offset } = &e.kind else {
            unreachable!("dispatched on the kind")
        };
        let t = self.expr(base);
        self.lookback(offset);
        match t {
            Type::Number(_) | Type::Bool | Type::Error => t,
            Type::Symbol => {
                let name = show(base);
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        base.span,
                        format!("`{name}` is a symbol and has no past value by itself"),
                    )
                    .with_label("a symbol")
                    .with_help(format!(
                        "look back on one of its fields, e.g. `{name}.close{}`",
                        index_suffix(offset)
                    )),
                );
                Type::Error
            }
            _ => {
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        base.span,
                        format!(
                            "only numbers and conditions have past values, found {}",
                            t.describe()
                        ),
                    )
                    .with_label(format!("this is {}", t.describe()))
                    .with_help("look back on a number such as `gold.close[1]`"),
                );
                Type::Error
            }
        }
    }

    fn unary_expr(&mut self, e: &Expr) -> Type {
        let ExprKind::Unary { op, operand } = &e.kind else {
            unreachable!("dispatched on the kind")
        };
        let t = self.expr(operand);
        match op.node {
            UnaryOp::Neg => match self.want_number(operand, t, "the operand of `-`") {
                Some(u) => Type::Number(u),
                None => Type::Error,
            },
            UnaryOp::Not => {
                self.want_cond(operand, t, "the operand of `not`");
                Type::Bool
            }
        }
    }

    fn binary_expr(&mut self, e: &Expr) -> Type {
        let ExprKind::Binary { op, lhs, rhs } = &e.kind else {
            unreachable!("dispatched on the kind")
        };
        let lt = self.expr(lhs);
        let rt = self.expr(rhs);
        let sym = op.node.as_str();
        match op.node {
            BinaryOp::And | BinaryOp::Or => {
                self.want_cond(lhs, lt, &format!("each side of `{sym}`"));
                self.want_cond(rhs, rt, &format!("each side of `{sym}`"));
                Type::Bool
            }
            o if o.is_comparison() => {
                self.compare(
                    sym,
                    lhs,
                    lt,
                    rhs,
                    rt,
                    matches!(o, BinaryOp::Eq | BinaryOp::Ne),
                );
                Type::Bool
            }
            _ => {
                let lu = self.want_number(lhs, lt, &format!("the left side of `{sym}`"));
                let ru = self.want_number(rhs, rt, &format!("the right side of `{sym}`"));
                match (lu, ru) {
                    (Some(a), Some(b)) => Type::Number(arith_unit(op.node, a, b)),
                    _ => Type::Error,
                }
            }
        }
    }

    fn move_expr(&mut self, e: &Expr) -> Type {
        let ExprKind::Move {
            direction,
            subject,
            amount,
            window,
        } = &e.kind
        else {
            unreachable!("dispatched on the kind")
        };
        let word = match direction.node {
            MoveDirection::Rises => "rises by",
            MoveDirection::Falls => "falls by",
        };
        let st = self.expr(subject);
        self.want_number(subject, st, &format!("the subject of `{word}`"));
        let at = self.expr(amount);
        if let Some(Unit::Plain) = self.want_number(amount, at, &format!("the amount of `{word}`"))
        {
            self.plain_move_amount(amount, word);
        }
        let wt = self.expr(window);
        self.want_window(window, wt, &format!("the window of `{word} ... within`"));
        Type::Bool
    }

    fn if_expr(&mut self, e: &Expr) -> Type {
        let ExprKind::If {
            cond,
            then,
            otherwise,
        } = &e.kind
        else {
            unreachable!("dispatched on the kind")
        };
        let ct = self.expr(cond);
        self.want_cond(cond, ct, "the condition of `if`");
        let a = self.expr(then);
        let b = self.expr(otherwise);
        match (a, b) {
            (Type::Error, _) | (_, Type::Error) => Type::Error,
            (a, b) if a == b => a,
            (Type::Number(_), Type::Number(_)) => {
                self.emit(
                    Diagnostic::new(
                        Code::UnitMismatch,
                        otherwise.span,
                        format!(
                            "`if` branches have different units: {} and {}",
                            a.describe(),
                            b.describe()
                        ),
                    )
                    .with_label(format!("this is {}", b.describe()))
                    .with_secondary(then.span, format!("this is {}", a.describe()))
                    .with_help("make both branches percents or both plain numbers"),
                );
                Type::Error
            }
            _ => {
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        otherwise.span,
                        format!(
                            "`if` branches have different types: {} and {}",
                            a.describe(),
                            b.describe()
                        ),
                    )
                    .with_label(format!("this is {}", b.describe()))
                    .with_secondary(then.span, format!("this is {}", a.describe()))
                    .with_help("both branches must give the same kind of value"),
                );
                Type::Error
            }
        }
    }

    /// A name used as a value.
    fn name_value(&mut self, id: &Ident) -> Type {
        let Some(decl) = self.out.names.get(&id.name).copied() else {
            let kinds = [
                DeclKind::Symbol,
                DeclKind::Series,
                DeclKind::Param,
                DeclKind::Session,
                DeclKind::Let,
            ];
            let help = if let Some(s) = self.suggest(&id.name, &kinds) {
                Some(format!("did you mean `{s}`?"))
            } else {
                Builtin::from_name(&id.name).map(|b| {
                    format!(
                        "`{}` is a function: call it as `{}`",
                        b.name(),
                        b.signature()
                    )
                })
            };
            let mut d = Diagnostic::new(
                Code::UnknownName,
                id.span,
                format!("unknown name `{}`", id.name),
            )
            .with_label("not declared");
            if let Some(h) = help {
                d = d.with_help(h);
            }
            self.emit(d);
            return Type::Error;
        };
        self.out.refs.insert(id.span, decl);
        if decl.kind != DeclKind::Rule {
            self.mark_used(decl);
        }
        match decl.kind {
            DeclKind::Symbol => Type::Symbol,
            DeclKind::Session => Type::Session,
            DeclKind::Series => Type::Number(if self.out.series[decl.index].as_percent {
                Unit::Percent
            } else {
                Unit::Plain
            }),
            DeclKind::Param => self.out.params[decl.index].ty,
            DeclKind::Let => match self.let_state.get(decl.index) {
                Some(LetState::Done) => self.out.lets[decl.index].ty,
                _ => Type::Error,
            },
            DeclKind::Rule => {
                self.emit(
                    Diagnostic::new(
                        Code::WrongKindOfName,
                        id.span,
                        format!("`{}` is a rule, not a value", id.name),
                    )
                    .with_label("rules cannot be used in expressions")
                    .with_help("name the condition with `let` and use it in both places"),
                );
                Type::Error
            }
        }
    }

    /// The base of `X.field`: must be a symbol.
    fn field_base(&mut self, base: &Expr) -> bool {
        if let ExprKind::Name(id) = &base.kind {
            match self.out.names.get(&id.name).copied() {
                Some(decl) if decl.kind == DeclKind::Symbol => {
                    self.out.refs.insert(id.span, decl);
                    self.out.types.insert(base.span, Type::Symbol);
                    self.mark_used(decl);
                    return true;
                }
                Some(decl) => {
                    self.out.refs.insert(id.span, decl);
                    if decl.kind != DeclKind::Rule {
                        self.mark_used(decl);
                    }
                    let help = if decl.kind == DeclKind::Series {
                        format!("a series is a number by itself: write `{}`", id.name)
                    } else {
                        self.symbol_help(&id.name)
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::WrongKindOfName,
                            id.span,
                            format!(
                                "`{}` is {}, which has no bar fields",
                                id.name,
                                decl.kind.describe()
                            ),
                        )
                        .with_label("only symbols have `.open .high .low .close .volume`")
                        .with_help(help),
                    );
                }
                None => {
                    let help = self.symbol_help(&id.name);
                    self.emit(
                        Diagnostic::new(
                            Code::UnknownName,
                            id.span,
                            format!("unknown symbol `{}`", id.name),
                        )
                        .with_label("not declared")
                        .with_help(help),
                    );
                }
            }
            return false;
        }
        let t = self.expr(base);
        if t == Type::Symbol {
            return true;
        }
        if t != Type::Error {
            self.emit(
                Diagnostic::new(
                    Code::TypeMismatch,
                    base.span,
                    format!("only symbols have bar fields, but this is {}", t.describe()),
                )
                .with_label(format!("this is {}", t.describe()))
                .with_help("use a field of a symbol, e.g. `gold.close`"),
            );
        }
        false
    }

    fn session_ref(&mut self, id: &Ident, context: &str) -> bool {
        match self.out.names.get(&id.name).copied() {
            Some(decl) if decl.kind == DeclKind::Session => {
                self.out.refs.insert(id.span, decl);
                self.mark_used(decl);
                true
            }
            found => {
                let suggestion = self.suggest(&id.name, &[DeclKind::Session]);
                let sessions = self.names_of_kind(&[DeclKind::Session]);
                let help = match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if sessions.is_empty() => {
                        "declare a session, e.g. `session asia = 09:00-15:00 Asia/Tokyo mon-fri`"
                            .to_string()
                    }
                    None => format!(
                        "the sessions declared are: {}",
                        sessions
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let d = match found {
                    Some(decl) => {
                        self.out.refs.insert(id.span, decl);
                        if decl.kind != DeclKind::Rule {
                            self.mark_used(decl);
                        }
                        Diagnostic::new(
                            Code::WrongKindOfName,
                            id.span,
                            format!(
                                "`{}` is {}, but {context} needs a session",
                                id.name,
                                decl.kind.describe()
                            ),
                        )
                        .with_label("expected a session")
                    }
                    None => Diagnostic::new(
                        Code::UnknownName,
                        id.span,
                        format!("unknown session `{}`", id.name),
                    )
                    .with_label("not declared"),
                };
                self.emit(d.with_help(help));
                false
            }
        }
    }

    /// A symbol argument; returns its index in the symbol table.
    fn symbol_arg(&mut self, arg: &Expr, b: Builtin) -> Option<usize> {
        if let ExprKind::Name(id) = &arg.kind {
            self.out.types.insert(arg.span, Type::Symbol);
            return match self.out.names.get(&id.name).copied() {
                Some(decl) if decl.kind == DeclKind::Symbol => {
                    self.out.refs.insert(id.span, decl);
                    self.mark_used(decl);
                    Some(decl.index)
                }
                Some(decl) => {
                    self.out.refs.insert(id.span, decl);
                    if decl.kind != DeclKind::Rule {
                        self.mark_used(decl);
                    }
                    let help = match self.suggest(&id.name, &[DeclKind::Symbol]) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "`{}` reads the bars of a symbol: {}",
                            b.name(),
                            self.example_call(b)
                        ),
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::WrongKindOfName,
                            id.span,
                            format!(
                                "`{}` is {}, but `{}` needs a symbol",
                                id.name,
                                decl.kind.describe(),
                                b.name()
                            ),
                        )
                        .with_label("expected a symbol")
                        .with_help(help),
                    );
                    None
                }
                None => {
                    let help = self.symbol_help(&id.name);
                    self.emit(
                        Diagnostic::new(
                            Code::UnknownName,
                            id.span,
                            format!("unknown symbol `{}`", id.name),
                        )
                        .with_label("not declared")
                        .with_help(help),
                    );
                    None
                }
            };
        }
        let t = self.expr(arg);
        if t != Type::Error {
            let help = match &arg.kind {
                ExprKind::Field { base, .. } => format!(
                    "pass the symbol itself: `{}` reads its bars, e.g. {}",
                    b.name(),
                    self.example_call_with(b, &show(base))
                ),
                _ => format!(
                    "`{}` reads the bars of a symbol: {}",
                    b.name(),
                    self.example_call(b)
                ),
            };
            self.emit(
                Diagnostic::new(
                    Code::TypeMismatch,
                    arg.span,
                    format!("`{}` needs a symbol, found {}", b.name(), t.describe()),
                )
                .with_label(format!("this is {}", t.describe()))
                .with_help(help),
            );
        }
        None
    }

    fn example_call(&self, b: Builtin) -> String {
        let sym = self
            .names_of_kind(&[DeclKind::Symbol])
            .first()
            .map_or("gold", |s| s)
            .to_string();
        self.example_call_with(b, &sym)
    }

    fn example_call_with(&self, b: Builtin, sym: &str) -> String {
        let session = self
            .names_of_kind(&[DeclKind::Session])
            .first()
            .map_or("asia", |s| s)
            .to_string();
        let args: Vec<String> = b
            .params()
            .iter()
            .map(|(_, k)| match k {
                ArgKind::Symbol => sym.to_string(),
                ArgKind::Session => session.clone(),
                ArgKind::Length => "14".to_string(),
                ArgKind::Window => "1d".to_string(),
                ArgKind::Value => format!("{sym}.close"),
                ArgKind::Cond => "COND".to_string(),
            })
            .collect();
        format!("`{}({})`", b.name(), args.join(", "))
    }

    fn call(&mut self, e: &Expr, func: &Ident, args: &[Expr]) -> Type {
        let Some(b) = Builtin::from_name(&func.name) else {
            for a in args {
                if !matches!(a.kind, ExprKind::Name(_)) {
                    self.expr(a);
                } else {
                    // Names are resolved (and marked used) without complaining
                    // about their kind, which depends on the intended function.
                    if let ExprKind::Name(id) = &a.kind
                        && let Some(decl) = self.out.names.get(&id.name).copied()
                    {
                        self.mark_used(decl);
                    }
                }
            }
            let names = Builtin::ALL.iter().map(|b| b.name());
            let mut d = Diagnostic::new(
                Code::UnknownFunction,
                func.span,
                format!("unknown function `{}`", func.name),
            )
            .with_label("not a built-in function");
            if let Some(s) = did_you_mean(&func.name, names) {
                let sig = Builtin::from_name(s)
                    .expect("suggested a built-in")
                    .signature();
                d = d.with_help(format!("did you mean `{s}`? It is called as `{sig}`"));
            } else {
                d = d.with_note(format!(
                    "the built-in functions are: {}",
                    Builtin::ALL
                        .iter()
                        .map(|b| b.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            self.emit(d);
            return Type::Error;
        };
        self.out.calls.insert(e.span, b);
        let params = b.params();
        if args.len() != params.len() {
            for a in args {
                if !matches!(a.kind, ExprKind::Name(_)) {
                    self.expr(a);
                } else if let ExprKind::Name(id) = &a.kind
                    && let Some(decl) = self.out.names.get(&id.name).copied()
                {
                    self.mark_used(decl);
                }
            }
            let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
            self.emit(
                Diagnostic::new(
                    Code::WrongArity,
                    e.span,
                    format!(
                        "`{}` takes {} {}, but {} {} given",
                        b.name(),
                        params.len(),
                        plural(params.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(format!(
                    "expected {} {}",
                    params.len(),
                    plural(params.len())
                ))
                .with_help(format!("call it as {}", self.example_call(b))),
            );
            return Type::Error;
        }
        let mut input = Unit::Plain;
        let mut units: Vec<(Unit, &Expr)> = Vec::new();
        let mut symbol = None;
        let mut ok = true;
        for ((pname, kind), arg) in params.iter().zip(args) {
            let ctx = format!("argument `{pname}` of `{}`", b.name());
            match kind {
                ArgKind::Value => {
                    let t = self.expr(arg);
                    match self.want_number(arg, t, &ctx) {
                        Some(u) => {
                            if units.is_empty() {
                                input = u;
                            }
                            units.push((u, arg));
                        }
                        None => ok = false,
                    }
                }
                ArgKind::Window => {
                    let t = self.expr(arg);
                    ok &= self.want_window(arg, t, &ctx);
                }
                ArgKind::Length => {
                    let t = self.expr(arg);
                    ok &= self.want_length(arg, t, b);
                }
                ArgKind::Symbol => {
                    symbol = self.symbol_arg(arg, b);
                    ok &= symbol.is_some();
                }
                ArgKind::Session => {
                    if let ExprKind::Name(id) = &arg.kind {
                        self.out.types.insert(arg.span, Type::Session);
                        ok &= self.session_ref(id, &format!("`{}`", b.name()));
                    } else {
                        let t = self.expr(arg);
                        if t != Type::Error {
                            self.emit(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    arg.span,
                                    format!(
                                        "`{}` needs a session, found {}",
                                        b.name(),
                                        t.describe()
                                    ),
                                )
                                .with_label(format!("this is {}", t.describe()))
                                .with_help(format!(
                                    "pass a declared session: {}",
                                    self.example_call(b)
                                )),
                            );
                        }
                        ok = false;
                    }
                }
                ArgKind::Cond => {
                    let t = self.expr(arg);
                    ok &= self.want_cond(arg, t, &ctx);
                }
            }
        }
        if b.is_session_function()
            && let Some(si) = symbol
            && let Some(r) = self.out.symbols[si].resample
            && r.seconds() >= 86_400
        {
            let sym = self.out.symbols[si].name.clone();
            let item = self.out.symbols[si].item;
            let resample_span = match &self.file.items[item] {
                Item::Symbol(d) => d.resample.as_ref().map(|r| r.span),
                _ => None,
            };
            let mut d = Diagnostic::new(
                Code::SessionOnDailySymbol,
                args[0].span,
                format!(
                    "`{}` needs intraday bars, but `{sym}` has bars of {}{}",
                    b.name(),
                    r.count,
                    r.unit.suffix()
                ),
            )
            .with_label("a session lies inside a single bar of this symbol")
            .with_help(format!(
                "declare a second symbol on the same data without `@ {}{}` (or with `@ 1h`) for session values",
                r.count,
                r.unit.suffix()
            ));
            if let Some(s) = resample_span {
                d = d.with_secondary(s, "resampled here");
            }
            self.emit(d);
        }
        if matches!(b, Builtin::Min | Builtin::Max)
            && let [(a, ea), (c, ec)] = units[..]
            && a != c
        {
            self.emit(
                Diagnostic::new(
                    Code::UnitMismatch,
                    ec.span,
                    format!(
                        "`{}` of {} and {}: the arguments must have the same unit",
                        b.name(),
                        Type::Number(a).describe(),
                        Type::Number(c).describe()
                    ),
                )
                .with_label(format!("this is {}", Type::Number(c).describe()))
                .with_secondary(ea.span, format!("this is {}", Type::Number(a).describe()))
                .with_help(
                    "give both the same unit: two percents, or two price distances \
                     (e.g. `gold.close * 0.02` for 2% of the price)",
                ),
            );
            return Type::Error;
        }
        if !ok {
            // The result unit of these does not depend on a failed argument.
            return match b.result(input) {
                t @ (Type::Number(Unit::Percent) | Type::Duration) => t,
                _ if units.len() == params.iter().filter(|(_, k)| *k == ArgKind::Value).count()
                    && !units.is_empty() =>
                {
                    b.result(input)
                }
                _ => Type::Error,
            };
        }
        b.result(input)
    }

    // ----- expectations -----

    /// Requires a number; returns its unit, or `None` after reporting.
    fn want_number(&mut self, e: &Expr, t: Type, ctx: &str) -> Option<Unit> {
        let (code, help): (Code, String) = match t {
            Type::Number(u) => return Some(u),
            Type::Error => return None,
            Type::Bool => (
                Code::TypeMismatch,
                "a condition is true or false, not a number".to_string(),
            ),
            Type::Duration | Type::Bars => (
                Code::UnitMismatch,
                "durations and bar counts are only used as windows, look-backs and `exit after`"
                    .to_string(),
            ),
            Type::Symbol => (
                Code::TypeMismatch,
                format!("use one of its bar fields, e.g. `{}.close`", show(e)),
            ),
            Type::Session => (
                Code::TypeMismatch,
                format!(
                    "to test whether the time is inside the session, write `in {0}`; for its prices use e.g. `session_return(SYMBOL, {0})`",
                    show(e)
                ),
            ),
            Type::String => (Code::TypeMismatch, "strings are only titles".to_string()),
        };
        let label = match &e.kind {
            ExprKind::Name(id) => format!("`{}` is {}", id.name, t.describe()),
            _ => format!("this is {}", t.describe()),
        };
        self.emit(
            Diagnostic::new(
                code,
                e.span,
                format!("{ctx} must be a number, found {}", t.describe()),
            )
            .with_label(label)
            .with_help(help),
        );
        None
    }

    /// Requires a condition; returns false after reporting.
    fn want_cond(&mut self, e: &Expr, t: Type, ctx: &str) -> bool {
        let help = match t {
            Type::Bool => return true,
            Type::Error => return false,
            Type::Number(Unit::Percent) => {
                format!("compare it with a threshold, e.g. `{} > 1%`", show(e))
            }
            Type::Number(Unit::Plain) => {
                format!("compare it with a level, e.g. `{} > 0`", show(e))
            }
            Type::Session => format!(
                "to test whether the time is inside the session, write `in {}`",
                show(e)
            ),
            Type::Symbol => format!("compare one of its fields, e.g. `{}.close > ...`", show(e)),
            Type::Duration | Type::Bars => {
                "compare it with another duration, e.g. `age(gold) > 1h`".to_string()
            }
            Type::String => "a condition is an expression such as `gold.close > 100`".to_string(),
        };
        let label = match &e.kind {
            ExprKind::Name(id) => format!("`{}` is {}", id.name, t.describe()),
            _ => format!("this is {}", t.describe()),
        };
        self.emit(
            Diagnostic::new(
                Code::TypeMismatch,
                e.span,
                format!("{ctx} must be true or false, found {}", t.describe()),
            )
            .with_label(label)
            .with_help(help),
        );
        false
    }

    /// Requires a constant duration or bar count above zero.
    fn want_window(&mut self, e: &Expr, t: Type, ctx: &str) -> bool {
        match t {
            Type::Duration | Type::Bars => match self.const_value(e, 0) {
                Some(c) if c.magnitude() > 0.0 => true,
                Some(c) => {
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidValue,
                            e.span,
                            format!("{ctx} must be longer than zero"),
                        )
                        .with_label(format!("this is {}", show_const(c)))
                        .with_help("use a window such as `1d` or `5 bars`"),
                    );
                    false
                }
                None => {
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidValue,
                            e.span,
                            format!("{ctx} must be a constant"),
                        )
                        .with_label("this changes from bar to bar")
                        .with_help("write a literal such as `1d` or `5 bars`, or use a param"),
                    );
                    false
                }
            },
            Type::Error => false,
            Type::Number(u) => {
                let help = match (u, self.const_value(e, 0)) {
                    (Unit::Plain, Some(Const::Number(v))) if v > 0.0 && v.fract() == 0.0 => {
                        format!(
                            "write `{0} bars` for a bar count or `{0}d` for wall-clock days",
                            fmt_num(v)
                        )
                    }
                    _ => "write a wall-clock duration such as `1d` or a bar count such as `5 bars`"
                        .to_string(),
                };
                self.emit(
                    Diagnostic::new(
                        Code::UnitMismatch,
                        e.span,
                        format!(
                            "{ctx} must be a duration or a bar count, found {}",
                            t.describe()
                        ),
                    )
                    .with_label(format!("this is {}", t.describe()))
                    .with_help(help),
                );
                false
            }
            _ => {
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        e.span,
                        format!(
                            "{ctx} must be a duration or a bar count, found {}",
                            t.describe()
                        ),
                    )
                    .with_label(format!("this is {}", t.describe()))
                    .with_help(
                        "write a wall-clock duration such as `1d` or a bar count such as `5 bars`",
                    ),
                );
                false
            }
        }
    }

    /// Requires a constant positive whole number of bars (`14` or `14 bars`).
    fn want_length(&mut self, e: &Expr, t: Type, b: Builtin) -> bool {
        let ctx = format!("the length of `{}`", b.name());
        match t {
            Type::Number(Unit::Plain) | Type::Bars => {
                let Some(c) = self.const_value(e, 0) else {
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidValue,
                            e.span,
                            format!("{ctx} must be a constant"),
                        )
                        .with_label("this changes from bar to bar")
                        .with_help("write a whole number such as `14`, or use a param"),
                    );
                    return false;
                };
                let v = c.magnitude();
                if v < 1.0 || v.fract() != 0.0 {
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidValue,
                            e.span,
                            format!("{ctx} must be a whole number of bars, at least 1"),
                        )
                        .with_label(format!("this is {}", show_const(c)))
                        .with_help(format!("call it as {}", self.example_call(b))),
                    );
                    return false;
                }
                if let Some(bad) = self.param_range_problem(e, |v| v >= 1.0 && v.fract() == 0.0) {
                    self.emit(
                        Diagnostic::new(
                            Code::InvalidValue,
                            e.span,
                            format!("{ctx} must be a whole number of bars, at least 1"),
                        )
                        .with_label(format!("the param's range allows {bad}"))
                        .with_help("give the param a range of whole numbers with a whole step"),
                    );
                    return false;
                }
                true
            }
            Type::Error => false,
            Type::Number(Unit::Percent) | Type::Duration => {
                self.emit(
                    Diagnostic::new(
                        Code::UnitMismatch,
                        e.span,
                        format!("{ctx} counts bars, found {}", t.describe()),
                    )
                    .with_label(format!("this is {}", t.describe()))
                    .with_help(format!(
                        "indicators count bars: call it as {}",
                        self.example_call(b)
                    )),
                );
                false
            }
            _ => {
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        e.span,
                        format!("{ctx} counts bars, found {}", t.describe()),
                    )
                    .with_label(format!("this is {}", t.describe()))
                    .with_help(format!("call it as {}", self.example_call(b))),
                );
                false
            }
        }
    }

    fn lookback(&mut self, off: &Expr) {
        let t = self.expr(off);
        match t {
            Type::Error => return,
            Type::Number(Unit::Plain) | Type::Bars => {}
            t => {
                self.emit(
                    Diagnostic::new(
                        Code::InvalidLookback,
                        off.span,
                        format!("a look-back counts bars, found {}", t.describe()),
                    )
                    .with_label(format!("this is {}", t.describe()))
                    .with_help("write a whole number of bars: `x[1]` is the value one bar ago"),
                );
                return;
            }
        }
        let Some(c) = self.const_value(off, 0) else {
            self.emit(
                Diagnostic::new(
                    Code::InvalidLookback,
                    off.span,
                    "a look-back must be a constant",
                )
                .with_label("this changes from bar to bar")
                .with_help(
                    "write a whole number such as `[1]`, or use a param with a whole-number value",
                ),
            );
            return;
        };
        let v = c.magnitude();
        let (msg, label, help) = if v < 0.0 {
            (
                "a look-back cannot be negative".to_string(),
                format!("`[{}]` would look into the future", fmt_num(v)),
                format!(
                    "`x[{}]` is the value {} ago; later bars are never visible",
                    fmt_num(-v),
                    bars(-v)
                ),
            )
        } else if v.fract() != 0.0 {
            (
                "a look-back must be a whole number of bars".to_string(),
                format!("this is {}", fmt_num(v)),
                format!("did you mean `[{}]`?", fmt_num(v.round())),
            )
        } else if v > MAX_LOOKBACK as f64 {
            (
                format!("a look-back of {} bars is too far", fmt_num(v)),
                format!("at most {MAX_LOOKBACK} bars"),
                "for long horizons use a coarser symbol (`@ 1d`) or `change(x, 1w)`".to_string(),
            )
        } else if let Some(bad) = self.param_range_problem(off, |v| {
            v >= 0.0 && v.fract() == 0.0 && v <= MAX_LOOKBACK as f64
        }) {
            (
                "a look-back must be a whole number of bars from 0 to 10000".to_string(),
                format!("the param's range allows {bad}"),
                "give the param a range of whole numbers with a whole step".to_string(),
            )
        } else {
            return;
        };
        self.emit(
            Diagnostic::new(Code::InvalidLookback, off.span, msg)
                .with_label(label)
                .with_help(help),
        );
    }

    /// When `e` is a param with a sweep range, a bound or step that fails `ok`.
    fn param_range_problem(&self, e: &Expr, ok: impl Fn(f64) -> bool) -> Option<String> {
        let mut e = e;
        while let ExprKind::Paren(inner) = &e.kind {
            e = inner;
        }
        let ExprKind::Name(id) = &e.kind else {
            return None;
        };
        let DeclId {
            kind: DeclKind::Param,
            index,
        } = self.out.names.get(&id.name).copied()?
        else {
            return None;
        };
        let item = self.out.params[index].item;
        let Item::Param(d) = &self.file.items[item] else {
            return None;
        };
        let r = d.range.as_ref()?;
        for part in [Some(&r.lo), Some(&r.hi), r.step.as_ref()]
            .into_iter()
            .flatten()
        {
            if let Ok(c) = literal(part)
                && !ok(c.magnitude())
            {
                return Some(show_const(c));
            }
        }
        None
    }

    /// Comparisons and phrases.
    #[allow(clippy::too_many_arguments)]
    fn compare(&mut self, op: &str, lhs: &Expr, lt: Type, rhs: &Expr, rt: Type, equality: bool) {
        match (lt, rt) {
            (Type::Error, _) | (_, Type::Error) => {}
            (Type::Number(a), Type::Number(b)) => {
                if a != b {
                    let (pct, plain) = if a == Unit::Percent {
                        (lhs, rhs)
                    } else {
                        (rhs, lhs)
                    };
                    self.percent_vs_plain(op, lhs, rhs, pct, plain);
                }
            }
            (Type::Duration, Type::Duration) | (Type::Bars, Type::Bars) => {}
            (Type::Bool, Type::Bool) if equality => {}
            _ => {
                let scalar = |t: Type| matches!(t, Type::Number(_) | Type::Duration | Type::Bars);
                if !scalar(lt) {
                    self.want_number(lhs, lt, &format!("the left side of `{op}`"));
                } else if !scalar(rt) {
                    self.want_number(rhs, rt, &format!("the right side of `{op}`"));
                } else {
                    // Point at the side that is a plain number, if any.
                    let (bad, bt, other, ot) = if matches!(rt, Type::Number(_)) {
                        (rhs, rt, lhs, lt)
                    } else {
                        (lhs, lt, rhs, rt)
                    };
                    let help = match (ot, self.const_value(bad, 0)) {
                        (Type::Duration, Some(Const::Number(v))) => {
                            format!("give the number a unit, e.g. `{0}m` or `{0}h`", fmt_num(v))
                        }
                        (Type::Bars, Some(Const::Number(v))) => {
                            format!("write it as a bar count: `{} bars`", fmt_num(v))
                        }
                        (Type::Duration, _) => {
                            "compare a duration with a duration, e.g. `age(gold) > 1h`".to_string()
                        }
                        _ => "compare values of the same kind".to_string(),
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::UnitMismatch,
                            bad.span,
                            format!("`{op}` compares {} with {}", lt.describe(), rt.describe()),
                        )
                        .with_label(format!("this is {}", bt.describe()))
                        .with_secondary(other.span, format!("this is {}", ot.describe()))
                        .with_help(help),
                    );
                }
            }
        }
    }

    fn percent_vs_plain(&mut self, op: &str, lhs: &Expr, rhs: &Expr, pct: &Expr, plain: &Expr) {
        match self.const_value(plain, 0) {
            Some(Const::Number(0.0)) => {}
            Some(Const::Number(v)) => {
                let help = if v.abs() >= 1.0 {
                    format!("did you mean `{}%`?", fmt_num(v))
                } else {
                    format!(
                        "write it as a percent to make the unit clear: `{}%`",
                        fmt_num(v * 100.0)
                    )
                };
                self.emit(
                    Diagnostic::new(
                        Code::PercentComparedWithPrice,
                        plain.span,
                        format!("a percent is compared with the plain number {}", fmt_num(v)),
                    )
                    .with_label(format!(
                        "this is the plain number {}, i.e. {}%",
                        fmt_num(v),
                        fmt_num(v * 100.0)
                    ))
                    .with_secondary(pct.span, "this is a percent")
                    .with_help(help),
                );
            }
            _ => {
                let price_like = reads_prices(plain);
                let (what, help) = if price_like {
                    let (l, r) = if std::ptr::eq(plain, lhs) {
                        (format!("change({}, 1d)", show(plain)), show(rhs))
                    } else {
                        (show(lhs), format!("change({}, 1d)", show(plain)))
                    };
                    ("a price", format!("did you mean `{l} {op} {r}`?"))
                } else {
                    (
                        "a plain number",
                        "make both sides percents or both plain numbers".to_string(),
                    )
                };
                self.emit(
                    Diagnostic::new(
                        Code::PercentComparedWithPrice,
                        plain.span,
                        format!("a percent is compared with {what}"),
                    )
                    .with_label(format!("this is {what}"))
                    .with_secondary(pct.span, "this is a percent")
                    .with_help(help),
                );
            }
        }
    }

    fn plain_move_amount(&mut self, amount: &Expr, word: &str) {
        match self.const_value(amount, 0) {
            Some(Const::Number(0.0)) => {}
            Some(Const::Number(v)) => {
                self.emit(
                    Diagnostic::new(
                        Code::PercentComparedWithPrice,
                        amount.span,
                        format!(
                            "`{word}` measures a percent change, but this is the plain number {}",
                            fmt_num(v)
                        ),
                    )
                    .with_label(format!("{} means {}%", fmt_num(v), fmt_num(v * 100.0)))
                    .with_help(format!(
                        "did you mean `{}%`?",
                        fmt_num(if v.abs() >= 1.0 { v } else { v * 100.0 })
                    )),
                );
            }
            _ => {
                self.emit(
                    Diagnostic::new(
                        Code::PercentComparedWithPrice,
                        amount.span,
                        format!("`{word}` measures a percent change, but this is a plain number"),
                    )
                    .with_label("a plain number")
                    .with_help("give the amount as a percent, e.g. `1.5%`"),
                );
            }
        }
    }

    /// The constant value of an expression made of literals, params, lets
    /// bound to constants, parentheses and unary minus.
    fn const_value(&self, e: &Expr, depth: usize) -> Option<Const> {
        if depth > 64 {
            return None;
        }
        match &e.kind {
            ExprKind::Paren(inner) => self.const_value(inner, depth + 1),
            ExprKind::Unary {
                op: ast::Spanned {
                    node: UnaryOp::Neg, ..
                },
                operand,
            } => match self.const_value(operand, depth + 1)? {
                Const::Number(v) => Some(Const::Number(-v)),
                Const::Percent(v) => Some(Const::Percent(-v)),
                _ => None,
            },
            ExprKind::Name(id) => match self.out.names.get(&id.name).copied()? {
                DeclId {
                    kind: DeclKind::Param,
                    index,
                } => self.out.params[index].default,
                DeclId {
                    kind: DeclKind::Let,
                    index,
                } => {
                    if self.let_state.get(index) != Some(&LetState::Done) {
                        return None;
                    }
                    self.const_value(&self.let_decl(index).value, depth + 1)
                }
                _ => None,
            },
            _ => literal(e).ok(),
        }
    }
}

const NEGATIVE_DURATION: &str = "a length of time cannot be negative";

/// A literal, optionally negated; `Err` says why not.
fn literal(e: &Expr) -> Result<Const, &'static str> {
    match &e.kind {
        ExprKind::Number(v) => Ok(Const::Number(*v)),
        ExprKind::Percent(v) => Ok(Const::Percent(*v)),
        ExprKind::Duration(d) => Ok(Const::Duration(*d)),
        ExprKind::Bars(n) => Ok(Const::Bars(*n)),
        ExprKind::Bool(b) => Ok(Const::Bool(*b)),
        ExprKind::Unary {
            op: ast::Spanned {
                node: UnaryOp::Neg, ..
            },
            operand,
        } => match &operand.kind {
            ExprKind::Number(v) => Ok(Const::Number(-v)),
            ExprKind::Percent(v) => Ok(Const::Percent(-v)),
            ExprKind::Duration(_) | ExprKind::Bars(_) => Err(NEGATIVE_DURATION),
            _ => Err("only a number or percent can be negated here"),
        },
        ExprKind::Name(_) => Err("this is a name, not a literal"),
        _ => Err("this is computed, not a literal"),
    }
}

/// Whether an expression reads bar prices (a field other than volume, or a
/// price-valued built-in).
fn reads_prices(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Field { field, .. } if field.node != ast::Field::Volume => return true,
            ExprKind::Call { func, .. }
                if matches!(
                    func.name.as_str(),
                    "atr" | "session_open" | "session_high" | "session_low" | "session_close"
                ) =>
            {
                return true;
            }
            _ => stack.extend(children(e)),
        }
    }
    false
}

/// Whether `symbol NAME = DATA @ INTERVAL` supports the interval: a whole
/// number of minutes that divides a day (1m to 12h), or exactly 1d or 1w.
pub fn interval_is_supported(d: ast::Duration) -> bool {
    let secs = d.seconds();
    (secs.is_multiple_of(60) && (60..=12 * 3600).contains(&secs) && 86_400 % secs == 0)
        || secs == 86_400
        || secs == 7 * 86_400
}

/// The direct sub-expressions of `e`.
fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Percent(_)
        | ExprKind::Duration(_)
        | ExprKind::Bars(_)
        | ExprKind::Bool(_)
        | ExprKind::String(_)
        | ExprKind::Name(_)
        | ExprKind::InSession(_) => Vec::new(),
        ExprKind::Field { base, .. } => vec![base],
        ExprKind::Index { base, offset } => vec![base, offset],
        ExprKind::Call { args, .. } => args.iter().collect(),
        ExprKind::Unary { operand, .. } => vec![operand],
        ExprKind::Binary { lhs, rhs, .. }
        | ExprKind::Compare { lhs, rhs, .. }
        | ExprKind::While { lhs, rhs } => vec![lhs, rhs],
        ExprKind::Move {
            subject,
            amount,
            window,
            ..
        } => vec![subject, amount, window],
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => vec![cond, then, otherwise],
        ExprKind::Paren(inner) => vec![inner],
    }
}

fn arith_unit(op: BinaryOp, a: Unit, b: Unit) -> Unit {
    use Unit::*;
    match (op, a, b) {
        (BinaryOp::Add | BinaryOp::Sub, x, y) if x == y => x,
        (BinaryOp::Mul, Percent, Plain) | (BinaryOp::Mul, Plain, Percent) => Percent,
        (BinaryOp::Div, Percent, Plain) => Percent,
        _ => Plain,
    }
}

fn weekday_index(d: Weekday) -> usize {
    match d {
        Weekday::Mon => 0,
        Weekday::Tue => 1,
        Weekday::Wed => 2,
        Weekday::Thu => 3,
        Weekday::Fri => 4,
        Weekday::Sat => 5,
        Weekday::Sun => 6,
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Buy => "buy",
        Action::Sell => "sell",
        Action::Short => "short",
        Action::Cover => "cover",
        Action::Exit => "exit",
    }
}

fn clause_name(c: &Clause) -> &'static str {
    match c.kind {
        ClauseKind::Action(_) => "action",
        ClauseKind::When(_) => "when",
        ClauseKind::Size(_) => "size",
        ClauseKind::Stop(_) => "stop",
        ClauseKind::Target(_) => "target",
        ClauseKind::Trail(_) => "trail",
        ClauseKind::ExitAfter(_) => "exit after",
        ClauseKind::ExitWhen(_) => "exit when",
        ClauseKind::Pyramid(_) => "pyramid",
    }
}

/// A number without trailing zeros (at most 6 decimals).
fn fmt_num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// "1 bar", "3 bars".
fn bars(v: f64) -> String {
    if v == 1.0 {
        "1 bar".to_string()
    } else {
        format!("{} bars", fmt_num(v))
    }
}

fn show_const(c: Const) -> String {
    match c {
        Const::Number(v) => fmt_num(v),
        Const::Percent(v) => format!("{}%", fmt_num(v * 100.0)),
        Const::Duration(d) => format!("{}{}", d.count, d.unit.suffix()),
        Const::Bars(n) => bars(n as f64),
        Const::Bool(b) => b.to_string(),
    }
}

fn index_suffix(off: &Expr) -> String {
    format!("[{}]", show(off))
}

/// Prints an expression compactly for messages (literals normalised).
pub fn show(e: &Expr) -> String {
    let mut out = String::new();
    show_into(e, &mut out, 0);
    out
}

fn show_into(e: &Expr, out: &mut String, depth: usize) {
    if depth > 32 {
        out.push_str("...");
        return;
    }
    let d = depth + 1;
    match &e.kind {
        ExprKind::Number(v) => out.push_str(&fmt_num(*v)),
        ExprKind::Percent(v) => out.push_str(&format!("{}%", fmt_num(v * 100.0))),
        ExprKind::Duration(x) => out.push_str(&format!("{}{}", x.count, x.unit.suffix())),
        ExprKind::Bars(n) => out.push_str(&format!("{n} bars")),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::String(s) => out.push_str(&format!("{s:?}")),
        ExprKind::Name(id) => out.push_str(&id.name),
        ExprKind::Field { base, field } => {
            show_into(base, out, d);
            out.push('.');
            out.push_str(field.node.as_str());
        }
        ExprKind::Index { base, offset } => {
            show_into(base, out, d);
            out.push('[');
            show_into(offset, out, d);
            out.push(']');
        }
        ExprKind::Call { func, args } => {
            out.push_str(&func.name);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                show_into(a, out, d);
            }
            out.push(')');
        }
        ExprKind::Unary { op, operand } => {
            out.push_str(match op.node {
                UnaryOp::Neg => "-",
                UnaryOp::Not => "not ",
            });
            show_into(operand, out, d);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            show_into(lhs, out, d);
            out.push_str(&format!(" {} ", op.node.as_str()));
            show_into(rhs, out, d);
        }
        ExprKind::Compare { op, lhs, rhs } => {
            show_into(lhs, out, d);
            out.push_str(&format!(" {} ", op.node.as_str()));
            show_into(rhs, out, d);
        }
        ExprKind::Move {
            direction,
            subject,
            amount,
            window,
        } => {
            show_into(subject, out, d);
            out.push_str(match direction.node {
                MoveDirection::Rises => " rises by ",
                MoveDirection::Falls => " falls by ",
            });
            show_into(amount, out, d);
            out.push_str(" within ");
            show_into(window, out, d);
        }
        ExprKind::While { lhs, rhs } => {
            show_into(lhs, out, d);
            out.push_str(" while ");
            show_into(rhs, out, d);
        }
        ExprKind::InSession(id) => {
            out.push_str("in ");
            out.push_str(&id.name);
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            out.push_str("if ");
            show_into(cond, out, d);
            out.push_str(" then ");
            show_into(then, out, d);
            out.push_str(" else ");
            show_into(otherwise, out, d);
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            show_into(inner, out, d);
            out.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::{Duration, TimeUnit};

    fn d(count: u64, unit: TimeUnit) -> Duration {
        Duration { count, unit }
    }

    #[test]
    fn supported_intervals_divide_a_day_or_are_a_day_or_week() {
        for ok in [
            d(1, TimeUnit::Minutes),
            d(5, TimeUnit::Minutes),
            d(90, TimeUnit::Minutes),
            d(4, TimeUnit::Hours),
            d(12, TimeUnit::Hours),
            d(1, TimeUnit::Days),
            d(24, TimeUnit::Hours),
            d(1, TimeUnit::Weeks),
            d(7, TimeUnit::Days),
            d(120, TimeUnit::Seconds),
        ] {
            assert!(interval_is_supported(ok), "{ok:?}");
        }
        for bad in [
            d(0, TimeUnit::Minutes),
            d(30, TimeUnit::Seconds),
            d(90, TimeUnit::Seconds),
            d(7, TimeUnit::Minutes),
            d(5, TimeUnit::Hours),
            d(16, TimeUnit::Hours),
            d(2, TimeUnit::Days),
            d(2, TimeUnit::Weeks),
        ] {
            assert!(!interval_is_supported(bad), "{bad:?}");
        }
    }

    #[test]
    fn percent_arithmetic_follows_the_language() {
        use BinaryOp::*;
        use Unit::*;
        assert_eq!(arith_unit(Mul, Percent, Plain), Percent);
        assert_eq!(arith_unit(Mul, Plain, Percent), Percent);
        assert_eq!(arith_unit(Div, Percent, Plain), Percent);
        assert_eq!(arith_unit(Div, Plain, Percent), Plain);
        assert_eq!(arith_unit(Sub, Plain, Percent), Plain);
        assert_eq!(arith_unit(Add, Percent, Percent), Percent);
        assert_eq!(arith_unit(Div, Percent, Percent), Plain);
        assert_eq!(arith_unit(Add, Plain, Plain), Plain);
    }

    #[test]
    fn numbers_print_without_noise() {
        assert_eq!(fmt_num(0.015 * 100.0), "1.5");
        assert_eq!(fmt_num(2.0), "2");
        assert_eq!(fmt_num(-0.0), "0");
        assert_eq!(show_const(Const::Percent(0.0025)), "0.25%");
        assert_eq!(show_const(Const::Bars(1)), "1 bar");
    }

    #[test]
    fn every_builtin_name_round_trips() {
        for b in Builtin::ALL {
            assert_eq!(Builtin::from_name(b.name()), Some(*b));
        }
        assert_eq!(Builtin::Sma.signature(), "sma(x, n)");
        assert!(Builtin::SessionDrop.is_session_function());
        assert!(!Builtin::Atr.is_session_function());
    }
}
