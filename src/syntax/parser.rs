//! The pest grammar and its lowering into the [`ast`](super::ast).
//!
//! This is the only file of the crate that knows pest. Every grammar rule that
//! produces a pair has one `lower_*` function here. Expressions come out of the
//! grammar as a flat chain (`operand (infix operand)*`); [`Lowerer::climb`]
//! applies precedence and associativity by precedence climbing, which also
//! reports chained comparisons (`a < b < c`).

// Lowering returns `Result<_, Diagnostic>`: the error path is cold (it ends
// the declaration) and boxing every diagnostic would only add noise.
#![allow(clippy::result_large_err)]

use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest_derive::Parser;

use super::ast::*;
use super::rule_names::rule_name;
use super::scan::{self, Scan, TokKind};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};

/// The parser generated from `grammar/playbook.pest`.
#[derive(Parser)]
#[grammar = "../grammar/playbook.pest"]
pub(crate) struct PlaybookParser;

/// The deepest expression tree accepted. Parentheses and the other nesting
/// forms are limited to [`MAX_NESTING`](super::MAX_NESTING) by the scan; this
/// also bounds long operator chains (`a + b + c + ...` nests to the left), so
/// that every later pass may walk the tree recursively.
const MAX_TREE_DEPTH: u32 = 256;

type Lowered<T> = Result<T, Diagnostic>;

/// Parses a whole file; see [`super::parse`].
pub(crate) fn parse(source: &str) -> Result<File, Vec<Diagnostic>> {
    if u32::try_from(source.len()).is_err() {
        return Err(vec![Diagnostic::new(
            Code::Syntax,
            Span::new(0, 0),
            "the file is larger than 4 GiB",
        )]);
    }
    let scan = scan::scan(source);
    if !scan.errors.is_empty() {
        return Err(scan.errors);
    }
    let mut lowerer = Lowerer {
        src: source,
        scan,
        errors: Vec::new(),
    };
    let pairs = match PlaybookParser::parse(Rule::file, source) {
        Ok(pairs) => pairs,
        Err(err) => return Err(vec![lowerer.syntax_error(&err)]),
    };
    let file = lowerer.lower_file(pairs);
    if lowerer.errors.is_empty() {
        Ok(file)
    } else {
        Err(lowerer.errors)
    }
}

/// An expression with the depth of its tree.
struct Node {
    expr: Expr,
    depth: u32,
}

/// An infix operator of the flat chain.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Infix {
    Binary(BinaryOp),
    Phrase(PhraseOp),
    Move(MoveDirection),
    Within,
    While,
}

/// One element of a flat expression chain.
enum ChainItem {
    Prefix(Spanned<UnaryOp>),
    Atom(Node),
    Infix(Infix, Span),
}

// Binding powers, loosest first. Comparisons and phrases share one level and
// do not associate; `not` binds looser than comparisons, unary `-` tighter
// than `*`.
const BP_WHILE: u8 = 1;
const BP_OR: u8 = 3;
const BP_AND: u8 = 5;
const BP_NOT_OPERAND: u8 = 7;
const BP_COMPARE: u8 = 7;
const BP_ADDITIVE: u8 = 9;
const BP_MULTIPLICATIVE: u8 = 11;
const BP_NEG_OPERAND: u8 = 13;

impl Infix {
    /// The left binding power; the right one is one more (left-associative).
    fn power(self) -> u8 {
        match self {
            Infix::While => BP_WHILE,
            Infix::Binary(BinaryOp::Or) => BP_OR,
            Infix::Binary(BinaryOp::And) => BP_AND,
            Infix::Binary(op) if op.is_comparison() => BP_COMPARE,
            Infix::Phrase(_) | Infix::Move(_) | Infix::Within => BP_COMPARE,
            Infix::Binary(BinaryOp::Add | BinaryOp::Sub) => BP_ADDITIVE,
            Infix::Binary(_) => BP_MULTIPLICATIVE,
        }
    }

    fn is_comparison(self) -> bool {
        self.power() == BP_COMPARE
    }

    /// The operator as written.
    fn as_str(self) -> &'static str {
        match self {
            Infix::Binary(op) => op.as_str(),
            Infix::Phrase(op) => op.as_str(),
            Infix::Move(MoveDirection::Rises) => "rises by",
            Infix::Move(MoveDirection::Falls) => "falls by",
            Infix::Within => "within",
            Infix::While => "while",
        }
    }
}

/// Lowers pest pairs into the AST, collecting errors per declaration.
struct Lowerer<'s> {
    src: &'s str,
    scan: Scan,
    errors: Vec<Diagnostic>,
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// An error for a pair shape the grammar cannot produce (a bug, not user input).
fn shape_error(span: Span, expected: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Syntax,
        span,
        format!("internal parser error: expected {expected} here"),
    )
    .with_note("this is a bug in playbook's parser; please report it with the input")
}

/// Takes the next child pair.
fn next<'i>(pairs: &mut Pairs<'i, Rule>, parent: Span, what: &str) -> Lowered<Pair<'i, Rule>> {
    pairs.next().ok_or_else(|| shape_error(parent, what))
}

/// Takes the next child pair, which must be of rule `rule`.
fn expect<'i>(pairs: &mut Pairs<'i, Rule>, parent: Span, rule: Rule) -> Lowered<Pair<'i, Rule>> {
    match pairs.next() {
        Some(p) if p.as_rule() == rule => Ok(p),
        Some(p) => Err(shape_error(span_of(&p), rule_name(rule))),
        None => Err(shape_error(parent, rule_name(rule))),
    }
}

/// Takes the next child pair if it is of rule `rule`.
fn optional<'i>(pairs: &mut Pairs<'i, Rule>, rule: Rule) -> Option<Pair<'i, Rule>> {
    if pairs.peek().is_some_and(|p| p.as_rule() == rule) {
        pairs.next()
    } else {
        None
    }
}

fn node(expr: Expr, depth: u32) -> Lowered<Node> {
    if depth > MAX_TREE_DEPTH {
        return Err(Diagnostic::new(
            Code::NestingTooDeep,
            expr.span,
            "expression nested too deeply",
        )
        .with_label(format!(
            "this expression is more than {MAX_TREE_DEPTH} levels deep"
        ))
        .with_help("split it into several `let` declarations"));
    }
    Ok(Node { expr, depth })
}

fn leaf(kind: ExprKind, span: Span) -> Node {
    Node {
        expr: Expr { kind, span },
        depth: 1,
    }
}

impl<'s> Lowerer<'s> {
    /// The span of a pair without the whitespace and comments pest lets a
    /// non-atomic rule swallow at its end.
    fn span_of(&self, pair: &Pair<'_, Rule>) -> Span {
        let raw = span_of(pair);
        // Only a span ending in whitespace (or at the end of the file, after a
        // comment) can have swallowed anything.
        let end = raw.end as usize;
        let last = self.src.as_bytes().get(end.wrapping_sub(1));
        if end < self.src.len() && !matches!(last, Some(b' ' | b'\t' | b'\r' | b'\n')) {
            return raw;
        }
        match self.scan.token_before(raw.end as usize) {
            Some(t) if t.span.end > raw.start => Span {
                start: raw.start,
                end: t.span.end,
            },
            _ => raw,
        }
    }

    fn text(&self, span: Span) -> &'s str {
        &self.src[span.range()]
    }

    // ------------------------------------------------------------- file

    fn lower_file(&mut self, mut pairs: Pairs<'_, Rule>) -> File {
        let comments = std::mem::take(&mut self.scan.comments);
        let mut items = Vec::new();
        let Some(file) = pairs.next() else {
            return File { items, comments };
        };
        for pair in file.into_inner() {
            let item = match pair.as_rule() {
                Rule::strategy_decl => self.lower_strategy_decl(pair).map(Item::Strategy),
                Rule::symbol_decl => self.lower_symbol_decl(pair).map(Item::Symbol),
                Rule::series_decl => self.lower_series_decl(pair).map(Item::Series),
                Rule::param_decl => self.lower_param_decl(pair).map(Item::Param),
                Rule::session_decl => self.lower_session_decl(pair).map(Item::Session),
                Rule::let_decl => self.lower_let_decl(pair).map(Item::Let),
                Rule::rule_decl => self.lower_rule_decl(pair).map(Item::Rule),
                Rule::EOI => continue,
                _ => Err(shape_error(self.span_of(&pair), "a declaration")),
            };
            match item {
                Ok(item) => items.push(item),
                Err(diag) => self.errors.push(diag),
            }
        }
        File { items, comments }
    }

    // ----------------------------------------------------- declarations

    fn lower_strategy_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<StrategyDecl> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_strategy)?;
        let title = self.lower_string(expect(&mut inner, span, Rule::string)?)?;
        Ok(StrategyDecl { title, span })
    }

    fn lower_symbol_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<SymbolDecl> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_symbol)?;
        let name = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        expect(&mut inner, span, Rule::assign)?;
        let data = self.lower_data_name(expect(&mut inner, span, Rule::data_name)?);
        let resample = match optional(&mut inner, Rule::resample) {
            Some(p) => Some(self.lower_resample(p)?),
            None => None,
        };
        Ok(SymbolDecl {
            name,
            data,
            resample,
            span,
        })
    }

    fn lower_resample(&mut self, pair: Pair<'_, Rule>) -> Lowered<Spanned<Duration>> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::at_sign)?;
        let d = expect(&mut inner, span, Rule::duration)?;
        let dspan = self.span_of(&d);
        Ok(Spanned::new(self.lower_duration(d)?, dspan))
    }

    fn lower_data_name(&mut self, pair: Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(pair.as_str().to_string(), self.span_of(&pair))
    }

    fn lower_series_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<SeriesDecl> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_series)?;
        let name = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        expect(&mut inner, span, Rule::assign)?;
        let data = self.lower_data_name(expect(&mut inner, span, Rule::data_name)?);
        let as_percent = optional(&mut inner, Rule::as_percent).map(|p| self.lower_as_percent(p));
        Ok(SeriesDecl {
            name,
            data,
            as_percent,
            span,
        })
    }

    fn lower_as_percent(&mut self, pair: Pair<'_, Rule>) -> Span {
        self.span_of(&pair)
    }

    fn lower_param_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<ParamDecl> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_param)?;
        let name = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        expect(&mut inner, span, Rule::assign)?;
        let value = self.lower_param_value(expect(&mut inner, span, Rule::param_value)?)?;
        let range = match optional(&mut inner, Rule::param_range) {
            Some(p) => Some(self.lower_param_range(p)?),
            None => None,
        };
        Ok(ParamDecl {
            name,
            value,
            range,
            span,
        })
    }

    fn lower_param_range(&mut self, pair: Pair<'_, Rule>) -> Lowered<ParamRange> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_in)?;
        let lo = self.lower_param_value(expect(&mut inner, span, Rule::param_value)?)?;
        expect(&mut inner, span, Rule::range_dots)?;
        let hi = self.lower_param_value(expect(&mut inner, span, Rule::param_value)?)?;
        let step = match optional(&mut inner, Rule::param_step) {
            Some(p) => Some(self.lower_param_step(p)?),
            None => None,
        };
        Ok(ParamRange { lo, hi, step, span })
    }

    fn lower_param_step(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_step)?;
        self.lower_param_value(expect(&mut inner, span, Rule::param_value)?)
    }

    fn lower_param_value(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let neg = optional(&mut inner, Rule::neg).map(|p| self.lower_neg(p));
        let literal = self.lower_primary(next(&mut inner, span, "a literal")?)?;
        Ok(match neg {
            Some(op) => Expr {
                kind: ExprKind::Unary {
                    op,
                    operand: Box::new(literal.expr),
                },
                span,
            },
            None => literal.expr,
        })
    }

    fn lower_neg(&mut self, pair: Pair<'_, Rule>) -> Spanned<UnaryOp> {
        Spanned::new(UnaryOp::Neg, self.span_of(&pair))
    }

    fn lower_session_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<SessionDecl> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_session)?;
        let name = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        expect(&mut inner, span, Rule::assign)?;
        let mut windows =
            vec![self.lower_clock_window(expect(&mut inner, span, Rule::clock_window)?)?];
        while optional(&mut inner, Rule::comma).is_some() {
            windows.push(self.lower_clock_window(expect(&mut inner, span, Rule::clock_window)?)?);
        }
        let zone = self.lower_zone(expect(&mut inner, span, Rule::zone)?);
        let days = match optional(&mut inner, Rule::day_set) {
            Some(p) => Some(self.lower_day_set(p)?),
            None => None,
        };
        Ok(SessionDecl {
            name,
            windows,
            zone,
            days,
            span,
        })
    }

    fn lower_clock_window(&mut self, pair: Pair<'_, Rule>) -> Lowered<ClockWindow> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let start = self.lower_clock_time(expect(&mut inner, span, Rule::clock_time)?);
        expect(&mut inner, span, Rule::window_dash)?;
        let end = self.lower_clock_time(expect(&mut inner, span, Rule::clock_time)?);
        Ok(ClockWindow { start, end, span })
    }

    fn lower_clock_time(&mut self, pair: Pair<'_, Rule>) -> ClockTime {
        let text = pair.as_str().as_bytes();
        let two = |a: u8, b: u8| u32::from(a - b'0') * 10 + u32::from(b - b'0');
        ClockTime {
            hour: two(text[0], text[1]),
            minute: two(text[3], text[4]),
            span: self.span_of(&pair),
        }
    }

    fn lower_zone(&mut self, pair: Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(pair.as_str().to_string(), self.span_of(&pair))
    }

    fn lower_day_set(&mut self, pair: Pair<'_, Rule>) -> Lowered<DaySet> {
        let span = self.span_of(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::day_spec => items.push(self.lower_day_spec(p)?),
                Rule::comma => {}
                _ => return Err(shape_error(self.span_of(&p), "a day")),
            }
        }
        Ok(DaySet { items, span })
    }

    fn lower_day_spec(&mut self, pair: Pair<'_, Rule>) -> Lowered<DaySpec> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let first = self.lower_day_name(expect(&mut inner, span, Rule::day_name)?)?;
        if optional(&mut inner, Rule::window_dash).is_some() {
            let last = self.lower_day_name(expect(&mut inner, span, Rule::day_name)?)?;
            Ok(DaySpec::Range(first, last))
        } else {
            Ok(DaySpec::Day(first))
        }
    }

    fn lower_day_name(&mut self, pair: Pair<'_, Rule>) -> Lowered<Spanned<Weekday>> {
        let span = self.span_of(&pair);
        let day = match pair.as_str() {
            "mon" => Weekday::Mon,
            "tue" => Weekday::Tue,
            "wed" => Weekday::Wed,
            "thu" => Weekday::Thu,
            "fri" => Weekday::Fri,
            "sat" => Weekday::Sat,
            "sun" => Weekday::Sun,
            _ => return Err(shape_error(span, "a day name")),
        };
        Ok(Spanned::new(day, span))
    }

    fn lower_let_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<LetDecl> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_let)?;
        let name = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        expect(&mut inner, span, Rule::assign)?;
        let value = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?.expr;
        Ok(LetDecl { name, value, span })
    }

    fn lower_rule_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<RuleDecl> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_rule)?;
        let name = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        expect(&mut inner, span, Rule::colon)?;
        let mut clauses = Vec::new();
        for p in inner {
            clauses.push(self.lower_clause(p)?);
        }
        Ok(RuleDecl {
            name,
            clauses,
            span,
        })
    }

    // ---------------------------------------------------------- clauses

    fn lower_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Clause> {
        let span = self.span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::action_clause => ClauseKind::Action(self.lower_action_clause(pair)?),
            Rule::when_clause => ClauseKind::When(self.lower_when_clause(pair)?),
            Rule::size_clause => ClauseKind::Size(self.lower_size_clause(pair)?),
            Rule::stop_clause => ClauseKind::Stop(self.lower_stop_clause(pair)?),
            Rule::target_clause => ClauseKind::Target(self.lower_target_clause(pair)?),
            Rule::trail_clause => ClauseKind::Trail(self.lower_trail_clause(pair)?),
            Rule::exit_after_clause => ClauseKind::ExitAfter(self.lower_exit_after_clause(pair)?),
            Rule::exit_when_clause => ClauseKind::ExitWhen(self.lower_exit_when_clause(pair)?),
            Rule::pyramid_clause => ClauseKind::Pyramid(self.lower_pyramid_clause(pair)?),
            _ => return Err(shape_error(span, "a clause")),
        };
        Ok(Clause { kind, span })
    }

    fn lower_action_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<ActionClause> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let action = self.lower_action(expect(&mut inner, span, Rule::action)?)?;
        let symbol = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        let condition = match optional(&mut inner, Rule::condition) {
            Some(p) => Some(self.lower_condition(p)?),
            None => None,
        };
        Ok(ActionClause {
            action,
            symbol,
            condition,
        })
    }

    fn lower_action(&mut self, pair: Pair<'_, Rule>) -> Lowered<Spanned<Action>> {
        let span = self.span_of(&pair);
        let word = next(&mut pair.into_inner(), span, "an action")?;
        let action = match word.as_rule() {
            Rule::kw_buy => Action::Buy,
            Rule::kw_sell => Action::Sell,
            Rule::kw_short => Action::Short,
            Rule::kw_cover => Action::Cover,
            Rule::kw_exit => Action::Exit,
            _ => return Err(shape_error(span, "an action")),
        };
        Ok(Spanned::new(action, span))
    }

    fn lower_condition(&mut self, pair: Pair<'_, Rule>) -> Lowered<Condition> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let kw = next(&mut inner, span, "`if` or `when`")?;
        let keyword = match kw.as_rule() {
            Rule::kw_if => CondKeyword::If,
            Rule::kw_when => CondKeyword::When,
            _ => return Err(shape_error(span, "`if` or `when`")),
        };
        let keyword = Spanned::new(keyword, self.span_of(&kw));
        let expr = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?.expr;
        Ok(Condition { keyword, expr })
    }

    /// The expression after a clause's keyword(s).
    fn clause_expr(&mut self, pair: Pair<'_, Rule>, keywords: usize) -> Lowered<Expr> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        for _ in 0..keywords {
            next(&mut inner, span, "a keyword")?;
        }
        Ok(self.lower_expr(expect(&mut inner, span, Rule::expr)?)?.expr)
    }

    fn lower_when_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 1)
    }

    fn lower_stop_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 1)
    }

    fn lower_target_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 1)
    }

    fn lower_trail_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 1)
    }

    fn lower_exit_after_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 2)
    }

    fn lower_exit_when_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 2)
    }

    fn lower_pyramid_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 1)
    }

    fn lower_size_clause(&mut self, pair: Pair<'_, Rule>) -> Lowered<Sizing> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_size)?;
        self.lower_sizing(expect(&mut inner, span, Rule::sizing)?)
    }

    fn lower_sizing(&mut self, pair: Pair<'_, Rule>) -> Lowered<Sizing> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let base_pair = next(&mut inner, span, "a size")?;
        let base = match base_pair.as_rule() {
            Rule::size_risk => self.lower_size_risk(base_pair)?,
            Rule::size_target_vol => self.lower_size_target_vol(base_pair)?,
            Rule::size_amount => self.lower_size_amount(base_pair)?,
            _ => return Err(shape_error(self.span_of(&base_pair), "a size")),
        };
        let scaled_by = match optional(&mut inner, Rule::scaled_by) {
            Some(p) => Some(self.lower_scaled_by(p)?),
            None => None,
        };
        let max = match optional(&mut inner, Rule::size_cap) {
            Some(p) => Some(self.lower_size_cap(p)?),
            None => None,
        };
        Ok(Sizing {
            base,
            scaled_by,
            max,
            span,
        })
    }

    fn lower_size_risk(&mut self, pair: Pair<'_, Rule>) -> Lowered<SizeBase> {
        Ok(SizeBase::Risk(self.clause_expr(pair, 1)?))
    }

    fn lower_size_target_vol(&mut self, pair: Pair<'_, Rule>) -> Lowered<SizeBase> {
        Ok(SizeBase::TargetVol(self.clause_expr(pair, 1)?))
    }

    fn lower_size_amount(&mut self, pair: Pair<'_, Rule>) -> Lowered<SizeBase> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let amount = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?.expr;
        let unit = self.lower_size_unit(expect(&mut inner, span, Rule::size_unit)?)?;
        Ok(match unit {
            Rule::kw_units => SizeBase::Units(amount),
            Rule::kw_contracts => SizeBase::Contracts(amount),
            _ => SizeBase::PercentOfEquity(amount),
        })
    }

    /// Returns `kw_units`, `kw_contracts` or `of_equity`.
    fn lower_size_unit(&mut self, pair: Pair<'_, Rule>) -> Lowered<Rule> {
        let span = self.span_of(&pair);
        let unit = next(&mut pair.into_inner(), span, "a size unit")?;
        match unit.as_rule() {
            Rule::kw_units | Rule::kw_contracts => Ok(unit.as_rule()),
            Rule::of_equity => {
                self.lower_of_equity(unit);
                Ok(Rule::of_equity)
            }
            _ => Err(shape_error(span, "a size unit")),
        }
    }

    fn lower_of_equity(&mut self, _pair: Pair<'_, Rule>) {}

    fn lower_scaled_by(&mut self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        self.clause_expr(pair, 2)
    }

    fn lower_size_cap(&mut self, pair: Pair<'_, Rule>) -> Lowered<SizeCap> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_max)?;
        let amount = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?.expr;
        let unit = self.lower_size_unit(expect(&mut inner, span, Rule::size_unit)?)?;
        Ok(match unit {
            Rule::kw_units => SizeCap::Units(amount),
            Rule::kw_contracts => SizeCap::Contracts(amount),
            _ => SizeCap::PercentOfEquity(amount),
        })
    }

    // ------------------------------------------------------ expressions

    fn lower_expr(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let inner = next(&mut pair.into_inner(), span, "an expression")?;
        match inner.as_rule() {
            Rule::if_expr => self.lower_if_expr(inner),
            Rule::chain => self.lower_chain(inner),
            _ => Err(shape_error(span, "an expression")),
        }
    }

    fn lower_if_expr(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_if)?;
        let cond = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?;
        expect(&mut inner, span, Rule::kw_then)?;
        let then = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?;
        expect(&mut inner, span, Rule::kw_else)?;
        let otherwise = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?;
        let depth = 1 + cond.depth.max(then.depth).max(otherwise.depth);
        node(
            Expr {
                kind: ExprKind::If {
                    cond: Box::new(cond.expr),
                    then: Box::new(then.expr),
                    otherwise: Box::new(otherwise.expr),
                },
                span,
            },
            depth,
        )
    }

    fn lower_chain(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            if p.as_rule() == Rule::operand {
                self.lower_operand(p, &mut items)?;
            } else {
                let op_span = self.span_of(&p);
                items.push(ChainItem::Infix(self.lower_infix(p)?, op_span));
            }
        }
        // `climb` takes items from the back.
        items.reverse();
        let result = self.climb(&mut items, 0)?;
        match items.pop() {
            None => Ok(result),
            Some(ChainItem::Infix(op, op_span)) => Err(self.stray_operator(op, op_span, &result)),
            Some(_) => Err(shape_error(span, "an operator")),
        }
    }

    /// The error for an operator left over after climbing (only `within`).
    fn stray_operator(&self, op: Infix, op_span: Span, before: &Node) -> Diagnostic {
        if op == Infix::Within {
            Diagnostic::new(
                Code::Syntax,
                op_span,
                "`within` without `rises by` or `falls by` before it",
            )
            .with_label("nothing to complete here")
            .with_help(format!(
                "write `{} rises by AMOUNT within WINDOW` or `... falls by AMOUNT within WINDOW`",
                self.short_text(before.expr.span)
            ))
        } else {
            Diagnostic::new(
                Code::Syntax,
                op_span,
                format!("unexpected `{}`", op.as_str()),
            )
        }
    }

    /// The source text of a span, shortened for messages.
    fn short_text(&self, span: Span) -> String {
        let text = self.text(span);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 40 {
            let cut: String = text.chars().take(37).collect();
            format!("{cut}...")
        } else {
            text
        }
    }

    fn lower_infix(&mut self, pair: Pair<'_, Rule>) -> Lowered<Infix> {
        Ok(match pair.as_rule() {
            Rule::op_le => Infix::Binary(BinaryOp::Le),
            Rule::op_ge => Infix::Binary(BinaryOp::Ge),
            Rule::op_ne => Infix::Binary(BinaryOp::Ne),
            Rule::op_eq => Infix::Binary(BinaryOp::Eq),
            Rule::op_lt => Infix::Binary(BinaryOp::Lt),
            Rule::op_gt => Infix::Binary(BinaryOp::Gt),
            Rule::op_add => Infix::Binary(BinaryOp::Add),
            Rule::op_sub => Infix::Binary(BinaryOp::Sub),
            Rule::op_mul => Infix::Binary(BinaryOp::Mul),
            Rule::op_div => Infix::Binary(BinaryOp::Div),
            Rule::kw_and => Infix::Binary(BinaryOp::And),
            Rule::kw_or => Infix::Binary(BinaryOp::Or),
            Rule::kw_while => Infix::While,
            Rule::kw_exceeds => Infix::Phrase(PhraseOp::Exceeds),
            Rule::is_above => Infix::Phrase(PhraseOp::IsAbove),
            Rule::is_below => Infix::Phrase(PhraseOp::IsBelow),
            Rule::crosses_above => Infix::Phrase(PhraseOp::CrossesAbove),
            Rule::crosses_below => Infix::Phrase(PhraseOp::CrossesBelow),
            Rule::rises_by => Infix::Move(MoveDirection::Rises),
            Rule::falls_by => Infix::Move(MoveDirection::Falls),
            Rule::kw_within => Infix::Within,
            _ => return Err(shape_error(self.span_of(&pair), "an operator")),
        })
    }

    /// Pushes an operand's prefixes and its atom (primary with postfixes).
    fn lower_operand(&mut self, pair: Pair<'_, Rule>, items: &mut Vec<ChainItem>) -> Lowered<()> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner().peekable();
        while let Some(p) = inner.next_if(|p| matches!(p.as_rule(), Rule::kw_not | Rule::neg)) {
            let op = if p.as_rule() == Rule::kw_not {
                UnaryOp::Not
            } else {
                UnaryOp::Neg
            };
            items.push(ChainItem::Prefix(Spanned::new(op, self.span_of(&p))));
        }
        let primary = inner.next().ok_or_else(|| shape_error(span, "a value"))?;
        let mut atom = self.lower_primary(primary)?;
        for p in inner {
            atom = match p.as_rule() {
                Rule::index => self.lower_index(p, atom)?,
                Rule::field => self.lower_field(p, atom)?,
                _ => return Err(shape_error(self.span_of(&p), "`[` or `.`")),
            };
        }
        items.push(ChainItem::Atom(atom));
        Ok(())
    }

    fn lower_primary(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        match pair.as_rule() {
            Rule::paren => self.lower_paren(pair),
            Rule::in_session => self.lower_in_session(pair),
            Rule::percent => self.lower_percent(pair),
            Rule::duration => {
                let d = self.lower_duration(pair)?;
                Ok(leaf(ExprKind::Duration(d), span))
            }
            Rule::bars => self.lower_bars(pair),
            Rule::number => {
                let n = self.lower_number(pair)?;
                Ok(leaf(ExprKind::Number(n), span))
            }
            Rule::string => {
                let s = self.lower_string(pair)?;
                Ok(leaf(ExprKind::String(s.node), span))
            }
            Rule::kw_true => Ok(leaf(ExprKind::Bool(true), span)),
            Rule::kw_false => Ok(leaf(ExprKind::Bool(false), span)),
            Rule::reference => self.lower_reference(pair),
            _ => Err(shape_error(span, "a value")),
        }
    }

    fn lower_paren(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::paren_open)?;
        let e = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?;
        node(
            Expr {
                kind: ExprKind::Paren(Box::new(e.expr)),
                span,
            },
            e.depth + 1,
        )
    }

    fn lower_in_session(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::kw_in)?;
        let name = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        Ok(leaf(ExprKind::InSession(name), span))
    }

    fn lower_reference(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let ident = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        match optional(&mut inner, Rule::args) {
            None => Ok(leaf(ExprKind::Name(ident), span)),
            Some(args) => {
                let (args, depth) = self.lower_args(args)?;
                node(
                    Expr {
                        kind: ExprKind::Call { func: ident, args },
                        span,
                    },
                    depth + 1,
                )
            }
        }
    }

    /// The argument expressions and the depth of the deepest one.
    fn lower_args(&mut self, pair: Pair<'_, Rule>) -> Lowered<(Vec<Expr>, u32)> {
        let mut args = Vec::new();
        let mut depth = 0;
        for p in pair.into_inner() {
            if p.as_rule() == Rule::expr {
                let arg = self.lower_expr(p)?;
                depth = depth.max(arg.depth);
                args.push(arg.expr);
            }
        }
        Ok((args, depth))
    }

    fn lower_index(&mut self, pair: Pair<'_, Rule>, base: Node) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::bracket_open)?;
        let offset = self.lower_expr(expect(&mut inner, span, Rule::expr)?)?;
        let depth = 1 + base.depth.max(offset.depth);
        node(
            Expr {
                span: base.expr.span.to(span),
                kind: ExprKind::Index {
                    base: Box::new(base.expr),
                    offset: Box::new(offset.expr),
                },
            },
            depth,
        )
    }

    fn lower_field(&mut self, pair: Pair<'_, Rule>, base: Node) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        expect(&mut inner, span, Rule::dot)?;
        let ident = self.lower_ident(expect(&mut inner, span, Rule::ident)?);
        let field = match ident.name.as_str() {
            "open" => Field::Open,
            "high" => Field::High,
            "low" => Field::Low,
            "close" => Field::Close,
            "volume" => Field::Volume,
            other => {
                const FIELDS: [&str; 5] = ["open", "high", "low", "close", "volume"];
                let mut diag = Diagnostic::new(
                    Code::UnknownField,
                    ident.span,
                    format!("unknown field `{other}`"),
                )
                .with_label("bars have no such field");
                diag = match suggest(other, &FIELDS) {
                    Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                    None => diag.with_help(
                        "bars have the fields `open`, `high`, `low`, `close` and `volume`",
                    ),
                };
                return Err(diag);
            }
        };
        let depth = base.depth + 1;
        node(
            Expr {
                span: base.expr.span.to(span),
                kind: ExprKind::Field {
                    base: Box::new(base.expr),
                    field: Spanned::new(field, ident.span),
                },
            },
            depth,
        )
    }

    /// Precedence climbing over a reversed flat chain.
    ///
    /// Recursion is bounded: one level per binding power plus one per prefix
    /// operator in a run, and runs are limited by the scan.
    fn climb(&mut self, items: &mut Vec<ChainItem>, min_power: u8) -> Lowered<Node> {
        let mut lhs = match items.pop() {
            Some(ChainItem::Atom(atom)) => atom,
            Some(ChainItem::Prefix(op)) => {
                let operand_power = match op.node {
                    UnaryOp::Not => BP_NOT_OPERAND,
                    UnaryOp::Neg => BP_NEG_OPERAND,
                };
                let operand = self.climb(items, operand_power)?;
                let depth = operand.depth + 1;
                node(
                    Expr {
                        span: op.span.to(operand.expr.span),
                        kind: ExprKind::Unary {
                            op,
                            operand: Box::new(operand.expr),
                        },
                    },
                    depth,
                )?
            }
            Some(ChainItem::Infix(_, span)) => return Err(shape_error(span, "an operand")),
            None => return Err(shape_error(Span::new(0, 0), "an operand")),
        };
        while let Some(&ChainItem::Infix(op, op_span)) = items.last() {
            let power = op.power();
            if power < min_power || op == Infix::Within {
                break;
            }
            items.pop();
            lhs = match op {
                Infix::Binary(bop) => {
                    let rhs = self.climb(items, power + 1)?;
                    let depth = 1 + lhs.depth.max(rhs.depth);
                    let span = lhs.expr.span.to(rhs.expr.span);
                    let kind = ExprKind::Binary {
                        op: Spanned::new(bop, op_span),
                        lhs: Box::new(lhs.expr),
                        rhs: Box::new(rhs.expr),
                    };
                    node(Expr { kind, span }, depth)?
                }
                Infix::Phrase(phrase) => {
                    let rhs = self.climb(items, power + 2)?;
                    let depth = 1 + lhs.depth.max(rhs.depth);
                    let span = lhs.expr.span.to(rhs.expr.span);
                    node(
                        Expr {
                            kind: ExprKind::Compare {
                                op: Spanned::new(phrase, op_span),
                                lhs: Box::new(lhs.expr),
                                rhs: Box::new(rhs.expr),
                            },
                            span,
                        },
                        depth,
                    )?
                }
                Infix::Move(direction) => {
                    let amount = self.climb(items, power + 2)?;
                    match items.last() {
                        Some(ChainItem::Infix(Infix::Within, _)) => {
                            items.pop();
                        }
                        _ => {
                            return Err(self.missing_within(direction, op_span, &lhs, &amount));
                        }
                    }
                    let window = self.climb(items, power + 2)?;
                    let depth = 1 + lhs.depth.max(amount.depth).max(window.depth);
                    let span = lhs.expr.span.to(window.expr.span);
                    node(
                        Expr {
                            kind: ExprKind::Move {
                                direction: Spanned::new(direction, op_span),
                                subject: Box::new(lhs.expr),
                                amount: Box::new(amount.expr),
                                window: Box::new(window.expr),
                            },
                            span,
                        },
                        depth,
                    )?
                }
                Infix::While => {
                    let rhs = self.climb(items, power + 1)?;
                    let depth = 1 + lhs.depth.max(rhs.depth);
                    let span = lhs.expr.span.to(rhs.expr.span);
                    node(
                        Expr {
                            kind: ExprKind::While {
                                lhs: Box::new(lhs.expr),
                                rhs: Box::new(rhs.expr),
                            },
                            span,
                        },
                        depth,
                    )?
                }
                Infix::Within => unreachable!("`within` stops the loop above"),
            };
            if op.is_comparison()
                && let Some(ChainItem::Infix(next_op, next_span)) = items.last()
                && next_op.is_comparison()
                && *next_op != Infix::Within
            {
                let (next_op, next_span) = (*next_op, *next_span);
                return Err(self.chained_comparison(&lhs, op, op_span, next_op, next_span, items));
            }
        }
        Ok(lhs)
    }

    /// `X falls by P` without `within W`.
    fn missing_within(
        &self,
        direction: MoveDirection,
        op_span: Span,
        subject: &Node,
        amount: &Node,
    ) -> Diagnostic {
        let word = match direction {
            MoveDirection::Rises => "rises by",
            MoveDirection::Falls => "falls by",
        };
        let end = amount.expr.span.end as usize;
        let span = match self.scan.token_at(end) {
            Some(t) => t.span,
            None => Span::new(end, end),
        };
        let found = self.describe_found(end);
        Diagnostic::new(
            Code::Syntax,
            span,
            format!(
                "expected `within` after `{word} {}`, found {found}",
                self.short_text(amount.expr.span)
            ),
        )
        .with_label("expected `within WINDOW` here")
        .with_secondary(op_span, format!("`{word}` needs a time window"))
        .with_help(format!(
            "say over which window the move is measured, e.g. `{} {word} {} within 1d`",
            self.short_text(subject.expr.span),
            self.short_text(amount.expr.span)
        ))
    }

    /// `a < b < c`: `done` is `a < b`, the next operator is `next_op`.
    fn chained_comparison(
        &mut self,
        done: &Node,
        first: Infix,
        first_span: Span,
        next_op: Infix,
        next_span: Span,
        items: &mut Vec<ChainItem>,
    ) -> Diagnostic {
        let mut diag = Diagnostic::new(
            Code::ChainedComparison,
            next_span,
            "comparisons cannot be chained",
        )
        .with_label(format!(
            "`{}` cannot follow another comparison",
            next_op.as_str()
        ))
        .with_secondary(first_span, "the first comparison");
        // Recover the three operands to write the suggestion.
        let (a, b) = match &done.expr.kind {
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => {
                (Some(lhs.span), Some(rhs.span))
            }
            _ => (None, None),
        };
        items.pop();
        let c = self.climb(items, BP_ADDITIVE).ok().map(|n| n.expr.span);
        if let (Some(a), Some(b), Some(c)) = (a, b, c)
            && !matches!(first, Infix::Move(_))
        {
            let (a, b, c) = (self.short_text(a), self.short_text(b), self.short_text(c));
            diag = diag.with_help(format!(
                "compare twice and join with `and`: `{a} {} {b} and {b} {} {c}`",
                first.as_str(),
                next_op.as_str()
            ));
        } else {
            diag = diag.with_help("compare twice and join the comparisons with `and`");
        }
        diag
    }

    // --------------------------------------------------------- literals

    fn lower_ident(&mut self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span_of(&pair),
        }
    }

    fn lower_number(&mut self, pair: Pair<'_, Rule>) -> Lowered<f64> {
        self.number_value(pair.as_str(), self.span_of(&pair))
    }

    fn number_value(&self, text: &str, span: Span) -> Lowered<f64> {
        if text.matches('.').count() > 1 {
            return Err(Diagnostic::new(
                Code::InvalidLiteral,
                span,
                format!("invalid number `{text}`"),
            )
            .with_label("more than one decimal point")
            .with_help("a number has at most one `.`, like `1.5`"));
        }
        let clean: String = text.chars().filter(|c| *c != '_').collect();
        match clean.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(Diagnostic::new(
                Code::InvalidLiteral,
                span,
                format!("number `{text}` is too large"),
            )),
        }
    }

    fn lower_percent(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let text = pair.as_str();
        let number = &text[..text.len() - 1];
        let value = self.number_value(
            number,
            Span::new(span.start as usize, span.end as usize - 1),
        )?;
        Ok(leaf(ExprKind::Percent(value / 100.0), span))
    }

    fn count_value(&self, digits: &str, span: Span, what: &str) -> Lowered<u64> {
        let clean: String = digits.chars().filter(|c| *c != '_').collect();
        clean.parse::<u64>().map_err(|_| {
            Diagnostic::new(
                Code::InvalidLiteral,
                span,
                format!("{what} `{}` is too large", self.text(span)),
            )
            .with_label(format!("at most {} fits", u64::MAX))
        })
    }

    fn lower_duration(&mut self, pair: Pair<'_, Rule>) -> Lowered<Duration> {
        let span = self.span_of(&pair);
        let text = pair.as_str();
        let (digits, suffix) = text.split_at(text.len() - 1);
        let unit = match suffix {
            "s" => TimeUnit::Seconds,
            "m" => TimeUnit::Minutes,
            "h" => TimeUnit::Hours,
            "d" => TimeUnit::Days,
            "w" => TimeUnit::Weeks,
            _ => return Err(shape_error(span, "a duration unit")),
        };
        let count = self.count_value(digits, span, "duration")?;
        Ok(Duration { count, unit })
    }

    fn lower_bars(&mut self, pair: Pair<'_, Rule>) -> Lowered<Node> {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let digits = expect(&mut inner, span, Rule::digits)?;
        let count = self.count_value(digits.as_str(), span, "bar count")?;
        expect(&mut inner, span, Rule::kw_bars)?;
        Ok(leaf(ExprKind::Bars(count), span))
    }

    fn lower_string(&mut self, pair: Pair<'_, Rule>) -> Lowered<Spanned<String>> {
        let span = self.span_of(&pair);
        let text = expect(&mut pair.into_inner(), span, Rule::string_text)?;
        let start = text.as_span().start();
        let raw = text.as_str();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                other => {
                    let len = 1 + other.map_or(0, |(_, c)| c.len_utf8());
                    return Err(Diagnostic::new(
                        Code::InvalidEscape,
                        Span::new(start + i, start + i + len),
                        "unknown escape in a string",
                    ));
                }
            }
        }
        Ok(Spanned::new(out, span))
    }

    // ---------------------------------------------------- syntax errors

    /// Describes the token at `pos` for "found ..." in messages.
    fn describe_found(&self, pos: usize) -> String {
        match self.scan.token_at(pos) {
            None => "end of file".to_string(),
            Some(t) => {
                let text = self.text(t.span);
                match t.kind {
                    TokKind::Str => "a string".to_string(),
                    TokKind::Word if scan::is_keyword(text) => format!("keyword `{text}`"),
                    _ => format!("`{}`", self.short_text(t.span)),
                }
            }
        }
    }

    /// Translates a pest error into a diagnostic in the trader's words.
    fn syntax_error(&self, err: &pest::error::Error<Rule>) -> Diagnostic {
        let pos = match err.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
        let positives: Vec<Rule> = match &err.variant {
            ErrorVariant::ParsingError { positives, .. } => positives.clone(),
            // pest's own call and stack limits; the scan normally stops deep
            // input long before them.
            ErrorVariant::CustomError { .. } => {
                return Diagnostic::new(
                    Code::NestingTooDeep,
                    Span::new(pos, pos),
                    "expression nested too deeply",
                )
                .with_help("split the expression into several `let` declarations");
            }
        };
        let token = self.scan.token_at(pos);
        let span = match token {
            Some(t) if (t.span.start as usize) <= pos => Span::new(pos, t.span.end as usize),
            _ => Span::new(pos, pos),
        };
        let found_text = token
            .filter(|t| (t.span.start as usize) <= pos)
            .map(|t| self.text(t.span));
        let found = self.describe_found(pos);
        let prev_token = self.scan.token_before(pos);
        let prev = prev_token.map(|t| self.text(t.span));
        // The declaration keyword two tokens back (`symbol gold ^`).
        let declaring = prev_token
            .and_then(|t| self.scan.token_before(t.span.start as usize))
            .map(|t| self.text(t.span))
            .filter(|w| DECLARATION_WORDS.contains(w));

        if let Some(closer @ (")" | "]")) = found_text
            && self.scan.unmatched_closers.contains(&pos)
        {
            let opener = if closer == ")" { "(" } else { "[" };
            return Diagnostic::new(Code::Syntax, span, format!("unmatched `{closer}`"))
                .with_label(format!("no `{opener}` before this"))
                .with_help(format!("remove it, or add the `{opener}` it closes"));
        }

        let expected = Expected::from_rules(&positives);

        // A keyword where a declaration's name is needed.
        if expected.name_only()
            && let Some(word) = found_text
            && scan::is_keyword(word)
            && let Some(kind @ ("symbol" | "series" | "param" | "session" | "let" | "rule")) = prev
        {
            return Diagnostic::new(
                Code::Syntax,
                span,
                format!("`{word}` is a reserved word and cannot be used as a {kind} name"),
            )
            .with_label("reserved word")
            .with_help(format!(
                "choose another name, such as `{word}_level` or `my_{word}`"
            ));
        }

        let mut diag = match expected.message(prev, declaring) {
            Some(what) => Diagnostic::new(Code::Syntax, span, format!("{what}, found {found}")),
            None => Diagnostic::new(Code::Syntax, span, format!("unexpected {found}")),
        };
        if let Some(ascii) = found_text.and_then(ascii_lookalike) {
            return diag.with_help(format!("this character is not ASCII: write {ascii}"));
        }
        let unit_word = found_text.map(|t| t.trim_start_matches(|c: char| c.is_ascii_digit()));
        if let Some(word) = unit_word
            && let Some(unit) = duration_unit_word(word)
        {
            let glued = found_text.map_or("", |t| &t[..t.len() - word.len()]);
            let count = match (glued, prev) {
                ("", Some(p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p,
                ("", _) => "3",
                (n, _) => n,
            };
            let help = if unit == "bars" {
                format!("a bar count is written with `bars`: `{count} bars`")
            } else {
                format!(
                    "write a duration as a whole number and a unit letter: `{count}{unit}` \
                     (units `s`, `m`, `h`, `d`, `w`)"
                )
            };
            diag = diag.with_help(help);
        } else if found_text == Some(".")
            && self.src[pos + 1..].starts_with(|c: char| c.is_ascii_digit())
        {
            diag = diag.with_help("a number starts with a digit: write `0.5`, not `.5`");
        } else if found_text == Some("=") && expected.operator {
            diag = diag.with_help("to compare two values write `==`");
        } else if found_text.is_some_and(|t| t.starts_with(|c: char| c.is_ascii_alphabetic()))
            && expected.other.contains(&rule_name(Rule::string))
        {
            diag = diag.with_help("put the text in double quotes: `\"...\"`");
        } else if let Some(help) = expected.help(prev, found_text) {
            diag = diag.with_help(help);
        }
        for (closer, opener) in [(Rule::paren_close, "("), (Rule::bracket_close, "[")] {
            if expected.other.contains(&rule_name(closer))
                && let Some(open) = self.unclosed_before(pos, opener)
            {
                diag = diag.with_secondary(open, format!("this `{opener}` is not closed"));
            }
        }
        diag
    }

    /// The innermost `opener` before `pos` that is not closed before it.
    fn unclosed_before(&self, pos: usize, opener: &str) -> Option<Span> {
        let closer = if opener == "(" { ")" } else { "]" };
        let end = self
            .scan
            .tokens
            .partition_point(|t| (t.span.end as usize) <= pos);
        let mut depth = 0usize;
        for t in self.scan.tokens[..end].iter().rev() {
            if t.kind != TokKind::Punct {
                continue;
            }
            let text = self.text(t.span);
            if text == closer {
                depth += 1;
            } else if text == opener {
                if depth == 0 {
                    return Some(t.span);
                }
                depth -= 1;
            }
        }
        None
    }
}

/// What the grammar expected at an error, grouped for a readable message.
#[derive(Default)]
struct Expected {
    expression: bool,
    operator: bool,
    clause: bool,
    declaration: bool,
    end_of_file: bool,
    name: bool,
    /// Other specific things, by their human names.
    other: Vec<&'static str>,
}

/// Clause keywords, for "did you mean".
const CLAUSE_WORDS: &[&str] = &[
    "buy", "sell", "short", "cover", "exit", "when", "size", "stop", "target", "trail", "pyramid",
];

/// Declaration keywords, for "did you mean".
const DECLARATION_WORDS: &[&str] = &[
    "strategy", "symbol", "series", "param", "session", "let", "rule",
];

impl Expected {
    fn from_rules(rules: &[Rule]) -> Expected {
        let mut e = Expected::default();
        let mut literals = Vec::new();
        for &rule in rules {
            match rule {
                Rule::expr
                | Rule::if_expr
                | Rule::chain
                | Rule::operand
                | Rule::paren
                | Rule::in_session
                | Rule::reference
                | Rule::kw_not
                | Rule::neg
                | Rule::kw_in => e.expression = true,
                // Literals alone (`@ 4h`, `strategy "..."`) are named as such.
                Rule::percent
                | Rule::duration
                | Rule::bars
                | Rule::number
                | Rule::digits
                | Rule::string
                | Rule::kw_true
                | Rule::kw_false => literals.push(rule_name(rule)),
                Rule::op_le
                | Rule::op_ge
                | Rule::op_ne
                | Rule::op_eq
                | Rule::op_lt
                | Rule::op_gt
                | Rule::op_add
                | Rule::op_sub
                | Rule::op_mul
                | Rule::op_div
                | Rule::kw_and
                | Rule::kw_or
                | Rule::kw_while
                | Rule::kw_exceeds
                | Rule::is_above
                | Rule::is_below
                | Rule::crosses_above
                | Rule::crosses_below
                | Rule::rises_by
                | Rule::falls_by
                | Rule::kw_within
                | Rule::kw_is
                | Rule::kw_crosses
                | Rule::kw_rises
                | Rule::kw_falls
                | Rule::index
                | Rule::field
                | Rule::bracket_open
                | Rule::dot => e.operator = true,
                Rule::action_clause
                | Rule::action
                | Rule::when_clause
                | Rule::size_clause
                | Rule::stop_clause
                | Rule::target_clause
                | Rule::trail_clause
                | Rule::exit_after_clause
                | Rule::exit_when_clause
                | Rule::pyramid_clause
                | Rule::kw_buy
                | Rule::kw_sell
                | Rule::kw_short
                | Rule::kw_cover
                | Rule::kw_exit
                | Rule::kw_size
                | Rule::kw_stop
                | Rule::kw_target
                | Rule::kw_trail
                | Rule::kw_pyramid => e.clause = true,
                Rule::strategy_decl
                | Rule::symbol_decl
                | Rule::series_decl
                | Rule::param_decl
                | Rule::session_decl
                | Rule::let_decl
                | Rule::rule_decl
                | Rule::kw_strategy
                | Rule::kw_symbol
                | Rule::kw_series
                | Rule::kw_param
                | Rule::kw_session
                | Rule::kw_let
                | Rule::kw_rule
                | Rule::file
                | Rule::item => e.declaration = true,
                Rule::EOI => e.end_of_file = true,
                Rule::ident => e.name = true,
                other => {
                    let name = rule_name(other);
                    if !e.other.contains(&name) {
                        e.other.push(name);
                    }
                }
            }
        }
        if !e.expression {
            for name in literals {
                if !e.other.contains(&name) {
                    e.other.push(name);
                }
            }
        }
        // `(` after a name is a call; with operators around it is noise.
        if e.operator || e.expression {
            e.other.retain(|n| *n != rule_name(Rule::paren_open));
        }
        // `20 bars` was tried where a number was complete; not what a trader meant.
        if e.operator {
            e.other.retain(|n| *n != rule_name(Rule::kw_bars));
        }
        // `when` continues an action and also starts a clause.
        if e.clause {
            e.other
                .retain(|n| *n != rule_name(Rule::condition) && *n != rule_name(Rule::kw_when));
        }
        e
    }

    fn name_only(&self) -> bool {
        self.name && !self.expression && !self.operator && self.other.is_empty()
    }

    /// "expected ..." (without the "found" part).
    fn message(&self, prev: Option<&str>, declaring: Option<&str>) -> Option<String> {
        if self.expression && !self.operator {
            let what = match prev {
                Some("if") => Some("a condition after `if`"),
                Some("when") => Some("a condition after `when`"),
                Some("while") => Some("a condition after `while`"),
                Some("then") => Some("a value after `then`"),
                Some("else") => Some("a value after `else`"),
                Some("not") => Some("a condition after `not`"),
                _ => None,
            };
            if let Some(what) = what {
                return Some(format!("expected {what}"));
            }
        }
        let mut parts: Vec<String> = self.other.iter().map(|s| s.to_string()).collect();
        if self.name && !self.expression {
            let what = match prev {
                Some(kind @ ("symbol" | "series" | "param" | "session" | "let" | "rule")) => {
                    format!("a {kind} name after `{kind}`")
                }
                Some(action @ ("buy" | "sell" | "short" | "cover" | "exit")) => {
                    format!("a symbol name after `{action}`")
                }
                Some("in") => "a session name after `in`".to_string(),
                Some(".") => "a field name after `.`".to_string(),
                _ => "a name".to_string(),
            };
            parts.insert(0, what);
        }
        if self.expression {
            parts.push("an expression".to_string());
        }
        if self.operator {
            parts.push("an operator".to_string());
        }
        if self.clause {
            parts.push("a clause".to_string());
        }
        if self.declaration {
            parts.push("a declaration".to_string());
        } else if self.end_of_file {
            parts.push("end of file".to_string());
        }
        if parts.is_empty() {
            return None;
        }
        // Name the place for single punctuation expectations.
        if parts.len() == 1 && self.other.len() == 1 {
            if let ("`=`", Some(kind)) = (self.other[0], declaring) {
                return Some(format!("expected `=` after the {kind} name"));
            }
            let after = match (self.other[0], prev) {
                ("`=`", Some(_)) => Some("after the name"),
                ("`:`", Some(_)) => Some("after the rule name"),
                ("`above` or `below`", Some(w)) => Some(if w == "is" {
                    "after `is`"
                } else {
                    "after `crosses`"
                }),
                _ => None,
            };
            if let Some(after) = after {
                return Some(format!("expected {} {after}", parts[0]));
            }
        }
        Some(format!("expected {}", join_or(&parts)))
    }

    fn help(&self, prev: Option<&str>, found: Option<&str>) -> Option<String> {
        if let Some(word) = found
            && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        {
            let mut candidates: Vec<&str> = Vec::new();
            if self.clause {
                candidates.extend(CLAUSE_WORDS);
            }
            if self.declaration {
                candidates.extend(DECLARATION_WORDS);
            }
            if let Some(s) = suggest(word, &candidates) {
                return Some(format!("did you mean `{s}`?"));
            }
            if self.clause && !scan::is_keyword(word) {
                return Some(
                    "a rule's clauses start with `buy`, `sell`, `short`, `cover`, `exit`, \
                     `when`, `size`, `stop`, `target`, `trail` or `pyramid`"
                        .to_string(),
                );
            }
        }
        if self.declaration && !self.clause && found.is_some_and(|w| CLAUSE_WORDS.contains(&w)) {
            return Some("clauses belong to a rule: start one with `rule NAME:`".to_string());
        }
        if self.other.contains(&rule_name(Rule::duration)) {
            return Some("a duration has a unit: `30s`, `15m`, `4h`, `1d` or `1w`".to_string());
        }
        if self.other.contains(&rule_name(Rule::param_value)) {
            return Some(
                "a param's value is a literal (like `1.5%`, `20`, `4h`); use `let` for a computed value"
                    .to_string(),
            );
        }
        if self.other.contains(&rule_name(Rule::kw_then))
            || self.other.contains(&rule_name(Rule::kw_else))
        {
            return Some("an `if` expression is written `if COND then A else B`".to_string());
        }
        if self.other.contains(&rule_name(Rule::colon)) {
            return Some("a rule starts with `rule NAME:` followed by its clauses".to_string());
        }
        if self.other.contains(&rule_name(Rule::zone)) {
            return Some(
                "write the time zone after the windows, e.g. `09:00-15:00 Asia/Tokyo mon-fri`"
                    .to_string(),
            );
        }
        if self.other.contains(&rule_name(Rule::assign)) && prev.is_some() {
            return Some("a declaration is written `KIND NAME = ...`".to_string());
        }
        None
    }
}

/// The candidate a misspelt `word` most likely meant: a close edit, or else
/// the longest shared beginning of at least three letters (`sizing` -> `size`).
fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if let Some(s) = did_you_mean(word, candidates.iter().copied()) {
        return Some(s);
    }
    let shared = |c: &str| {
        word.bytes()
            .zip(c.bytes())
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count()
    };
    candidates
        .iter()
        .copied()
        .map(|c| (shared(c), c))
        .filter(|(n, _)| *n >= 3)
        .max_by_key(|(n, _)| *n)
        .map(|(_, c)| c)
}

/// The ASCII spelling of a typographic character pasted from a document.
fn ascii_lookalike(found: &str) -> Option<&'static str> {
    Some(match found.chars().next()? {
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => "a straight quote `\"`",
        '\u{2265}' => "`>=`",
        '\u{2264}' => "`<=`",
        '\u{2260}' => "`!=`",
        '\u{2212}' | '\u{2013}' | '\u{2014}' => "a plain minus `-`",
        '\u{00D7}' => "`*`",
        '\u{00F7}' => "`/`",
        _ => return None,
    })
}

/// The unit a trader meant by a spelt-out unit word (`days` -> `d`).
fn duration_unit_word(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "sec" | "secs" | "second" | "seconds" => "s",
        "min" | "mins" | "minute" | "minutes" => "m",
        "hr" | "hrs" | "hour" | "hours" => "h",
        "day" | "days" => "d",
        "wk" | "wks" | "week" | "weeks" => "w",
        "bar" => "bars",
        _ => return None,
    })
}

/// "a, b or c".
fn join_or(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
