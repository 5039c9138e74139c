//! The incremental evaluator: one tick at a time, over a compiled [`Plan`].
//!
//! This is the only evaluation path: historical runs, `eval` and live mode
//! all feed it ticks. Per tick it does O(1) work per node, allocates
//! nothing and hashes nothing: slots are a flat `Vec<f64>`, the plan is
//! lowered at construction into a flat array of small [`Ins`]tructions (one
//! opcode per operation, so that dispatch is a single jump), and indicator
//! states live densely in one `Vec` per kind.

use crate::compile::{Cmp, Func, Kernel, NodeId, Op, Plan, SessionValue, Unit, apply_arith};
use crate::data::ClosedBar;
use crate::indicators::{
    Atr, BarsSince, Ema, Gap, Highest, Lookback, Lowest, Rsi, Slope, Sma, StdDev, TimeChange,
    TimeDiff, Volatility, Wma,
};
use crate::session::SessionAgg;
use crate::syntax::ast::Field;
use jiff::{SignedDuration, Timestamp};

/// The bar of a symbol that has not printed yet: every field `na`.
const NO_BAR: ClosedBar = ClosedBar {
    bar: crate::data::Bar {
        time: Timestamp::MIN,
        open: f64::NAN,
        high: f64::NAN,
        low: f64::NAN,
        close: f64::NAN,
        volume: f64::NAN,
    },
    close: Timestamp::MIN,
};

/// Seconds in a (Julian) year, for annualizing volatility.
const YEAR_SECONDS: f64 = 365.25 * 86_400.0;

/// The operation of an instruction, with its variant folded in (`Add`, not
/// `Arith(Add)`), so that evaluation dispatches once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Code {
    /// The open, high, low, close, volume of the latest bar of symbol `a`
    /// (NaN before its first bar).
    Open,
    High,
    Low,
    Close,
    Volume,
    Series,
    Neg,
    Not,
    Abs,
    Log,
    Sqrt,
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    If,
    /// `st` = aggregate, `b` = [`SessionValue`] index.
    Session,
    InSession,
    Age,
    // Stateful: `st` indexes the state vector of the kind.
    Sma,
    Ema,
    Wma,
    Rsi,
    Stdev,
    Highest,
    Lowest,
    Slope,
    Lookback,
    Change,
    Diff,
    TimeChange,
    TimeDiff,
    Atr,
    /// `b` = n.
    Volatility,
    Gap,
    BarsSince,
    CrossAbove,
    CrossBelow,
    // Superinstructions (see [`fuse`]).
    /// `sma` of a bar field read straight from the bar: `a` = symbol,
    /// `b` = the field node, `c` = the field (0..5: open, high, low, close,
    /// volume).
    SmaField,
    /// [`Code::SmaField`] that also writes the field's slot (read from
    /// outside the evaluation, and by no other instruction).
    SmaFieldStore,
    /// [`Code::SmaField`] of each field (the field in the opcode: no
    /// selection at run time).
    SmaOpen,
    SmaHigh,
    SmaLow,
    SmaClose,
    SmaVolume,
    /// Two [`Code::SmaOpen`]... over the same field: `st` and `out` the
    /// first one's, `c` and `b` the second one's state and slot.
    SmaPairOpen,
    SmaPairHigh,
    SmaPairLow,
    SmaPairClose,
    SmaPairVolume,
    /// `A crosses above B` and `A crosses below B` over one state: `out` =
    /// the `above` node, `c` = the `below` node; both operands advance (as
    /// [`CROSS_BOTH`]).
    CrossPairBoth,
    /// [`Code::CrossPairBoth`], each operand advancing on its own clock (as
    /// [`CROSS_EACH`]).
    CrossPairEach,
}

/// One lowered node: computes `slots[out]` from operands `a`, `b`, `c`.
#[derive(Clone, Copy, Debug)]
struct Ins {
    code: Code,
    out: u32,
    a: u32,
    b: u32,
    /// The third operand of `If`; for crosses, how the state advances
    /// ([`CROSS_EACH`], [`CROSS_BOTH`], [`CROSS_READ`]).
    c: u32,
    /// Index into the state vector of the kind (stateful codes).
    st: u32,
    /// 0: evaluated at every tick; else the node keeps state and advances
    /// only at ticks where one of these symbols printed.
    gate: u64,
}

/// A cross advances each operand on its own clock.
const CROSS_EACH: u32 = 0;
/// A cross whose operands are both on its own clock: both advance.
const CROSS_BOTH: u32 = 1;
/// A cross over the same operands as an earlier one (the other direction):
/// it reads the state that one advanced.
const CROSS_READ: u32 = 2;

/// `crosses`: (A now, A one update ago, B now, B one update ago) and the
/// clocks of A and B.
#[derive(Clone, Debug)]
struct CrossState {
    v: [f64; 4],
    ca: u64,
    cb: u64,
}

/// Indicator states, one dense vector per kind.
#[derive(Clone, Debug, Default)]
struct States {
    sma: Vec<Sma>,
    ema: Vec<Ema>,
    wma: Vec<Wma>,
    rsi: Vec<Rsi>,
    stdev: Vec<StdDev>,
    highest: Vec<Highest>,
    lowest: Vec<Lowest>,
    slope: Vec<Slope>,
    /// `x[n]`, and `change`/`diff` over n bars.
    lookback: Vec<Lookback>,
    time_change: Vec<TimeChange>,
    time_diff: Vec<TimeDiff>,
    atr: Vec<Atr>,
    /// Volatility of log returns with the bar times n bars ago, for the
    /// calendar-time annualization (see [`Evaluator`]).
    volatility: Vec<(Volatility, Lookback)>,
    gap: Vec<Gap>,
    bars_since: Vec<BarsSince>,
    cross: Vec<CrossState>,
}

/// Pushes `x` on `v` and returns its index.
fn push<T>(v: &mut Vec<T>, x: T) -> u32 {
    v.push(x);
    (v.len() - 1) as u32
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
    /// The units of the plan's nodes (for formatting).
    units: Vec<Unit>,
    slots: Vec<f64>,
    /// The non-constant nodes, lowered, in dependency order.
    code: Vec<Ins>,
    states: States,
    aggs: Vec<(u16, SessionAgg)>,
    /// The symbols with session aggregates (bit i = symbol i).
    agg_symbols: u64,
    sessions: Vec<crate::session::Session>,
    /// Per symbol, the latest bar: before the first one, a bar of NaN
    /// prices (so that fields read as `na` with no test) and bit i of
    /// `seen` clear.
    bars: Vec<ClosedBar>,
    seen: u64,
    series: Vec<f64>,
    advanced: u64,
    /// The union of the stateful nodes' clocks.
    gates: u64,
    now: Option<Timestamp>,
    /// Per session: `[from, until)` over which `in S` keeps its value.
    in_session: Vec<(Timestamp, Timestamp, bool)>,
    /// The bar fields whose slot no instruction writes (the fused code reads
    /// the bar directly): node, symbol and field, for [`Evaluator::value`].
    unslotted: Vec<(NodeId, u16, u32)>,
}

impl Evaluator {
    /// Prepares the state for `plan`. `spacing[i]` is symbol i's bar
    /// interval (the smallest spacing of its bars; it sizes the wall-clock
    /// windows of `change(x, 1d)`).
    pub fn new(plan: &Plan, spacing: &[SignedDuration]) -> Evaluator {
        Evaluator::lower(plan, spacing, true)
    }

    /// [`Evaluator::new`]; `fused`: with superinstructions (see [`fuse`]),
    /// else one instruction per node (the reference for tests).
    fn lower(plan: &Plan, spacing: &[SignedDuration], fused: bool) -> Evaluator {
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
        let mut cross_keys: Vec<(NodeId, NodeId, u64, u32)> = Vec::new();
        let mut states = States::default();
        let mut code = Vec::new();
        for (i, n) in plan.nodes.iter().enumerate() {
            let gate = if n.op.is_stateful() { n.clock } else { 0 };
            let ins = |code: Code, a: u32, b: u32, c: u32, st: u32| Ins {
                code,
                out: i as u32,
                a,
                b,
                c,
                st,
                gate,
            };
            let ins = match n.op {
                Op::Const(_) => continue,
                Op::Field(s, f) => {
                    let c = match f {
                        Field::Open => Code::Open,
                        Field::High => Code::High,
                        Field::Low => Code::Low,
                        Field::Close => Code::Close,
                        Field::Volume => Code::Volume,
                    };
                    ins(c, u32::from(s), 0, 0, 0)
                }
                Op::Series(s) => ins(Code::Series, u32::from(s), 0, 0, 0),
                Op::Func(f, a) => {
                    let c = match f {
                        Func::Neg => Code::Neg,
                        Func::Not => Code::Not,
                        Func::Abs => Code::Abs,
                        Func::Log => Code::Log,
                        Func::Sqrt => Code::Sqrt,
                    };
                    ins(c, a, 0, 0, 0)
                }
                Op::Arith(op, a, b) => {
                    let c = match op {
                        crate::compile::Arith::Add => Code::Add,
                        crate::compile::Arith::Sub => Code::Sub,
                        crate::compile::Arith::Mul => Code::Mul,
                        crate::compile::Arith::Div => Code::Div,
                        crate::compile::Arith::Min => Code::Min,
                        crate::compile::Arith::Max => Code::Max,
                    };
                    ins(c, a, b, 0, 0)
                }
                Op::Cmp(op, a, b) => {
                    let c = match op {
                        Cmp::Lt => Code::Lt,
                        Cmp::Le => Code::Le,
                        Cmp::Gt => Code::Gt,
                        Cmp::Ge => Code::Ge,
                        Cmp::Eq => Code::Eq,
                        Cmp::Ne => Code::Ne,
                    };
                    ins(c, a, b, 0, 0)
                }
                Op::And(a, b) => ins(Code::And, a, b, 0, 0),
                Op::Or(a, b) => ins(Code::Or, a, b, 0, 0),
                Op::If(c, a, b) => ins(Code::If, c, a, b, 0),
                Op::Cross(a, b, above) => {
                    let c = if above {
                        Code::CrossAbove
                    } else {
                        Code::CrossBelow
                    };
                    // `x crosses above y` and `x crosses below y` keep the
                    // same four values: the second one only reads them (it
                    // comes later in the code and has the same clock).
                    if let Some(&(.., st)) = cross_keys
                        .iter()
                        .find(|k| (k.0, k.1, k.2) == (a, b, n.clock))
                    {
                        ins(c, a, b, CROSS_READ, st)
                    } else {
                        let (ca, cb) = (plan.nodes[a as usize].clock, plan.nodes[b as usize].clock);
                        let st = push(
                            &mut states.cross,
                            CrossState {
                                v: [f64::NAN; 4],
                                ca,
                                cb,
                            },
                        );
                        cross_keys.push((a, b, n.clock, st));
                        // Both operands on the node's own clock: whenever
                        // the node advances, both do (no per-operand check).
                        let same = ca == cb && ca == n.clock;
                        ins(c, a, b, if same { CROSS_BOTH } else { CROSS_EACH }, st)
                    }
                }
                Op::Kernel(k, x, p) => {
                    let p = p as usize;
                    let s = &mut states;
                    let (c, st) = match k {
                        Kernel::Sma => (Code::Sma, push(&mut s.sma, Sma::new(p))),
                        Kernel::Ema => (Code::Ema, push(&mut s.ema, Ema::new(p))),
                        Kernel::Wma => (Code::Wma, push(&mut s.wma, Wma::new(p))),
                        Kernel::Rsi => (Code::Rsi, push(&mut s.rsi, Rsi::new(p))),
                        Kernel::Stdev => (Code::Stdev, push(&mut s.stdev, StdDev::new(p))),
                        Kernel::Highest => (Code::Highest, push(&mut s.highest, Highest::new(p))),
                        Kernel::Lowest => (Code::Lowest, push(&mut s.lowest, Lowest::new(p))),
                        Kernel::Slope => (Code::Slope, push(&mut s.slope, Slope::new(p))),
                        Kernel::Lookback => {
                            (Code::Lookback, push(&mut s.lookback, Lookback::new(p)))
                        }
                        Kernel::Change => (Code::Change, push(&mut s.lookback, Lookback::new(p))),
                        Kernel::Diff => (Code::Diff, push(&mut s.lookback, Lookback::new(p))),
                    };
                    ins(c, x, 0, 0, st)
                }
                Op::TimeChange(x, secs) => {
                    let st = push(
                        &mut states.time_change,
                        TimeChange::with_spacing(
                            SignedDuration::from_secs(secs),
                            spacing_of(n.clock),
                        ),
                    );
                    ins(Code::TimeChange, x, 0, 0, st)
                }
                Op::TimeDiff(x, secs) => {
                    let st = push(
                        &mut states.time_diff,
                        TimeDiff::with_spacing(
                            SignedDuration::from_secs(secs),
                            spacing_of(n.clock),
                        ),
                    );
                    ins(Code::TimeDiff, x, 0, 0, st)
                }
                Op::Atr(s, p) => {
                    let st = push(&mut states.atr, Atr::new(p as usize));
                    ins(Code::Atr, u32::from(s), 0, 0, st)
                }
                Op::Volatility(s, p) => {
                    let st = push(
                        &mut states.volatility,
                        (Volatility::new(p as usize, 1.0), Lookback::new(p as usize)),
                    );
                    ins(Code::Volatility, u32::from(s), p, 0, st)
                }
                Op::Gap(s) => {
                    let st = push(&mut states.gap, Gap::new());
                    ins(Code::Gap, u32::from(s), 0, 0, st)
                }
                Op::BarsSince(c) => {
                    let st = push(&mut states.bars_since, BarsSince::new());
                    ins(Code::BarsSince, c, 0, 0, st)
                }
                Op::Session(sym, ses, what) => {
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
                    let w = match what {
                        SessionValue::Open => 0,
                        SessionValue::High => 1,
                        SessionValue::Low => 2,
                        SessionValue::Close => 3,
                        SessionValue::Volume => 4,
                        SessionValue::Return => 5,
                        SessionValue::Drop => 6,
                    };
                    ins(Code::Session, 0, w, 0, idx as u32)
                }
                Op::InSession(s) => ins(Code::InSession, u32::from(s), 0, 0, 0),
                Op::Age(s) => ins(Code::Age, u32::from(s), 0, 0, 0),
            };
            code.push(ins);
        }
        if fused {
            code = fuse(code, plan);
        }
        let slots = plan
            .nodes
            .iter()
            .map(|n| match n.op {
                Op::Const(bits) => f64::from_bits(bits),
                _ => f64::NAN,
            })
            .collect();
        let gates = code.iter().fold(0, |g, ins| g | ins.gate);
        let written = |i: usize| {
            code.iter().any(|ins| {
                ins.out as usize == i || ins.code == Code::SmaFieldStore && ins.b as usize == i
            })
        };
        let unslotted = plan
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match n.op {
                Op::Field(sym, f) if !written(i) => Some((i as NodeId, sym, field_index(f))),
                _ => None,
            })
            .collect();
        Evaluator {
            units: plan.nodes.iter().map(|n| n.unit).collect(),
            slots,
            code,
            states,
            in_session: vec![(Timestamp::MAX, Timestamp::MIN, false); plan.sessions.len()],
            agg_symbols: aggs.iter().fold(0, |m, (sym, _)| m | 1 << sym),
            aggs,
            sessions: plan.sessions.iter().map(|s| s.session.clone()).collect(),
            bars: vec![NO_BAR; plan.symbols.len()],
            seen: 0,
            series: vec![f64::NAN; plan.series.len()],
            advanced: 0,
            gates,
            now: None,
            unslotted,
        }
    }

    /// Records a bar of `symbol` closing at this tick. Call for every symbol
    /// that printed, then [`Evaluator::evaluate`].
    #[inline]
    pub fn bar(&mut self, symbol: usize, bar: &ClosedBar) {
        self.bars[symbol] = *bar;
        self.seen |= 1 << symbol;
        self.advanced |= 1 << symbol;
        if self.agg_symbols >> symbol & 1 != 0 {
            for (sym, agg) in &mut self.aggs {
                if *sym as usize == symbol {
                    agg.update(bar);
                }
            }
        }
    }

    /// The latest bar of symbol `a`, if it printed yet.
    #[inline]
    fn bar_of(&self, a: usize) -> Option<&ClosedBar> {
        (self.seen >> a & 1 != 0).then(|| &self.bars[a])
    }

    /// Records a series' value visible from this tick on.
    pub fn series(&mut self, series: usize, value: f64) {
        self.series[series] = value;
    }

    /// The latest bar of `symbol` (as of the current tick).
    pub fn latest_bar(&self, symbol: usize) -> Option<&ClosedBar> {
        self.bar_of(symbol)
    }

    /// The latest close of `symbol` (NaN before its first bar).
    #[inline]
    pub fn latest_close(&self, symbol: usize) -> f64 {
        self.bars[symbol].bar.close
    }

    /// The tick time of the last evaluation.
    pub fn now(&self) -> Option<Timestamp> {
        self.now
    }

    /// The value of a node at the current tick (NaN = `na`), for any node
    /// of the plan (a bar field without a slot is read from its bar).
    #[inline]
    pub fn value(&self, node: NodeId) -> f64 {
        if !self.unslotted.is_empty()
            && let Some(&(_, sym, c)) = self.unslotted.iter().find(|u| u.0 == node)
        {
            return field(&self.bars[sym as usize].bar, c);
        }
        self.slots[node as usize]
    }

    /// Whether a boolean node is true at the current tick.
    #[inline]
    pub fn is_true(&self, node: NodeId) -> bool {
        self.slots[node as usize] == 1.0
    }

    /// Whether any of `nodes` (booleans) is true at the current tick.
    #[inline]
    pub fn any_true(&self, nodes: &[NodeId]) -> bool {
        nodes.iter().any(|&n| self.slots[n as usize] == 1.0)
    }

    /// Evaluates every node at tick `now`, after the tick's bars and series
    /// values were recorded.
    #[inline(always)]
    pub fn evaluate(&mut self, now: Timestamp) {
        self.now = Some(now);
        // When every clock of a stateful node printed (one symbol, or all
        // symbols at once), no node keeps its slot: skip the per-node test.
        if self.gates & !self.advanced == 0 {
            self.run::<false>(now);
        } else {
            self.run::<true>(now);
        }
        self.advanced = 0;
    }

    /// [`Evaluator::evaluate`] over the lowered code; `GATED`: test each
    /// stateful node's clock against the symbols that printed.
    #[inline(always)]
    fn run<const GATED: bool>(&mut self, now: Timestamp) {
        let advanced = self.advanced;
        let slots = &mut self.slots[..];
        let st = &mut self.states;
        let (bars, seen) = (&self.bars[..], self.seen);
        let bar_of = |a: usize| (seen >> a & 1 != 0).then(|| &bars[a]);
        let b = |x: bool| if x { 1.0 } else { 0.0 };
        for ins in &self.code {
            // Stateful nodes advance on their clock, else keep the slot.
            if GATED && ins.gate != 0 && ins.gate & advanced == 0 {
                continue;
            }
            let a = ins.a as usize;
            let s = ins.st as usize;
            let v = match ins.code {
                Code::Open => bars[a].bar.open,
                Code::High => bars[a].bar.high,
                Code::Low => bars[a].bar.low,
                Code::Close => bars[a].bar.close,
                Code::Volume => bars[a].bar.volume,
                Code::Series => self.series[a],
                Code::Neg => -slots[a],
                Code::Not => b(slots[a] != 1.0),
                Code::Abs => slots[a].abs(),
                Code::Log => {
                    let x = slots[a];
                    if x > 0.0 { x.ln() } else { f64::NAN }
                }
                Code::Sqrt => {
                    let x = slots[a];
                    if x >= 0.0 { x.sqrt() } else { f64::NAN }
                }
                Code::Add => slots[a] + slots[ins.b as usize],
                Code::Sub => slots[a] - slots[ins.b as usize],
                Code::Mul => slots[a] * slots[ins.b as usize],
                Code::Div => {
                    apply_arith(crate::compile::Arith::Div, slots[a], slots[ins.b as usize])
                }
                Code::Min => {
                    apply_arith(crate::compile::Arith::Min, slots[a], slots[ins.b as usize])
                }
                Code::Max => {
                    apply_arith(crate::compile::Arith::Max, slots[a], slots[ins.b as usize])
                }
                Code::Lt => b(slots[a] < slots[ins.b as usize]),
                Code::Le => b(slots[a] <= slots[ins.b as usize]),
                Code::Gt => b(slots[a] > slots[ins.b as usize]),
                Code::Ge => b(slots[a] >= slots[ins.b as usize]),
                Code::Eq => b(slots[a] == slots[ins.b as usize]),
                Code::Ne => {
                    let (x, y) = (slots[a], slots[ins.b as usize]);
                    b(x != y && !x.is_nan() && !y.is_nan())
                }
                Code::And => b(slots[a] == 1.0 && slots[ins.b as usize] == 1.0),
                Code::Or => b(slots[a] == 1.0 || slots[ins.b as usize] == 1.0),
                Code::If => {
                    if slots[a] == 1.0 {
                        slots[ins.b as usize]
                    } else {
                        slots[ins.c as usize]
                    }
                }
                Code::Session => {
                    let agg = &self.aggs[s].1;
                    let v = match ins.b {
                        0 => agg.open(),
                        1 => agg.high(),
                        2 => agg.low(),
                        3 => agg.close(),
                        4 => agg.volume(),
                        5 => agg.session_return(),
                        _ => agg.session_return().map(|r| -r),
                    };
                    v.unwrap_or(f64::NAN)
                }
                Code::InSession => b(in_session(&mut self.in_session[a], &self.sessions[a], now)),
                Code::Age => match bar_of(a) {
                    Some(b) => now.duration_since(b.close).as_secs_f64(),
                    None => f64::NAN,
                },
                Code::Sma => st.sma[s].update(slots[a]),
                Code::Ema => st.ema[s].update(slots[a]),
                Code::Wma => st.wma[s].update(slots[a]),
                Code::Rsi => st.rsi[s].update(slots[a]),
                Code::Stdev => st.stdev[s].update(slots[a]),
                Code::Highest => st.highest[s].update(slots[a]),
                Code::Lowest => st.lowest[s].update(slots[a]),
                Code::Slope => st.slope[s].update(slots[a]),
                Code::Lookback => st.lookback[s].update(slots[a]),
                Code::Change => {
                    let x = slots[a];
                    let past = st.lookback[s].update(x);
                    if past == 0.0 {
                        f64::NAN
                    } else {
                        x / past - 1.0
                    }
                }
                Code::Diff => {
                    let x = slots[a];
                    x - st.lookback[s].update(x)
                }
                Code::TimeChange => st.time_change[s].update(now, slots[a]),
                Code::TimeDiff => st.time_diff[s].update(now, slots[a]),
                Code::Atr => match bar_of(a) {
                    Some(b) => st.atr[s].update(b.bar.high, b.bar.low, b.bar.close),
                    None => f64::NAN,
                },
                Code::Volatility => match bar_of(a) {
                    Some(b) => {
                        let (v, times) = &mut st.volatility[s];
                        let raw = v.update(b.bar.close);
                        let t = b.close.as_second() as f64;
                        let past = times.update(t);
                        let span = t - past;
                        if span > 0.0 {
                            raw * (f64::from(ins.b) * YEAR_SECONDS / span).sqrt()
                        } else {
                            f64::NAN
                        }
                    }
                    None => f64::NAN,
                },
                Code::Gap => match bar_of(a) {
                    Some(b) => st.gap[s].update(b.bar.open, b.bar.close),
                    None => f64::NAN,
                },
                Code::BarsSince => st.bars_since[s].update(slots[a] == 1.0),
                Code::CrossAbove => {
                    let v = cross_step(&mut st.cross[s], ins, slots, advanced);
                    b(v[0] > v[2] && v[1] <= v[3])
                }
                Code::CrossBelow => {
                    let v = cross_step(&mut st.cross[s], ins, slots, advanced);
                    b(v[0] < v[2] && v[1] >= v[3])
                }
                Code::SmaField => st.sma[s].update(field(&bars[a].bar, ins.c)),
                Code::SmaOpen => st.sma[s].update(bars[a].bar.open),
                Code::SmaHigh => st.sma[s].update(bars[a].bar.high),
                Code::SmaLow => st.sma[s].update(bars[a].bar.low),
                Code::SmaClose => st.sma[s].update(bars[a].bar.close),
                Code::SmaVolume => st.sma[s].update(bars[a].bar.volume),
                Code::SmaPairOpen => sma_pair(&mut st.sma, slots, ins, bars[a].bar.open),
                Code::SmaPairHigh => sma_pair(&mut st.sma, slots, ins, bars[a].bar.high),
                Code::SmaPairLow => sma_pair(&mut st.sma, slots, ins, bars[a].bar.low),
                Code::SmaPairClose => sma_pair(&mut st.sma, slots, ins, bars[a].bar.close),
                Code::SmaPairVolume => sma_pair(&mut st.sma, slots, ins, bars[a].bar.volume),
                Code::SmaFieldStore => {
                    let x = field(&bars[a].bar, ins.c);
                    slots[ins.b as usize] = x;
                    st.sma[s].update(x)
                }
                Code::CrossPairBoth => {
                    let c = &mut st.cross[s];
                    c.v = [slots[a], c.v[0], slots[ins.b as usize], c.v[2]];
                    let v = c.v;
                    slots[ins.c as usize] = b(v[0] < v[2] && v[1] >= v[3]);
                    b(v[0] > v[2] && v[1] <= v[3])
                }
                Code::CrossPairEach => {
                    let v = cross_pair_step(&mut st.cross[s], ins, slots, advanced);
                    slots[ins.c as usize] = b(v[0] < v[2] && v[1] >= v[3]);
                    b(v[0] > v[2] && v[1] <= v[3])
                }
            };
            slots[ins.out as usize] = v;
        }
    }

    /// Renders a value in its unit, for explanations and `eval` output:
    /// percents with two decimals (`-2.10%`), durations in hours or days,
    /// booleans as `true`/`false`, numbers as [`format_number`] does
    /// Deterministic.
    pub fn format(&self, node: NodeId) -> String {
        format_value(self.value(node), self.units[node as usize])
    }

    /// Appends [`Evaluator::format`] of `node` to `out`.
    pub fn format_into(&self, node: NodeId, out: &mut String) {
        format_value_into(self.value(node), self.units[node as usize], out);
    }
}

/// Advances a cross's state as `ins.c` says; returns (A now, A one update
/// ago, B now, B one update ago).
#[inline(always)]
fn cross_step(c: &mut CrossState, ins: &Ins, slots: &[f64], advanced: u64) -> [f64; 4] {
    if ins.c == CROSS_BOTH {
        let (a, b) = (ins.a as usize, ins.b as usize);
        c.v = [slots[a], c.v[0], slots[b], c.v[2]];
    } else if ins.c == CROSS_EACH {
        cross_each(c, ins, slots, advanced);
    }
    c.v
}

/// Advances each operand of a cross whose clock printed (or that has none).
#[inline(always)]
fn cross_each(c: &mut CrossState, ins: &Ins, slots: &[f64], advanced: u64) {
    if c.ca == 0 || c.ca & advanced != 0 {
        c.v[1] = c.v[0];
        c.v[0] = slots[ins.a as usize];
    }
    if c.cb == 0 || c.cb & advanced != 0 {
        c.v[3] = c.v[2];
        c.v[2] = slots[ins.b as usize];
    }
}

/// A [`Code::SmaPairOpen`]...: the second average of `x` into its slot,
/// the first one's returned.
#[inline(always)]
fn sma_pair(sma: &mut [Sma], slots: &mut [f64], ins: &Ins, x: f64) -> f64 {
    slots[ins.b as usize] = sma[ins.c as usize].update(x);
    sma[ins.st as usize].update(x)
}

/// The index of a bar field for [`field`].
fn field_index(f: Field) -> u32 {
    match f {
        Field::Open => 0,
        Field::High => 1,
        Field::Low => 2,
        Field::Close => 3,
        Field::Volume => 4,
    }
}

/// Field `c` of `bar` (0..5: open, high, low, close, volume).
#[inline(always)]
fn field(bar: &crate::data::Bar, c: u32) -> f64 {
    match c {
        0 => bar.open,
        1 => bar.high,
        2 => bar.low,
        3 => bar.close,
        _ => bar.volume,
    }
}

/// [`cross_step`] of a [`Code::CrossPairEach`].
#[inline(always)]
fn cross_pair_step(c: &mut CrossState, ins: &Ins, slots: &[f64], advanced: u64) -> [f64; 4] {
    cross_each(c, ins, slots, advanced);
    c.v
}

/// The slots an instruction reads.
fn reads(ins: &Ins) -> impl Iterator<Item = u32> {
    let (a, b, c) = (Some(ins.a), Some(ins.b), Some(ins.c));
    let ops = match ins.code {
        // Operands that are symbols, series, sessions or numbers.
        Code::Open
        | Code::High
        | Code::Low
        | Code::Close
        | Code::Volume
        | Code::Series
        | Code::Session
        | Code::InSession
        | Code::Age
        | Code::Atr
        | Code::Volatility
        | Code::Gap
        | Code::SmaField
        | Code::SmaFieldStore
        | Code::SmaOpen
        | Code::SmaHigh
        | Code::SmaLow
        | Code::SmaClose
        | Code::SmaVolume
        | Code::SmaPairOpen
        | Code::SmaPairHigh
        | Code::SmaPairLow
        | Code::SmaPairClose
        | Code::SmaPairVolume => [None, None, None],
        Code::Neg
        | Code::Not
        | Code::Abs
        | Code::Log
        | Code::Sqrt
        | Code::Sma
        | Code::Ema
        | Code::Wma
        | Code::Rsi
        | Code::Stdev
        | Code::Highest
        | Code::Lowest
        | Code::Slope
        | Code::Lookback
        | Code::Change
        | Code::Diff
        | Code::TimeChange
        | Code::TimeDiff
        | Code::BarsSince => [a, None, None],
        Code::Add
        | Code::Sub
        | Code::Mul
        | Code::Div
        | Code::Min
        | Code::Max
        | Code::Lt
        | Code::Le
        | Code::Gt
        | Code::Ge
        | Code::Eq
        | Code::Ne
        | Code::And
        | Code::Or
        | Code::CrossAbove
        | Code::CrossBelow
        | Code::CrossPairBoth
        | Code::CrossPairEach => [a, b, None],
        Code::If => [a, b, c],
    };
    ops.into_iter().flatten()
}

/// Rewrites lowered code with superinstructions, computing the same slots:
/// - `x crosses above y` with a later `x crosses below y` reading its state
///   become one instruction writing both slots (at the first one's place:
///   the second one's operands are the same, already computed there, and
///   whatever reads its slot comes after it);
/// - `sma(s.field, n)` reads the bar directly and writes the field's slot
///   too if it is read from outside (see [`Plan::read_outside`]); the
///   field's own instruction goes when nothing else in the code reads its
///   slot. The slot then keeps its value at every tick: the field changes
///   only at ticks where `s` printed, and the SMA advances at every one of
///   them (its clock includes `s`). A field read by nobody keeps no slot.
fn fuse(code: Vec<Ins>, plan: &Plan) -> Vec<Ins> {
    let mut code: Vec<Option<Ins>> = code.into_iter().map(Some).collect();
    for i in 0..code.len() {
        let Some(first) = code[i] else { continue };
        let below = match first.code {
            Code::CrossAbove => false,
            Code::CrossBelow => true,
            _ => continue,
        };
        if first.c == CROSS_READ {
            continue;
        }
        let other = if below {
            Code::CrossAbove
        } else {
            Code::CrossBelow
        };
        let Some(j) = (i + 1..code.len()).find(|&j| {
            code[j].is_some_and(|o| o.code == other && o.c == CROSS_READ && o.st == first.st)
        }) else {
            continue;
        };
        let second = code[j].take().expect("found");
        let (above, below) = if below {
            (second.out, first.out)
        } else {
            (first.out, second.out)
        };
        code[i] = Some(Ins {
            code: if first.c == CROSS_BOTH {
                Code::CrossPairBoth
            } else {
                Code::CrossPairEach
            },
            out: above,
            c: below,
            ..first
        });
    }
    for ins in code.iter_mut().flatten() {
        if ins.code != Code::Sma {
            continue;
        }
        let Op::Field(sym, field) = plan.nodes[ins.a as usize].op else {
            continue;
        };
        if ins.gate & (1 << sym) == 0 {
            continue;
        }
        let c = field_index(field);
        *ins = Ins {
            code: Code::SmaField,
            a: u32::from(sym),
            b: ins.a,
            c,
            ..*ins
        };
    }
    let mut read = vec![false; plan.nodes.len()];
    for ins in code.iter().flatten() {
        for r in reads(ins) {
            read[r as usize] = true;
        }
    }
    // A field read by no other instruction loses its own; the averages
    // over it keep its slot only if it is read from outside.
    let outside = plan.read_outside();
    let mut written_by_sma = Vec::new();
    for ins in code.iter_mut().flatten() {
        if ins.code == Code::SmaField {
            written_by_sma.push(ins.b);
            ins.code = if !read[ins.b as usize] && outside[ins.b as usize] {
                Code::SmaFieldStore
            } else {
                match ins.c {
                    0 => Code::SmaOpen,
                    1 => Code::SmaHigh,
                    2 => Code::SmaLow,
                    3 => Code::SmaClose,
                    _ => Code::SmaVolume,
                }
            };
        }
    }
    // Two averages of one field (fast and slow) are one instruction, at the
    // first one's place (the field is there already; whatever reads the
    // second one's slot comes after it).
    for i in 0..code.len() {
        let Some(first) = code[i] else { continue };
        let pair = match first.code {
            Code::SmaOpen => Code::SmaPairOpen,
            Code::SmaHigh => Code::SmaPairHigh,
            Code::SmaLow => Code::SmaPairLow,
            Code::SmaClose => Code::SmaPairClose,
            Code::SmaVolume => Code::SmaPairVolume,
            _ => continue,
        };
        let Some(j) = (i + 1..code.len()).find(|&j| {
            code[j].is_some_and(|o| (o.code, o.a, o.gate) == (first.code, first.a, first.gate))
        }) else {
            continue;
        };
        let second = code[j].take().expect("found");
        code[i] = Some(Ins {
            code: pair,
            b: second.out,
            c: second.st,
            ..first
        });
    }
    code.into_iter()
        .flatten()
        .filter(|ins| {
            let field = matches!(
                ins.code,
                Code::Open | Code::High | Code::Low | Code::Close | Code::Volume
            );
            !(field && !read[ins.out as usize] && written_by_sma.contains(&ins.out))
        })
        .collect()
}

/// Whether `now` is inside `session`, with the current window or gap cached
/// in `cache` so that most ticks need no time-zone arithmetic.
#[inline(always)]
fn in_session(
    cache: &mut (Timestamp, Timestamp, bool),
    session: &crate::session::Session,
    now: Timestamp,
) -> bool {
    let (from, until, inside) = *cache;
    if from <= now && now < until {
        return inside;
    }
    locate_session(cache, session, now)
}

/// [`in_session`] outside the cached window or gap.
#[inline(never)]
fn locate_session(
    cache: &mut (Timestamp, Timestamp, bool),
    session: &crate::session::Session,
    now: Timestamp,
) -> bool {
    let entry = match session.locate(now) {
        crate::session::Location::Inside { start, end, .. } => (start, end, true),
        crate::session::Location::Outside { next_start } => {
            (now, next_start.unwrap_or(Timestamp::MAX), false)
        }
    };
    *cache = entry;
    entry.2
}

/// Formats a value in its unit (see [`Evaluator::format`]); `na` for NaN.
pub fn format_value(v: f64, unit: Unit) -> String {
    let mut out = String::new();
    format_value_into(v, unit, &mut out);
    out
}

/// Appends [`format_value`] of `v` to `out`.
#[inline]
pub fn format_value_into(v: f64, unit: Unit, out: &mut String) {
    // Numbers (most values) without the frame of the formatting machinery.
    if unit == Unit::Number && !v.is_nan() {
        format_number_into(v, out);
    } else {
        format_other_into(v, unit, out);
    }
}

/// [`format_value_into`] of `na` and of the units other than numbers.
#[inline(never)]
fn format_other_into(v: f64, unit: Unit, out: &mut String) {
    use std::fmt::Write;
    if v.is_nan() {
        out.push_str("na");
        return;
    }
    // Writing into a `String` cannot fail.
    let _ = match unit {
        Unit::Bool => {
            out.push_str(if v == 1.0 { "true" } else { "false" });
            Ok(())
        }
        Unit::Percent => write!(out, "{:.2}%", v * 100.0),
        Unit::Duration => {
            if v % 86_400.0 == 0.0 {
                write!(out, "{}d", v / 86_400.0)
            } else if v % 3_600.0 == 0.0 {
                write!(out, "{}h", v / 3_600.0)
            } else {
                write!(out, "{}s", v)
            }
        }
        Unit::Bars => write!(out, "{v} bars"),
        Unit::Number => {
            format_number_into(v, out);
            Ok(())
        }
    };
}

/// A number as written when it has at most 8 significant digits (prices as
/// quoted), else rounded to 6 significant digits (half away from zero).
pub fn format_number(v: f64) -> String {
    let mut out = String::new();
    format_number_into(v, &mut out);
    out
}

/// Appends [`format_number`] of `v` to `out`.
pub fn format_number_into(v: f64, out: &mut String) {
    if v == 0.0 {
        out.push('0');
        return;
    }
    if !fast_number(v, out) {
        slow_number(v, out);
    }
}

/// The definition of [`format_number`], through the standard library's
/// shortest round-trip formatting (twice for rounded values).
fn slow_number(v: f64, out: &mut String) {
    use std::fmt::Write;
    // Values with few digits (prices as quoted: 19554.25) print exactly.
    let start = out.len();
    let _ = write!(out, "{v}");
    let significant = out[start..]
        .trim_start_matches('-')
        .trim_start_matches(['0', '.'])
        .bytes()
        .filter(u8::is_ascii_digit)
        .count();
    if significant <= 8 {
        return;
    }
    out.truncate(start);
    let mag = v.abs().log10().floor() as i32;
    let scale = 10f64.powi((5 - mag).clamp(0, 10));
    // An integer divided by a power of ten is the double nearest to that
    // decimal, so the shortest round-trip form prints exactly its digits.
    let r = (v * scale).round() / scale;
    if r == 0.0 {
        out.push('0');
    } else {
        let _ = write!(out, "{r}");
    }
}

/// The powers of ten that are exact doubles.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// [`slow_number`] without the standard formatting, for nonzero values in
/// `[1e-14, 1e8)` (false for the others, written by [`slow_number`]).
///
/// The shortest round-trip form of a double has at most 8 significant
/// digits exactly when the double is the one nearest to some decimal
/// `d x 10^-k` with `|d| < 10^8`, `k` = 7 - its decimal magnitude: `v x
/// 10^k` is then within 1e-7 of the integer `d`, and `d / 10^k` (both exact,
/// one correctly rounded division) gives `v` back. That decimal is then the
/// shortest form: any other with at most 8 digits is at least `|v| x 1e-8`
/// away, far more than the half ulp a round-trip form may be off. The
/// magnitude from `log10` may be off by one, so the three neighbours are
/// tried. The rounded value `m / 10^e` (6 significant digits) likewise
/// prints as the digits of `m`.
fn fast_number(v: f64, out: &mut String) -> bool {
    let a = v.abs();
    if !(1e-14..1e8).contains(&a) {
        return false;
    }
    let mag = magnitude(a);
    // With the magnitude certain, `7 - mag` is the only candidate (a
    // decimal with fewer digits is also one at `7 - mag`, trailing zero
    // trimmed); near a power of ten the neighbours are tried too.
    let clear = clear_of_powers_of_ten(a, mag);
    let tries = if clear { 1 } else { 3 };
    for &k in &[7 - mag, 6 - mag, 8 - mag][..tries] {
        if !(0..=22).contains(&k) {
            continue;
        }
        let p = POW10[k as usize];
        let d = round(v * p);
        if d.abs() < 1e8 && d / p == v {
            write_decimal(d, k as u32, out);
            return true;
        }
    }
    // More than 8 digits: 6 significant digits, as in `slow_number` (with
    // its magnitude, `floor(log10(a))`; `magnitude` is that exactly unless
    // `a` is within a hair of a power of ten, where `log10` decides).
    let mag = if clear { mag } else { a.log10().floor() as i32 };
    let e = (5 - mag).clamp(0, 10);
    // 10^e for e in 0..=10: exact, the value `powi` gives.
    let scale = POW10[e as usize];
    let m = round(v * scale);
    if m / scale == 0.0 {
        out.push('0');
    } else {
        write_decimal(m, e as u32, out);
    }
    true
}

/// `floor(log10(a))` for a positive normal `a`, or one less or more near a
/// power of ten (from the binary exponent and one comparison, no `log10`).
fn magnitude(a: f64) -> i32 {
    let e2 = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    // floor(e2 x log10(2)) (1233 / 4096 is log10(2) to 5e-6, exact here);
    // 2^e2 <= a < 2^(e2+1), so the magnitude is m or m + 1.
    let m = (e2 * 1233) >> 12;
    let next = m + 1;
    if a >= pow10(next) { next } else { m }
}

/// `10^e` from the table of exact powers (`e` clamped to +-22); for
/// negative `e` the reciprocal, within an ulp.
fn pow10(e: i32) -> f64 {
    if e >= 0 {
        POW10[e.min(22) as usize]
    } else {
        1.0 / POW10[(-e).min(22) as usize]
    }
}

/// Whether `10^mag < a < 10^(mag+1)` with a relative margin of 1e-9 on
/// both sides, so that `floor(log10(a))` is certainly `mag` (`log10` is off
/// by far less than that margin).
fn clear_of_powers_of_ten(a: f64, mag: i32) -> bool {
    (-21..=21).contains(&mag) && a > pow10(mag) * (1.0 + 1e-9) && a < pow10(mag + 1) * (1.0 - 1e-9)
}

/// `x.round()` (half away from zero) for `|x| < 2^52` without a library
/// call: `x - trunc(x)` is exact there.
#[inline]
fn round(x: f64) -> f64 {
    if x.abs() >= 4_503_599_627_370_496.0 || x.is_nan() {
        return x.round();
    }
    let t = (x as i64 as f64).copysign(x);
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// Writes the decimal `m x 10^-e` (`m` a nonzero integer below 2^53) as
/// Rust's `Display` writes a double: no exponent, no trailing zeros.
fn write_decimal(m: f64, e: u32, out: &mut String) {
    // Below 2^53: the signed conversion (one instruction) is exact.
    let mut n = m.abs() as i64 as u64;
    let mut e = e as usize;
    while e > 0 && n.is_multiple_of(10) {
        n /= 10;
        e -= 1;
    }
    // Right-aligned: exactly `e` fraction digits (zero-padded once `n`
    // runs out: `0.000ddd`), the point, then at least one integer digit.
    // At most 22 + 1 + 16 digits and a sign.
    let mut buf = [b'0'; 48];
    let mut i = buf.len();
    let mut frac = e;
    while frac >= 2 {
        let pair = (n % 100) as usize;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[2 * pair..2 * pair + 2]);
        frac -= 2;
    }
    if frac == 1 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    if e > 0 {
        i -= 1;
        buf[i] = b'.';
    }
    while n >= 100 {
        let pair = (n % 100) as usize;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[2 * pair..2 * pair + 2]);
    }
    if n >= 10 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[2 * n as usize..2 * n as usize + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    if m < 0.0 {
        i -= 1;
        buf[i] = b'-';
    }
    // Validated whole (word at a time: fewer instructions than the short
    // unaligned tail), then cut at `i` (ASCII: every index is a boundary).
    let all = std::str::from_utf8(&buf).unwrap_or_default();
    out.push_str(all.get(i..).unwrap_or_default());
}

/// "00" to "99", for writing two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Arith, apply_arith};

    /// Runs `source` on random bars through the fused code and through
    /// one instruction per node, and asserts that every slot is the same
    /// after every tick. Symbol 0 prints at most ticks, the others at
    /// random ones (so both the gated and the ungated paths run), and some
    /// fields are `na`. The fused code keeps no slot for a field read by
    /// nobody (no instruction, nothing outside): those are not compared.
    /// `extra`: `let`s asked for as `eval` outputs. Returns the fused
    /// evaluator's code.
    fn fused_matches_unfused(source: &str, extra: &[&str], seed: u64) -> Vec<Ins> {
        let file = crate::syntax::parse(source).expect("parses");
        let plan = crate::compile::compile(&file, source, &[], extra).expect("compiles");
        let outside = plan.read_outside();
        let n = plan.symbols.len();
        let spacing = vec![SignedDuration::from_mins(1); n];
        let mut fused = Evaluator::lower(&plan, &spacing, true);
        let mut plain = Evaluator::lower(&plan, &spacing, false);
        assert_eq!(
            plain.code.len(),
            plan.nodes.len()
                - plan
                    .nodes
                    .iter()
                    .filter(|n| matches!(n.op, Op::Const(_)))
                    .count()
        );
        let mut next = crate::testing::xorshift(seed);
        let mut price = vec![100.0; n];
        let start: Timestamp = "2024-01-01T00:00:00Z".parse().expect("valid");
        let (mut gated, mut ungated) = (0, 0);
        for t in 0..4000 {
            let now = start + SignedDuration::from_mins(t);
            let mut printed = 0;
            for (s, p) in price.iter_mut().enumerate() {
                if s > 0 && next().is_multiple_of(3) || s == 0 && next().is_multiple_of(10) {
                    continue;
                }
                printed += 1;
                // Small moves, so that averages cross often.
                *p += (next() % 21) as f64 * 0.1 - 1.0;
                let mut field = |x: f64| {
                    if next().is_multiple_of(40) {
                        f64::NAN
                    } else {
                        x
                    }
                };
                let bar = ClosedBar {
                    bar: crate::data::Bar {
                        time: now - SignedDuration::from_mins(1),
                        open: field(*p - 0.5),
                        high: field(*p + 1.0),
                        low: field(*p - 1.0),
                        close: field(*p),
                        volume: field(*p * 10.0),
                    },
                    close: now,
                };
                fused.bar(s, &bar);
                plain.bar(s, &bar);
            }
            if printed == n {
                ungated += 1;
            } else {
                gated += 1;
            }
            fused.evaluate(now);
            plain.evaluate(now);
            for (i, (node, &read)) in plan.nodes.iter().zip(&outside).enumerate() {
                let kept = !matches!(node.op, Op::Field(..))
                    || fused.code.iter().any(|ins| {
                        ins.out == i as u32 || ins.code == Code::SmaFieldStore && ins.b == i as u32
                    });
                assert!(kept || !read, "node {i} is read but not kept");
                assert_eq!(
                    kept,
                    !fused.unslotted.iter().any(|u| u.0 == i as NodeId),
                    "node {i}"
                );
                // Every node's value, slot or not, is the unfused one.
                let (x, y) = (fused.value(i as NodeId), plain.value(i as NodeId));
                assert!(
                    x.to_bits() == y.to_bits() || x.is_nan() && y.is_nan(),
                    "tick {t}, node {i} ({:?}): fused {x}, unfused {y}",
                    node.op
                );
            }
        }
        assert!(
            gated > 100 && (n == 1 || ungated > 100),
            "{gated} {ungated}"
        );
        fused.code
    }

    fn count(code: &[Ins], c: Code) -> usize {
        if c == Code::SmaField {
            // Whichever the field.
            let fields = [
                Code::SmaOpen,
                Code::SmaHigh,
                Code::SmaLow,
                Code::SmaClose,
                Code::SmaVolume,
            ];
            let pairs = [
                Code::SmaPairOpen,
                Code::SmaPairHigh,
                Code::SmaPairLow,
                Code::SmaPairClose,
                Code::SmaPairVolume,
            ];
            return code.iter().filter(|i| fields.contains(&i.code)).count()
                + 2 * code.iter().filter(|i| pairs.contains(&i.code)).count();
        }
        code.iter().filter(|i| i.code == c).count()
    }

    #[test]
    fn fused_sma_cross_matches_unfused() {
        let code = fused_matches_unfused(
            "symbol s = S\n\
             let fast = sma(s.close, 3)\n\
             let slow = sma(s.close, 7)\n\
             rule enter:\n    buy s when fast crosses above slow\n\
             rule leave:\n    sell s when fast crosses below slow\n",
            &[],
            0x1234_5678_9ABC_DEF1,
        );
        // The close is read by the two averages only: no instruction of
        // its own; the two averages are one, and so are the two crosses.
        assert_eq!(count(&code, Code::SmaField), 2);
        assert_eq!(count(&code, Code::SmaPairClose), 1);
        assert_eq!(count(&code, Code::SmaFieldStore), 0);
        assert_eq!(count(&code, Code::Close), 0);
        assert_eq!(count(&code, Code::CrossPairBoth), 1);
        assert_eq!(code.len(), 2);
    }

    #[test]
    fn fused_code_matches_unfused_on_several_clocks() {
        let code = fused_matches_unfused(
            "symbol a = A\n\
             symbol b = B\n\
             symbol c = C\n\
             let fa = sma(a.close, 3)\n\
             let fb = sma(b.close, 4)\n\
             let hv = sma(a.high, 2)\n\
             let lv = sma(b.low, 3)\n\
             let ov = sma(c.open, 2)\n\
             let vv = sma(c.volume, 3)\n\
             let mixed = sma(a.close - b.close, 2)\n\
             rule r1:\n    buy a when fa crosses above fb\n\
             rule r2:\n    sell a when fa crosses below fb\n\
             rule r3:\n    sell b when lv crosses below hv\n\
             rule r4:\n    buy b when lv crosses above hv\n\
             rule r5:\n    short c when ov crosses above vv or c.volume > vv\n\
             rule r6:\n    cover c when ov crosses below vv\n\
             rule r7:\n    buy c when mixed crosses below a.high\n\
             let fa2 = sma(a.close, 5)\n\
             let lv2 = sma(b.low, 6)\n\
             let lv3 = sma(b.low, 2)\n\
             rule r8:\n    sell c when fa2 > fa and lv2 < lv3\n",
            &[],
            0x0DDB_1A5E_5BAD_5EED,
        );
        // Fields read elsewhere keep their instruction (a.close by
        // `mixed`'s difference, a.high by r7, c.volume by r5).
        assert_eq!(count(&code, Code::SmaField), 9);
        // a.close twice and b.low three times: two pairs and one single.
        assert_eq!(count(&code, Code::SmaPairClose), 1);
        assert_eq!(count(&code, Code::SmaPairLow), 1);
        assert_eq!(count(&code, Code::SmaLow), 1);
        assert_eq!(count(&code, Code::Sma), 1);
        assert_eq!(count(&code, Code::Close), 2);
        assert_eq!(count(&code, Code::High), 1);
        assert_eq!(count(&code, Code::Volume), 1);
        assert_eq!(count(&code, Code::Low) + count(&code, Code::Open), 0);
        assert_eq!(count(&code, Code::CrossPairEach), 2);
        assert_eq!(count(&code, Code::CrossPairBoth), 1);
        assert_eq!(count(&code, Code::CrossBelow), 1);
    }

    /// A field read from outside only (an `eval` output) keeps its slot.
    #[test]
    fn fused_sma_keeps_a_field_read_from_outside() {
        let code = fused_matches_unfused(
            "symbol s = S\n\
             symbol t = T\n\
             let c = s.close\n\
             let fast = sma(c, 3)\n\
             let slow = sma(s.close, 5)\n\
             let lows = sma(t.low, 4)\n\
             rule enter:\n    buy s when fast crosses above slow\n\
             rule other:\n    buy t when lows > 100\n",
            &["c"],
            0x5DEE_CE66_D1CE_4E5B,
        );
        assert_eq!(count(&code, Code::SmaFieldStore), 2);
        assert_eq!(count(&code, Code::SmaField), 1);
        assert_eq!(count(&code, Code::Close) + count(&code, Code::Low), 0);
        assert_eq!(count(&code, Code::CrossAbove), 1);
    }

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

    /// The fast path writes exactly what the standard formatting does.
    #[test]
    fn fast_numbers_match_the_definition() {
        let check = |v: f64| {
            let (mut fast, mut slow) = (String::new(), String::new());
            if fast_number(v, &mut fast) {
                slow_number(v, &mut slow);
                assert_eq!(fast, slow, "{v:e}");
            }
        };
        let mut next = crate::testing::xorshift(0x2545_F491_4F6C_DD1D);
        for _ in 0..50_000 {
            let r = next();
            let unit = (r >> 11) as f64 / (1u64 << 53) as f64;
            let exp = (next() % 24) as i32 - 15;
            let v = unit * 10f64.powi(exp);
            let sign = if r & 1 == 0 { 1.0 } else { -1.0 };
            check(sign * v);
            // Quoted prices and other short decimals.
            let digits = (next() % 9) as i32;
            let q = (v * 10f64.powi(digits)).round() / 10f64.powi(digits);
            check(sign * q);
            check(q / 7.0);
            check(q * 1e-3);
            // Means of quoted prices, as an SMA gives.
            check((q + 0.01 * (next() % 100) as f64) / 3.0);
        }
        for v in [
            1e-14,
            9.999999999e-15,
            1e8,
            99_999_999.5,
            99_999_999.0,
            0.1,
            0.3,
            1.0,
            9.999999995,
            9.9999999,
            99_999.995,
            0.000123456789,
            19464.912345,
            2411.2999999,
            1e-5,
            1.5e-6,
            123_456_789.0,
            5e-11,
            4.9e-11,
            1e-10,
            // More than 8 digits a hair from a power of ten.
            999.999_999_999_9,
            1_000.000_000_000_1,
            0.099_999_999_999_999_99,
            0.100_000_000_000_000_1,
            9_999_999.999_999_99,
            1.000_000_000_01e-7,
            9.999_999_999_99e-8,
        ] {
            check(v);
            check(-v);
            for ulps in 1..4u64 {
                check(f64::from_bits(v.to_bits() + ulps));
                check(f64::from_bits(v.to_bits() - ulps));
            }
        }
    }

    #[test]
    fn magnitude_and_round_match_the_library() {
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        let check = |a: f64| {
            let m = magnitude(a);
            let exact = a.log10().floor() as i32;
            assert!((m - exact).abs() <= 1, "{a:e}: {m} vs {exact}");
            for y in [
                a,
                -a,
                a * 1e6,
                -a * 1e6,
                a.fract() + 0.5,
                -(a.fract() + 0.5),
            ] {
                assert_eq!(round(y).to_bits(), y.round().to_bits(), "{y:e}");
            }
        };
        for y in [
            0.5,
            1.5,
            2.5,
            -0.5,
            -2.5,
            0.49999999999999994,
            4503599627370495.5,
            -0.0,
            1e300,
        ] {
            assert_eq!(round(y).to_bits(), y.round().to_bits(), "{y:e}");
        }
        for k in -15..9 {
            let p = 10f64.powi(k);
            for a in [
                p,
                p.next_up(),
                p.next_down(),
                2.0 * p,
                5.0 * p,
                9.999_999 * p,
            ] {
                check(a);
            }
        }
        for _ in 0..100_000 {
            let unit = (next() >> 11) as f64 / (1u64 << 53) as f64;
            let a = unit * 10f64.powi((next() % 23) as i32 - 14);
            if a >= 1e-14 {
                check(a);
            }
        }
    }

    #[test]
    fn exact_powers_of_ten() {
        for (k, p) in POW10.iter().enumerate() {
            assert_eq!(p.to_bits(), 10f64.powi(k as i32).to_bits(), "1e{k}");
        }
    }

    #[test]
    fn formatting_appends() {
        let mut s = String::from("x = ");
        format_number_into(19464.912345, &mut s);
        s.push_str(", ");
        format_value_into(0.015, Unit::Percent, &mut s);
        assert_eq!(s, "x = 19464.9, 1.50%");
    }

    #[test]
    fn arith_and_na() {
        assert!(apply_arith(Arith::Div, 1.0, 0.0).is_nan());
        assert!(apply_arith(Arith::Min, f64::NAN, 1.0).is_nan());
    }
}
