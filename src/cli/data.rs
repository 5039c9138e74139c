//! `playbook data check PATH...`: load bar or series files and report their quality.

use super::Outcome;
use super::output::Output;
use clap::{Args, Subcommand};
use playbook::data::{self, SeriesOptions, SourceOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Arguments of `playbook data`.
#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Load CSV files (bars, or `timestamp,value` series) and print, per
    /// file, rows, first/last time, interval, gaps, duplicates and
    /// anomalies; exit 1 when a file has errors. A folder checks every CSV in it.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Files or folders.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// IANA zone of time stamps without an offset (default UTC).
    #[arg(long, value_name = "ZONE")]
    zone: Option<String>,
}

/// Whether a file is a `timestamp,value` series (by its header).
fn is_series(path: &Path) -> bool {
    let Ok(text) = std::fs::read(path) else {
        return false;
    };
    let first = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let header = String::from_utf8_lossy(first).to_ascii_lowercase();
    let cols: Vec<&str> = header
        .trim()
        .split([',', ';', '\t'])
        .map(str::trim)
        .collect();
    cols.len() == 2 && cols[1] == "value"
}

/// The files named, with folders expanded (recursively, sorted) to the CSV
/// files in them.
fn files_of(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.to_string_lossy();
                    f.is_dir() || name.ends_with(".csv") || name.ends_with(".csv.gz")
                })
                .collect();
            inner.sort();
            out.extend(files_of(&inner)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Runs `playbook data ...`.
pub(crate) fn run(args: &DataArgs, out: &mut Output) -> io::Result<Outcome> {
    let DataCommand::Check(args) = &args.command;
    let zone = match &args.zone {
        None => jiff::tz::TimeZone::UTC,
        Some(z) => match data::parse_zone(z) {
            Ok(z) => z,
            Err(e) => {
                out.error(&e.to_string())?;
                return Ok(Outcome::Failed);
            }
        },
    };
    let files = match files_of(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            out.error(&format!(
                "cannot list files: {}",
                super::output::io_message(&e)
            ))?;
            return Ok(Outcome::Failed);
        }
    };
    let mut outcome = Outcome::Clean;
    let (mut ok, mut failed) = (0, 0);
    for file in &files {
        if !file.exists() {
            out.error(&format!(
                "cannot read {}: No such file or directory",
                file.display()
            ))?;
            outcome = outcome.max(Outcome::Failed);
            continue;
        }
        if is_series(file) {
            let opts = SeriesOptions {
                zone: Some(zone.clone()),
                ..SeriesOptions::default()
            };
            match data::load_series(file, &opts) {
                Ok(points) => {
                    ok += 1;
                    let (first, last) = (points.first(), points.last());
                    let mut text = format!("{}\n  series: {} points", file.display(), points.len());
                    if let (Some(a), Some(b)) = (first, last) {
                        text.push_str(&format!(", {} .. {}", a.time, b.time));
                    }
                    out.out(&format!("{text}\n"))?;
                }
                Err(e) => {
                    failed += 1;
                    out.error(&e.to_string())?;
                    outcome = outcome.max(Outcome::Problems);
                }
            }
            continue;
        }
        let opts = SourceOptions {
            zone: zone.clone(),
            ..SourceOptions::default()
        };
        match data::check_file(file, &opts) {
            Ok(report) => {
                ok += 1;
                out.out(&format!("{report}"))?;
            }
            Err(e) => {
                failed += 1;
                out.error(&e.to_string())?;
                outcome = outcome.max(Outcome::Problems);
            }
        }
    }
    out.err(&format!(
        "checked {} files: {ok} loaded, {failed} with errors\n",
        files.len()
    ))?;
    Ok(outcome)
}
