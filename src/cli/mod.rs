//! The `playbook` command line: clap arguments, resolved into what to run.
//!
//! Each subcommand lives in its own module and returns an [`Outcome`]; output
//! goes through [`output::Output`], which decides about colour and turns a
//! closed pipe into a quiet exit.

mod check;
mod fmt;
mod output;

use clap::{Parser, Subcommand, ValueEnum};
use output::Output;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write rules for futures/FX strategies, check them, and run them over bars.
#[derive(Debug, Parser)]
#[command(name = "playbook", version, about)]
struct Args {
    /// When to colour diagnostics: `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

/// Whether to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check strategy files; print every problem found.
    Check(check::CheckArgs),
    /// Rewrite strategy files in the canonical layout.
    Fmt(fmt::FmtArgs),
}

/// How a subcommand ended, from best to worst; the worst one sets the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// Everything is fine (exit 0).
    Clean,
    /// The input has problems: errors in a file, files that need formatting (exit 1).
    Problems,
    /// The command could not do its job: bad usage, unreadable file (exit 2).
    Failed,
}

impl Outcome {
    fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Problems => ExitCode::from(1),
            Outcome::Failed => ExitCode::from(2),
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            // `--help` and `--version` exit 0, usage errors 2.
            let _ = err.print();
            return ExitCode::from(err.exit_code().clamp(0, 255) as u8);
        }
    };
    let mut out = Output::new(args.color);
    let result = match &args.command {
        Command::Check(a) => check::run(a, &mut out),
        Command::Fmt(a) => fmt::run(a, &mut out),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        // Someone closed our pipe (`playbook check ... | head`): stop quietly.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            let _ = out.error(&format!("cannot write output: {err}"));
            Outcome::Failed.exit_code()
        }
    }
}

/// Reads a strategy file, or says why not on stderr.
fn read_source(path: &PathBuf, out: &mut Output) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) => {
            out.error(&format!(
                "cannot read {}: {}",
                path.display(),
                output::io_message(&err)
            ))?;
            Ok(None)
        }
    }
}
