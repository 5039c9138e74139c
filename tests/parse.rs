//! Parser tests: AST snapshots for every construct, snapshots of the
//! diagnostics for syntax errors, and robustness (no panic, no stack overflow,
//! large files).

use std::fmt::Write as _;

use playbook::diagnostic::{Code, Diagnostic, SourceFile};
use playbook::syntax::ast::{Expr, ExprKind, File, Item, MoveDirection, UnaryOp};
use playbook::syntax::{MAX_NESTING, parse};
use proptest::prelude::*;

/// Renders diagnostics the way a user sees them (rustc layout, no colour).
fn render(file: &SourceFile, diags: &[Diagnostic]) -> String {
    playbook::render::render_all(diags, file, false)
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn parse_snapshots() {
    insta::glob!("inputs/parse/*.play", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let file = match parse(&source) {
            Ok(file) => file,
            Err(diags) => panic!(
                "{} should parse:\n{}",
                path.display(),
                render(&SourceFile::new(file_name(path), source.as_str()), &diags)
            ),
        };
        insta::with_settings!({description => source.as_str(), omit_expression => true}, {
            insta::assert_snapshot!(format!("{file:#?}"));
        });
    });
}

#[test]
fn syntax_error_snapshots() {
    insta::glob!("inputs/errors/syntax/*.play", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let diags = match parse(&source) {
            Ok(file) => panic!("{} should not parse, got {file:#?}", path.display()),
            Err(diags) => diags,
        };
        let report = render(&SourceFile::new(file_name(path), source.as_str()), &diags);
        insta::with_settings!({description => source.as_str(), omit_expression => true}, {
            insta::assert_snapshot!(report);
        });
    });
}

fn expect_ok(source: &str) -> File {
    match parse(source) {
        Ok(file) => file,
        Err(diags) => panic!(
            "expected to parse:\n{}",
            render(&SourceFile::new("input.play", source), &diags)
        ),
    }
}

fn expect_codes(source: &str) -> Vec<Code> {
    match parse(source) {
        Ok(file) => panic!("expected an error, got {file:#?}"),
        Err(diags) => diags.iter().map(|d| d.code).collect(),
    }
}

/// The value of the single `let` in `source`.
fn let_value(source: &str) -> ExprKind {
    let file = expect_ok(source);
    match file.items.into_iter().next() {
        Some(Item::Let(decl)) => decl.value.kind,
        other => panic!("expected a let, got {other:?}"),
    }
}

/// The expression of the single `let` in `source` as an s-expression,
/// without spans and without parentheses nodes.
fn sexpr(source: &str) -> String {
    fn go(e: &Expr, out: &mut String) {
        let list = |head: &str, children: &[&Expr], out: &mut String| {
            write!(out, "({head}").unwrap();
            for c in children {
                out.push(' ');
                go(c, out);
            }
            out.push(')');
        };
        match &e.kind {
            ExprKind::Number(n) => write!(out, "{n}").unwrap(),
            ExprKind::Percent(p) => write!(out, "{p}%").unwrap(),
            ExprKind::Duration(d) => write!(out, "{}{}", d.count, d.unit.suffix()).unwrap(),
            ExprKind::Bars(n) => write!(out, "{n}bars").unwrap(),
            ExprKind::Bool(b) => write!(out, "{b}").unwrap(),
            ExprKind::String(s) => write!(out, "{s:?}").unwrap(),
            ExprKind::Name(n) => out.push_str(&n.name),
            ExprKind::Field { base, field } => {
                list(&format!(".{}", field.node.as_str()), &[base], out)
            }
            ExprKind::Index { base, offset } => list("[]", &[base, offset], out),
            ExprKind::Call { func, args } => {
                let args: Vec<&Expr> = args.iter().collect();
                list(&format!("{}()", func.name), &args, out)
            }
            ExprKind::Unary { op, operand } => {
                let head = match op.node {
                    UnaryOp::Neg => "neg",
                    UnaryOp::Not => "not",
                };
                list(head, &[operand], out)
            }
            ExprKind::Binary { op, lhs, rhs } => list(op.node.as_str(), &[lhs, rhs], out),
            ExprKind::Compare { op, lhs, rhs } => list(op.node.as_str(), &[lhs, rhs], out),
            ExprKind::Move {
                direction,
                subject,
                amount,
                window,
            } => {
                let head = match direction.node {
                    MoveDirection::Rises => "rises",
                    MoveDirection::Falls => "falls",
                };
                list(head, &[subject, amount, window], out)
            }
            ExprKind::While { lhs, rhs } => list("while", &[lhs, rhs], out),
            ExprKind::InSession(s) => write!(out, "(in {})", s.name).unwrap(),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => list("if", &[cond, then, otherwise], out),
            ExprKind::Paren(inner) => go(inner, out),
        }
    }
    let file = expect_ok(source);
    match file.items.first() {
        Some(Item::Let(decl)) => {
            let mut out = String::new();
            go(&decl.value, &mut out);
            out
        }
        other => panic!("expected a let, got {other:?}"),
    }
}

#[test]
fn while_is_looser_than_or_and_and() {
    // `A and B while C or D` means `(A and B) and (C or D)`.
    assert_eq!(
        sexpr("let x = A and B while C or D"),
        "(while (and A B) (or C D))"
    );
    assert_eq!(
        sexpr("let x = A and B while C or D"),
        sexpr("let x = (A and B) while (C or D)")
    );
}

#[test]
fn precedence_matches_explicit_parentheses() {
    let cases = [
        ("a or b and c", "a or (b and c)", "(or a (and b c))"),
        ("not a and b", "(not a) and b", "(and (not a) b)"),
        ("not a < b", "not (a < b)", "(not (< a b))"),
        ("a - b - c", "(a - b) - c", "(- (- a b) c)"),
        ("a / b * c", "(a / b) * c", "(* (/ a b) c)"),
        ("a + b * c", "a + (b * c)", "(+ a (* b c))"),
        ("-a * b", "(-a) * b", "(* (neg a) b)"),
        ("-x[1]", "-(x[1])", "(neg ([] x 1))"),
        (
            "a while b while c",
            "(a while b) while c",
            "(while (while a b) c)",
        ),
        (
            "a * b + c < d - e",
            "((a * b) + c) < (d - e)",
            "(< (+ (* a b) c) (- d e))",
        ),
        (
            "a + 1 exceeds b * 2",
            "(a + 1) exceeds (b * 2)",
            "(exceeds (+ a 1) (* b 2))",
        ),
        (
            "x falls by p + 1 within w or y",
            "(x falls by (p + 1) within w) or y",
            "(or (falls x (+ p 1) w) y)",
        ),
        (
            "not in asia and g.close[1] > 2%",
            "(not (in asia)) and ((g.close)[1] > 2%)",
            "(and (not (in asia)) (> ([] (.close g) 1) 0.02%))",
        ),
        (
            "if a then b else c while d",
            "if a then b else (c while d)",
            "(if a b (while c d))",
        ),
    ];
    for (plain, explicit, tree) in cases {
        let plain_tree = sexpr(&format!("let x = {plain}"));
        assert_eq!(plain_tree, tree, "{plain}");
        assert_eq!(sexpr(&format!("let x = {explicit}")), tree, "{explicit}");
    }
}

#[test]
fn not_applies_to_the_whole_comparison() {
    match let_value("let x = not a < b") {
        ExprKind::Unary { operand, .. } => {
            assert!(matches!(operand.kind, ExprKind::Binary { .. }));
        }
        other => panic!("expected not at the top, got {other:?}"),
    }
}

#[test]
fn chained_comparison_points_at_the_second_operator() {
    let source = "let x = a < b <= c";
    let diags = parse(source).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::ChainedComparison);
    assert_eq!(&source[diags[0].span.range()], "<=");
    assert_eq!(
        diags[0].help.as_deref(),
        Some("compare twice and join with `and`: `a < b and b <= c`")
    );
}

#[test]
fn literal_values() {
    assert_eq!(let_value("let x = 1_000_000"), ExprKind::Number(1e6));
    assert_eq!(let_value("let x = 2.5%"), ExprKind::Percent(0.025));
    assert_eq!(let_value("let x = 20 bars"), ExprKind::Bars(20));
    assert_eq!(
        let_value(r#"let x = "a\"b\\c\nd\te""#),
        ExprKind::String("a\"b\\c\nd\te".to_string())
    );
    match let_value("let x = 1_000w") {
        ExprKind::Duration(d) => assert_eq!(d.seconds(), 1000 * 7 * 86_400),
        other => panic!("{other:?}"),
    }
}

#[test]
fn literal_errors() {
    assert_eq!(expect_codes("let x = 1.2.3"), [Code::InvalidLiteral]);
    assert_eq!(
        expect_codes("let x = 18446744073709551616s"),
        [Code::InvalidLiteral]
    );
    assert!(parse("let x = 18446744073709551615s").is_ok());
    assert_eq!(expect_codes("let x = \"a\\xb\""), [Code::InvalidEscape]);
    assert_eq!(expect_codes("let x = \"abc"), [Code::UnterminatedString]);
    let diags = parse("let x = 1\nstrategy \"abc\nlet y = 2").unwrap_err();
    assert_eq!(diags[0].code, Code::UnterminatedString);
    assert_eq!((diags[0].span.start, diags[0].span.end), (19, 20));
}

#[test]
fn every_keyword_is_reserved() {
    let keywords = [
        "strategy",
        "symbol",
        "series",
        "param",
        "session",
        "let",
        "rule",
        "as",
        "in",
        "step",
        "if",
        "then",
        "else",
        "while",
        "and",
        "or",
        "not",
        "exceeds",
        "is",
        "above",
        "below",
        "crosses",
        "rises",
        "falls",
        "by",
        "within",
        "buy",
        "sell",
        "short",
        "cover",
        "exit",
        "size",
        "stop",
        "target",
        "trail",
        "after",
        "when",
        "pyramid",
        "units",
        "contracts",
        "of",
        "equity",
        "risk",
        "target_vol",
        "scaled",
        "bars",
        "true",
        "false",
        "percent",
    ];
    for kw in keywords {
        let diags = parse(&format!("param {kw} = 1")).unwrap_err();
        assert_eq!(diags[0].code, Code::Syntax, "{kw}");
        assert!(
            diags[0].message.contains("reserved"),
            "{kw}: {}",
            diags[0].message
        );
        // ...but a name that merely starts with it is fine.
        expect_ok(&format!("param {kw}_x = 1\nparam {kw}2 = 2"));
    }
    // `max` and the day names are not reserved.
    expect_ok("param max = 1\nparam mon = 2\nlet y = max(max, mon)");
}

#[test]
fn comments_are_collected_with_spans() {
    let source = "# one  \nlet x = \"#no\" # two\n#\n";
    let file = expect_ok(source);
    let texts: Vec<_> = file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, [" one", " two", ""]);
    let spans: Vec<_> = file
        .comments
        .iter()
        .map(|c| &source[c.span.range()])
        .collect();
    assert_eq!(spans, ["# one", "# two", "#"]);
}

#[test]
fn a_byte_order_mark_is_whitespace() {
    let file = expect_ok("\u{FEFF}symbol gold = XAUUSD\r\nlet x = gold.close # c\r\n");
    assert_eq!(file.items.len(), 2);
    assert_eq!(file.items[0].span().start, 3);
    assert_eq!(file.comments[0].text, " c");
}

#[test]
fn spans_do_not_swallow_trailing_whitespace_or_comments() {
    let source = "session s = 09:00-10:00 UTC mon-fri   # c\n\nlet x = a + b  # d\n";
    let file = expect_ok(source);
    let texts: Vec<_> = file
        .items
        .iter()
        .map(|i| &source[i.span().range()])
        .collect();
    assert_eq!(
        texts,
        ["session s = 09:00-10:00 UTC mon-fri", "let x = a + b"]
    );
}

/// Runs `f` on a thread with a 2 MiB stack, like a default test thread.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!(
        "let x = {}{inner}{}",
        open.repeat(depth),
        close.repeat(depth)
    )
}

#[test]
fn nesting_up_to_the_limit_parses() {
    on_small_stack(|| {
        let n = MAX_NESTING;
        expect_ok(&nested("(", "a", ")", n));
        expect_ok(&nested("f(", "a", ")", n));
        expect_ok(&nested("x[", "1", "]", n));
        expect_ok(&nested("not ", "a", "", n));
        expect_ok(&nested("-", "a", "", n));
        expect_ok(&nested("if a then ", "1", " else 2", n));
        expect_ok(&nested("(not ", "a", ")", n / 2));
        // A condition's `if` does not count as an `if` expression.
        expect_ok(&format!(
            "rule r:\n  buy gold if {}a{}",
            "(".repeat(n),
            ")".repeat(n)
        ));
    });
}

#[test]
fn nesting_beyond_the_limit_is_an_error() {
    on_small_stack(|| {
        let n = MAX_NESTING + 1;
        for source in [
            nested("(", "a", ")", n),
            nested("f(", "a", ")", n),
            nested("x[", "1", "]", n),
            nested("not ", "a", "", n),
            nested("-", "a", "", n),
            nested("if a then ", "1", " else 2", n),
            format!("let x = {}2", "if a then 1 else ".repeat(n)),
        ] {
            assert_eq!(expect_codes(&source), [Code::NestingTooDeep], "{source}");
        }
    });
}

#[test]
fn mixed_nesting_counts_every_form() {
    on_small_stack(|| {
        // Each unit opens a call, a look-back, a parenthesis and an `if`:
        // four levels.
        let units = |n| nested("f(x[(if a then -", "a", " else 0)]) ", n);
        expect_ok(&units(MAX_NESTING / 4 - 1));
        assert_eq!(
            expect_codes(&units(MAX_NESTING / 4 + 1)),
            [Code::NestingTooDeep]
        );
    });
}

#[test]
fn ten_thousand_parens_or_nots_do_not_overflow() {
    on_small_stack(|| {
        let n = 10_000;
        let diags = parse(&nested("(", "a", ")", n)).unwrap_err();
        assert_eq!(diags[0].code, Code::NestingTooDeep);
        // Reported at the 65th `(`: `let x = ` is 8 bytes.
        assert_eq!(diags[0].span.start as usize, 8 + MAX_NESTING);
        assert_eq!(
            expect_codes(&nested("not ", "a", "", n)),
            [Code::NestingTooDeep]
        );
        assert_eq!(
            expect_codes(&nested("(", "", "", n)),
            [Code::NestingTooDeep]
        );
        assert_eq!(
            expect_codes(&nested("- ", "a", "", n)),
            [Code::NestingTooDeep]
        );
        assert_eq!(
            expect_codes(&nested("[", "a", "]", n)),
            [Code::NestingTooDeep]
        );
    });
}

#[test]
fn long_operator_chains_are_bounded() {
    on_small_stack(|| {
        // A long flat chain nests to the left; it is refused before any
        // later pass could recurse too deeply on it.
        let long = format!("let x = a{}", " + a".repeat(10_000));
        assert_eq!(expect_codes(&long), [Code::NestingTooDeep]);
        let fine = format!("let x = a{}", " and a".repeat(200));
        expect_ok(&fine);
    });
}

/// A realistic strategy file of about `bytes` bytes.
fn generated_strategy(bytes: usize) -> String {
    let mut out =
        String::from("strategy \"generated\"\nsymbol gold = XAUUSD\nsymbol usdjpy = USDJPY @ 1h\n");
    out.push_str("session asia = 09:00-15:00 Asia/Tokyo mon-fri\n");
    let mut i = 0;
    while out.len() < bytes {
        write!(
            out,
            "# block {i}\n\
             param drop_{i} = 1.5% in 0.5%..3% step 0.25%\n\
             let fast_{i} = ema(gold.close, 12) - ema(gold.close[1], 26) * 2\n\
             let yen_{i} = usdjpy.close falls by drop_{i} within 1d\n\
             rule r_{i}:\n    \
                 buy gold if session_drop(gold, asia) exceeds drop_{i} while yen_{i} and not in asia\n    \
                 size risk 0.5% of equity scaled by 2 max 5 contracts\n    \
                 stop 2 * atr(gold, 14)\n    \
                 target if fast_{i} > 0 then 3% else 2%\n    \
                 exit after 3d\n"
        )
        .unwrap();
        i += 1;
    }
    out
}

#[test]
fn a_large_generated_file_parses() {
    let bytes = if cfg!(debug_assertions) {
        1 << 20
    } else {
        10 << 20
    };
    let source = generated_strategy(bytes);
    let file = expect_ok(&source);
    assert!(file.items.len() > bytes / 1000);
}

fn fixtures() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/inputs");
    let mut out = Vec::new();
    for sub in ["parse", "errors/syntax"] {
        for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            out.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
    }
    out.sort();
    out
}

/// Checks the properties every parse result has, error or not.
fn check_result(source: &str) {
    match parse(source) {
        Ok(file) => {
            for item in &file.items {
                assert!(item.span().end as usize <= source.len());
            }
        }
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in &diags {
                assert!(d.span.start <= d.span.end);
                assert!(d.span.end as usize <= source.len());
                assert!(source.is_char_boundary(d.span.start as usize));
                assert!(source.is_char_boundary(d.span.end as usize));
                assert!(!d.message.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 200 } else { 1000 }))]

    #[test]
    fn random_text_never_panics(source in "\\PC{0,200}") {
        check_result(&source);
    }

    #[test]
    fn random_language_text_never_panics(
        source in "([a-z_]{1,6}|[0-9._%]{1,4}|[-+*/<>=!()\\[\\],.:@#\"\\\\ \n]|if |then |else |not |rule r:\n|let x = |buy gold ){0,40}"
    ) {
        check_result(&source);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..6),
    ) {
        let all = fixtures();
        let mut bytes = all[pick.index(all.len())].clone().into_bytes();
        for (at, kind, c) in edits {
            let at = if bytes.is_empty() { 0 } else { at.index(bytes.len()) };
            match kind {
                0 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                1 => {
                    let mut buf = [0u8; 4];
                    let s = c.encode_utf8(&mut buf);
                    for (k, b) in s.bytes().enumerate() {
                        bytes.insert(at + k, b);
                    }
                }
                _ if !bytes.is_empty() => {
                    let end = (at + 8).min(bytes.len());
                    let chunk = bytes[at..end].to_vec();
                    for (k, b) in chunk.into_iter().enumerate() {
                        bytes.insert(end + k, b);
                    }
                }
                _ => {}
            }
        }
        let source = String::from_utf8_lossy(&bytes).into_owned();
        check_result(&source);
    }
}
