//! Where the command line writes, and whether it colours what it writes.

use super::ColorChoice;
use std::io::{self, IsTerminal, Write};

/// Standard output and standard error, each with its colour decision.
pub(crate) struct Output {
    stdout: io::Stdout,
    stderr: io::Stderr,
    /// Whether diagnostics on stderr get ANSI colours.
    pub stderr_color: bool,
}

impl Output {
    /// Decides colour once: `always`, `never`, or (`auto`) a terminal without
    /// `NO_COLOR` set to a non-empty value.
    pub fn new(choice: ColorChoice) -> Output {
        let stderr = io::stderr();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let stderr_color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && stderr.is_terminal(),
        };
        Output {
            stdout: io::stdout(),
            stderr,
            stderr_color,
        }
    }

    /// Writes text to stdout as is.
    pub fn out(&mut self, text: &str) -> io::Result<()> {
        let mut lock = self.stdout.lock();
        lock.write_all(text.as_bytes())?;
        lock.flush()
    }

    /// Writes text to stderr as is.
    pub fn err(&mut self, text: &str) -> io::Result<()> {
        let mut lock = self.stderr.lock();
        lock.write_all(text.as_bytes())?;
        lock.flush()
    }

    /// Writes `error: MESSAGE` to stderr.
    pub fn error(&mut self, message: &str) -> io::Result<()> {
        let prefix = if self.stderr_color {
            "\x1b[1m\x1b[91merror\x1b[0m\x1b[1m:\x1b[0m"
        } else {
            "error:"
        };
        self.err(&format!("{prefix} {message}\n"))
    }
}

/// An I/O error's message without the `(os error N)` suffix.
pub(crate) fn io_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}
