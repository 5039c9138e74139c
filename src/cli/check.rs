//! `playbook check FILE... [--format text|json]`

use super::output::Output;
use super::{Outcome, read_source};
use clap::{Args, ValueEnum};
use playbook::diagnostic::{Diagnostic, SourceFile};
use playbook::render;
use std::io;
use std::path::PathBuf;

/// Arguments of `playbook check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Strategy files (`*.play`) to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// `text` renders diagnostics on stderr; `json` prints them on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// How `check` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The diagnostics of one source: parse errors, or else the checker's findings.
pub(crate) fn diagnose(text: &str) -> Vec<Diagnostic> {
    match playbook::syntax::parse(text) {
        Err(diags) => diags,
        Ok(file) => playbook::check::check(&file).diagnostics,
    }
}

/// Checks every file; exit 0 when none has errors, 1 when one has, 2 when a
/// file could not be read.
pub(crate) fn run(args: &CheckArgs, out: &mut Output) -> io::Result<Outcome> {
    let mut outcome = Outcome::Clean;
    let (mut errors, mut warnings, mut checked) = (0usize, 0usize, 0usize);
    let mut json = Vec::new();
    for path in &args.files {
        let Some(text) = read_source(path, out)? else {
            outcome = outcome.max(Outcome::Failed);
            continue;
        };
        checked += 1;
        let source = SourceFile::new(path.display().to_string(), text);
        let diags = diagnose(&source.text);
        let file_errors = diags.iter().filter(|d| d.is_error()).count();
        errors += file_errors;
        warnings += diags.len() - file_errors;
        if file_errors > 0 {
            outcome = outcome.max(Outcome::Problems);
        }
        match args.format {
            Format::Text => {
                out.err(&render::render_all(&diags, &source, out.stderr_color))?;
            }
            Format::Json => {
                if let serde_json::Value::Array(items) = render::to_json(&diags, &source) {
                    json.extend(items);
                }
            }
        }
    }
    match args.format {
        Format::Text => out.err(&format!(
            "checked {}: {}, {}\n",
            plural(checked, "file"),
            plural(errors, "error"),
            plural(warnings, "warning")
        ))?,
        Format::Json => {
            let doc = serde_json::json!({
                "files": checked,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": json,
            });
            let mut text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
            text.push('\n');
            out.out(&text)?;
        }
    }
    Ok(outcome)
}

/// `1 file`, `2 files`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
