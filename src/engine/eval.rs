//! The incremental evaluator: one tick at a time, over a compiled [`Plan`].
//!
//! This is the only evaluation path: historical runs, `eval` and live mode
//! all feed it ticks. Per tick it does O(1) work per node, allocates
//! nothing and hashes nothing: slots are a flat `Vec<f64>`, indicator states
//! are preallocated at construction.

use crate::compile::{Cmp, Kernel, NodeId, Op, Plan, SessionValue, Unit, apply_arith, apply_func};
use crate::data::ClosedBar;
use crate::indicators::{
    Atr, BarsSince, Ema, Gap, Highest, Lookback, Lowest, Rsi, Slope, Sma, StdDev, TimeChange,
    TimeDiff, Volatility, Wma,
};
use crate::session::SessionAgg;
use jiff::{SignedDuration, Timestamp};

/// Seconds in a (Julian) year, for annualizing volatility.
const YEAR_SECONDS: f64 = 365.25 * 86_400.0;

#[derive(Clone, Debug)]
enum State {
    None,
    Sma(Sma),
    Ema(Ema),
    Wma(Wma),
    Rsi(Rsi),
    Stdev(StdDev),
    Highest(Highest),
    Lowest(Lowest),
    Slope(Slope),
    /// `x[n]`, and `change`/`diff` over n bars (kernel, current value kept by caller).
    Lookback(Lookback),
    TimeChange(TimeChange),
    TimeDiff(TimeDiff),
    Atr(Atr),
    /// Volatility of log returns with the bar times n bars ago, for the
    /// calendar-time annualization (see [`Evaluator`]).
    Volatility(Volatility, Lookback),
    Gap(Gap),
    BarsSince(BarsSince),
    /// `crosses`: (A now, A one update ago, B now, B one update ago).
    Cross([f64; 4]),
}

/// Evaluation state of one run.
///
/// Volatility is annualized by calendar time: with `n` returns spanning
/// `T` seconds, the factor is `sqrt(n x year / T)`, so hourly FX bars (about
/// 120 a week) and hourly index bars (30 a week) are both annualized by
/// their real bar rate, weekends and nights included, with no table of
/// trading hours.
#[derive(Clone, Debug)]
pub struct Evaluator {
    plan_nodes: Vec<crate::compile::Node>,
    slots: Vec<f64>,
    states: Vec<State>,
    /// (symbol, session) -> aggregate index, per Session node.
    agg_of_node: Vec<u32>,
    aggs: Vec<(u16, SessionAgg)>,
    sessions: Vec<crate::session::Session>,
    bars: Vec<Option<ClosedBar>>,
    series: Vec<f64>,
    advanced: u64,
    now: Option<Timestamp>,
    /// The nodes evaluated at each tick (constants are set once).
    work: Vec<u32>,
    /// Per session: `[from, until)` over which `in S` keeps its value.
    in_session: Vec<(Timestamp, Timestamp, bool)>,
}

impl Evaluator {
    /// Prepares the state for `plan`. `spacing[i]` is symbol i's bar
    /// interval (the smallest spacing of its bars; it sizes the wall-clock
    /// windows of `change(x, 1d)`).
    pub fn new(plan: &Plan, spacing: &[SignedDuration]) -> Evaluator {
        let min_all = spacing
            .iter()
            .copied()
            .min()
            .unwrap_or(SignedDuration::from_mins(1));
        let spacing_of = |clock: u64| -> SignedDuration {
            (0..spacing.len())
                .filter(|i| clock & (1 << i) != 0)
                .map(|i| spacing[i])
                .min()
                .unwrap_or(min_all)
        };
        let mut aggs: Vec<(u16, SessionAgg)> = Vec::new();
        let mut agg_keys: Vec<(u16, u16)> = Vec::new();
        let mut agg_of_node = vec![u32::MAX; plan.nodes.len()];
        let states = plan
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match n.op {
                Op::Kernel(k, _, p) => {
                    let p = p as usize;
                    match k {
                        Kernel::Sma => State::Sma(Sma::new(p)),
                        Kernel::Ema => State::Ema(Ema::new(p)),
                        Kernel::Wma => State::Wma(Wma::new(p)),
                        Kernel::Rsi => State::Rsi(Rsi::new(p)),
                        Kernel::Stdev => State::Stdev(StdDev::new(p)),
                        Kernel::Highest => State::Highest(Highest::new(p)),
                        Kernel::Lowest => State::Lowest(Lowest::new(p)),
                        Kernel::Slope => State::Slope(Slope::new(p)),
                        Kernel::Lookback | Kernel::Change | Kernel::Diff => {
                            State::Lookback(Lookback::new(p))
                        }
                    }
                }
                Op::TimeChange(_, secs) => State::TimeChange(TimeChange::with_spacing(
                    SignedDuration::from_secs(secs),
                    spacing_of(n.clock),
                )),
                Op::TimeDiff(_, secs) => State::TimeDiff(TimeDiff::with_spacing(
                    SignedDuration::from_secs(secs),
                    spacing_of(n.clock),
                )),
                Op::Atr(_, p) => State::Atr(Atr::new(p as usize)),
                Op::Volatility(_, p) => {
                    State::Volatility(Volatility::new(p as usize, 1.0), Lookback::new(p as usize))
                }
                Op::Gap(_) => State::Gap(Gap::new()),
                Op::BarsSince(_) => State::BarsSince(BarsSince::new()),
                Op::Cross(..) => State::Cross([f64::NAN; 4]),
                Op::Session(sym, ses, _) => {
                    let idx = match agg_keys.iter().position(|k| *k == (sym, ses)) {
                        Some(j) => j,
                        None => {
                            agg_keys.push((sym, ses));
                            aggs.push((
                                sym,
                                SessionAgg::new(plan.sessions[ses as usize].session.clone()),
                            ));
                            aggs.len() - 1
                        }
                    };
                    agg_of_node[i] = idx as u32;
                    State::None
                }
                _ => State::None,
            })
            .collect();
        let slots = plan
            .nodes
            .iter()
            .map(|n| match n.op {
                Op::Const(bits) => f64::from_bits(bits),
                _ => f64::NAN,
            })
            .collect();
        let work = (0..plan.nodes.len() as u32)
            .filter(|&i| !matches!(plan.nodes[i as usize].op, Op::Const(_)))
            .collect();
        Evaluator {
            plan_nodes: plan.nodes.clone(),
            slots,
            work,
            in_session: vec![(Timestamp::MAX, Timestamp::MIN, false); plan.sessions.len()],
            states,
            agg_of_node,
            aggs,
            sessions: plan.sessions.iter().map(|s| s.session.clone()).collect(),
            bars: vec![None; plan.symbols.len()],
            series: vec![f64::NAN; plan.series.len()],
            advanced: 0,
            now: None,
        }
    }

    /// Records a bar of `symbol` closing at this tick. Call for every symbol
    /// that printed, then [`Evaluator::evaluate`].
    pub fn bar(&mut self, symbol: usize, bar: ClosedBar) {
        self.bars[symbol] = Some(bar);
        self.advanced |= 1 << symbol;
        for (sym, agg) in &mut self.aggs {
            if *sym as usize == symbol {
                agg.update(&bar);
            }
        }
    }

    /// Records a series' value visible from this tick on.
    pub fn series(&mut self, series: usize, value: f64) {
        self.series[series] = value;
    }

    /// The latest bar of `symbol` (as of the current tick).
    pub fn latest_bar(&self, symbol: usize) -> Option<&ClosedBar> {
        self.bars[symbol].as_ref()
    }

    /// The tick time of the last evaluation.
    pub fn now(&self) -> Option<Timestamp> {
        self.now
    }

    /// The value of a node at the current tick (NaN = `na`).
    #[inline]
    pub fn value(&self, node: NodeId) -> f64 {
        self.slots[node as usize]
    }

    /// Whether a boolean node is true at the current tick.
    #[inline]
    pub fn is_true(&self, node: NodeId) -> bool {
        self.slots[node as usize] == 1.0
    }

    /// Evaluates every node at tick `now`, after the tick's bars and series
    /// values were recorded.
    pub fn evaluate(&mut self, now: Timestamp) {
        self.now = Some(now);
        let advanced = self.advanced;
        for w in 0..self.work.len() {
            let i = self.work[w] as usize;
            let node = &self.plan_nodes[i];
            let clock = node.clock;
            let moves = clock == 0 || clock & advanced != 0;
            let v = match node.op {
                Op::Const(bits) => f64::from_bits(bits),
                Op::Field(s, f) => match &self.bars[s as usize] {
                    Some(b) => match f {
                        crate::syntax::ast::Field::Open => b.bar.open,
                        crate::syntax::ast::Field::High => b.bar.high,
                        crate::syntax::ast::Field::Low => b.bar.low,
                        crate::syntax::ast::Field::Close => b.bar.close,
                        crate::syntax::ast::Field::Volume => b.bar.volume,
                    },
                    None => f64::NAN,
                },
                Op::Series(s) => self.series[s as usize],
                Op::Func(f, a) => apply_func(f, self.slots[a as usize]),
                Op::Arith(op, a, b) => {
                    apply_arith(op, self.slots[a as usize], self.slots[b as usize])
                }
                Op::Cmp(op, a, b) => {
                    let (x, y) = (self.slots[a as usize], self.slots[b as usize]);
                    let r = match op {
                        Cmp::Lt => x < y,
                        Cmp::Le => x <= y,
                        Cmp::Gt => x > y,
                        Cmp::Ge => x >= y,
                        Cmp::Eq => x == y,
                        Cmp::Ne => x != y && !x.is_nan() && !y.is_nan(),
                    };
                    f64::from(u8::from(r))
                }
                Op::And(a, b) => f64::from(u8::from(
                    self.slots[a as usize] == 1.0 && self.slots[b as usize] == 1.0,
                )),
                Op::Or(a, b) => f64::from(u8::from(
                    self.slots[a as usize] == 1.0 || self.slots[b as usize] == 1.0,
                )),
                Op::If(c, a, b) => {
                    if self.slots[c as usize] == 1.0 {
                        self.slots[a as usize]
                    } else {
                        self.slots[b as usize]
                    }
                }
                Op::Session(_, _, what) => {
                    let agg = &self.aggs[self.agg_of_node[i] as usize].1;
                    let v = match what {
                        SessionValue::Open => agg.open(),
                        SessionValue::High => agg.high(),
                        SessionValue::Low => agg.low(),
                        SessionValue::Close => agg.close(),
                        SessionValue::Volume => agg.volume(),
                        SessionValue::Return => agg.session_return(),
                        SessionValue::Drop => agg.session_return().map(|r| -r),
                    };
                    v.unwrap_or(f64::NAN)
                }
                Op::InSession(s) => f64::from(u8::from(self.in_session(s as usize, now))),
                Op::Age(s) => match &self.bars[s as usize] {
                    Some(b) => now.duration_since(b.close).as_secs_f64(),
                    None => f64::NAN,
                },
                // Stateful nodes: advance on their clock, else keep the slot.
                _ if !moves => self.slots[i],
                Op::Kernel(k, x, _) => {
                    let x = self.slots[x as usize];
                    match &mut self.states[i] {
                        State::Sma(s) => s.update(x),
                        State::Ema(s) => s.update(x),
                        State::Wma(s) => s.update(x),
                        State::Rsi(s) => s.update(x),
                        State::Stdev(s) => s.update(x),
                        State::Highest(s) => s.update(x),
                        State::Lowest(s) => s.update(x),
                        State::Slope(s) => s.update(x),
                        State::Lookback(s) => {
                            let past = s.update(x);
                            match k {
                                Kernel::Change => {
                                    if past == 0.0 {
                                        f64::NAN
                                    } else {
                                        x / past - 1.0
                                    }
                                }
                                Kernel::Diff => x - past,
                                _ => past,
                            }
                        }
                        _ => unreachable!("kernel state matches its op"),
                    }
                }
                Op::TimeChange(x, _) => match &mut self.states[i] {
                    State::TimeChange(s) => s.update(now, self.slots[x as usize]),
                    _ => unreachable!("state matches its op"),
                },
                Op::TimeDiff(x, _) => match &mut self.states[i] {
                    State::TimeDiff(s) => s.update(now, self.slots[x as usize]),
                    _ => unreachable!("state matches its op"),
                },
                Op::Atr(s, _) => match (&mut self.states[i], &self.bars[s as usize]) {
                    (State::Atr(a), Some(b)) => a.update(b.bar.high, b.bar.low, b.bar.close),
                    _ => f64::NAN,
                },
                Op::Volatility(s, n) => match (&mut self.states[i], &self.bars[s as usize]) {
                    (State::Volatility(v, times), Some(b)) => {
                        let raw = v.update(b.bar.close);
                        let t = b.close.as_second() as f64;
                        let past = times.update(t);
                        let span = t - past;
                        if span > 0.0 {
                            raw * (n as f64 * YEAR_SECONDS / span).sqrt()
                        } else {
                            f64::NAN
                        }
                    }
                    _ => f64::NAN,
                },
                Op::Gap(s) => match (&mut self.states[i], &self.bars[s as usize]) {
                    (State::Gap(g), Some(b)) => g.update(b.bar.open, b.bar.close),
                    _ => f64::NAN,
                },
                Op::Cross(a, b, above) => {
                    let (ca, cb) = (
                        self.plan_nodes[a as usize].clock,
                        self.plan_nodes[b as usize].clock,
                    );
                    let (va, vb) = (self.slots[a as usize], self.slots[b as usize]);
                    match &mut self.states[i] {
                        State::Cross(st) => {
                            if ca == 0 || ca & advanced != 0 {
                                st[1] = st[0];
                                st[0] = va;
                            }
                            if cb == 0 || cb & advanced != 0 {
                                st[3] = st[2];
                                st[2] = vb;
                            }
                            let r = if above {
                                st[0] > st[2] && st[1] <= st[3]
                            } else {
                                st[0] < st[2] && st[1] >= st[3]
                            };
                            f64::from(u8::from(r))
                        }
                        _ => unreachable!("state matches its op"),
                    }
                }
                Op::BarsSince(c) => match &mut self.states[i] {
                    State::BarsSince(b) => b.update(self.slots[c as usize] == 1.0),
                    _ => unreachable!("state matches its op"),
                },
            };
            self.slots[i] = v;
        }
        self.advanced = 0;
    }

    /// Whether `now` is inside session `s`, with the current window or gap
    /// cached so that most ticks need no time-zone arithmetic.
    fn in_session(&mut self, s: usize, now: Timestamp) -> bool {
        let (from, until, inside) = self.in_session[s];
        if from <= now && now < until {
            return inside;
        }
        let entry = match self.sessions[s].locate(now) {
            crate::session::Location::Inside { start, end, .. } => (start, end, true),
            crate::session::Location::Outside { next_start } => {
                (now, next_start.unwrap_or(Timestamp::MAX), false)
            }
        };
        self.in_session[s] = entry;
        entry.2
    }

    /// Renders a value in its unit, for explanations and `eval` output:
    /// percents with two decimals (`-2.10%`), durations in hours or days,
    /// booleans as `true`/`false`, numbers as [`format_number`] does
    /// Deterministic.
    pub fn format(&self, node: NodeId) -> String {
        format_value(self.value(node), self.plan_nodes[node as usize].unit)
    }
}

/// Formats a value in its unit (see [`Evaluator::format`]); `na` for NaN.
pub fn format_value(v: f64, unit: Unit) -> String {
    if v.is_nan() {
        return "na".to_string();
    }
    match unit {
        Unit::Bool => (if v == 1.0 { "true" } else { "false" }).to_string(),
        Unit::Percent => format!("{:.2}%", v * 100.0),
        Unit::Duration => {
            if v % 86_400.0 == 0.0 {
                format!("{}d", v / 86_400.0)
            } else if v % 3_600.0 == 0.0 {
                format!("{}h", v / 3_600.0)
            } else {
                format!("{}s", v)
            }
        }
        Unit::Bars => format!("{v} bars"),
        Unit::Number => format_number(v),
    }
}

/// A number as written when it has at most 8 significant digits (prices as
/// quoted), else rounded to 6 significant digits (half away from zero).
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    // Values with few digits (prices as quoted: 19554.25) print exactly.
    let exact = format!("{v}");
    let significant = exact
        .trim_start_matches('-')
        .trim_start_matches(['0', '.'])
        .bytes()
        .filter(u8::is_ascii_digit)
        .count();
    if significant <= 8 {
        return exact;
    }
    let mag = v.abs().log10().floor() as i32;
    let scale = 10f64.powi((5 - mag).clamp(0, 10));
    // An integer divided by a power of ten is the double nearest to that
    // decimal, so the shortest round-trip form prints exactly its digits.
    let r = (v * scale).round() / scale;
    if r == 0.0 {
        "0".to_string()
    } else {
        format!("{r}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::Arith;

    #[test]
    fn numbers_format_deterministically() {
        assert_eq!(format_number(2411.2999999), "2411.3");
        assert_eq!(format_number(19554.25), "19554.25");
        assert_eq!(format_number(19464.912345), "19464.9");
        assert_eq!(format_number(156.784), "156.784");
        assert_eq!(format_number(0.000123456789), "0.000123457");
        assert_eq!(format_number(18_504.0), "18504");
        assert_eq!(format_value(-0.021, Unit::Percent), "-2.10%");
        assert_eq!(format_value(86_400.0, Unit::Duration), "1d");
        assert_eq!(format_value(f64::NAN, Unit::Number), "na");
    }

    #[test]
    fn arith_and_na() {
        assert!(apply_arith(Arith::Div, 1.0, 0.0).is_nan());
        assert!(apply_arith(Arith::Min, f64::NAN, 1.0).is_nan());
    }
}
