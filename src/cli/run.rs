//! `playbook run` and `playbook eval`: a strategy over history.

use super::output::Output;
use super::{Outcome, read_source};
use clap::{Args, ValueEnum};
use playbook::compile::{self, ParamOverride, Plan, Unit};
use playbook::config::{self, RunConfig};
use playbook::diagnostic::SourceFile;
use playbook::engine::history::{self, HistoryOptions, RunError};
use playbook::engine::run::Discard;
use playbook::engine::sizing::SizeBase;
use playbook::render;
use playbook::report::sinks::{self, CsvDir, EquityRows, SignalStream, StreamFormat, Writing};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where the bars come from (shared by `run` and `eval`).
#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    /// The run config (`playbook.yaml`): data sources, instruments, account, fill.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// A folder of CSV files: `XAUUSD` reads `DIR/XAUUSD.csv` or the single
    /// `DIR/XAUUSD_*.csv`; series are also looked up in `DIR/series/`.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// Override a param: `--param drop=2%` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,

    /// Start of the run (RFC 3339 or a date); earlier bars only warm up indicators.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,

    /// End of the run (RFC 3339 or a date, inclusive).
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
}

/// Arguments of `playbook run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The strategy file.
    #[arg(value_name = "STRATEGY")]
    strategy: PathBuf,

    #[command(flatten)]
    data: DataArgs,

    /// Write signals.csv, trades.csv, equity.csv and summary.json here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// Format of the signals printed on stdout (without `--out`): a table on
    /// a terminal, CSV in a pipe, unless given.
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Which ticks get a row in equity.csv: `change` writes the first and
    /// the last tick and every tick at which a value changed (a value holds
    /// until the next row); `every` writes one row per tick.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "change")]
    equity_rows: EquityRowsArg,
}

/// `--equity-rows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EquityRowsArg {
    Change,
    Every,
}

/// How signals are printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Csv,
    Json,
    Table,
}

/// Arguments of `playbook eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The strategy file.
    #[arg(value_name = "STRATEGY")]
    strategy: PathBuf,

    /// A `let` name of the strategy or an expression (repeatable).
    #[arg(long = "expr", value_name = "EXPR|NAME", required = true)]
    exprs: Vec<String>,

    #[command(flatten)]
    data: DataArgs,
}

/// A strategy ready to run: its plan, its config and its run options.
struct Prepared {
    plan: Plan,
    config: RunConfig,
    options: HistoryOptions,
    default_size: SizeBase,
    source: SourceFile,
}

fn parse_time(text: &str, what: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| format!("--{what} {text}: {e}"));
    }
    Err(format!(
        "--{what} {text}: expected an RFC 3339 time (2024-08-05T01:00:00Z) or a date (2024-08-05)"
    ))
}

/// Parses the config's default sizing (`"1 contracts"`, `"10% of equity"`,
/// `"100 units"`, `"target_vol 10%"`).
fn default_size(text: &str, origin: &str) -> Result<SizeBase, String> {
    let t = text.trim();
    let number = |s: &str| -> Option<f64> {
        let s = s.trim().replace('_', "");
        match s.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().ok().map(|v| v / 100.0),
            None => s.parse::<f64>().ok(),
        }
        .filter(|v| v.is_finite() && *v > 0.0)
    };
    let bad = || {
        format!(
            "{origin}: sizing `{text}`: expected `N units`, `N contracts`, `P% of equity` or `target_vol P%` \
             (a default sizing cannot be `risk`, which needs each rule's stop)"
        )
    };
    if let Some(p) = t.strip_prefix("target_vol") {
        return number(p).map(SizeBase::TargetVol).ok_or_else(bad);
    }
    if let Some(n) = t.strip_suffix("units") {
        return number(n).map(SizeBase::Units).ok_or_else(bad);
    }
    if let Some(n) = t.strip_suffix("contracts") {
        return number(n).map(SizeBase::Contracts).ok_or_else(bad);
    }
    if let Some(p) = t.strip_suffix("of equity") {
        return number(p).map(SizeBase::FractionOfEquity).ok_or_else(bad);
    }
    Err(bad())
}

/// Parses, checks and compiles a strategy, and resolves its data. Problems
/// are reported on stderr; `Ok(None)` means the run cannot go on.
fn prepare(
    path: &Path,
    extra_source: &str,
    extra: &[&str],
    args: &DataArgs,
    out: &mut Output,
) -> io::Result<Result<Prepared, Outcome>> {
    let Some(mut text) = read_source(&path.to_path_buf(), out)? else {
        return Ok(Err(Outcome::Failed));
    };
    text.push_str(extra_source);
    let source = SourceFile::new(path.display().to_string(), text);
    let file = match playbook::syntax::parse(&source.text) {
        Ok(f) => f,
        Err(diags) => {
            out.err(&render::render_all(&diags, &source, out.stderr_color))?;
            return Ok(Err(Outcome::Problems));
        }
    };
    let errors: Vec<_> = playbook::check::check(&file)
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    if !errors.is_empty() {
        out.err(&render::render_all(&errors, &source, out.stderr_color))?;
        return Ok(Err(Outcome::Problems));
    }
    // The config, or a data folder, or both (the folder fills what the config lacks).
    let mut config = match &args.config {
        Some(p) => match RunConfig::from_file(p) {
            Ok(c) => c,
            Err(e) => {
                out.error(&e.to_string())?;
                return Ok(Err(Outcome::Problems));
            }
        },
        None => RunConfig::empty(),
    };
    // Param overrides: the config's, then the command line's (which win).
    let mut overrides: Vec<ParamOverride> = Vec::new();
    for (name, value) in &config.params {
        let text = format!("{name}={}", param_text(value));
        match ParamOverride::parse(&text) {
            Ok(o) => overrides.push(o),
            Err(e) => {
                out.error(&format!("{}: params: {e}", config_origin(&config)))?;
                return Ok(Err(Outcome::Problems));
            }
        }
    }
    for p in &args.params {
        match ParamOverride::parse(p) {
            Ok(o) => {
                overrides.retain(|x| x.name != o.name);
                overrides.push(o);
            }
            Err(e) => {
                out.error(&format!("--param {e}"))?;
                return Ok(Err(Outcome::Failed));
            }
        }
    }
    let plan = match compile::compile(&file, &source.text, &overrides, extra) {
        Ok(p) => p,
        // An error from the command line (`--param`, `--expr`) has no span.
        Err(e) if e.span.is_empty() && e.span.start == 0 => {
            out.error(&e.message)?;
            return Ok(Err(Outcome::Failed));
        }
        Err(e) => {
            let (line, col) = source.line_col(e.span.start as usize);
            out.error(&format!("{}:{line}:{col}: {}", source.name, e.message))?;
            return Ok(Err(Outcome::Problems));
        }
    };
    let symbols: Vec<&str> = plan.symbols.iter().map(|s| s.data.as_str()).collect();
    let series: Vec<&str> = plan.series.iter().map(|s| s.data.as_str()).collect();
    if let Some(dir) = &args.data
        && let Err(e) = config.fill_from_data_dir(dir, &symbols, &series)
    {
        out.error(&e.to_string())?;
        return Ok(Err(Outcome::Problems));
    }
    if args.config.is_none() && args.data.is_none() {
        out.error(
            "no data: give `--data DIR` (a folder of CSV files) or `--config playbook.yaml`",
        )?;
        return Ok(Err(Outcome::Failed));
    }
    if let Err(e) = config.require_symbols(&symbols, &series) {
        out.error(&e.to_string())?;
        return Ok(Err(Outcome::Problems));
    }
    let default_size = match default_size(&config.sizing, &config_origin(&config)) {
        Ok(s) => s,
        Err(e) => {
            out.error(&e)?;
            return Ok(Err(Outcome::Problems));
        }
    };
    let mut options = HistoryOptions::default();
    for (flag, value, slot) in [
        ("from", &args.from, &mut options.from),
        ("to", &args.to, &mut options.to),
    ] {
        if let Some(v) = value {
            match parse_time(v, flag) {
                Ok(t) => *slot = Some(t),
                Err(e) => {
                    out.error(&e)?;
                    return Ok(Err(Outcome::Failed));
                }
            }
        }
    }
    Ok(Ok(Prepared {
        plan,
        config,
        options,
        default_size,
        source,
    }))
}

fn config_origin(config: &RunConfig) -> String {
    config
        .file
        .as_ref()
        .map_or_else(|| "run config".to_string(), |f| f.display().to_string())
}

fn param_text(p: &config::ParamOverride) -> String {
    match p {
        config::ParamOverride::Number(v) => format!("{v}"),
        config::ParamOverride::Text(s) => s.clone(),
        config::ParamOverride::Bool(b) => b.to_string(),
    }
}

fn report_run_error(e: RunError, out: &mut Output) -> io::Result<Outcome> {
    out.error(&e.to_string())?;
    Ok(match e {
        RunError::Data(_) | RunError::Source(_) => Outcome::Problems,
        RunError::Config(_) => Outcome::Problems,
    })
}

/// `playbook run`.
pub(crate) fn run(args: &RunArgs, out: &mut Output) -> io::Result<Outcome> {
    let p = match prepare(&args.strategy, "", &[], &args.data, out)? {
        Ok(p) => p,
        Err(o) => return Ok(o),
    };
    let settings = match history::settings(&p.plan, &p.config, p.default_size) {
        Ok(s) => s,
        Err(e) => return report_run_error(e, out),
    };
    let bar = progress_bar();
    let mut shown = 0u64;
    let mut observe = |_: &playbook::engine::run::Engine, pr: &history::Progress| {
        if let Some(bar) = &bar
            && pr.bars >= shown + 8192
        {
            shown = pr.bars;
            bar.set_length(pr.estimated_bars.max(pr.bars));
            bar.set_position(pr.bars);
        }
    };
    match &args.out {
        Some(dir) => {
            let rows = match args.equity_rows {
                EquityRowsArg::Change => EquityRows::Change,
                EquityRowsArg::Every => EquityRows::Every,
            };
            let mut sink = match CsvDir::create(dir, rows, Writing::for_this_machine()) {
                Ok(s) => s,
                Err(e) => {
                    out.error(&format!(
                        "cannot write to {}: {}",
                        dir.display(),
                        super::output::io_message(&e)
                    ))?;
                    return Ok(Outcome::Failed);
                }
            };
            // The readers hash the input files for the run record from the
            // bytes they parse.
            let options = HistoryOptions {
                hash_inputs: true,
                ..p.options.clone()
            };
            let outcome = match history::run_history(
                p.plan.clone(),
                &p.config,
                settings,
                &options,
                &mut sink,
                &mut observe,
            ) {
                Ok(o) => o,
                Err(e) => return report_run_error(e, out),
            };
            let files = input_files(&p);
            debug_assert_eq!(files.len(), outcome.hashes.len(), "one hash per input file");
            let hashes: Vec<String> = outcome
                .hashes
                .iter()
                .map(|h| h.clone().unwrap_or_default())
                .collect();
            let record = run_record(&p, &args.strategy, &files, &hashes);
            let summary = serde_json::json!({
                "summary": outcome.summary,
                "ticks": outcome.ticks,
                "bars": outcome.bars,
                "ignored_entries": outcome.ignored,
                "run": record,
            });
            let text = serde_json::to_string_pretty(&summary).map_err(io::Error::other)? + "\n";
            sink.commit(&text)?;
            out.err(&format!(
                "{} ticks, {} trades, total return {:.2}%, max drawdown {:.2}%: wrote {}\n",
                outcome.ticks,
                outcome.summary.trades,
                outcome.summary.total_return * 100.0,
                outcome.summary.max_drawdown * 100.0,
                dir.display()
            ))?;
        }
        None => {
            let format = args.format.unwrap_or(if io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Csv
            });
            let format = match format {
                Format::Csv => StreamFormat::Csv,
                Format::Table => StreamFormat::Table,
                Format::Json => StreamFormat::Json,
            };
            let mut sink = SignalStream::new(io::BufWriter::new(io::stdout().lock()), format);
            if let Err(e) = history::run_history(
                p.plan,
                &p.config,
                settings,
                &p.options,
                &mut sink,
                &mut observe,
            ) {
                return report_run_error(e, out);
            }
            sink.finish()?;
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    Ok(Outcome::Clean)
}

/// A progress bar on stderr, only when stderr is a terminal (never in pipes,
/// files or tests); it appears only for runs that last more than a moment.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        None,
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {wide_bar} {percent:>3}% {pos}/~{len} bars, {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// The input files of a run, (data symbol, file), in plan order.
fn input_files(p: &Prepared) -> Vec<(String, PathBuf)> {
    p.plan
        .symbols
        .iter()
        .filter_map(|s| {
            p.config
                .data
                .get(&s.data)
                .map(|d| (s.data.clone(), d.file.clone()))
        })
        .chain(p.plan.series.iter().filter_map(|s| {
            p.config
                .series
                .get(&s.data)
                .map(|d| (s.data.clone(), d.file.clone()))
        }))
        .collect()
}

/// What a run was made of, for `summary.json`: enough to reproduce it.
/// `hashes` are the BLAKE3 hashes of `files`, in order.
fn run_record(
    p: &Prepared,
    strategy: &Path,
    files: &[(String, PathBuf)],
    hashes: &[String],
) -> serde_json::Value {
    let inputs: Vec<serde_json::Value> = files
        .iter()
        .zip(hashes)
        .map(|((sym, file), hash)| {
            serde_json::json!({
                "symbol": sym,
                "file": file.display().to_string(),
                "blake3": hash,
            })
        })
        .collect();
    let params: serde_json::Map<String, serde_json::Value> = p
        .plan
        .params
        .iter()
        .map(|(n, v, u)| {
            (
                n.clone(),
                serde_json::Value::String(playbook::engine::eval::format_value(*v, *u)),
            )
        })
        .collect();
    serde_json::json!({
        "engine": format!("playbook {}", env!("CARGO_PKG_VERSION")),
        "strategy": strategy.display().to_string(),
        "strategy_blake3": blake3::hash(p.source.text.as_bytes()).to_hex().to_string(),
        "inputs": inputs,
        "params": params,
        "fill": match p.config.fill { config::Fill::NextOpen => "next_open", config::Fill::Close => "close" },
        "equity": p.config.account.equity,
        "currency": p.config.account.currency,
        "from": p.options.from.map(|t| t.to_string()),
        "to": p.options.to.map(|t| t.to_string()),
    })
}

/// `playbook eval`: the value of each expression at every tick, as CSV.
pub(crate) fn eval(args: &EvalArgs, out: &mut Output) -> io::Result<Outcome> {
    // Each ad-hoc expression becomes a `let` appended to the source, so it is
    // checked with the strategy's names in scope.
    let mut extra_source = String::new();
    let mut names: Vec<String> = Vec::new();
    for (i, e) in args.exprs.iter().enumerate() {
        let is_name = e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_name {
            names.push(e.clone());
        } else {
            let name = format!("__eval_{i}");
            extra_source.push_str(&format!("\nlet {name} = {e}\n"));
            names.push(name);
        }
    }
    let extra: Vec<&str> = names.iter().map(String::as_str).collect();
    let p = match prepare(&args.strategy, &extra_source, &extra, &args.data, out)? {
        Ok(p) => p,
        Err(o) => return Ok(o),
    };
    let settings = match history::settings(&p.plan, &p.config, p.default_size) {
        Ok(s) => s,
        Err(e) => return report_run_error(e, out),
    };
    let outputs: Vec<(u32, Unit)> = p
        .plan
        .outputs
        .iter()
        .map(|(_, n)| (*n, p.plan.nodes[*n as usize].unit))
        .collect();
    let mut w = io::BufWriter::new(io::stdout().lock());
    let header: Vec<String> = std::iter::once("time".to_string())
        .chain(args.exprs.iter().map(|e| sinks::field(e)))
        .collect();
    writeln!(w, "{}", header.join(","))?;
    let mut write_error: Option<io::Error> = None;
    let mut sink = Discard;
    let result = history::run_history(
        p.plan,
        &p.config,
        settings,
        &p.options,
        &mut sink,
        |engine, progress: &history::Progress| {
            let time = progress.time;
            if write_error.is_some() || p.options.from.is_some_and(|f| time < f) {
                return;
            }
            let mut line = time.to_string();
            for (node, unit) in &outputs {
                line.push(',');
                line.push_str(&playbook::engine::run::eval_cell(
                    engine.evaluator().value(*node),
                    *unit,
                ));
            }
            line.push('\n');
            if let Err(e) = w.write_all(line.as_bytes()) {
                write_error = Some(e);
            }
        },
    );
    if let Err(e) = result {
        return report_run_error(e, out);
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    w.flush()?;
    Ok(Outcome::Clean)
}
