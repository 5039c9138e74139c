//! `playbook::fmt`: snapshots of the canonical layout for messy inputs, and
//! two properties over every strategy file in the repository: formatting
//! never changes meaning (same tree, spans aside; same comments) and is
//! idempotent.

use playbook::fmt::format;
use playbook::syntax::ast::*;
use playbook::syntax::parse;
use std::path::{Path, PathBuf};

/// Parses `text`, panicking with the parser's diagnostics if it fails.
fn parse_ok(text: &str, what: &str) -> File {
    match parse(text) {
        Ok(file) => file,
        Err(diags) => panic!("{what} does not parse: {diags:#?}\n--- text ---\n{text}"),
    }
}

#[test]
fn fixtures() {
    insta::glob!("inputs/fmt/*.play", |path| {
        let input = std::fs::read_to_string(path).unwrap();
        let file = parse_ok(&input, &path.display().to_string());
        let output = format(&file, &input);
        assert_round_trip(&input, &output, &path.display().to_string());
        insta::with_settings!({ description => input.as_str(), omit_expression => true }, {
            insta::assert_snapshot!(output);
        });
    });
}

/// Every `.play` file under `tests/inputs/` and `strategies/` that parses keeps
/// its meaning and comments through `format`, and formatting is idempotent.
#[test]
fn every_strategy_file_round_trips() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect_play_files(&root.join("tests/inputs"), &mut files);
    collect_play_files(&root.join("strategies"), &mut files);
    let fixtures = files
        .iter()
        .filter(|p| p.starts_with(root.join("tests/inputs/fmt")));
    assert!(fixtures.count() >= 5, "the fmt fixtures are found");
    let mut formatted = 0;
    for path in &files {
        let input = std::fs::read_to_string(path).unwrap();
        if parse(&input).is_err() {
            continue; // error fixtures of the parser
        }
        let output = format(&parse_ok(&input, "input"), &input);
        assert_round_trip(&input, &output, &path.display().to_string());
        formatted += 1;
    }
    assert!(formatted >= 5, "only {formatted} files were formatted");
}

fn collect_play_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_play_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "play") {
            out.push(path);
        }
    }
}

/// `output` (the formatting of `input`) parses to the same tree spans aside,
/// keeps every comment in order, and formats to itself.
fn assert_round_trip(input: &str, output: &str, what: &str) {
    let mut before = parse_ok(input, what);
    let mut after = parse_ok(output, &format!("formatted {what}"));
    let again = format(&after, output);
    assert_eq!(again, output, "formatting {what} twice changes it");
    let comments = |f: &File| {
        f.comments
            .iter()
            .map(|c| c.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(comments(&before), comments(&after), "comments of {what}");
    erase_file(&mut before);
    erase_file(&mut after);
    assert_eq!(
        before.items, after.items,
        "formatting {what} changed its meaning"
    );
}

// ----- span erasure: a visitor that zeroes every span of a tree -----

fn z(span: &mut Span) {
    *span = Span::default();
}

fn erase_ident(id: &mut Ident) {
    z(&mut id.span);
}

fn erase_file(file: &mut File) {
    for c in &mut file.comments {
        z(&mut c.span);
    }
    for item in &mut file.items {
        match item {
            Item::Strategy(d) => {
                z(&mut d.title.span);
                z(&mut d.span);
            }
            Item::Symbol(d) => {
                erase_ident(&mut d.name);
                z(&mut d.data.span);
                if let Some(r) = &mut d.resample {
                    z(&mut r.span);
                }
                z(&mut d.span);
            }
            Item::Series(d) => {
                erase_ident(&mut d.name);
                z(&mut d.data.span);
                if let Some(s) = &mut d.as_percent {
                    z(s);
                }
                z(&mut d.span);
            }
            Item::Param(d) => {
                erase_ident(&mut d.name);
                erase_expr(&mut d.value);
                if let Some(r) = &mut d.range {
                    erase_expr(&mut r.lo);
                    erase_expr(&mut r.hi);
                    if let Some(s) = &mut r.step {
                        erase_expr(s);
                    }
                    z(&mut r.span);
                }
                z(&mut d.span);
            }
            Item::Session(d) => {
                erase_ident(&mut d.name);
                for w in &mut d.windows {
                    z(&mut w.start.span);
                    z(&mut w.end.span);
                    z(&mut w.span);
                }
                z(&mut d.zone.span);
                if let Some(days) = &mut d.days {
                    for spec in &mut days.items {
                        match spec {
                            DaySpec::Day(day) => z(&mut day.span),
                            DaySpec::Range(a, b) => {
                                z(&mut a.span);
                                z(&mut b.span);
                            }
                        }
                    }
                    z(&mut days.span);
                }
                z(&mut d.span);
            }
            Item::Let(d) => {
                erase_ident(&mut d.name);
                erase_expr(&mut d.value);
                z(&mut d.span);
            }
            Item::Rule(d) => {
                erase_ident(&mut d.name);
                for clause in &mut d.clauses {
                    erase_clause(&mut clause.kind);
                    z(&mut clause.span);
                }
                z(&mut d.span);
            }
        }
    }
}

fn erase_clause(kind: &mut ClauseKind) {
    match kind {
        ClauseKind::Action(a) => {
            z(&mut a.action.span);
            erase_ident(&mut a.symbol);
            if let Some(c) = &mut a.condition {
                z(&mut c.keyword.span);
                erase_expr(&mut c.expr);
            }
        }
        ClauseKind::Size(s) => {
            match &mut s.base {
                SizeBase::Units(e)
                | SizeBase::Contracts(e)
                | SizeBase::PercentOfEquity(e)
                | SizeBase::Risk(e)
                | SizeBase::TargetVol(e) => erase_expr(e),
            }
            if let Some(e) = &mut s.scaled_by {
                erase_expr(e);
            }
            if let Some(cap) = &mut s.max {
                match cap {
                    SizeCap::Contracts(e) | SizeCap::Units(e) | SizeCap::PercentOfEquity(e) => {
                        erase_expr(e)
                    }
                }
            }
            z(&mut s.span);
        }
        ClauseKind::When(e)
        | ClauseKind::Stop(e)
        | ClauseKind::Target(e)
        | ClauseKind::Trail(e)
        | ClauseKind::ExitAfter(e)
        | ClauseKind::ExitWhen(e)
        | ClauseKind::Pyramid(e) => erase_expr(e),
    }
}

fn erase_expr(e: &mut Expr) {
    z(&mut e.span);
    match &mut e.kind {
        ExprKind::Number(_)
        | ExprKind::Percent(_)
        | ExprKind::Duration(_)
        | ExprKind::Bars(_)
        | ExprKind::Bool(_)
        | ExprKind::String(_) => {}
        ExprKind::Name(id) | ExprKind::InSession(id) => erase_ident(id),
        ExprKind::Field { base, field } => {
            erase_expr(base);
            z(&mut field.span);
        }
        ExprKind::Index { base, offset } => {
            erase_expr(base);
            erase_expr(offset);
        }
        ExprKind::Call { func, args } => {
            erase_ident(func);
            args.iter_mut().for_each(erase_expr);
        }
        ExprKind::Unary { op, operand } => {
            z(&mut op.span);
            erase_expr(operand);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            z(&mut op.span);
            erase_expr(lhs);
            erase_expr(rhs);
        }
        ExprKind::Compare { op, lhs, rhs } => {
            z(&mut op.span);
            erase_expr(lhs);
            erase_expr(rhs);
        }
        ExprKind::Move {
            direction,
            subject,
            amount,
            window,
        } => {
            z(&mut direction.span);
            erase_expr(subject);
            erase_expr(amount);
            erase_expr(window);
        }
        ExprKind::While { lhs, rhs } => {
            erase_expr(lhs);
            erase_expr(rhs);
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            erase_expr(cond);
            erase_expr(then);
            erase_expr(otherwise);
        }
        ExprKind::Paren(inner) => erase_expr(inner),
    }
}

// ----- small cases pinned inline -----

/// Formats `input` and checks the result, then checks the round trip.
fn formats_to(input: &str, expected: &str) {
    let output = format(&parse_ok(input, "input"), input);
    assert_eq!(output, expected, "--- input ---\n{input}");
    assert_round_trip(input, &output, "input");
}

#[test]
fn empty_and_comment_only_files() {
    formats_to("", "");
    formats_to("\n\n  \n", "");
    formats_to(
        "# just a note\n\n\n#   another\n",
        "# just a note\n\n#   another\n",
    );
}

#[test]
fn blank_lines_collapse_and_groups_separate() {
    formats_to(
        "symbol a = A\n\n\n\nsymbol b = B\nparam x = 1\nparam y = 2\nrule r:\n\n    buy a\n",
        "symbol a = A\n\nsymbol b = B\n\nparam x = 1\nparam y = 2\n\nrule r:\n    buy a\n",
    );
}

#[test]
fn trailing_comment_stays_on_its_line() {
    formats_to(
        "param   x=1# one\nparam y = 2\n",
        "param x = 1  # one\nparam y = 2\n",
    );
}

#[test]
fn comment_inside_an_expression_moves_before_its_clause() {
    formats_to(
        "symbol g = G\nrule r:\n    buy g if g.close > 1 and # why\n        g.open < 2\n",
        "symbol g = G\n\nrule r:\n    # why\n    buy g if g.close > 1 and g.open < 2\n",
    );
}

#[test]
fn long_condition_breaks_before_the_loosest_connective() {
    let cond = "sma(g.close, 20) > sma(g.close, 50) and rsi(g.close, 14) < 70 \
                while g.close crosses above highest(g.high, 20) or in asia";
    let input = format!(
        "symbol g = G\nsession asia = 09:00-15:00 Asia/Tokyo\nrule r:\n    buy g if {cond}\n"
    );
    formats_to(
        &input,
        "symbol g = G\n\nsession asia = 09:00-15:00 Asia/Tokyo\n\nrule r:\n    \
         buy g if sma(g.close, 20) > sma(g.close, 50) and rsi(g.close, 14) < 70\n        \
         while g.close crosses above highest(g.high, 20) or in asia\n",
    );
}

#[test]
fn literals_keep_their_spelling() {
    formats_to(
        "param a=1_000_000\nparam b = 1.50%\nparam c =   -2\nlet d = 20  bars\n",
        "param a = 1_000_000\nparam b = 1.50%\nparam c = -2\n\nlet d = 20 bars\n",
    );
}

// ----- the layout does not depend on how the input was spaced -----

/// The `.play` files under `tests/inputs/` that parse, with their comments
/// blanked out (comments pin line structure, which this property varies).
fn parseable_inputs_without_comments() -> &'static [(PathBuf, String)] {
    static INPUTS: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    INPUTS.get_or_init(|| {
        let mut files = Vec::new();
        collect_play_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs"),
            &mut files,
        );
        files
            .into_iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(&path).ok()?;
                let file = parse(&text).ok()?;
                let mut bytes = text.into_bytes();
                for c in &file.comments {
                    bytes[c.span.range()].fill(b' ');
                }
                Some((path, String::from_utf8(bytes).ok()?))
            })
            .collect()
    })
}

/// Byte ranges of the whitespace runs of `text` that hold no newline and lie
/// outside string literals.
fn respaceable_runs(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let (mut runs, mut i, mut in_string) = (Vec::new(), 0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 2,
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b' ' | b'\t' if !in_string => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                    i += 1;
                }
                let touches_newline = (start > 0 && bytes[start - 1] == b'\n')
                    || i >= bytes.len()
                    || matches!(bytes[i], b'\n' | b'\r');
                if !touches_newline {
                    runs.push(start..i);
                }
            }
            _ => i += 1,
        }
    }
    runs
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    /// Replacing the spaces between tokens by other spaces or single line
    /// breaks gives exactly the same formatted text.
    #[test]
    fn spacing_does_not_change_the_layout(
        seed in proptest::collection::vec(0usize..5, 1..400),
    ) {
        const GAPS: [&str; 5] = [" ", "   ", "\n", "\n        ", "\t"];
        for (path, text) in parseable_inputs_without_comments() {
            let expected = format(&parse_ok(text, "input"), text);
            let mut respaced = String::new();
            let mut last = 0;
            for (k, run) in respaceable_runs(text).into_iter().enumerate() {
                respaced.push_str(&text[last..run.start]);
                respaced.push_str(GAPS[seed[k % seed.len()]]);
                last = run.end;
            }
            respaced.push_str(&text[last..]);
            let what = format!("{} respaced:\n{respaced}", path.display());
            let output = format(&parse_ok(&respaced, &what), &respaced);
            proptest::prop_assert_eq!(output, expected, "{}", what);
        }
    }
}
