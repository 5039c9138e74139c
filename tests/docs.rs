//! The documentation and the strategy files stay true.
//!
//! - Every example in `docs/language.md` is tested according to its fence tag
//!   (the convention is documented at the top of that file): `play` blocks are
//!   whole files that parse and check without errors and are in `fmt` layout, `play-expr` lines are
//!   expressions wrapped after the standard prelude, `play-rule` blocks are
//!   rule bodies wrapped after the prelude, and `play-error CODE` blocks must
//!   produce that diagnostic code.
//! - Every `strategies/*.play` file parses, checks with no diagnostic at all
//!   (no errors, no warnings), is already in `fmt` layout, starts with a
//!   comment quoting its playbook rule, has a `strategy` title, and reads only
//!   data that exists in the shared data directory.
//!
//! (That every diagnostic code is documented in `docs/errors.md` is tested in
//! `tests/check.rs`.)

use std::path::{Path, PathBuf};

use playbook::check::check;
use playbook::diagnostic::{Code, Diagnostic, SourceFile};
use playbook::fmt::format;
use playbook::syntax::ast::{File, Item};
use playbook::syntax::parse;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// The declarations that `play-expr` and `play-rule` examples may use. The
/// same text is shown in `docs/language.md` (a test keeps the two equal).
const PRELUDE: &str = "\
symbol gold = XAUUSD
symbol usdjpy = USDJPY
symbol hsi = HSI
symbol nq = NQ

series us_rate = US_POLICY_RATE as percent
series jp_rate = JP_POLICY_RATE as percent

param drop = 1.5%
param surge = 1%
param n = 20
param window = 1d

session asia = 09:00-15:00 Asia/Tokyo mon-fri
session london = 08:00-16:30 Europe/London mon-fri

let yen_surges = usdjpy.close falls by surge within 1d
";

// ------------------------------------------------------------------ helpers

/// Parses and, when parsing succeeds, checks `src`: every diagnostic found.
fn diagnose(src: &str) -> (Option<File>, Vec<Diagnostic>) {
    match parse(src) {
        Ok(file) => {
            let diagnostics = check(&file).diagnostics;
            (Some(file), diagnostics)
        }
        Err(errors) => (None, errors),
    }
}

/// One line per diagnostic: `name:line:col: CODE message`.
fn describe(name: &str, src: &str, diagnostics: &[Diagnostic]) -> String {
    let source = SourceFile::new(name, src);
    diagnostics
        .iter()
        .map(|d| {
            let (line, col) = source.line_col(d.span.start as usize);
            format!("{name}:{line}:{col}: {} {}", d.code.as_str(), d.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn errors_only(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fenced code block of a markdown file.
struct Block {
    /// The info string after the opening fence, trimmed (`play-error E0004`).
    info: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// The lines between the fences, joined with `\n`, ending in `\n`.
    text: String,
}

/// Every fenced (```) code block of `markdown`, in order.
fn code_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut open, fence) {
            (None, true) => {
                open = Some(Block {
                    info: line.trim_start()[3..].trim().to_string(),
                    line: i + 1,
                    text: String::new(),
                })
            }
            (Some(_), true) => blocks.push(open.take().expect("block is open")),
            (Some(block), false) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, false) => {}
        }
    }
    assert!(open.is_none(), "unclosed code block in markdown");
    blocks
}

fn language_md() -> (String, Vec<Block>) {
    let text = read(&Path::new(ROOT).join("docs/language.md"));
    let blocks = code_blocks(&text);
    (text, blocks)
}

/// The kinds of tested examples, from a fence's info string.
#[derive(Debug, PartialEq)]
enum Kind {
    File,
    Expr,
    Rule,
    Error(Code),
}

fn kind(info: &str) -> Option<Kind> {
    let mut words = info.split_whitespace();
    let tag = words.next()?;
    let kind = match tag {
        "play" => Kind::File,
        "play-expr" => Kind::Expr,
        "play-rule" => Kind::Rule,
        "play-error" => {
            let code = words
                .next()
                .unwrap_or_else(|| panic!("`{info}` names no code"));
            let code = Code::ALL
                .iter()
                .copied()
                .find(|c| c.as_str() == code)
                .unwrap_or_else(|| panic!("`{info}`: {code} is not a diagnostic code"));
            Kind::Error(code)
        }
        other if other.starts_with("play") => panic!("unknown example tag `{other}`"),
        _ => return None,
    };
    assert!(words.next().is_none(), "unexpected words in fence `{info}`");
    Some(kind)
}

/// The tested examples of language.md: (kind, fence line, block text).
fn examples() -> Vec<(Kind, usize, String)> {
    let (_, blocks) = language_md();
    blocks
        .into_iter()
        .filter_map(|b| kind(&b.info).map(|k| (k, b.line, b.text)))
        .collect()
}

/// The expression lines of a `play-expr` block (blank and `#` lines skipped).
fn expr_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn wrap_expr(expr: &str) -> String {
    format!("{PRELUDE}\nlet example = {expr}\n")
}

fn wrap_rule(body: &str) -> String {
    let mut src = format!("{PRELUDE}\nrule example:\n");
    for line in body.lines() {
        if !line.trim().is_empty() {
            src.push_str("    ");
        }
        src.push_str(line);
        src.push('\n');
    }
    src
}

// ------------------------------------------------------- docs/language.md

#[test]
fn language_md_has_examples_of_every_kind() {
    let examples = examples();
    let count = |f: fn(&Kind) -> bool| examples.iter().filter(|(k, _, _)| f(k)).count();
    assert!(count(|k| *k == Kind::File) >= 10, "too few `play` examples");
    assert!(
        count(|k| *k == Kind::Expr) >= 20,
        "too few `play-expr` examples"
    );
    assert!(
        count(|k| *k == Kind::Rule) >= 10,
        "too few `play-rule` examples"
    );
    assert!(
        count(|k| matches!(k, Kind::Error(_))) >= 10,
        "too few `play-error` examples"
    );
}

#[test]
fn language_md_shows_the_prelude_the_tests_use() {
    let (_, blocks) = language_md();
    assert!(
        blocks.iter().any(|b| b.info == "play" && b.text == PRELUDE),
        "docs/language.md must show the standard prelude exactly as tests/docs.rs defines it"
    );
}

#[test]
fn language_md_file_examples_parse_and_check() {
    let mut failures = Vec::new();
    for (kind, line, text) in examples() {
        if kind != Kind::File {
            continue;
        }
        let name = format!("language.md:{line}");
        let (file, diagnostics) = diagnose(&text);
        let errors = errors_only(&diagnostics);
        if file.is_none() || !errors.is_empty() {
            failures.push(describe(&name, &text, &errors));
        }
    }
    assert!(
        failures.is_empty(),
        "`play` examples with errors:\n{}",
        failures.join("\n")
    );
}

#[test]
fn language_md_file_examples_are_formatted() {
    let mut failures = Vec::new();
    for (kind, line, text) in examples() {
        if kind != Kind::File {
            continue;
        }
        let Ok(file) = parse(&text) else { continue };
        let formatted = format(&file, &text);
        if formatted != text {
            failures.push(format!(
                "language.md:{line}: not in `playbook fmt` layout; formatted:\n{formatted}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn language_md_expr_examples_parse_and_check() {
    let mut failures = Vec::new();
    let mut tested = 0;
    for (kind, line, text) in examples() {
        if kind != Kind::Expr {
            continue;
        }
        for (offset, expr) in expr_lines(&text) {
            tested += 1;
            let src = wrap_expr(expr);
            let (file, diagnostics) = diagnose(&src);
            let errors = errors_only(&diagnostics);
            if file.is_none() || !errors.is_empty() {
                let name = format!("language.md:{} `{expr}`", line + 1 + offset);
                failures.push(describe(&name, &src, &errors));
            }
        }
    }
    assert!(tested >= 80, "only {tested} expression examples");
    assert!(
        failures.is_empty(),
        "`play-expr` examples with errors:\n{}",
        failures.join("\n")
    );
}

#[test]
fn language_md_rule_examples_parse_and_check() {
    let mut failures = Vec::new();
    for (kind, line, text) in examples() {
        if kind != Kind::Rule {
            continue;
        }
        let src = wrap_rule(&text);
        let (file, diagnostics) = diagnose(&src);
        let errors = errors_only(&diagnostics);
        if file.is_none() || !errors.is_empty() {
            failures.push(describe(&format!("language.md:{line}"), &src, &errors));
        }
    }
    assert!(
        failures.is_empty(),
        "`play-rule` examples with errors:\n{}",
        failures.join("\n")
    );
}

#[test]
fn language_md_error_examples_report_their_code() {
    let mut failures = Vec::new();
    for (kind, line, text) in examples() {
        let Kind::Error(code) = kind else { continue };
        let (_, diagnostics) = diagnose(&text);
        if !diagnostics.iter().any(|d| d.code == code) {
            failures.push(format!(
                "language.md:{line}: expected {}, got:\n{}",
                code.as_str(),
                describe("example", &text, &diagnostics)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn language_md_documents_the_nesting_limit_the_parser_applies() {
    let (text, _) = language_md();
    assert_eq!(
        playbook::syntax::MAX_NESTING,
        64,
        "docs/language.md says 64"
    );
    assert!(
        text.contains("at most **64 levels**"),
        "the nesting limit must be documented"
    );
    let nested = |depth: usize| format!("let x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let (file, diagnostics) = diagnose(&nested(64));
    assert!(
        file.is_some() && errors_only(&diagnostics).is_empty(),
        "64 levels are documented as allowed:\n{}",
        describe("nested", &nested(64), &diagnostics)
    );
    let (_, diagnostics) = diagnose(&nested(65));
    assert!(
        diagnostics.iter().any(|d| d.code == Code::NestingTooDeep),
        "65 levels are documented as E0002"
    );
}

#[test]
fn language_md_lists_every_reserved_keyword() {
    const KEYWORDS: &str = "strategy symbol series param session let rule as in step \
        if then else while and or not exceeds is above below crosses rises falls by within \
        buy sell short cover exit size stop target trail after when pyramid units contracts \
        of equity risk target_vol scaled bars true false percent";
    let (_, blocks) = language_md();
    let listed: Vec<&str> = blocks
        .iter()
        .filter(|b| b.info == "text" && b.text.starts_with("strategy symbol"))
        .flat_map(|b| b.text.split_whitespace())
        .collect();
    let expected: Vec<&str> = KEYWORDS.split_whitespace().collect();
    assert_eq!(
        listed, expected,
        "the reserved-keyword block of language.md"
    );
    // And each one really is reserved: it cannot name a param.
    for kw in expected {
        let src = format!("param {kw} = 1\n");
        let (_, diagnostics) = diagnose(&src);
        assert!(
            diagnostics.iter().any(|d| d.is_error()),
            "`{kw}` was accepted as a name"
        );
    }
}

#[test]
fn language_md_documents_and_exercises_every_builtin() {
    let (text, _) = language_md();
    let expr_examples: Vec<String> = examples()
        .into_iter()
        .filter(|(k, _, _)| *k == Kind::Expr)
        .flat_map(|(_, _, t)| {
            expr_lines(&t)
                .map(|(_, l)| l.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for builtin in playbook::check::Builtin::ALL {
        let name = builtin.name();
        assert!(
            text.contains(&format!("| `{name}(")),
            "docs/language.md has no table row defining `{name}`"
        );
        let call = format!("{name}(");
        assert!(
            expr_examples.iter().any(|l| l.starts_with(&call)
                || l.contains(&format!(" {call}"))
                || l.contains(&format!("({call}"))),
            "no `play-expr` example calls `{name}`"
        );
    }
}

// ------------------------------------------------------------- strategies

fn strategy_files() -> Vec<PathBuf> {
    let dir = Path::new(ROOT).join("strategies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "play"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn there_is_one_strategy_per_playbook_rule() {
    let names: Vec<String> = strategy_files().iter().map(|p| file_name(p)).collect();
    for n in 1..=8 {
        let prefix = format!("p{n}_");
        let matching = names.iter().filter(|f| f.starts_with(&prefix)).count();
        assert_eq!(
            matching, 1,
            "exactly one strategies/{prefix}*.play expected in {names:?}"
        );
    }
    assert_eq!(names.len(), 8, "{names:?}");
}

#[test]
fn strategies_parse_and_check_without_any_diagnostic() {
    let mut failures = Vec::new();
    for path in strategy_files() {
        let name = file_name(&path);
        let src = read(&path);
        let (file, diagnostics) = diagnose(&src);
        if file.is_none() || !diagnostics.is_empty() {
            failures.push(describe(&name, &src, &diagnostics));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn strategies_are_formatted() {
    for path in strategy_files() {
        let name = file_name(&path);
        let src = read(&path);
        let file = parse(&src).unwrap_or_else(|e| panic!("{}", describe(&name, &src, &e)));
        let formatted = format(&file, &src);
        if formatted != src {
            let first_difference = formatted
                .lines()
                .zip(src.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| formatted.lines().count().min(src.lines().count()));
            panic!(
                "strategies/{name} is not in `playbook fmt` layout (first difference at line {}):\n\
                 --- formatted ---\n{formatted}",
                first_difference + 1
            );
        }
    }
}

#[test]
fn strategies_quote_their_rule_and_have_a_title() {
    for path in strategy_files() {
        let name = file_name(&path);
        let src = read(&path);
        let rule_id = name[..2].to_uppercase(); // "P1"
        let first = src.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("# {rule_id}: \"")),
            "{name} must start with `# {rule_id}: \"<the rule in the trader's words>`, found {first:?}"
        );
        let file = parse(&src).unwrap_or_else(|e| panic!("{}", describe(&name, &src, &e)));
        let titles: Vec<&str> = file
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Strategy(s) => Some(s.title.node.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(titles.len(), 1, "{name} needs one `strategy \"...\"` title");
        assert!(
            titles[0].len() > 10,
            "{name}: the title should say what it does"
        );
        // The quoted rule comes before any declaration.
        let first_item = file.items.iter().map(|i| i.span().start).min().unwrap_or(0);
        assert!(
            file.comments
                .first()
                .is_some_and(|c| c.span.start < first_item),
            "{name}: the opening comment must precede the declarations"
        );
    }
}

/// Whether the shared data directory holds bars for `symbol`
/// (`USDJPY_1h_2023-07_2025-07.csv`, `HSI_1d.csv`, ...).
fn has_bars(data: &Path, symbol: &str) -> bool {
    let prefix = format!("{symbol}_");
    std::fs::read_dir(data)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", data.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .any(|f| f.starts_with(&prefix) && f.ends_with(".csv"))
}

#[test]
fn strategies_read_only_data_that_exists() {
    let data = Path::new(DATA);
    for path in strategy_files() {
        let name = file_name(&path);
        let src = read(&path);
        let file = parse(&src).unwrap_or_else(|e| panic!("{}", describe(&name, &src, &e)));
        for item in &file.items {
            match item {
                Item::Symbol(s) => assert!(
                    has_bars(data, &s.data.node),
                    "{name}: no bars for `{}` in {DATA}",
                    s.data.node
                ),
                Item::Series(s) => {
                    let csv = data.join("series").join(format!("{}.csv", s.data.node));
                    assert!(csv.is_file(), "{name}: no series file {}", csv.display());
                }
                _ => {}
            }
        }
    }
}
