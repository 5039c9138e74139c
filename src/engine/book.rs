//! The order book of a run: pending orders, positions (as lots), fills,
//! protective exits, realized and unrealized P&L.
//!
//! A leaf: it knows bars, instruments and orders, nothing of the language.
//! The evaluator submits [`Order`]s at ticks; the book fills them on the
//! acting symbol's next bar (or at once at the close with
//! [`FillPolicy::Close`]) and reports everything that happened as [`Event`]s.
//!
//! Semantics (LANGUAGE.md, Timing; `docs/semantics.md`):
//! - an order from a signal at tick `t` fills at the open of the acting
//!   symbol's first bar that opens at or after `t`, plus slippage; a bar that
//!   was already in progress at `t` is not used (its open is in the past);
//! - each entry is its own lot with its own stop, target, trailing stop and
//!   time limit, computed from the lot's fill price;
//! - at each later bar of the symbol, time limits are checked at the open,
//!   then stops and targets against the bar's range: a bar that opens beyond
//!   a level fills at the open; when a stop and a target are both inside one
//!   bar the stop wins; a trailing stop trails the best high (long) or low
//!   (short) seen on bars before the current one;
//! - `buy` while short first closes the short lots (a reversal), `short`
//!   while long likewise; an entry in the direction already held is ignored
//!   once the rule's pyramid limit is reached.

use crate::data::Bar;
use jiff::{SignedDuration, Timestamp};

/// How an instrument trades.
#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    /// Currency units per point per contract (NQ: 20).
    pub multiplier: f64,
    /// The price increment (NQ: 0.25).
    pub tick_size: f64,
    /// The quantity increment (1 contract, 0.01 lots ...).
    pub lot_size: f64,
    pub commission: Commission,
    /// Slippage in ticks, against the trader, on every fill.
    pub slippage_ticks: f64,
    /// How to convert the instrument's currency into the account currency;
    /// `None` when they are the same.
    pub fx: Option<FxConversion>,
}

impl Default for Instrument {
    fn default() -> Instrument {
        Instrument {
            multiplier: 1.0,
            tick_size: 0.0,
            lot_size: 1.0,
            commission: Commission::None,
            slippage_ticks: 0.0,
            fx: None,
        }
    }
}

/// Commission per fill, in the instrument's currency: the config's type.
pub use crate::config::Commission;

/// The as-of close of the symbol `symbol` converts one unit of the
/// instrument's currency into the account currency: multiply by it, or with
/// `invert` divide by it (USDJPY converts JPY into USD by division).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FxConversion {
    pub symbol: usize,
    pub invert: bool,
}

/// Long or short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Long,
    Short,
}

impl Side {
    fn sign(self) -> f64 {
        match self {
            Side::Long => 1.0,
            Side::Short => -1.0,
        }
    }

    /// `long` or `short`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Long => "long",
            Side::Short => "short",
        }
    }
}

/// What an order wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Open or add long; reverses a short.
    Buy,
    /// Close the long lots.
    Sell,
    /// Open or add short; reverses a long.
    Short,
    /// Close the short lots.
    Cover,
    /// Close every lot of the symbol.
    Exit,
    /// Close the lots opened by this rule (`exit when`).
    CloseRule(u32),
}

/// A distance from the entry price: a fraction of it, or price points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distance {
    Percent(f64),
    Price(f64),
}

impl Distance {
    /// The distance in price points for an entry at `entry`.
    pub fn points(self, entry: f64) -> f64 {
        match self {
            Distance::Percent(p) => entry * p,
            Distance::Price(d) => d,
        }
    }
}

/// The protective exits an entry carries.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExitPlan {
    pub stop: Option<Distance>,
    pub target: Option<Distance>,
    pub trail: Option<Distance>,
    /// `exit after`: the lot is closed at the open of the first bar that
    /// opens at or after fill time + this.
    pub hold: Option<SignedDuration>,
    /// `exit after N bars`: the lot is closed at the open of the N-th bar
    /// after its fill bar.
    pub hold_bars: Option<u32>,
}

/// An order submitted at a tick.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub symbol: usize,
    pub intent: Intent,
    /// Quantity for entries (positive); ignored for closing intents.
    pub quantity: f64,
    /// The rule (index in file order) that sent it.
    pub rule: u32,
    /// The tick at which the signal fired.
    pub signal_time: Timestamp,
    pub exits: ExitPlan,
    /// `pyramid N`: at most N lots from this rule at once (default 1).
    pub max_entries: u32,
}

/// When orders fill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FillPolicy {
    /// At the acting symbol's next bar open (the default).
    #[default]
    NextOpen,
    /// At the signal bar's close (signal-only studies).
    Close,
}

/// Why a lot was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// A `sell`, `cover` or `exit` signal.
    Signal,
    /// Closed by an entry in the other direction.
    Reversal,
    Stop,
    Target,
    Trail,
    /// `exit after`.
    Time,
    /// `exit when`.
    Condition,
}

impl ExitReason {
    /// The name shown in `trades.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Signal => "signal",
            ExitReason::Reversal => "reversal",
            ExitReason::Stop => "stop",
            ExitReason::Target => "target",
            ExitReason::Trail => "trail",
            ExitReason::Time => "time",
            ExitReason::Condition => "exit_when",
        }
    }
}

/// One execution.
#[derive(Clone, Debug, PartialEq)]
pub struct Fill {
    pub time: Timestamp,
    pub symbol: usize,
    pub rule: u32,
    /// `Long` for a buy, `Short` for a sell.
    pub direction: Side,
    pub quantity: f64,
    pub price: f64,
    /// In the account currency.
    pub commission: f64,
    /// The tick of the signal that caused it (for exits by stop etc., the
    /// bar's open time).
    pub signal_time: Timestamp,
}

/// A closed lot.
#[derive(Clone, Debug, PartialEq)]
pub struct Trade {
    pub symbol: usize,
    pub side: Side,
    pub quantity: f64,
    pub entry_time: Timestamp,
    pub entry_price: f64,
    pub exit_time: Timestamp,
    pub exit_price: f64,
    /// Net of both commissions, in the account currency.
    pub pnl: f64,
    /// The price return in the trade's direction (exit / entry - 1, negated for shorts).
    pub ret: f64,
    pub exit_reason: ExitReason,
    pub rule: u32,
}

/// What the book reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Filled(Fill),
    /// An order that did nothing, and why.
    Ignored {
        order: Order,
        reason: &'static str,
    },
    Closed(Trade),
}

#[derive(Clone, Debug, PartialEq)]
struct Lot {
    side: Side,
    qty: f64,
    entry_time: Timestamp,
    entry_price: f64,
    rule: u32,
    stop: Option<f64>,
    target: Option<f64>,
    /// (distance in points, best price seen before the current bar)
    trail: Option<(f64, f64)>,
    deadline: Option<Timestamp>,
    /// (bars seen after the fill bar, limit) for `exit after N bars`.
    bar_limit: Option<(u32, u32)>,
    /// Entry commission in the account currency, charged to the trade.
    entry_commission: f64,
}

impl Lot {
    /// Whether no bar can close the lot by itself (no time limit, stop,
    /// target or trailing stop).
    fn unprotected(&self) -> bool {
        self.stop.is_none()
            && self.target.is_none()
            && self.trail.is_none()
            && self.deadline.is_none()
            && self.bar_limit.is_none()
    }
}

/// The account's state marked to market.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    pub equity: f64,
    pub cash: f64,
    /// Gross notional of open lots / equity.
    pub exposure: f64,
}

/// Positions and pending orders of every symbol of a run.
#[derive(Clone, Debug)]
pub struct Book {
    instruments: Vec<Instrument>,
    lots: Vec<Vec<Lot>>,
    pending: Vec<Vec<Order>>,
    last_close: Vec<f64>,
    cash: f64,
    policy: FillPolicy,
    /// Open lots over all symbols.
    open_lots: usize,
    /// Per symbol, open lots with a stop, target, trailing stop or time
    /// limit (bars of a symbol with none and no pending order only update
    /// its close).
    protected: Vec<u32>,
    /// Pending orders and protected lots over all symbols (0: every bar
    /// only updates its symbol's close, with no per-symbol test).
    busy: usize,
}

impl Book {
    /// A flat book with `equity` in cash; `instruments[i]` describes symbol `i`.
    pub fn new(instruments: Vec<Instrument>, equity: f64, policy: FillPolicy) -> Book {
        let n = instruments.len();
        Book {
            instruments,
            lots: vec![Vec::new(); n],
            pending: vec![Vec::new(); n],
            last_close: vec![f64::NAN; n],
            cash: equity,
            policy,
            open_lots: 0,
            protected: vec![0; n],
            busy: 0,
        }
    }

    /// The signed quantity held in `symbol` (positive long, negative short).
    pub fn position(&self, symbol: usize) -> f64 {
        self.lots[symbol]
            .iter()
            .map(|l| l.side.sign() * l.qty)
            .sum()
    }

    /// Whether any lot is open.
    #[inline]
    pub fn has_positions(&self) -> bool {
        self.open_lots > 0
    }

    /// The number of open lots of `symbol` opened by `rule`.
    pub fn lots_of_rule(&self, symbol: usize, rule: u32) -> usize {
        self.lots[symbol].iter().filter(|l| l.rule == rule).count()
    }

    /// The rate converting `symbol`'s currency into the account currency
    /// (NaN while the FX symbol has no bar yet).
    pub fn fx_rate(&self, symbol: usize) -> f64 {
        self.fx_of(&self.instruments[symbol])
    }

    /// [`Book::fx_rate`] of an instrument of the book.
    #[inline]
    fn fx_of(&self, inst: &Instrument) -> f64 {
        match inst.fx {
            None => 1.0,
            Some(FxConversion { symbol: fx, invert }) => {
                let r = self.last_close[fx];
                if invert { 1.0 / r } else { r }
            }
        }
    }

    /// The instrument of `symbol`.
    pub fn instrument(&self, symbol: usize) -> &Instrument {
        &self.instruments[symbol]
    }

    /// Submits an order at tick `now`. With [`FillPolicy::Close`] it fills at
    /// once at the symbol's latest close; otherwise it waits for the next bar.
    pub fn submit(&mut self, order: Order, now: Timestamp, events: &mut Vec<Event>) {
        match self.policy {
            FillPolicy::NextOpen => {
                self.busy += 1;
                self.pending[order.symbol].push(order);
            }
            FillPolicy::Close => {
                let price = self.last_close[order.symbol];
                if price.is_nan() {
                    events.push(Event::Ignored {
                        order,
                        reason: "no price yet for the acting symbol",
                    });
                } else {
                    self.execute(order, price, now, events);
                }
            }
        }
    }

    /// Processes a bar of `symbol` that closed at `close`: fills pending
    /// orders at its open, applies time limits, stops, targets and trailing
    /// stops, and records its close for marking.
    #[inline]
    pub fn on_bar(&mut self, symbol: usize, bar: &Bar, events: &mut Vec<Event>) {
        if self.busy == 0 || self.protected[symbol] == 0 && self.pending[symbol].is_empty() {
            // Nothing to fill, no time limit, stop, target or trailing stop
            // to check: only the close matters.
            self.last_close[symbol] = bar.close;
        } else {
            self.trade_bar(symbol, bar, events);
        }
    }

    /// [`Book::on_bar`] for a symbol with pending orders or protected lots.
    fn trade_bar(&mut self, symbol: usize, bar: &Bar, events: &mut Vec<Event>) {
        // 1. Orders from earlier ticks fill at this bar's open, if the bar
        //    opened at or after the signal.
        if !self.pending[symbol].is_empty() {
            let mut orders = std::mem::take(&mut self.pending[symbol]);
            for order in orders.drain(..) {
                if bar.time >= order.signal_time {
                    self.busy -= 1;
                    self.execute(order, bar.open, bar.time, events);
                } else {
                    self.pending[symbol].push(order);
                }
            }
            // Keep the allocation for the next orders.
            if self.pending[symbol].is_empty() {
                self.pending[symbol] = orders;
            }
        }
        // No lot with a time limit, stop, target or trailing stop: the
        // checks below would do nothing.
        if self.protected[symbol] == 0 {
            self.last_close[symbol] = bar.close;
            return;
        }
        // 2. Time limits at the open.
        let mut i = 0;
        while i < self.lots[symbol].len() {
            let lot = &mut self.lots[symbol][i];
            let bars_due = match &mut lot.bar_limit {
                Some((seen, limit)) if lot.entry_time < bar.time => {
                    *seen += 1;
                    *seen >= *limit
                }
                _ => false,
            };
            if bars_due || lot.deadline.is_some_and(|d| bar.time >= d) {
                let lot = self.lots[symbol].remove(i);
                self.open_lots -= 1;
                self.close_lot(
                    symbol,
                    lot,
                    bar.open,
                    bar.time,
                    ExitReason::Time,
                    None,
                    events,
                );
            } else {
                i += 1;
            }
        }
        // 3. Stops, trailing stops and targets inside the bar.
        let mut i = 0;
        while i < self.lots[symbol].len() {
            match exit_in_bar(&self.lots[symbol][i], bar) {
                Some((price, reason)) => {
                    let lot = self.lots[symbol].remove(i);
                    self.open_lots -= 1;
                    self.close_lot(symbol, lot, price, bar.time, reason, None, events);
                }
                None => {
                    let lot = &mut self.lots[symbol][i];
                    if let Some((_, best)) = &mut lot.trail {
                        *best = match lot.side {
                            Side::Long => best.max(bar.high),
                            Side::Short => best.min(bar.low),
                        };
                    }
                    i += 1;
                }
            }
        }
        self.last_close[symbol] = bar.close;
    }

    /// Records a symbol's latest close without trading it (FX conversion
    /// symbols and symbols without pending work use [`Book::on_bar`] too;
    /// this is for prices known from elsewhere).
    pub fn set_close(&mut self, symbol: usize, close: f64) {
        self.last_close[symbol] = close;
    }

    /// Marks the account to market at the latest closes.
    #[inline]
    pub fn mark(&self) -> Mark {
        if !self.has_positions() {
            return Mark {
                equity: self.cash,
                cash: self.cash,
                exposure: 0.0,
            };
        }
        let mut unrealized = 0.0;
        let mut gross = 0.0;
        for ((lots, inst), &px) in self
            .lots
            .iter()
            .zip(&self.instruments)
            .zip(&self.last_close)
        {
            if lots.is_empty() {
                continue;
            }
            let fx = self.fx_of(inst);
            for lot in lots {
                unrealized +=
                    lot.side.sign() * (px - lot.entry_price) * lot.qty * inst.multiplier * fx;
                gross += (px * lot.qty * inst.multiplier * fx).abs();
            }
        }
        let equity = self.cash + unrealized;
        Mark {
            equity,
            cash: self.cash,
            exposure: if equity > 0.0 {
                gross / equity
            } else {
                f64::NAN
            },
        }
    }

    fn execute(&mut self, order: Order, price: f64, time: Timestamp, events: &mut Vec<Event>) {
        let symbol = order.symbol;
        match order.intent {
            Intent::Buy | Intent::Short => {
                let side = if order.intent == Intent::Buy {
                    Side::Long
                } else {
                    Side::Short
                };
                let opposite = if side == Side::Long {
                    Side::Short
                } else {
                    Side::Long
                };
                self.close_where(&order, price, time, ExitReason::Reversal, events, |l| {
                    l.side == opposite
                });
                let held = self.lots[symbol]
                    .iter()
                    .filter(|l| l.side == side && l.rule == order.rule)
                    .count();
                if held as u32 >= order.max_entries.max(1) {
                    let reason = if order.max_entries <= 1 {
                        "already in position (no pyramid)"
                    } else {
                        "pyramid limit reached"
                    };
                    events.push(Event::Ignored { order, reason });
                    return;
                }
                self.open_lot(order, side, price, time, events);
            }
            Intent::Sell | Intent::Cover => {
                let side = if order.intent == Intent::Sell {
                    Side::Long
                } else {
                    Side::Short
                };
                if !self.lots[symbol].iter().any(|l| l.side == side) {
                    let reason = if side == Side::Long {
                        "no long position"
                    } else {
                        "no short position"
                    };
                    events.push(Event::Ignored { order, reason });
                    return;
                }
                self.close_where(&order, price, time, ExitReason::Signal, events, |l| {
                    l.side == side
                });
            }
            Intent::Exit => {
                if self.lots[symbol].is_empty() {
                    events.push(Event::Ignored {
                        order,
                        reason: "no position",
                    });
                    return;
                }
                self.close_where(&order, price, time, ExitReason::Signal, events, |_| true);
            }
            Intent::CloseRule(rule) => {
                if !self.lots[symbol].iter().any(|l| l.rule == rule) {
                    events.push(Event::Ignored {
                        order,
                        reason: "no position from this rule",
                    });
                    return;
                }
                self.close_where(&order, price, time, ExitReason::Condition, events, |l| {
                    l.rule == rule
                });
            }
        }
    }

    fn slipped(&self, symbol: usize, price: f64, direction: Side) -> f64 {
        let inst = &self.instruments[symbol];
        price + direction.sign() * inst.slippage_ticks * inst.tick_size
    }

    fn commission(&self, symbol: usize, qty: f64, price: f64) -> f64 {
        let inst = &self.instruments[symbol];
        let native = match inst.commission {
            Commission::None => 0.0,
            Commission::PerContract(c) => c * qty,
            Commission::Bps(b) => b * 1e-4 * (price * qty * inst.multiplier).abs(),
        };
        native * self.fx_rate(symbol)
    }

    fn open_lot(
        &mut self,
        order: Order,
        side: Side,
        price: f64,
        time: Timestamp,
        events: &mut Vec<Event>,
    ) {
        let symbol = order.symbol;
        let fill = self.slipped(symbol, price, side);
        let commission = self.commission(symbol, order.quantity, fill);
        self.cash -= commission;
        let level = |d: Option<Distance>, toward_loss: bool| {
            d.map(|d| {
                let pts = d.points(fill);
                let s = if toward_loss {
                    -side.sign()
                } else {
                    side.sign()
                };
                fill + s * pts
            })
        };
        self.open_lots += 1;
        let lot = Lot {
            side,
            qty: order.quantity,
            entry_time: time,
            entry_price: fill,
            rule: order.rule,
            stop: level(order.exits.stop, true),
            target: level(order.exits.target, false),
            trail: order.exits.trail.map(|d| (d.points(fill), fill)),
            deadline: order.exits.hold.and_then(|h| time.checked_add(h).ok()),
            bar_limit: order.exits.hold_bars.map(|n| (0, n)),
            entry_commission: commission,
        };
        if !lot.unprotected() {
            self.protected[symbol] += 1;
            self.busy += 1;
        }
        self.lots[symbol].push(lot);
        events.push(Event::Filled(Fill {
            time,
            symbol,
            rule: order.rule,
            direction: side,
            quantity: order.quantity,
            price: fill,
            commission,
            signal_time: order.signal_time,
        }));
    }

    #[allow(clippy::too_many_arguments)]
    fn close_where(
        &mut self,
        order: &Order,
        price: f64,
        time: Timestamp,
        reason: ExitReason,
        events: &mut Vec<Event>,
        pred: impl Fn(&Lot) -> bool,
    ) {
        let symbol = order.symbol;
        let mut i = 0;
        while i < self.lots[symbol].len() {
            if pred(&self.lots[symbol][i]) {
                let lot = self.lots[symbol].remove(i);
                self.open_lots -= 1;
                let by = Some((order.rule, order.signal_time));
                self.close_lot(symbol, lot, price, time, reason, by, events);
            } else {
                i += 1;
            }
        }
    }

    /// Closes a lot. `by` is the (rule, signal time) of the order that
    /// closed it, `None` for protective exits (stops, targets, time limits).
    /// The lot was just removed from `lots[symbol]`.
    #[allow(clippy::too_many_arguments)]
    fn close_lot(
        &mut self,
        symbol: usize,
        lot: Lot,
        price: f64,
        time: Timestamp,
        reason: ExitReason,
        by: Option<(u32, Timestamp)>,
        events: &mut Vec<Event>,
    ) {
        if !lot.unprotected() {
            self.protected[symbol] -= 1;
            self.busy -= 1;
        }
        let (fill_rule, signal_time) = by.unwrap_or((lot.rule, time));
        let direction = match lot.side {
            Side::Long => Side::Short,
            Side::Short => Side::Long,
        };
        let fill = self.slipped(symbol, price, direction);
        let commission = self.commission(symbol, lot.qty, fill);
        let inst = &self.instruments[symbol];
        let gross = lot.side.sign()
            * (fill - lot.entry_price)
            * lot.qty
            * inst.multiplier
            * self.fx_rate(symbol);
        self.cash += gross - commission;
        events.push(Event::Filled(Fill {
            time,
            symbol,
            rule: fill_rule,
            direction,
            quantity: lot.qty,
            price: fill,
            commission,
            signal_time,
        }));
        events.push(Event::Closed(Trade {
            symbol,
            side: lot.side,
            quantity: lot.qty,
            entry_time: lot.entry_time,
            entry_price: lot.entry_price,
            exit_time: time,
            exit_price: fill,
            pnl: gross - commission - lot.entry_commission,
            ret: lot.side.sign() * (fill / lot.entry_price - 1.0),
            exit_reason: reason,
            rule: lot.rule,
        }));
    }
}

/// The protective exit a bar triggers for a lot, if any: the stop (or
/// trailing stop) first, then the target; a bar opening beyond a level
/// fills at the open.
fn exit_in_bar(lot: &Lot, bar: &Bar) -> Option<(f64, ExitReason)> {
    let trail_level = lot.trail.map(|(dist, best)| match lot.side {
        Side::Long => best - dist,
        Side::Short => best + dist,
    });
    // The tighter of stop and trailing stop is hit first.
    let stop = match (lot.stop, trail_level) {
        (Some(s), Some(t)) => {
            let trail_tighter = match lot.side {
                Side::Long => t > s,
                Side::Short => t < s,
            };
            Some(if trail_tighter {
                (t, ExitReason::Trail)
            } else {
                (s, ExitReason::Stop)
            })
        }
        (Some(s), None) => Some((s, ExitReason::Stop)),
        (None, Some(t)) => Some((t, ExitReason::Trail)),
        (None, None) => None,
    };
    match lot.side {
        Side::Long => {
            if let Some((level, reason)) = stop {
                if bar.open <= level {
                    return Some((bar.open, reason));
                }
                if bar.low <= level {
                    return Some((level, reason));
                }
            }
            if let Some(t) = lot.target {
                if bar.open >= t {
                    return Some((bar.open, ExitReason::Target));
                }
                if bar.high >= t {
                    return Some((t, ExitReason::Target));
                }
            }
        }
        Side::Short => {
            if let Some((level, reason)) = stop {
                if bar.open >= level {
                    return Some((bar.open, reason));
                }
                if bar.high >= level {
                    return Some((level, reason));
                }
            }
            if let Some(t) = lot.target {
                if bar.open <= t {
                    return Some((bar.open, ExitReason::Target));
                }
                if bar.low <= t {
                    return Some((t, ExitReason::Target));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn bar(t: &str, o: f64, h: f64, l: f64, c: f64) -> Bar {
        Bar {
            time: ts(t),
            open: o,
            high: h,
            low: l,
            close: c,
            volume: f64::NAN,
        }
    }

    /// `busy` counts the pending orders and protected lots, through
    /// orders waiting for a later bar, fills, reversals and protective
    /// exits on two symbols.
    #[test]
    fn busy_counts_pending_orders_and_protected_lots() {
        let mut b = Book::new(
            vec![Instrument::default(), Instrument::default()],
            0.0,
            FillPolicy::NextOpen,
        );
        let mut ev = Vec::new();
        let mut next = crate::testing::xorshift(0xB00C_5EED_0000_0001);
        let start = ts("2024-01-01T00:00:00Z");
        let mut price = [100.0, 50.0];
        for i in 0..3_000 {
            let t = start + SignedDuration::from_mins(i);
            let sym = (next() % 2) as usize;
            if next().is_multiple_of(4) {
                let intents = [
                    Intent::Buy,
                    Intent::Sell,
                    Intent::Short,
                    Intent::Cover,
                    Intent::Exit,
                ];
                let mut o = order(intents[(next() % 5) as usize], 1.0, "2024-01-01T00:00:00Z");
                o.symbol = sym;
                // Some orders wait for a bar opening after them.
                o.signal_time = t + SignedDuration::from_mins((next() % 3) as i64);
                o.max_entries = 2;
                match next() % 4 {
                    0 => o.exits.stop = Some(Distance::Percent(0.01)),
                    1 => o.exits.target = Some(Distance::Price(1.0)),
                    2 => o.exits.hold_bars = Some(3),
                    _ => {}
                }
                b.submit(o, t, &mut ev);
            }
            let p = &mut price[sym];
            let open = *p;
            *p += (next() % 41) as f64 * 0.05 - 1.0;
            let (lo, hi) = (open.min(*p) - 0.3, open.max(*p) + 0.3);
            b.on_bar(
                sym,
                &Bar {
                    time: t,
                    open,
                    high: hi,
                    low: lo,
                    close: *p,
                    volume: 1.0,
                },
                &mut ev,
            );
            let protected: u32 = b.protected.iter().sum();
            let pending: usize = b.pending.iter().map(Vec::len).sum();
            assert_eq!(b.busy, protected as usize + pending, "bar {i}");
        }
        assert!(trades(&ev).len() > 100);
    }

    fn order(intent: Intent, qty: f64, at: &str) -> Order {
        Order {
            symbol: 0,
            intent,
            quantity: qty,
            rule: 0,
            signal_time: ts(at),
            exits: ExitPlan::default(),
            max_entries: 1,
        }
    }

    fn trades(events: &[Event]) -> Vec<&Trade> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Closed(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fills_at_next_open_not_at_a_bar_already_in_progress() {
        let mut b = Book::new(vec![Instrument::default()], 10_000.0, FillPolicy::NextOpen);
        let mut ev = Vec::new();
        b.on_bar(
            0,
            &bar("2024-08-05T00:00:00Z", 100.0, 101.0, 99.0, 100.5),
            &mut ev,
        );
        b.submit(
            order(Intent::Buy, 2.0, "2024-08-05T01:00:00Z"),
            ts("2024-08-05T01:00:00Z"),
            &mut ev,
        );
        // A bar that opened before the signal does not fill it.
        b.on_bar(
            0,
            &bar("2024-08-05T00:30:00Z", 100.5, 100.6, 100.4, 100.5),
            &mut ev,
        );
        assert_eq!(b.position(0), 0.0);
        b.on_bar(
            0,
            &bar("2024-08-05T01:00:00Z", 101.0, 102.0, 100.0, 101.5),
            &mut ev,
        );
        assert_eq!(b.position(0), 2.0);
        let m = b.mark();
        assert_eq!(m.equity, 10_000.0 + 2.0 * 0.5);
    }

    #[test]
    fn stop_wins_when_stop_and_target_are_inside_one_bar() {
        let mut b = Book::new(vec![Instrument::default()], 10_000.0, FillPolicy::NextOpen);
        let mut ev = Vec::new();
        let mut o = order(Intent::Buy, 1.0, "2024-01-01T00:00:00Z");
        o.exits.stop = Some(Distance::Price(5.0));
        o.exits.target = Some(Distance::Percent(0.05));
        b.submit(o, ts("2024-01-01T00:00:00Z"), &mut ev);
        b.on_bar(
            0,
            &bar("2024-01-01T00:00:00Z", 100.0, 101.0, 99.0, 100.0),
            &mut ev,
        );
        b.on_bar(
            0,
            &bar("2024-01-01T01:00:00Z", 100.0, 106.0, 94.0, 100.0),
            &mut ev,
        );
        let t = trades(&ev);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].exit_reason, ExitReason::Stop);
        assert_eq!(t[0].exit_price, 95.0);
    }

    #[test]
    fn a_gap_through_the_stop_fills_at_the_open() {
        let mut b = Book::new(vec![Instrument::default()], 10_000.0, FillPolicy::NextOpen);
        let mut ev = Vec::new();
        let mut o = order(Intent::Short, 1.0, "2024-01-01T00:00:00Z");
        o.exits.stop = Some(Distance::Percent(0.02));
        b.submit(o, ts("2024-01-01T00:00:00Z"), &mut ev);
        b.on_bar(
            0,
            &bar("2024-01-01T00:00:00Z", 100.0, 101.0, 99.0, 100.0),
            &mut ev,
        );
        b.on_bar(
            0,
            &bar("2024-01-02T00:00:00Z", 105.0, 106.0, 104.0, 105.0),
            &mut ev,
        );
        let t = trades(&ev);
        assert_eq!(
            (t[0].exit_price, t[0].exit_reason),
            (105.0, ExitReason::Stop)
        );
        assert_eq!(t[0].pnl, -5.0);
    }

    #[test]
    fn trailing_stop_follows_the_best_price_of_earlier_bars() {
        let mut b = Book::new(vec![Instrument::default()], 0.0, FillPolicy::NextOpen);
        let mut ev = Vec::new();
        let mut o = order(Intent::Buy, 1.0, "2024-01-01T00:00:00Z");
        o.exits.trail = Some(Distance::Price(3.0));
        b.submit(o, ts("2024-01-01T00:00:00Z"), &mut ev);
        b.on_bar(
            0,
            &bar("2024-01-01T00:00:00Z", 100.0, 110.0, 99.0, 109.0),
            &mut ev,
        );
        assert!(trades(&ev).is_empty()); // level 97 on the fill bar
        b.on_bar(
            0,
            &bar("2024-01-01T01:00:00Z", 109.0, 109.5, 106.0, 107.0),
            &mut ev,
        );
        let t = trades(&ev);
        assert_eq!(
            (t[0].exit_price, t[0].exit_reason),
            (107.0, ExitReason::Trail)
        );
    }

    #[test]
    fn reversal_closes_then_opens_and_pyramid_limits_entries() {
        let mut b = Book::new(vec![Instrument::default()], 0.0, FillPolicy::Close);
        let mut ev = Vec::new();
        b.set_close(0, 100.0);
        let now = ts("2024-01-01T00:00:00Z");
        b.submit(
            order(Intent::Buy, 1.0, "2024-01-01T00:00:00Z"),
            now,
            &mut ev,
        );
        b.submit(
            order(Intent::Buy, 1.0, "2024-01-01T00:00:00Z"),
            now,
            &mut ev,
        );
        assert!(matches!(ev.last(), Some(Event::Ignored { .. })));
        let mut o = order(Intent::Buy, 1.0, "2024-01-01T00:00:00Z");
        o.max_entries = 3;
        b.submit(o, now, &mut ev);
        assert_eq!(b.position(0), 2.0);
        b.set_close(0, 90.0);
        b.submit(
            order(Intent::Short, 1.0, "2024-01-01T00:00:00Z"),
            now,
            &mut ev,
        );
        assert_eq!(b.position(0), -1.0);
        let t = trades(&ev);
        assert_eq!(t.len(), 2);
        assert!(
            t.iter()
                .all(|t| t.exit_reason == ExitReason::Reversal && t.pnl == -10.0)
        );
    }

    #[test]
    fn pnl_uses_multiplier_commission_slippage_and_fx() {
        // An N225-like contract in JPY, account in USD via USDJPY (divide).
        let inst = Instrument {
            multiplier: 100.0,
            tick_size: 5.0,
            lot_size: 1.0,
            commission: Commission::PerContract(500.0),
            slippage_ticks: 1.0,
            fx: Some(FxConversion {
                symbol: 1,
                invert: true,
            }),
        };
        let mut b = Book::new(
            vec![inst, Instrument::default()],
            100_000.0,
            FillPolicy::NextOpen,
        );
        let mut ev = Vec::new();
        b.set_close(1, 150.0);
        b.submit(
            order(Intent::Buy, 2.0, "2024-01-01T00:00:00Z"),
            ts("2024-01-01T00:00:00Z"),
            &mut ev,
        );
        b.on_bar(
            0,
            &bar(
                "2024-01-01T00:00:00Z",
                38_000.0,
                38_100.0,
                37_900.0,
                38_050.0,
            ),
            &mut ev,
        );
        b.submit(
            order(Intent::Sell, 0.0, "2024-01-01T01:00:00Z"),
            ts("2024-01-01T01:00:00Z"),
            &mut ev,
        );
        b.on_bar(
            0,
            &bar(
                "2024-01-01T01:00:00Z",
                38_300.0,
                38_400.0,
                38_200.0,
                38_350.0,
            ),
            &mut ev,
        );
        let t = trades(&ev);
        // entry 38,005 (slipped up a tick), exit 38,295 (slipped down a tick):
        // 290 points x 2 x 100 = 58,000 JPY = 386.67 USD, less 2 x 1,000 JPY commission.
        let expected = (290.0 * 2.0 * 100.0 - 2_000.0) / 150.0;
        assert!((t[0].pnl - expected).abs() < 1e-9, "{}", t[0].pnl);
        assert!((b.mark().equity - (100_000.0 + expected)).abs() < 1e-9);
    }

    #[test]
    fn time_exit_at_the_first_open_after_the_holding_period() {
        let mut b = Book::new(vec![Instrument::default()], 0.0, FillPolicy::NextOpen);
        let mut ev = Vec::new();
        let mut o = order(Intent::Buy, 1.0, "2024-01-01T00:00:00Z");
        o.exits.hold = Some(SignedDuration::from_hours(2));
        b.submit(o, ts("2024-01-01T00:00:00Z"), &mut ev);
        for (h, px) in [(0, 100.0), (1, 101.0), (3, 103.0)] {
            let t = format!("2024-01-01T{h:02}:00:00Z");
            b.on_bar(0, &bar(&t, px, px, px, px), &mut ev);
        }
        let t = trades(&ev);
        assert_eq!(
            (t[0].exit_price, t[0].exit_reason),
            (103.0, ExitReason::Time)
        );
        assert_eq!(t[0].exit_time, ts("2024-01-01T03:00:00Z"));
    }
}
