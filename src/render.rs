//! Turning [`Diagnostic`]s into text for people (rustc's layout, via
//! `annotate-snippets`) and into JSON for tools.
//!
//! Rendering happens at the edge: the parser and the checker produce data, and
//! the CLI decides whether the output gets colour (a terminal does, a pipe or a
//! test does not).
//!
//! ```text
//! error[E0101]: unknown name `gld`
//!  --> strategies/p4.play:12:18
//!   |
//! 12 |     buy gold if gld.close > 3
//!    |                 ^^^ not declared
//!    |
//!    = help: did you mean `gold`?
//! ```

use crate::diagnostic::{Diagnostic, Severity, SourceFile};
use crate::syntax::ast::Span;
use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use serde_json::{Value, json};

/// Renders one diagnostic against its source file in rustc's layout, ending
/// with a newline; `color` adds ANSI styles for a terminal.
pub fn render(diag: &Diagnostic, file: &SourceFile, color: bool) -> String {
    let level = match diag.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let primary = clamp(diag.span, &file.text);
    let mut snippet = Snippet::source(file.text.as_str())
        .path(file.name.as_str())
        .annotation(
            AnnotationKind::Primary
                .span(primary)
                .label(diag.label.as_deref()),
        );
    for label in &diag.secondary {
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(clamp(label.span, &file.text))
                .label(label.message.as_str()),
        );
    }
    let mut group = level
        .primary_title(diag.message.as_str())
        .id(diag.code.as_str())
        .element(snippet);
    if let Some(help) = &diag.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    for note in &diag.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = renderer.render(&[group]);
    out.push('\n');
    out
}

/// Renders every diagnostic, each followed by a blank line, in the given order.
pub fn render_all(diags: &[Diagnostic], file: &SourceFile, color: bool) -> String {
    let mut out = String::new();
    for diag in diags {
        out.push_str(&render(diag, file, color));
        out.push('\n');
    }
    out
}

/// The diagnostics of one file as a JSON array, one object per diagnostic with
/// `file`, `severity`, `code`, `message`, `span` (byte offsets), `start` and
/// `end` (1-based line and column), `label`, `help`, `notes` and `secondary`.
pub fn to_json(diags: &[Diagnostic], file: &SourceFile) -> Value {
    Value::Array(
        diags
            .iter()
            .map(|d| {
                let mut obj = location(d.span, file);
                let map = obj.as_object_mut().expect("location is an object");
                map.insert("file".into(), json!(file.name));
                map.insert("severity".into(), json!(d.severity));
                map.insert("code".into(), json!(d.code));
                map.insert("message".into(), json!(d.message));
                map.insert("label".into(), json!(d.label));
                map.insert("help".into(), json!(d.help));
                map.insert("notes".into(), json!(d.notes));
                let secondary: Vec<Value> = d
                    .secondary
                    .iter()
                    .map(|l| {
                        let mut obj = location(l.span, file);
                        obj.as_object_mut()
                            .expect("location is an object")
                            .insert("message".into(), json!(l.message));
                        obj
                    })
                    .collect();
                map.insert("secondary".into(), Value::Array(secondary));
                obj
            })
            .collect(),
    )
}

/// `span`, `start` and `end` of a span, as a JSON object.
fn location(span: Span, file: &SourceFile) -> Value {
    let range = clamp(span, &file.text);
    let (start_line, start_col) = file.line_col(range.start);
    let (end_line, end_col) = file.line_col(range.end);
    json!({
        "span": { "start": range.start, "end": range.end },
        "start": { "line": start_line, "column": start_col },
        "end": { "line": end_line, "column": end_col },
    })
}

/// Keeps a span inside the text and on character boundaries, so that a bad
/// span from a bug elsewhere degrades the picture instead of panicking.
fn clamp(span: Span, text: &str) -> std::ops::Range<usize> {
    let mut start = (span.start as usize).min(text.len());
    let mut end = (span.end as usize).clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    // An empty span at the very end, after the final newline, points at the
    // end of the last line (as rustc shows it) rather than at a line that
    // does not exist.
    if start == text.len() && end == start && text.ends_with('\n') {
        start -= 1;
        end -= 1;
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("strategies/p4.play", text)
    }

    fn span_of(text: &str, needle: &str) -> Span {
        let start = text.find(needle).expect("needle in text");
        Span::new(start, start + needle.len())
    }

    #[test]
    fn unknown_name_with_help() {
        let text = "symbol gold = XAUUSD\n\nrule r:\n    buy gold if gld.close > 3\n";
        let diag = Diagnostic::new(
            Code::UnknownName,
            span_of(text, "gld"),
            "unknown name `gld`",
        )
        .with_label("not declared")
        .with_help("did you mean `gold`?");
        let out = render(&diag, &file(text), false);
        assert_eq!(
            out,
            "\
error[E0101]: unknown name `gld`
 --> strategies/p4.play:4:17
  |
4 |     buy gold if gld.close > 3
  |                 ^^^ not declared
  |
  = help: did you mean `gold`?
"
        );
    }

    #[test]
    fn secondary_labels_and_notes() {
        let text = "param x = 1\nparam y = 2\nparam x = 3\n";
        let first = Span::new(6, 7);
        let second = Span::new(30, 31);
        assert_eq!(&text[second.range()], "x");
        let diag = Diagnostic::new(Code::DuplicateDeclaration, second, "`x` is declared twice")
            .with_label("declared again here")
            .with_secondary(first, "first declared here")
            .with_note("each name is declared once");
        let out = render(&diag, &file(text), false);
        assert_eq!(
            out,
            "\
error[E0102]: `x` is declared twice
 --> strategies/p4.play:3:7
  |
1 | param x = 1
  |       - first declared here
2 | param y = 2
3 | param x = 3
  |       ^ declared again here
  |
  = note: each name is declared once
"
        );
    }

    #[test]
    fn warnings_say_warning() {
        let text = "param x = 1\n";
        let diag = Diagnostic::new(Code::UnusedDeclaration, Span::new(6, 7), "unused param `x`");
        let out = render(&diag, &file(text), false);
        assert!(
            out.starts_with("warning[W0001]: unused param `x`\n"),
            "{out}"
        );
    }

    #[test]
    fn zero_width_span_and_eof() {
        let text = "rule r:\n    buy gold if";
        let eof = Span::new(text.len(), text.len());
        let diag = Diagnostic::new(Code::Syntax, eof, "expected an expression")
            .with_label("expected an expression here");
        let out = render(&diag, &file(text), false);
        assert_eq!(
            out,
            "\
error[E0001]: expected an expression
 --> strategies/p4.play:2:16
  |
2 |     buy gold if
  |                ^ expected an expression here
"
        );

        // EOF after a final newline, and a span past the end of the text.
        let text = "rule r:\n";
        for span in [Span::new(8, 8), Span::new(50, 60)] {
            let diag = Diagnostic::new(Code::MissingAction, span, "rule `r` has no action");
            let out = render(&diag, &file(text), false);
            assert!(
                out.starts_with("error[E0401]: rule `r` has no action\n"),
                "{out}"
            );
            assert!(out.contains("strategies/p4.play:1:8"), "{out}");
            assert!(out.contains("1 | rule r:\n  |        ^"), "{out}");
        }

        // A zero-width span in the middle of a line.
        let text = "let a = (1 + 2\nlet b = 3\n";
        let diag = Diagnostic::new(Code::Syntax, Span::new(14, 14), "expected `)`");
        let out = render(&diag, &file(text), false);
        assert!(
            out.contains("1 | let a = (1 + 2\n  |               ^"),
            "{out}"
        );
    }

    #[test]
    fn spans_off_char_boundaries_do_not_panic() {
        let text = "strategy \"Gold – ü\"\n";
        let diag = Diagnostic::new(Code::Syntax, Span::new(16, 17), "odd span");
        let out = render(&diag, &file(text), false);
        assert!(out.contains("odd span"));
    }

    #[test]
    fn colour_only_when_asked() {
        let text = "param x = 1\n";
        let diag = Diagnostic::new(Code::UnusedDeclaration, Span::new(6, 7), "unused param `x`");
        assert!(!render(&diag, &file(text), false).contains('\x1b'));
        assert!(render(&diag, &file(text), true).contains('\x1b'));
    }

    #[test]
    fn render_all_separates_with_blank_lines() {
        let text = "param x = 1\n";
        let diag = Diagnostic::new(Code::UnusedDeclaration, Span::new(6, 7), "unused param `x`");
        let one = render(&diag, &file(text), false);
        let all = render_all(&[diag.clone(), diag], &file(text), false);
        assert_eq!(all, format!("{one}\n{one}\n"));
    }

    #[test]
    fn json_shape() {
        let text = "param x = 1\nparam x = 2\n";
        let diag = Diagnostic::new(Code::DuplicateDeclaration, Span::new(18, 19), "dup")
            .with_label("again")
            .with_secondary(Span::new(6, 7), "first")
            .with_help("rename one")
            .with_note("n");
        let v = to_json(&[diag], &file(text));
        assert_eq!(
            v,
            json!([{
                "file": "strategies/p4.play",
                "severity": "error",
                "code": "E0102",
                "message": "dup",
                "span": {"start": 18, "end": 19},
                "start": {"line": 2, "column": 7},
                "end": {"line": 2, "column": 8},
                "label": "again",
                "help": "rename one",
                "notes": ["n"],
                "secondary": [{
                    "span": {"start": 6, "end": 7},
                    "start": {"line": 1, "column": 7},
                    "end": {"line": 1, "column": 8},
                    "message": "first",
                }],
            }])
        );
    }

    #[test]
    fn multi_line_span() {
        let text = "symbol g = G\nrule r:\n    buy g\n    stop 1\n\n";
        let diag = Diagnostic::new(Code::MissingAction, Span::new(13, 38), "multi")
            .with_label("this rule")
            .with_secondary(Span::new(7, 8), "g here");
        assert_eq!(
            render(&diag, &file(text), false),
            "\
error[E0401]: multi
 --> strategies/p4.play:2:1
  |
1 |   symbol g = G
  |          - g here
2 | / rule r:
3 | |     buy g
4 | |     stop 1
  | |_______^ this rule
"
        );
    }

    #[test]
    fn empty_file() {
        let diag = Diagnostic::new(Code::MissingAction, Span::new(0, 0), "empty");
        for text in ["", "\n"] {
            let out = render(&diag, &file(text), false);
            assert!(
                out.starts_with("error[E0401]: empty\n --> strategies/p4.play:1:1\n"),
                "{out}"
            );
        }
    }
}
