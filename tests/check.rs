//! The checker, run on fixture files and snapshotted as a user sees it.
//!
//! - `tests/inputs/errors/check/*.play`: one mistake each; the snapshot is the
//!   rendered report (plain text, rustc layout).
//! - `tests/inputs/check/ok/*.play`: must check without any diagnostic.
//! - `tests/inputs/check/warnings/*.play`: warnings only; snapshotted.

use playbook::check::{Builtin, DeclKind, Type, Unit, check};
use playbook::diagnostic::{Code, Diagnostic, Severity, SourceFile};
use playbook::render::render_all;
use playbook::syntax::parse;
use std::collections::BTreeSet;
use std::path::Path;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// Parses and checks `source`; the diagnostics a user would see.
fn diagnostics(source: &str) -> Vec<Diagnostic> {
    match parse(source) {
        Ok(file) => check(&file).diagnostics,
        Err(diags) => diags,
    }
}

fn read(path: &Path) -> (String, String) {
    let source = std::fs::read_to_string(path).expect("fixture is readable");
    let name = path
        .file_name()
        .expect("fixture has a name")
        .to_string_lossy()
        .into_owned();
    (name, source)
}

fn rendered(name: &str, source: &str, diags: &[Diagnostic]) -> String {
    render_all(diags, &SourceFile::new(name, source), false)
}

#[test]
fn error_fixtures() {
    insta::glob!("inputs/errors/check/*.play", |path| {
        let (name, source) = read(path);
        let diags = diagnostics(&source);
        assert!(
            diags.iter().any(Diagnostic::is_error),
            "{name} should fail the check"
        );
        let report = rendered(&name, &source, &diags);
        insta::with_settings!({description => source.as_str(), omit_expression => true}, {
            insta::assert_snapshot!(report);
        });
    });
}

#[test]
fn warning_fixtures() {
    insta::glob!("inputs/check/warnings/*.play", |path| {
        let (name, source) = read(path);
        let diags = diagnostics(&source);
        assert!(!diags.is_empty(), "{name} should warn");
        assert!(
            diags.iter().all(|d| d.severity == Severity::Warning),
            "{name} should only warn:\n{}",
            rendered(&name, &source, &diags)
        );
        let report = rendered(&name, &source, &diags);
        insta::with_settings!({description => source.as_str(), omit_expression => true}, {
            insta::assert_snapshot!(report);
        });
    });
}

#[test]
fn clean_fixtures_have_no_diagnostics() {
    insta::glob!("inputs/check/ok/*.play", |path| {
        let (name, source) = read(path);
        let diags = diagnostics(&source);
        assert!(
            diags.is_empty(),
            "{name} should check clean:\n{}",
            rendered(&name, &source, &diags)
        );
    });
}

fn fixture_files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(MANIFEST).join(dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "play"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_builtin_is_used_by_the_clean_fixture() {
    let (_, source) = read(&Path::new(MANIFEST).join("tests/inputs/check/ok/every_builtin.play"));
    let file = parse(&source).expect("fixture parses");
    let checked = check(&file);
    assert!(checked.diagnostics.is_empty());
    let used: BTreeSet<&str> = checked.calls.values().map(|b| b.name()).collect();
    for b in Builtin::ALL {
        assert!(
            used.contains(b.name()),
            "every_builtin.play does not call `{}`",
            b.name()
        );
    }
}

#[test]
fn there_are_at_least_35_error_fixtures() {
    let n = fixture_files("tests/inputs/errors/check").len();
    assert!(n >= 35, "only {n} error fixtures");
}

#[test]
fn every_code_is_documented_and_produced_by_a_fixture() {
    let docs = std::fs::read_to_string(Path::new(MANIFEST).join("docs/errors.md"))
        .expect("docs/errors.md exists");
    let mut produced = BTreeSet::new();
    for dir in [
        "tests/inputs/errors/check",
        "tests/inputs/errors/syntax",
        "tests/inputs/check/warnings",
    ] {
        for path in fixture_files(dir) {
            let (_, source) = read(&path);
            produced.extend(diagnostics(&source).iter().map(|d| d.code));
        }
    }
    let mut missing_docs = Vec::new();
    let mut missing_fixture = Vec::new();
    for code in Code::ALL {
        if !docs.contains(&format!("## {}", code.as_str())) {
            missing_docs.push(code.as_str());
        }
        if !produced.contains(code) {
            missing_fixture.push(code.as_str());
        }
    }
    assert!(
        missing_docs.is_empty(),
        "codes without a section in docs/errors.md: {missing_docs:?}"
    );
    assert!(
        missing_fixture.is_empty(),
        "codes no fixture produces: {missing_fixture:?}"
    );
}

fn checked(source: &str) -> playbook::check::Checked {
    check(&parse(source).expect("test source parses"))
}

fn codes(source: &str) -> Vec<&'static str> {
    checked(source)
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

#[test]
fn resolved_tables_let_a_compiler_walk_without_resolving() {
    let c = checked(
        "symbol gold = XAUUSD @ 1h\n\
         series rate = US_POLICY_RATE as percent\n\
         param n = 14 in 10..20 step 2\n\
         session asia = 22:00-06:00 Asia/Tokyo mon-wed,fri\n\
         let b = a and in asia\n\
         let a = gold.close > sma(gold.close, n)\n\
         let spread = rate - 2%\n\
         rule r:\n    buy gold if b while spread > 0%\n",
    );
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    let sym = c.lookup("gold").expect("gold declared");
    assert_eq!(sym.kind, DeclKind::Symbol);
    assert_eq!(c.symbols[sym.index].data, "XAUUSD");
    assert_eq!(
        c.symbols[sym.index].resample.map(|d| d.seconds()),
        Some(3600)
    );
    assert!(c.series[0].as_percent);
    let p = &c.params[c.lookup("n").expect("n").index];
    assert!(p.range.is_some());
    assert_eq!(p.ty, Type::Number(Unit::Plain));
    let s = &c.sessions[0];
    assert_eq!(s.windows[0].start_minute, 22 * 60);
    assert_eq!(s.windows[0].end_minute, 6 * 60);
    assert_eq!(s.days, [true, true, true, false, true, false, false]);
    assert!(s.zone.is_some());
    // `b` uses `a`, declared after it: `a` is evaluated first.
    let order: Vec<&str> = c
        .let_order
        .iter()
        .map(|&i| c.lets[i].name.as_str())
        .collect();
    let pos = |n: &str| order.iter().position(|x| *x == n).expect("in order");
    assert!(pos("a") < pos("b"));
    assert_eq!(
        c.lets[c.lookup("spread").expect("spread").index].ty,
        Type::Number(Unit::Percent)
    );
    assert_eq!(c.lets[c.lookup("b").expect("b").index].ty, Type::Bool);
    assert_eq!(c.rules[0].symbol, Some(sym.index));
    // Every use of `gold` resolves to the symbol.
    assert_eq!(c.refs.values().filter(|d| **d == sym).count(), 3);
    assert_eq!(c.calls.values().filter(|b| **b == Builtin::Sma).count(), 1);
}

#[test]
fn units_follow_the_language_rules() {
    let c = checked(
        "symbol g = XAUUSD\nparam x = 2%\n\
         let a = x * 3\nlet b = 3 / x\nlet c = 1 - x\nlet d = x + x\nlet e = x / x\n\
         let f = change(g.close, 1d)\nlet h = rsi(g.close, 14)\nlet i = abs(f)\nlet j = age(g)\n\
         rule r:\n    buy g if a > 0% and b > 0 and c > 0 and d > 0% and e > 0 and f > 0% and h > 0 and i > 0% and j > 1h\n",
    );
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    let ty = |n: &str| c.lets[c.lookup(n).expect("declared").index].ty;
    assert_eq!(ty("a"), Type::Number(Unit::Percent));
    assert_eq!(ty("b"), Type::Number(Unit::Plain));
    assert_eq!(ty("c"), Type::Number(Unit::Plain));
    assert_eq!(ty("d"), Type::Number(Unit::Percent));
    assert_eq!(ty("e"), Type::Number(Unit::Plain));
    assert_eq!(ty("f"), Type::Number(Unit::Percent));
    assert_eq!(ty("h"), Type::Number(Unit::Plain));
    assert_eq!(ty("i"), Type::Number(Unit::Percent));
    assert_eq!(ty("j"), Type::Duration);
}

#[test]
fn all_problems_are_reported_in_source_order() {
    let found = codes(
        "symbol gold = XAUUSD\n\
         session asia = 09:00-15:00 Asia/Tokio\n\
         rule a:\n    buy gld if in gold\n    exit after 2%\n",
    );
    assert_eq!(found, ["W0001", "E0301", "E0101", "E0106", "E0202"]);
}

#[test]
fn long_operator_chains_do_not_overflow_the_stack() {
    // The parser limits nesting; the checker must still be safe on any AST
    // (here a hand-built `1 + 1 + ... + 1` nested 5000 deep).
    use playbook::syntax::ast::{
        BinaryOp, Expr, ExprKind, File, Ident, Item, LetDecl, Span, Spanned,
    };
    let one = || Expr {
        kind: ExprKind::Number(1.0),
        span: Span::new(8, 9),
    };
    let mut value = one();
    for _ in 0..5000 {
        value = Expr {
            kind: ExprKind::Binary {
                op: Spanned::new(BinaryOp::Add, Span::new(10, 11)),
                lhs: Box::new(value),
                rhs: Box::new(one()),
            },
            span: Span::new(8, 13),
        };
    }
    let file = File {
        items: vec![Item::Let(LetDecl {
            name: Ident {
                name: "x".into(),
                span: Span::new(4, 5),
            },
            value,
            span: Span::new(0, 13),
        })],
        comments: vec![],
    };
    let diags = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let diags = check(&file).diagnostics;
            // Dropping a deep tree recurses too; keep it out of the small stack.
            std::mem::forget(file);
            diags
        })
        .expect("thread")
        .join()
        .expect("the checker does not overflow the stack");
    let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::UnusedDeclaration, Code::NestingTooDeep]);
}

#[test]
fn a_long_chain_of_lets_is_ordered_without_recursion() {
    let mut src = String::from("symbol g = XAUUSD\nlet l0 = g.close\n");
    for i in 1..3000 {
        src.push_str(&format!("let l{i} = l{} + 1\n", i - 1));
    }
    src.push_str("rule r:\n    buy g if l2999 > 0\n");
    let c = checked(&src);
    assert!(c.diagnostics.is_empty());
    assert_eq!(c.let_order.len(), 3000);
    assert_eq!(c.let_order[0], 0);
}
