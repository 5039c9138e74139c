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
