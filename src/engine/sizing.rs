//! Position sizing: from a sizing rule and the market at the signal to a
//! quantity, rounded down to the instrument's lot.
//!
//! A leaf: it knows nothing of the language. A zero or undefined quantity is
//! not an error but "no order", with a reason the signal shows to the trader.

use std::fmt;

/// The base of a sizing rule (LANGUAGE.md, Rules: SIZING).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeBase {
    /// `N units`
    Units(f64),
    /// `N contracts`
    Contracts(f64),
    /// `P% of equity`: notional = P x equity.
    FractionOfEquity(f64),
    /// `risk P% of equity`: quantity = equity x P / (stop distance x multiplier).
    Risk(f64),
    /// `target_vol P%`: the position's annualized volatility is P of equity.
    TargetVol(f64),
}

/// A cap on the quantity: `max N contracts|units` or `max P% of equity`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeCap {
    Quantity(f64),
    FractionOfEquity(f64),
}

/// Everything sizing needs to know about the market and the account at the
/// signal. Prices are in the instrument's currency; `fx_rate` converts one
/// unit of that currency into the account currency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizeInput {
    pub equity: f64,
    pub price: f64,
    pub multiplier: f64,
    pub fx_rate: f64,
    pub lot_size: f64,
    /// The stop distance in price units, when the rule has a stop.
    pub stop_distance: Option<f64>,
    /// The instrument's annualized volatility (a fraction), for `target_vol`.
    pub annual_vol: Option<f64>,
}

/// Why a sizing produced no order.
#[derive(Clone, Debug, PartialEq)]
pub enum NoOrder {
    /// An input the sizing needs is `na` or not positive.
    Undefined(&'static str),
    /// The quantity rounds down to zero lots.
    RoundsToZero { raw: f64, lot: f64 },
}

impl fmt::Display for NoOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoOrder::Undefined(what) => write!(f, "no order: {what}"),
            NoOrder::RoundsToZero { raw, lot } => {
                write!(
                    f,
                    "no order: quantity {raw:.4} rounds down to 0 at lot size {lot}"
                )
            }
        }
    }
}

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Computes the order quantity, rounded down to the lot.
///
/// `scale` is the value of `scaled by EXPR` (1 when absent).
///
/// # Errors
/// Returns [`NoOrder`] when an input is `na` or not positive, or when the
/// quantity rounds down to zero lots.
pub fn quantity(
    base: SizeBase,
    scale: Option<f64>,
    cap: Option<SizeCap>,
    input: &SizeInput,
) -> Result<f64, NoOrder> {
    let notional_per_unit = input.price * input.multiplier * input.fx_rate;
    let raw = match base {
        SizeBase::Units(n) | SizeBase::Contracts(n) => {
            if !positive(n) {
                return Err(NoOrder::Undefined("the quantity is not positive"));
            }
            n
        }
        SizeBase::FractionOfEquity(p) => {
            if !positive(p) || !positive(input.equity) || !positive(notional_per_unit) {
                return Err(NoOrder::Undefined(
                    "equity, price or fraction is not positive",
                ));
            }
            input.equity * p / notional_per_unit
        }
        SizeBase::Risk(p) => {
            let Some(dist) = input.stop_distance.filter(|d| positive(*d)) else {
                return Err(NoOrder::Undefined(
                    "the stop distance is na or not positive",
                ));
            };
            if !positive(p) || !positive(input.equity) {
                return Err(NoOrder::Undefined(
                    "equity or risk fraction is not positive",
                ));
            }
            input.equity * p / (dist * input.multiplier * input.fx_rate)
        }
        SizeBase::TargetVol(p) => {
            let Some(vol) = input.annual_vol.filter(|v| positive(*v)) else {
                return Err(NoOrder::Undefined("the volatility is na or zero"));
            };
            if !positive(p) || !positive(input.equity) || !positive(notional_per_unit) {
                return Err(NoOrder::Undefined(
                    "equity, price or target is not positive",
                ));
            }
            input.equity * p / vol / notional_per_unit
        }
    };
    let mut qty = raw;
    if let Some(s) = scale {
        if !s.is_finite() || s < 0.0 {
            return Err(NoOrder::Undefined("the scale factor is na or negative"));
        }
        qty *= s;
    }
    match cap {
        Some(SizeCap::Quantity(n)) => qty = qty.min(n),
        Some(SizeCap::FractionOfEquity(p)) if positive(notional_per_unit) => {
            qty = qty.min(input.equity * p / notional_per_unit)
        }
        Some(SizeCap::FractionOfEquity(_)) => {
            return Err(NoOrder::Undefined("the price is not positive"));
        }
        None => {}
    }
    round_to_lot(qty, input.lot_size)
}

/// Rounds down to a whole number of lots (with a tolerance of 1e-9 lots, so
/// that 0.3 / 0.1 is 3 lots and not 2).
///
/// # Errors
/// [`NoOrder::RoundsToZero`] when less than one lot remains.
pub fn round_to_lot(qty: f64, lot: f64) -> Result<f64, NoOrder> {
    let lot = if positive(lot) { lot } else { 1.0 };
    let lots = (qty / lot + 1e-9).floor();
    if lots.is_nan() || lots < 1.0 {
        return Err(NoOrder::RoundsToZero { raw: qty, lot });
    }
    // Remove binary noise from the multiplication (0.1 x 3 = 0.30000000000000004).
    Ok((lots * lot * 1e9).round() / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SizeInput {
        SizeInput {
            equity: 100_000.0,
            price: 2_400.0,
            multiplier: 100.0,
            fx_rate: 1.0,
            lot_size: 1.0,
            stop_distance: Some(30.0),
            annual_vol: Some(0.15),
        }
    }

    #[test]
    fn risk_sizing_divides_risk_by_stop_value() {
        // 100,000 x 1% = 1,000 at risk; a 30-point stop on a 100x contract
        // risks 3,000 per contract -> 0.33 -> rounds down to 0.
        let err = quantity(SizeBase::Risk(0.01), None, None, &input()).unwrap_err();
        assert!(matches!(err, NoOrder::RoundsToZero { .. }));
        let q = quantity(SizeBase::Risk(0.10), None, None, &input()).unwrap();
        assert_eq!(q, 3.0); // 10,000 / 3,000 = 3.33 -> 3
    }

    #[test]
    fn risk_sizing_needs_a_stop() {
        let mut i = input();
        i.stop_distance = None;
        assert_eq!(
            quantity(SizeBase::Risk(0.01), None, None, &i),
            Err(NoOrder::Undefined(
                "the stop distance is na or not positive"
            ))
        );
    }

    #[test]
    fn fraction_of_equity_and_caps() {
        let mut i = input();
        i.multiplier = 1.0;
        i.price = 100.0;
        assert_eq!(
            quantity(SizeBase::FractionOfEquity(0.5), None, None, &i),
            Ok(500.0)
        );
        assert_eq!(
            quantity(
                SizeBase::FractionOfEquity(0.5),
                None,
                Some(SizeCap::Quantity(120.0)),
                &i
            ),
            Ok(120.0)
        );
        assert_eq!(
            quantity(
                SizeBase::FractionOfEquity(0.5),
                Some(0.5),
                Some(SizeCap::FractionOfEquity(0.2)),
                &i
            ),
            Ok(200.0)
        );
    }

    #[test]
    fn target_vol_scales_inversely_with_volatility() {
        let mut i = input();
        i.multiplier = 1.0;
        i.price = 100.0;
        // 10% target on 100,000 with 20% vol -> 50,000 notional -> 500 units.
        i.annual_vol = Some(0.20);
        assert_eq!(
            quantity(SizeBase::TargetVol(0.10), None, None, &i),
            Ok(500.0)
        );
        i.annual_vol = Some(0.40);
        assert_eq!(
            quantity(SizeBase::TargetVol(0.10), None, None, &i),
            Ok(250.0)
        );
    }

    #[test]
    fn lots_round_down_with_tolerance() {
        assert_eq!(round_to_lot(0.3, 0.1), Ok(0.3));
        assert_eq!(round_to_lot(7.99, 1.0), Ok(7.0));
        assert!(round_to_lot(f64::NAN, 1.0).is_err());
    }

    #[test]
    fn na_scale_means_no_order() {
        assert!(quantity(SizeBase::Units(1.0), Some(f64::NAN), None, &input()).is_err());
    }
}
