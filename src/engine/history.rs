//! Historical runs: open every source of a plan from the run config, merge
//! them through the clock and feed the engine tick by tick. The engine is
//! the same one live mode drives; this module only supplies the bars.
//!
//! Memory does not grow with the history: each source is a streaming
//! reader, the clock holds one pending event per source, and the engine
//! holds indicator state only.

use super::book::{self, FillPolicy};
use super::run::{Engine, RunSettings, Sink};
use super::sizing::SizeBase;
use crate::clock::{ClockError, Event, Merge, SourceInfo};
use crate::compile::Plan;
use crate::config::{self, RunConfig};
use crate::data::{self as options, BarReader, CloseRule, DataError, InputHash, SeriesReader};
use crate::prefetch::Prefetch;
use crate::report::metrics::Summary;
use crate::resample::{DayStart, Interval, Resampled, Resampler};
use jiff::{SignedDuration, Timestamp};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A data file could not be read or has a structural error.
    #[error("{0}")]
    Data(#[from] DataError),
    /// The clock or a resampler rejected a source.
    #[error("{0}")]
    Source(String),
    /// The run config cannot run this plan.
    #[error("{0}")]
    Config(String),
}

/// The clock's sources in plan order (symbols, then series).
type Sources = Vec<(SourceInfo, Prefetch<Result<Event, String>>)>;

/// Whether a data symbol is an FX pair or a spot metal, whose trading days
/// roll at 17:00 New York (`EURUSD`, `USDJPY`, `XAUUSD`).
pub fn rolls_in_new_york(data_symbol: &str) -> bool {
    const CCY: &[&str] = &[
        "USD", "EUR", "JPY", "GBP", "CHF", "AUD", "NZD", "CAD", "HKD", "CNH", "SGD", "SEK", "NOK",
        "MXN", "ZAR", "XAU", "XAG", "XPT", "XPD",
    ];
    let s = data_symbol.to_ascii_uppercase();
    s.len() == 6 && s.is_ascii() && CCY.contains(&&s[..3]) && CCY.contains(&&s[3..])
}

/// Converts the config's data source into the reader's options.
fn source_options(src: &config::DataSource) -> options::SourceOptions {
    options::SourceOptions {
        zone: src.zone.clone(),
        stamp: match src.stamp {
            config::Stamp::Open => options::StampAt::Open,
            config::Stamp::Close => options::StampAt::Close,
        },
        interval: src.interval,
        daily_close: src.daily_close.as_ref().map(|z| options::DailyClose {
            time: z.time,
            zone: Some(z.zone.clone()),
        }),
        on_bad_row: match src.on_bad_row {
            config::OnBadRow::Error => options::OnBadRow::Error,
            config::OnBadRow::Skip => options::OnBadRow::Skip,
        },
    }
}

/// The trading terms of every symbol of the plan, from the config.
///
/// # Errors
/// A conversion symbol that is not one of the plan's symbols.
pub fn instruments(plan: &Plan, config: &RunConfig) -> Result<Vec<book::Instrument>, RunError> {
    plan.symbols
        .iter()
        .map(|s| {
            let inst = config.instrument(&s.data);
            let fx = match &inst.fx {
                None => None,
                Some(fx) => {
                    let idx = plan.symbols.iter().position(|p| p.data == fx.symbol).ok_or_else(|| {
                        RunError::Config(format!(
                            "instrument {} converts its currency with {}, which the strategy does not declare; \
                             add `symbol {} = {}` to the strategy",
                            s.data,
                            fx.symbol,
                            fx.symbol.to_ascii_lowercase(),
                            fx.symbol
                        ))
                    })?;
                    Some(book::FxConversion {
                        symbol: idx,
                        invert: fx.direction == config::FxDirection::Divide,
                    })
                }
            };
            Ok(book::Instrument {
                multiplier: inst.multiplier,
                tick_size: inst.tick_size.unwrap_or(0.0),
                lot_size: inst.lot_size,
                commission: inst.commission,
                slippage_ticks: inst.slippage_ticks,
                fx,
            })
        })
        .collect()
}

/// What a finished run reports besides its sink's rows.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub summary: Summary,
    pub ticks: u64,
    /// Symbol-bars fed to the engine.
    pub bars: u64,
    /// Entries ignored because the position was already held.
    pub ignored: u64,
    /// With [`HistoryOptions::hash_inputs`], the BLAKE3 hash (hex) of each
    /// input file, symbols then series in plan order; `None` for a file
    /// that could not be read to its end.
    pub hashes: Vec<Option<String>>,
}

/// Where a historical run is, for observers (`eval` output, a progress bar).
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// The tick just processed.
    pub time: Timestamp,
    /// Symbol-bars fed so far.
    pub bars: u64,
    /// A rough estimate of all symbol-bars (from file sizes); 0 when unknown.
    pub estimated_bars: u64,
}

/// Options of a historical run.
#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
    /// Ticks before this only warm up indicators; no rule runs.
    pub from: Option<Timestamp>,
    /// The run stops after this tick.
    pub to: Option<Timestamp>,
    /// Hash every input file ([`Outcome::hashes`]) from the bytes its
    /// reader reads.
    pub hash_inputs: bool,
}

/// Opens the sources of `plan` as the config says; also returns each
/// symbol's bar spacing and a rough estimate of the bars to come (for a
/// progress bar).
///
/// # Errors
/// A missing source, an unreadable file or a bad header.
fn open_sources(
    plan: &Plan,
    config: &RunConfig,
    mut hashes: Option<&mut Vec<InputHash>>,
) -> Result<(Sources, Vec<SignedDuration>, u64), RunError> {
    // A hash handle for the next file, if hashes are wanted.
    let mut hash = || {
        hashes.as_deref_mut().map(|all| {
            let h = InputHash::new();
            all.push(h.clone());
            h
        })
    };
    // Each source reads ahead on its own thread (bounded; see `prefetch`),
    // so parsing overlaps merging, evaluation and writing. The thread runs
    // the source's own iterator type (no dynamic call per bar).
    let batch = crate::prefetch::batch_for(plan.symbols.len() + plan.series.len());
    let mut sources: Sources = Vec::new();
    let mut spacing = Vec::new();
    let mut estimated_bars = 0u64;
    for s in &plan.symbols {
        let src = config.data.get(&s.data).ok_or_else(|| {
            RunError::Config(format!(
                "no data source for symbol `{}` ({})",
                s.name, s.data
            ))
        })?;
        let opts = source_options(src);
        let mut reader = match hash() {
            Some(h) => BarReader::open_hashed(&src.file, &opts, h)?,
            None => BarReader::open(&src.file, &opts)?,
        };
        // The interval (or daily-ness) is known once the first bar is read.
        let first = reader.next();
        let native = match reader.close_rule() {
            CloseRule::AfterInterval(iv) if iv > SignedDuration::ZERO => iv,
            CloseRule::AfterInterval(_) => SignedDuration::from_mins(1),
            CloseRule::Daily { .. } => SignedDuration::from_hours(24),
        };
        let rows = reader.estimated_rows().unwrap_or(0) as u64;
        let bars = first.into_iter().chain(reader);
        let info = SourceInfo::bars(s.name.clone());
        let source = match s.resample {
            None => {
                spacing.push(native);
                estimated_bars += rows;
                prefetch(info, bars.map(bar_event), batch)
            }
            Some(iv) => {
                let interval = Interval::from_duration(iv)
                    .map_err(|e| RunError::Config(format!("symbol `{}`: {e}", s.name)))?;
                let anchor = match &src.day_start {
                    Some(z) => DayStart {
                        time: z.time,
                        zone: z.zone.clone(),
                    },
                    None if rolls_in_new_york(&s.data) => DayStart::new_york_17(),
                    None => DayStart::utc(),
                };
                spacing.push(iv);
                let per_bucket = (iv.as_secs() / native.as_secs().max(1)).max(1) as u64;
                estimated_bars += rows / per_bucket;
                let resampled = Resampled::new(bars, Resampler::new(interval, anchor));
                prefetch(info, resampled.map(bar_event), batch)
            }
        };
        sources.push(source);
    }
    for s in &plan.series {
        let src = config.series.get(&s.data).ok_or_else(|| {
            RunError::Config(format!(
                "no data source for series `{}` ({})",
                s.name, s.data
            ))
        })?;
        let opts = options::SeriesOptions {
            // The declaration decides: `as percent` in the strategy, or the config's flag.
            percent: s.as_percent || src.as_percent,
            zone: Some(src.zone.clone()),
            on_bad_row: match src.on_bad_row {
                config::OnBadRow::Error => options::OnBadRow::Error,
                config::OnBadRow::Skip => options::OnBadRow::Skip,
            },
        };
        let reader = match hash() {
            Some(h) => SeriesReader::open_hashed(&src.file, &opts, h)?,
            None => SeriesReader::open(&src.file, &opts)?,
        };
        let points = reader.map(|r| r.map(Event::Point).map_err(|e| e.to_string()));
        sources.push(prefetch(SourceInfo::series(s.name.clone()), points, batch));
    }
    Ok((sources, spacing, estimated_bars))
}

/// A bar of a reader as a clock event (errors as their text).
fn bar_event<E: std::fmt::Display>(r: Result<options::ClosedBar, E>) -> Result<Event, String> {
    r.map(Event::Bar).map_err(|e| e.to_string())
}

/// Starts reading `src` ahead on its own thread, named after the source.
fn prefetch<I>(
    info: SourceInfo,
    src: I,
    batch: usize,
) -> (SourceInfo, Prefetch<Result<Event, String>>)
where
    I: Iterator<Item = Result<Event, String>> + Send + 'static,
{
    let name = format!("read {}", info.name);
    (info, Prefetch::spawn(name, src, batch))
}

/// The run settings from the config (equity, fill policy, instruments).
///
/// # Errors
/// See [`instruments`].
pub fn settings(
    plan: &Plan,
    config: &RunConfig,
    default_size: SizeBase,
) -> Result<RunSettings, RunError> {
    Ok(RunSettings {
        equity: config.account.equity,
        fill: match config.fill {
            config::Fill::NextOpen => FillPolicy::NextOpen,
            config::Fill::Close => FillPolicy::Close,
        },
        instruments: instruments(plan, config)?,
        default_size,
        spacing: Vec::new(),
    })
}

/// Runs `plan` over the history the config points at, writing rows to
/// `sink`; `observe` sees the engine after every tick (`eval` reads its
/// outputs there).
///
/// # Errors
/// The first data error (file, line, what was wrong) stops the run.
pub fn run_history(
    plan: Plan,
    config: &RunConfig,
    mut settings: RunSettings,
    opts: &HistoryOptions,
    sink: &mut impl Sink,
    mut observe: impl FnMut(&Engine, &Progress),
) -> Result<Outcome, RunError> {
    let mut hashes = Vec::new();
    let (sources, spacing, estimated_bars) =
        open_sources(&plan, config, opts.hash_inputs.then_some(&mut hashes))?;
    let n_symbols = plan.symbols.len();
    settings.spacing = spacing;
    let mut engine = Engine::new(plan, settings);
    let mut merge =
        Merge::new(sources).map_err(|e: ClockError<String>| RunError::Source(e.to_string()))?;
    let mut bars = Vec::with_capacity(n_symbols);
    let mut series = Vec::new();
    let (mut ticks, mut n_bars) = (0u64, 0u64);
    while let Some(time) = merge.advance() {
        let time = time.map_err(|e| RunError::Source(e.to_string()))?;
        if opts.to.is_some_and(|to| time > to) {
            break;
        }
        bars.clear();
        series.clear();
        for i in merge.clock().updated().iter() {
            if i < n_symbols {
                if let Some(b) = merge.clock().bar(i) {
                    bars.push((i, *b));
                }
            } else if let Some(v) = merge.clock().value(i) {
                series.push((i - n_symbols, v));
            }
        }
        n_bars += bars.len() as u64;
        ticks += 1;
        let trading = opts.from.is_none_or(|from| time >= from);
        engine.set_trading(trading);
        engine.on_tick(time, &bars, &series, sink);
        observe(
            &engine,
            &Progress {
                time,
                bars: n_bars,
                estimated_bars,
            },
        );
    }
    let summary = engine.finish(sink);
    // The readers end (and finish hashing a file they did not read to its
    // end) before the hashes are read.
    drop(merge);
    Ok(Outcome {
        summary,
        ticks,
        bars: n_bars,
        ignored: engine.ignored(),
        hashes: hashes.iter().map(|h| h.get().map(str::to_string)).collect(),
    })
}
