//! The engine: the evaluator, the rules, the book and the statistics, driven
//! one tick at a time. Historical runs and live mode call the same
//! [`Engine::on_tick`].

use super::book::{self, Book, Distance, Event, ExitPlan, Intent, Order};
use super::eval::Evaluator;
use super::sizing::{self, NoOrder, SizeBase, SizeCap, SizeInput};
use crate::compile::{CapSpec, Explain, HoldSpec, NodeId, Plan, RulePlan, SizeSpec, Unit};
use crate::data::ClosedBar;
use crate::report::metrics::{Metrics, Summary};
use crate::syntax::ast::Action;
use jiff::{SignedDuration, Timestamp};
use std::collections::VecDeque;
use std::sync::Arc;

/// Settings of a run that do not come from the strategy file.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// Starting equity in the account currency.
    pub equity: f64,
    pub fill: book::FillPolicy,
    /// `instruments[i]` trades symbol i of the plan.
    pub instruments: Vec<book::Instrument>,
    /// Sizing for rules without a `size` clause.
    pub default_size: SizeBase,
    /// Bar spacing per symbol (sizes wall-clock windows).
    pub spacing: Vec<SignedDuration>,
}

/// One signal: a rule's condition became true and asked for an action.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// The tick (the bar close at which the rule fired).
    pub time: Timestamp,
    /// The rule's and the acting symbol's names (shared, not copied per
    /// signal).
    pub rule: Arc<str>,
    pub symbol: Arc<str>,
    /// `buy`, `sell`, `short`, `cover`, `exit`.
    pub action: &'static str,
    /// 0 when sizing gave no order (the reason says why).
    pub quantity: f64,
    /// The acting symbol's close at the tick.
    pub price: f64,
    pub fill_time: Option<Timestamp>,
    pub fill_price: Option<f64>,
    pub reason: String,
}

/// A closed trade with names resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct TradeRow {
    pub symbol: Arc<str>,
    pub rule: Arc<str>,
    pub trade: book::Trade,
}

/// The account at a tick.
#[derive(Clone, Debug, PartialEq)]
pub struct EquityRow {
    pub time: Timestamp,
    pub equity: f64,
    pub cash: f64,
    pub exposure: f64,
    pub drawdown: f64,
}

/// Where the engine's outputs go (CSV writers, a table, a test's vectors).
pub trait Sink {
    fn signal(&mut self, signal: &Signal);
    fn trade(&mut self, trade: &TradeRow);
    fn equity(&mut self, row: &EquityRow);
}

/// A sink that drops every row (for `eval`, which reads the evaluator).
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    fn signal(&mut self, _: &Signal) {}
    fn trade(&mut self, _: &TradeRow) {}
    fn equity(&mut self, _: &EquityRow) {}
}

/// A sink that keeps everything in memory (tests, small runs).
#[derive(Clone, Debug, Default)]
pub struct Collect {
    pub signals: Vec<Signal>,
    pub trades: Vec<TradeRow>,
    pub equity: Vec<EquityRow>,
}

impl Sink for Collect {
    fn signal(&mut self, signal: &Signal) {
        self.signals.push(signal.clone());
    }
    fn trade(&mut self, trade: &TradeRow) {
        self.trades.push(trade.clone());
    }
    fn equity(&mut self, row: &EquityRow) {
        self.equity.push(row.clone());
    }
}

/// A [`Signal`] waiting for its order to fill, without the names (the
/// sink sees it through the rule's [`Engine::signal_out`]).
#[derive(Clone, Debug)]
struct PendingSignal {
    time: Timestamp,
    action: &'static str,
    quantity: f64,
    price: f64,
    fill_time: Option<Timestamp>,
    fill_price: Option<f64>,
    reason: String,
    /// Waiting for this rule's order on this symbol to fill.
    rule: u32,
    symbol: usize,
    done: bool,
}

/// A running strategy.
#[derive(Clone, Debug)]
pub struct Engine {
    plan: Plan,
    /// The plan's rule and symbol names, shared by every signal and trade.
    rule_names: Vec<Arc<str>>,
    symbol_names: Vec<Arc<str>>,
    eval: Evaluator,
    book: Book,
    metrics: Metrics,
    settings: RunSettings,
    queue: VecDeque<PendingSignal>,
    /// Per rule: an order submitted and not yet filled.
    rule_pending: Vec<bool>,
    /// Per rule: its `exit when` and entry conditions (the test of every
    /// tick, without reading the whole rule).
    triggers: Vec<(Option<NodeId>, Option<NodeId>)>,
    /// Every rule's conditions, and whether a rule has none (runs at every
    /// tick): when none is true, no rule needs a look.
    watch: Vec<NodeId>,
    unconditional: bool,
    events: Vec<Event>,
    ignored: u64,
    /// False while warming up before `--from`: rules do not run.
    trading: bool,
    /// Per rule, the signal handed to the sink, with the rule's and its
    /// symbol's names (filled from a [`PendingSignal`], so that a signal
    /// clones no name).
    signal_out: Vec<Signal>,
    /// Per rule, the last trade row handed to the sink (likewise).
    trade_out: Vec<Option<TradeRow>>,
    /// Reasons of signals already written, emptied, to be rendered into
    /// again (a signal allocates nothing once the run is warm).
    spare: Vec<String>,
}

impl Engine {
    /// A flat engine for `plan`.
    pub fn new(plan: Plan, settings: RunSettings) -> Engine {
        let eval = Evaluator::new(&plan, &settings.spacing);
        let book = Book::new(settings.instruments.clone(), settings.equity, settings.fill);
        let rule_names: Vec<Arc<str>> = plan
            .rules
            .iter()
            .map(|r| Arc::from(r.name.as_str()))
            .collect();
        let symbol_names: Vec<Arc<str>> = plan
            .symbols
            .iter()
            .map(|s| Arc::from(s.name.as_str()))
            .collect();
        Engine {
            rule_pending: vec![false; plan.rules.len()],
            triggers: plan
                .rules
                .iter()
                .map(|r| (r.exit_when, r.condition))
                .collect(),
            watch: plan
                .rules
                .iter()
                .flat_map(|r| r.exit_when.into_iter().chain(r.condition))
                .collect(),
            unconditional: plan.rules.iter().any(|r| r.condition.is_none()),
            metrics: Metrics::new(settings.equity),
            signal_out: plan
                .rules
                .iter()
                .zip(&rule_names)
                .map(|(r, name)| Signal {
                    time: Timestamp::MIN,
                    rule: Arc::clone(name),
                    symbol: Arc::clone(&symbol_names[r.symbol as usize]),
                    action: "",
                    quantity: 0.0,
                    price: f64::NAN,
                    fill_time: None,
                    fill_price: None,
                    reason: String::new(),
                })
                .collect(),
            trade_out: vec![None; plan.rules.len()],
            rule_names,
            symbol_names,
            plan,
            eval,
            book,
            settings,
            queue: VecDeque::new(),
            events: Vec::with_capacity(16),
            ignored: 0,
            trading: true,
            spare: Vec::new(),
        }
    }

    /// The evaluator (for `eval` outputs).
    pub fn evaluator(&self) -> &Evaluator {
        &self.eval
    }

    /// The plan being run.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Whether rules run (false while warming up before the run's start).
    pub fn set_trading(&mut self, trading: bool) {
        self.trading = trading;
    }

    /// Entries ignored because the position was already held (no pyramid).
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Processes one tick: the bars closing now (symbol index, bar) and the
    /// series values becoming visible now.
    pub fn on_tick(
        &mut self,
        time: Timestamp,
        bars: &[(usize, ClosedBar)],
        series: &[(usize, f64)],
        sink: &mut impl Sink,
    ) {
        // 1. Bars: fills at their open, protective exits inside them.
        for (sym, bar) in bars {
            let sym = *sym;
            self.book.on_bar(sym, &bar.bar, &mut self.events);
            self.eval.bar(sym, bar);
            self.drain_events(sink);
        }
        for &(s, v) in series {
            self.eval.series(s, v);
        }
        // 2. Every node.
        self.eval.evaluate(time);
        // 3. Rules in file order (most ticks: no condition is true).
        let rules = if self.trading && (self.unconditional || self.eval.any_true(&self.watch)) {
            self.triggers.len()
        } else {
            0
        };
        for r in 0..rules {
            // A rule whose conditions are false does nothing (most ticks).
            let (exit_when, condition) = self.triggers[r];
            if exit_when.is_some_and(|c| self.eval.is_true(c))
                || condition.is_none_or(|c| self.eval.is_true(c))
            {
                self.run_rule(r, time);
                self.drain_events(sink);
            }
        }
        self.flush_queue(sink, false);
        // 4. Mark to market.
        let mark = self.book.mark();
        let exposed = self.book.has_positions();
        let drawdown = self.metrics.mark(time, mark.equity, exposed);
        sink.equity(&EquityRow {
            time,
            equity: mark.equity,
            cash: mark.cash,
            exposure: mark.exposure,
            drawdown,
        });
    }

    /// Ends the run: signals whose orders never filled are written without
    /// a fill. Returns the statistics.
    pub fn finish(&mut self, sink: &mut impl Sink) -> Summary {
        self.flush_queue(sink, true);
        self.metrics.summary()
    }

    /// Handles the book's events (most ticks have none).
    #[inline(always)]
    fn drain_events(&mut self, sink: &mut impl Sink) {
        if !self.events.is_empty() {
            self.handle_events(sink);
        }
    }

    fn handle_events(&mut self, sink: &mut impl Sink) {
        for ev in self.events.drain(..) {
            match ev {
                Event::Filled(f) => {
                    if let Some(p) = self.queue.iter_mut().find(|p| {
                        !p.done
                            && p.rule == f.rule
                            && p.symbol == f.symbol
                            && p.time == f.signal_time
                    }) {
                        p.fill_time = Some(f.time);
                        p.fill_price = Some(f.price);
                        p.done = true;
                        self.rule_pending[f.rule as usize] = false;
                    }
                }
                Event::Ignored { order, reason } => {
                    if let Some(p) = self.queue.iter_mut().find(|p| {
                        !p.done
                            && p.rule == order.rule
                            && p.symbol == order.symbol
                            && p.time == order.signal_time
                    }) {
                        p.reason.push_str("; not filled: ");
                        p.reason.push_str(reason);
                        p.done = true;
                    }
                    self.rule_pending[order.rule as usize] = false;
                    self.ignored += 1;
                }
                Event::Closed(t) => {
                    self.metrics.trade(t.pnl);
                    let r = t.rule as usize;
                    // A lot is on the symbol of the rule that opened it.
                    if usize::from(self.plan.rules[r].symbol) != t.symbol {
                        sink.trade(&TradeRow {
                            symbol: Arc::clone(&self.symbol_names[t.symbol]),
                            rule: Arc::clone(&self.rule_names[r]),
                            trade: t,
                        });
                        continue;
                    }
                    let row = match &mut self.trade_out[r] {
                        Some(row) => {
                            row.trade = t;
                            row
                        }
                        empty @ None => empty.insert(TradeRow {
                            symbol: Arc::clone(&self.symbol_names[t.symbol]),
                            rule: Arc::clone(&self.rule_names[r]),
                            trade: t,
                        }),
                    };
                    sink.trade(row);
                }
            }
        }
    }

    /// Writes the signals at the front of the queue that are done (`all`:
    /// every one).
    #[inline(always)]
    fn flush_queue(&mut self, sink: &mut impl Sink, all: bool) {
        // Most ticks: nothing to write.
        if self.queue.front().is_some_and(|p| p.done || all) {
            self.write_signals(sink, all);
        }
    }

    #[inline(never)]
    fn write_signals(&mut self, sink: &mut impl Sink, all: bool) {
        while let Some(front) = self.queue.front() {
            if !(front.done || all) {
                break;
            }
            let p = self.queue.pop_front().expect("front exists");
            let out = &mut self.signal_out[p.rule as usize];
            out.time = p.time;
            out.action = p.action;
            out.quantity = p.quantity;
            out.price = p.price;
            out.fill_time = p.fill_time;
            out.fill_price = p.fill_price;
            out.reason = p.reason;
            sink.signal(out);
            let mut reason = std::mem::take(&mut out.reason);
            reason.clear();
            self.spare.push(reason);
        }
    }

    fn run_rule(&mut self, r: usize, time: Timestamp) {
        let rule = &self.plan.rules[r];
        let sym = rule.symbol as usize;
        // `exit when`: closes this rule's lots.
        if let Some(cond) = rule.exit_when
            && self.eval.is_true(cond)
            && self.book.lots_of_rule(sym, r as u32) > 0
            && !self.rule_pending[r]
        {
            let reason = rule
                .exit_explain
                .as_ref()
                .map(|e| render(e, &self.eval, &mut self.spare))
                .unwrap_or_default();
            let qty: f64 = self.book.position(sym).abs();
            self.submit(
                r,
                Intent::CloseRule(r as u32),
                qty,
                ExitPlan::default(),
                time,
                "exit",
                reason,
            );
            return;
        }
        if self.rule_pending[r] {
            return;
        }
        if let Some(cond) = rule.condition
            && !self.eval.is_true(cond)
        {
            return;
        }
        let position = self.book.position(sym);
        let (intent, action) = match rule.action {
            Action::Buy => (Intent::Buy, "buy"),
            Action::Sell => (Intent::Sell, "sell"),
            Action::Short => (Intent::Short, "short"),
            Action::Cover => (Intent::Cover, "cover"),
            Action::Exit => (Intent::Exit, "exit"),
        };
        let held_by_rule = self.book.lots_of_rule(sym, r as u32) as u32;
        match intent {
            Intent::Buy | Intent::Short => {
                let same_side = (intent == Intent::Buy && position > 0.0)
                    || (intent == Intent::Short && position < 0.0);
                if same_side && held_by_rule >= rule.pyramid {
                    self.ignored += 1;
                    return;
                }
            }
            Intent::Sell if position <= 0.0 => return,
            Intent::Cover if position >= 0.0 => return,
            Intent::Exit if position == 0.0 => return,
            _ => {}
        }
        let mut reason = rule
            .explain
            .as_ref()
            .map(|e| render(e, &self.eval, &mut self.spare))
            .unwrap_or_else(|| "always".into());
        let quantity = match intent {
            Intent::Buy | Intent::Short => match self.quantity(rule) {
                Ok(q) => q,
                Err(no) => {
                    reason.push_str("; ");
                    reason.push_str(&no.to_string());
                    0.0
                }
            },
            _ => position.abs(),
        };
        let exits = ExitPlan {
            stop: self.distance(rule.stop),
            target: self.distance(rule.target),
            trail: self.distance(rule.trail),
            hold: match rule.hold {
                Some(HoldSpec::Duration(d)) => Some(d),
                _ => None,
            },
            hold_bars: match rule.hold {
                Some(HoldSpec::Bars(n)) => Some(n),
                _ => None,
            },
        };
        if quantity == 0.0 {
            // Recorded as a signal with no order.
            let signal = self.signal(r, action, 0.0, time, reason, true);
            self.queue.push_back(signal);
            return;
        }
        self.submit(r, intent, quantity, exits, time, action, reason);
    }

    #[allow(clippy::too_many_arguments)]
    fn submit(
        &mut self,
        r: usize,
        intent: Intent,
        quantity: f64,
        exits: ExitPlan,
        time: Timestamp,
        action: &'static str,
        reason: String,
    ) {
        let rule = &self.plan.rules[r];
        let sym = rule.symbol as usize;
        let signal = self.signal(r, action, quantity, time, reason, false);
        self.queue.push_back(signal);
        self.rule_pending[r] = true;
        let order = Order {
            symbol: sym,
            intent,
            quantity,
            rule: r as u32,
            signal_time: time,
            exits,
            max_entries: rule.pyramid,
        };
        self.book.submit(order, time, &mut self.events);
    }

    fn signal(
        &self,
        r: usize,
        action: &'static str,
        quantity: f64,
        time: Timestamp,
        reason: String,
        done: bool,
    ) -> PendingSignal {
        let rule = &self.plan.rules[r];
        let sym = rule.symbol as usize;
        PendingSignal {
            time,
            action,
            quantity,
            price: self.eval.latest_close(sym),
            fill_time: None,
            fill_price: None,
            reason,
            rule: r as u32,
            symbol: sym,
            done,
        }
    }

    fn distance(&self, d: Option<crate::compile::DistanceSpec>) -> Option<Distance> {
        let d = d?;
        let v = self.eval.value(d.node);
        if !(v.is_finite() && v > 0.0) {
            return None;
        }
        Some(if d.percent {
            Distance::Percent(v)
        } else {
            Distance::Price(v)
        })
    }

    fn quantity(&self, rule: &RulePlan) -> Result<f64, NoOrder> {
        let sym = rule.symbol as usize;
        let price = self.eval.latest_close(sym);
        let inst = self.book.instrument(sym);
        let stop_distance = rule.stop.and_then(|d| {
            let v = self.eval.value(d.node);
            v.is_finite()
                .then_some(if d.percent { price * v } else { v })
        });
        let val = |n| self.eval.value(n);
        let (base, annual_vol) = match rule.sizing.map(|s| s.base) {
            None => (self.settings.default_size, None),
            Some(SizeSpec::Units(n)) => (SizeBase::Units(val(n)), None),
            Some(SizeSpec::Contracts(n)) => (SizeBase::Contracts(val(n)), None),
            Some(SizeSpec::FractionOfEquity(n)) => (SizeBase::FractionOfEquity(val(n)), None),
            Some(SizeSpec::Risk(n)) => (SizeBase::Risk(val(n)), None),
            Some(SizeSpec::TargetVol(n, vol)) => (SizeBase::TargetVol(val(n)), Some(val(vol))),
        };
        let scale = rule.sizing.and_then(|s| s.scale).map(val);
        let cap = rule.sizing.and_then(|s| s.cap).map(|c| match c {
            CapSpec::Quantity(n) => SizeCap::Quantity(val(n)),
            CapSpec::FractionOfEquity(n) => SizeCap::FractionOfEquity(val(n)),
        });
        let fx_rate = self.book.fx_rate(sym);
        if !fx_rate.is_finite() {
            return Err(NoOrder::Undefined(
                "no FX rate yet to convert the instrument's currency",
            ));
        }
        let input = SizeInput {
            equity: self.book.mark().equity,
            price,
            multiplier: inst.multiplier,
            fx_rate,
            lot_size: inst.lot_size,
            stop_distance,
            annual_vol,
        };
        sizing::quantity(base, scale, cap, &input)
    }
}

/// Renders a condition with the values that made it what it is, phrases
/// as written: `session_drop(gold, asia) = 1.82% exceeds drop = 1.50%`.
pub fn explain(e: &Explain, eval: &Evaluator) -> String {
    let mut out = String::new();
    explain_into(e, eval, false, &mut out);
    out
}

/// [`explain`] rendered into an emptied reason from `spare` (or a new one).
fn render(e: &Explain, eval: &Evaluator, spare: &mut Vec<String>) -> String {
    let mut out = spare.pop().unwrap_or_default();
    explain_into(e, eval, false, &mut out);
    out
}

/// Appends ` [false]` to a condition part that is false (inside `or` or
/// `not`), unless an enclosing part already says so.
fn mark_false(node: crate::compile::NodeId, eval: &Evaluator, quiet: bool, out: &mut String) {
    if !quiet && !eval.is_true(node) {
        out.push_str(" [false]");
    }
}

fn explain_into(e: &Explain, eval: &Evaluator, quiet: bool, out: &mut String) {
    match e {
        Explain::Value {
            text,
            node,
            literal,
        } => {
            out.push_str(text);
            if !literal {
                out.push_str(" = ");
                eval.format_into(*node, out);
            }
        }
        Explain::Flag { text, node } => {
            out.push_str(text);
            mark_false(*node, eval, quiet, out);
        }
        Explain::Compare { node, lhs, op, rhs } => {
            let inner_quiet = quiet || !eval.is_true(*node);
            explain_into(lhs, eval, inner_quiet, out);
            out.push(' ');
            out.push_str(op);
            out.push(' ');
            explain_into(rhs, eval, inner_quiet, out);
            mark_false(*node, eval, quiet, out);
        }
        Explain::Move {
            node,
            subject,
            verb,
            amount,
            window,
            change,
        } => {
            out.push_str(subject);
            out.push(' ');
            out.push_str(verb);
            out.push(' ');
            explain_into(amount, eval, true, out);
            out.push_str(" within ");
            out.push_str(window);
            out.push_str(" (change(");
            out.push_str(subject);
            out.push_str(", ");
            out.push_str(window);
            out.push_str(") = ");
            eval.format_into(*change, out);
            out.push(')');
            mark_false(*node, eval, quiet, out);
        }
        Explain::Logic { node, lhs, op, rhs } => {
            let inner_quiet = quiet || !eval.is_true(*node) && *op != "or";
            explain_into(lhs, eval, inner_quiet, out);
            out.push(' ');
            out.push_str(op);
            out.push(' ');
            explain_into(rhs, eval, inner_quiet, out);
            if *op == "or" || inner_quiet {
                mark_false(*node, eval, quiet, out);
            }
        }
        Explain::Not { node, inner } => {
            out.push_str("not ");
            // The inner part is false exactly when `not` is true: no marker.
            explain_into(inner, eval, true, out);
            mark_false(*node, eval, quiet, out);
        }
        Explain::Paren(inner) => {
            out.push('(');
            explain_into(inner, eval, quiet, out);
            out.push(')');
        }
        Explain::Let { node, name, inner } => {
            out.push_str(name);
            match &**inner {
                // A let holding a plain value shows it: `rate_gap = 5.25%`.
                Explain::Value { node, .. } => {
                    out.push_str(" = ");
                    eval.format_into(*node, out);
                }
                other => {
                    let false_here = !quiet && !eval.is_true(*node);
                    if false_here {
                        out.push_str(" [false]");
                    }
                    out.push_str(" (");
                    explain_into(other, eval, quiet || false_here, out);
                    out.push(')');
                }
            }
        }
        Explain::InSession { name, node } => {
            out.push_str("in ");
            out.push_str(name);
            mark_false(*node, eval, quiet, out);
        }
    }
}

/// Formats a number for CSV outputs: shortest round-trip, empty for `na`.
pub fn csv_number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

/// Formats a value of a unit for `eval` outputs (empty for `na`).
pub fn eval_cell(v: f64, unit: Unit) -> String {
    if v.is_nan() {
        return String::new();
    }
    match unit {
        Unit::Bool => (if v == 1.0 { "true" } else { "false" }).into(),
        Unit::Percent | Unit::Number | Unit::Bars | Unit::Duration => format!("{v}"),
    }
}
