//! `playbook fmt FILE... [--check]`

use super::output::Output;
use super::{Outcome, read_source};
use clap::Args;
use playbook::diagnostic::SourceFile;
use playbook::render;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Arguments of `playbook fmt`.
#[derive(Debug, Args)]
pub(crate) struct FmtArgs {
    /// Strategy files (`*.play`) to format in place.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Write nothing; list the files that would change and exit 1 if any.
    #[arg(long)]
    check: bool,
}

/// Formats every file; a file with syntax errors is left alone (its errors
/// shown, exit 1).
pub(crate) fn run(args: &FmtArgs, out: &mut Output) -> io::Result<Outcome> {
    let mut outcome = Outcome::Clean;
    for path in &args.files {
        let Some(text) = read_source(path, out)? else {
            outcome = outcome.max(Outcome::Failed);
            continue;
        };
        let file = match playbook::syntax::parse(&text) {
            Ok(file) => file,
            Err(diags) => {
                let source = SourceFile::new(path.display().to_string(), text);
                out.err(&render::render_all(&diags, &source, out.stderr_color))?;
                out.error(&format!(
                    "not formatting {}: it has syntax errors",
                    path.display()
                ))?;
                outcome = outcome.max(Outcome::Problems);
                continue;
            }
        };
        let formatted = playbook::fmt::format(&file, &text);
        if formatted == text {
            continue;
        }
        if let Err(why) = playbook::fmt::verify(&file, &formatted) {
            out.error(&format!(
                "not formatting {}: {why} (a bug in `playbook fmt`; the file is unchanged)",
                path.display()
            ))?;
            outcome = outcome.max(Outcome::Failed);
            continue;
        }
        if args.check {
            out.out(&format!("{}\n", path.display()))?;
            outcome = outcome.max(Outcome::Problems);
            continue;
        }
        if let Err(err) = write_atomically(path, &formatted) {
            out.error(&format!(
                "cannot write {}: {}",
                path.display(),
                super::output::io_message(&err)
            ))?;
            outcome = outcome.max(Outcome::Failed);
        }
    }
    Ok(outcome)
}

/// Replaces the file's contents by writing a temporary file beside it and
/// renaming it over the original, so a failure never leaves half a file.
fn write_atomically(path: &Path, contents: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "strategy".into());
    let permissions = std::fs::metadata(path)?.permissions();
    let tmp = dir.join(format!(".{name}.fmt-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::set_permissions(&tmp, permissions)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
