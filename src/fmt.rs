//! The canonical layout of a strategy file (`playbook fmt`).
//!
//! [`format`] prints a parsed [`File`] back as text in one canonical layout:
//!
//! - declarations in source order, one per line; a `rule NAME:` header with
//!   each clause on its own line, indented 4 spaces;
//! - at most one blank line where the source had one or more; always one
//!   before each `rule` and between groups of different declaration kinds
//!   (`symbol`s, then `param`s, ...); none right after `rule NAME:`;
//! - single spaces around binary operators and phrases (`a + b`,
//!   `x exceeds y`), none inside `x[1]`, `f(a, b)`, `gold.close`, `(a)`;
//!   keywords lower case;
//! - literals reprinted from the source text, so `1_000_000` and `1.50%` stay
//!   as written; parentheses kept exactly where the source had them;
//! - a line longer than 100 columns whose expression is joined by `while`,
//!   `or` or `and` is broken before those words, loosest first and only
//!   where a line is still too long, also inside parentheses that hold a whole
//!   line's expression; continuation lines are indented 8 spaces (so a rule's
//!   clause continues 4 columns deeper than the clause);
//! - comments kept: a comment on its own line stays before the declaration or
//!   clause that follows it, a comment after code stays at the end of that
//!   line (after two spaces), and a comment inside a multi-line declaration or
//!   clause moves to its own line just before it.
//!
//! The output parses to the same tree (spans aside), and formatting it again
//! gives the same text.

use crate::syntax::ast::{
    Action, Clause, ClauseKind, Comment, CondKeyword, DaySpec, Expr, ExprKind, File, Item,
    MoveDirection, RuleDecl, SizeBase, SizeCap, Sizing, Span, UnaryOp, Weekday,
};

/// Lines longer than this are broken before `while`/`or`/`and`.
const MAX_WIDTH: usize = 100;
/// The indentation of a rule's clauses.
const CLAUSE_INDENT: &str = "    ";
/// The indentation of the continuation lines of a broken expression.
const CONTINUATION_INDENT: &str = "        ";

/// Prints `file` (parsed from `source`) in the canonical layout described in
/// the module documentation; the result ends with a newline unless empty.
pub fn format(file: &File, source: &str) -> String {
    Formatter { src: source }.file(file)
}

/// Checks that `formatted`, the output of [`format`] for `original`, parses
/// to the same tree (spans aside) with the same comments.
///
/// # Errors
///
/// Says what went wrong when the formatted text does not parse, means
/// something else, or lost or changed a comment.
pub fn verify(original: &File, formatted: &str) -> Result<(), String> {
    let reparsed = crate::syntax::parse(formatted)
        .map_err(|_| "the formatted text does not parse".to_string())?;
    if erase_spans(&format!("{:?}", reparsed.items))
        != erase_spans(&format!("{:?}", original.items))
    {
        return Err("the formatted text would mean something else".into());
    }
    let texts = |f: &File| {
        f.comments
            .iter()
            .map(|c| c.text.clone())
            .collect::<Vec<_>>()
    };
    if texts(&reparsed) != texts(original) {
        return Err("formatting would lose or reorder comments".into());
    }
    Ok(())
}

/// Removes every `@START..END` (the `Debug` form of a [`Span`]) from a
/// `Debug` dump of a tree.
fn erase_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let a = digits(after);
        let is_span = a > 0 && after[a..].starts_with("..") && digits(&after[a + 2..]) > 0;
        if is_span {
            let b = digits(&after[a + 2..]);
            rest = &after[a + 2 + b..];
        } else {
            out.push('@');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A piece of the output that comments attach to: a declaration, a rule's
/// header, or a rule's clause.
struct Unit<'a> {
    start: usize,
    end: usize,
    what: UnitRef<'a>,
    /// Index of the item this unit belongs to.
    item: usize,
    /// The first unit of its item (the item itself, or a rule's header).
    item_head: bool,
    /// The first clause of its rule.
    first_clause: bool,
    /// Own-line comments before the unit.
    leading: Vec<&'a Comment>,
    /// Comments inside the unit's text; printed on their own lines before it.
    inside: Vec<&'a Comment>,
    /// The comment at the end of the unit's last line.
    trailing: Vec<&'a Comment>,
}

enum UnitRef<'a> {
    Item(&'a Item),
    RuleHead(&'a RuleDecl),
    Clause(&'a Clause),
}

struct Formatter<'s> {
    src: &'s str,
}

impl<'s> Formatter<'s> {
    fn file(&self, file: &File) -> String {
        let mut units = self.units(file);
        let mut eof_comments = Vec::new();
        for comment in &file.comments {
            let at = comment.span.start as usize;
            let idx = units.partition_point(|u| u.start < at);
            if idx > 0 && units[idx - 1].end > at {
                units[idx - 1].inside.push(comment);
            } else if idx > 0 && self.code_before_on_line(at) {
                units[idx - 1].trailing.push(comment);
            } else if idx < units.len() {
                units[idx].leading.push(comment);
            } else {
                eof_comments.push(comment);
            }
        }

        let mut out = Lines::default();
        let mut prev_end: Option<usize> = None;
        let mut prev_kind: Option<std::mem::Discriminant<Item>> = None;
        for unit in &units {
            let indent = match unit.what {
                UnitRef::Clause(_) => CLAUSE_INDENT,
                _ => "",
            };
            // Blank lines: forced at group boundaries, none after a rule header.
            let item = &file.items[unit.item];
            let kind = std::mem::discriminant(item);
            let forced = unit.item_head
                && prev_end.is_some()
                && (matches!(item, Item::Rule(_)) || prev_kind != Some(kind));
            let mut first_piece = true;
            let mut blank_for = |user_blank: bool| {
                let blank = if first_piece && unit.first_clause {
                    false
                } else {
                    user_blank || (first_piece && forced)
                };
                first_piece = false;
                blank
            };

            for comment in &unit.leading {
                let blank = blank_for(self.blank_between(prev_end, comment.span.start));
                out.push(blank, format!("{indent}#{}", comment.text));
                prev_end = Some(comment.span.end as usize);
            }
            let unit_blank = self.blank_between(prev_end, unit.start as u32);
            for (i, comment) in unit.inside.iter().enumerate() {
                let blank = blank_for(i == 0 && unit_blank);
                out.push(blank, format!("{indent}#{}", comment.text));
            }
            let blank = blank_for(unit.inside.is_empty() && unit_blank);
            let mut lines = self.unit_lines(unit, indent);
            if let Some(last) = lines.last_mut() {
                for comment in &unit.trailing {
                    last.push_str("  #");
                    last.push_str(&comment.text);
                }
            }
            for (i, line) in lines.into_iter().enumerate() {
                out.push(i == 0 && blank, line);
            }
            prev_end = Some(
                unit.trailing
                    .iter()
                    .map(|c| c.span.end as usize)
                    .fold(unit.end, usize::max),
            );
            prev_kind = Some(kind);
        }
        for comment in eof_comments {
            let blank = self.blank_between(prev_end, comment.span.start);
            out.push(blank, format!("#{}", comment.text));
            prev_end = Some(comment.span.end as usize);
        }
        out.finish()
    }

    /// The units of the file in source order.
    fn units<'a>(&self, file: &'a File) -> Vec<Unit<'a>> {
        let mut units = Vec::new();
        let unit = |start: u32, end: usize, what, item, item_head, first_clause| Unit {
            start: start as usize,
            end,
            what,
            item,
            item_head,
            first_clause,
            leading: Vec::new(),
            inside: Vec::new(),
            trailing: Vec::new(),
        };
        for (i, item) in file.items.iter().enumerate() {
            let span = item.span();
            match item {
                Item::Rule(rule) => {
                    let head_end = self.after_colon(rule.name.span.end as usize);
                    units.push(unit(
                        span.start,
                        head_end,
                        UnitRef::RuleHead(rule),
                        i,
                        true,
                        false,
                    ));
                    for (j, clause) in rule.clauses.iter().enumerate() {
                        units.push(unit(
                            clause.span.start,
                            clause.span.end as usize,
                            UnitRef::Clause(clause),
                            i,
                            false,
                            j == 0,
                        ));
                    }
                }
                _ => units.push(unit(
                    span.start,
                    span.end as usize,
                    UnitRef::Item(item),
                    i,
                    true,
                    false,
                )),
            }
        }
        units
    }

    /// The offset just after the `:` that follows a rule's name (or `at` when
    /// there is none).
    fn after_colon(&self, at: usize) -> usize {
        let rest = self.src.get(at..).unwrap_or("");
        let trimmed = rest.trim_start();
        if trimmed.starts_with(':') {
            at + (rest.len() - trimmed.len()) + 1
        } else {
            at
        }
    }

    /// Whether there is code before offset `at` on its line.
    fn code_before_on_line(&self, at: usize) -> bool {
        let Some(before) = self.src.get(..at) else {
            return false;
        };
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        !before[line_start..].trim().is_empty()
    }

    /// Whether the source has an empty line between offsets `from` and `to`.
    fn blank_between(&self, from: Option<usize>, to: u32) -> bool {
        let Some(from) = from else { return false };
        let Some(text) = self.src.get(from..to as usize) else {
            return false;
        };
        let parts: Vec<&str> = text.split('\n').collect();
        parts.len() >= 3
            && parts[1..parts.len() - 1]
                .iter()
                .any(|p| p.trim().is_empty())
    }

    /// The printed lines of one unit (without comments).
    fn unit_lines(&self, unit: &Unit<'_>, indent: &str) -> Vec<String> {
        match unit.what {
            UnitRef::RuleHead(rule) => vec![format!("rule {}:", rule.name.name)],
            UnitRef::Item(item) => match item {
                Item::Let(d) => self.layout(format!("let {} = ", d.name.name), &d.value),
                other => vec![self.item_line(other)],
            },
            UnitRef::Clause(clause) => {
                let (prefix, expr) = self.clause_parts(clause);
                let prefix = format!("{indent}{prefix}");
                match expr {
                    Some(e) => self.layout(prefix, e),
                    None => vec![prefix],
                }
            }
        }
    }

    /// A declaration other than `let` and `rule`, on one line.
    fn item_line(&self, item: &Item) -> String {
        let mut s = String::new();
        match item {
            Item::Strategy(d) => {
                s.push_str("strategy ");
                s.push_str(&self.string_literal(d.title.span, &d.title.node));
            }
            Item::Symbol(d) => {
                s.push_str(&format!("symbol {} = {}", d.name.name, d.data.node));
                if let Some(r) = &d.resample {
                    let fallback = format!("{}{}", r.node.count, r.node.unit.suffix());
                    s.push_str(" @ ");
                    s.push_str(&self.literal(r.span, fallback));
                }
            }
            Item::Series(d) => {
                s.push_str(&format!("series {} = {}", d.name.name, d.data.node));
                if d.as_percent.is_some() {
                    s.push_str(" as percent");
                }
            }
            Item::Param(d) => {
                s.push_str(&format!("param {} = ", d.name.name));
                self.expr(&d.value, &mut s);
                if let Some(r) = &d.range {
                    s.push_str(" in ");
                    self.expr(&r.lo, &mut s);
                    s.push_str("..");
                    self.expr(&r.hi, &mut s);
                    if let Some(step) = &r.step {
                        s.push_str(" step ");
                        self.expr(step, &mut s);
                    }
                }
            }
            Item::Session(d) => {
                s.push_str(&format!("session {} = ", d.name.name));
                let windows: Vec<String> = d
                    .windows
                    .iter()
                    .map(|w| {
                        format!(
                            "{:02}:{:02}-{:02}:{:02}",
                            w.start.hour, w.start.minute, w.end.hour, w.end.minute
                        )
                    })
                    .collect();
                s.push_str(&windows.join(", "));
                s.push(' ');
                s.push_str(&d.zone.node);
                if let Some(days) = &d.days {
                    let items: Vec<String> = days
                        .items
                        .iter()
                        .map(|spec| match spec {
                            DaySpec::Day(day) => weekday(day.node).to_string(),
                            DaySpec::Range(a, b) => {
                                format!("{}-{}", weekday(a.node), weekday(b.node))
                            }
                        })
                        .collect();
                    s.push(' ');
                    s.push_str(&items.join(","));
                }
            }
            Item::Let(d) => {
                s.push_str(&format!("let {} = ", d.name.name));
                self.expr(&d.value, &mut s);
            }
            Item::Rule(rule) => s.push_str(&format!("rule {}:", rule.name.name)),
        }
        s
    }

    /// A clause as its text up to its main expression, and that expression
    /// (the part that may be broken over lines).
    fn clause_parts<'c>(&self, clause: &'c Clause) -> (String, Option<&'c Expr>) {
        match &clause.kind {
            ClauseKind::Action(a) => {
                let head = format!("{} {}", action(a.action.node), a.symbol.name);
                match &a.condition {
                    Some(c) => {
                        let kw = match c.keyword.node {
                            CondKeyword::If => "if",
                            CondKeyword::When => "when",
                        };
                        (format!("{head} {kw} "), Some(&c.expr))
                    }
                    None => (head, None),
                }
            }
            ClauseKind::When(e) => ("when ".into(), Some(e)),
            ClauseKind::Size(sizing) => (self.sizing(sizing), None),
            ClauseKind::Stop(e) => ("stop ".into(), Some(e)),
            ClauseKind::Target(e) => ("target ".into(), Some(e)),
            ClauseKind::Trail(e) => ("trail ".into(), Some(e)),
            ClauseKind::ExitAfter(e) => ("exit after ".into(), Some(e)),
            ClauseKind::ExitWhen(e) => ("exit when ".into(), Some(e)),
            ClauseKind::Pyramid(e) => ("pyramid ".into(), Some(e)),
        }
    }

    fn sizing(&self, sizing: &Sizing) -> String {
        let mut s = String::from("size ");
        match &sizing.base {
            SizeBase::Units(e) => {
                self.expr(e, &mut s);
                s.push_str(" units");
            }
            SizeBase::Contracts(e) => {
                self.expr(e, &mut s);
                s.push_str(" contracts");
            }
            SizeBase::PercentOfEquity(e) => {
                self.expr(e, &mut s);
                s.push_str(" of equity");
            }
            SizeBase::Risk(e) => {
                s.push_str("risk ");
                self.expr(e, &mut s);
                s.push_str(" of equity");
            }
            SizeBase::TargetVol(e) => {
                s.push_str("target_vol ");
                self.expr(e, &mut s);
            }
        }
        if let Some(e) = &sizing.scaled_by {
            s.push_str(" scaled by ");
            self.expr(e, &mut s);
        }
        if let Some(cap) = &sizing.max {
            s.push_str(" max ");
            let (e, unit) = match cap {
                SizeCap::Contracts(e) => (e, " contracts"),
                SizeCap::Units(e) => (e, " units"),
                SizeCap::PercentOfEquity(e) => (e, " of equity"),
            };
            self.expr(e, &mut s);
            s.push_str(unit);
        }
        s
    }

    /// `prefix` followed by `expr`, broken before `while`/`or`/`and` (loosest
    /// first, only where a line is still too long) when it does not fit.
    fn layout(&self, prefix: String, expr: &Expr) -> Vec<String> {
        let mut segments = vec![Segment {
            conn: None,
            expr,
            open: 0,
            close: 0,
        }];
        loop {
            let lines: Vec<String> = segments
                .iter()
                .map(|seg| {
                    let mut line = match seg.conn {
                        None => prefix.clone(),
                        Some(c) => format!("{CONTINUATION_INDENT}{c} "),
                    };
                    line.extend(std::iter::repeat_n('(', seg.open));
                    self.expr(seg.expr, &mut line);
                    line.extend(std::iter::repeat_n(')', seg.close));
                    line
                })
                .collect();
            let mut changed = false;
            let mut next = Vec::with_capacity(segments.len());
            for (line, seg) in lines.iter().zip(&segments) {
                // A chain in parentheses breaks inside them: `(a\n and b)`.
                let mut inner = seg.expr;
                let mut depth = 0;
                while let ExprKind::Paren(e) = &inner.kind {
                    inner = e;
                    depth += 1;
                }
                if line.chars().count() > MAX_WIDTH
                    && let Some(parts) = split_chain(inner)
                {
                    changed = true;
                    let last = parts.len() - 1;
                    for (i, (conn, expr)) in parts.into_iter().enumerate() {
                        next.push(Segment {
                            conn: if i == 0 { seg.conn } else { Some(conn) },
                            expr,
                            open: if i == 0 { seg.open + depth } else { 0 },
                            close: if i == last { seg.close + depth } else { 0 },
                        });
                    }
                } else {
                    next.push(*seg);
                }
            }
            if !changed {
                return lines;
            }
            segments = next;
        }
    }

    /// Appends the canonical text of `e`.
    fn expr(&self, e: &Expr, out: &mut String) {
        match &e.kind {
            ExprKind::Number(v) => out.push_str(&self.literal(e.span, v.to_string())),
            ExprKind::Percent(v) => out.push_str(&self.literal(e.span, format!("{}%", v * 100.0))),
            ExprKind::Duration(d) => {
                out.push_str(&self.literal(e.span, format!("{}{}", d.count, d.unit.suffix())))
            }
            ExprKind::Bars(n) => {
                let count = self
                    .src
                    .get(e.span.range())
                    .and_then(|t| t.split_whitespace().next())
                    .filter(|t| t.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
                    .map_or_else(|| n.to_string(), str::to_string);
                out.push_str(&count);
                out.push_str(" bars");
            }
            ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            ExprKind::String(s) => out.push_str(&self.string_literal(e.span, s)),
            ExprKind::Name(id) => out.push_str(&id.name),
            ExprKind::Field { base, field } => {
                self.expr(base, out);
                out.push('.');
                out.push_str(field.node.as_str());
            }
            ExprKind::Index { base, offset } => {
                self.expr(base, out);
                out.push('[');
                self.expr(offset, out);
                out.push(']');
            }
            ExprKind::Call { func, args } => {
                out.push_str(&func.name);
                out.push('(');
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.expr(arg, out);
                }
                out.push(')');
            }
            ExprKind::Unary { op, operand } => {
                match op.node {
                    UnaryOp::Not => out.push_str("not "),
                    UnaryOp::Neg => {
                        out.push('-');
                        // `- -x`, never `--x`.
                        if matches!(
                            operand.kind,
                            ExprKind::Unary {
                                op: crate::syntax::ast::Spanned {
                                    node: UnaryOp::Neg,
                                    ..
                                },
                                ..
                            }
                        ) || self.starts_with_minus(operand)
                        {
                            out.push(' ');
                        }
                    }
                }
                self.expr(operand, out);
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.expr(lhs, out);
                out.push(' ');
                out.push_str(op.node.as_str());
                out.push(' ');
                self.expr(rhs, out);
            }
            ExprKind::Compare { op, lhs, rhs } => {
                self.expr(lhs, out);
                out.push(' ');
                out.push_str(op.node.as_str());
                out.push(' ');
                self.expr(rhs, out);
            }
            ExprKind::Move {
                direction,
                subject,
                amount,
                window,
            } => {
                self.expr(subject, out);
                out.push_str(match direction.node {
                    MoveDirection::Rises => " rises by ",
                    MoveDirection::Falls => " falls by ",
                });
                self.expr(amount, out);
                out.push_str(" within ");
                self.expr(window, out);
            }
            ExprKind::While { lhs, rhs } => {
                self.expr(lhs, out);
                out.push_str(" while ");
                self.expr(rhs, out);
            }
            ExprKind::InSession(id) => {
                out.push_str("in ");
                out.push_str(&id.name);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                out.push_str("if ");
                self.expr(cond, out);
                out.push_str(" then ");
                self.expr(then, out);
                out.push_str(" else ");
                self.expr(otherwise, out);
            }
            ExprKind::Paren(inner) => {
                out.push('(');
                self.expr(inner, out);
                out.push(')');
            }
        }
    }

    /// Whether a literal's source text starts with `-` (a parser may fold a
    /// sign into a literal).
    fn starts_with_minus(&self, e: &Expr) -> bool {
        let mut s = String::new();
        self.expr(e, &mut s);
        s.starts_with('-')
    }

    /// A literal as written in the source, or `fallback` when its span does
    /// not point at plausible literal text.
    fn literal(&self, span: Span, fallback: String) -> String {
        match self.src.get(span.range()) {
            Some(t) if !t.trim().is_empty() && !t.contains(['\n', '#', ' ', '\t']) => t.into(),
            _ => fallback,
        }
    }

    /// A string literal as written (escapes kept), or re-escaped from its value.
    fn string_literal(&self, span: Span, value: &str) -> String {
        match self.src.get(span.range()) {
            Some(t) if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') => t.into(),
            _ => {
                let mut s = String::from("\"");
                for c in value.chars() {
                    match c {
                        '"' => s.push_str("\\\""),
                        '\\' => s.push_str("\\\\"),
                        '\n' => s.push_str("\\n"),
                        '\t' => s.push_str("\\t"),
                        c => s.push(c),
                    }
                }
                s.push('"');
                s
            }
        }
    }
}

/// One line of a broken expression: `conn` (none on the first line), then
/// `open` parentheses, the expression, and `close` parentheses.
#[derive(Clone, Copy)]
struct Segment<'e> {
    conn: Option<&'static str>,
    expr: &'e Expr,
    open: usize,
    close: usize,
}

/// Splits a `while`/`or`/`and` chain (left-associative, not through
/// parentheses) into its operands, each after the first with its connective.
fn split_chain(e: &Expr) -> Option<Vec<(&'static str, &Expr)>> {
    fn conn(e: &Expr) -> Option<&'static str> {
        match &e.kind {
            ExprKind::While { .. } => Some("while"),
            ExprKind::Binary { op, .. } if op.node == crate::syntax::ast::BinaryOp::And => {
                Some("and")
            }
            ExprKind::Binary { op, .. } if op.node == crate::syntax::ast::BinaryOp::Or => {
                Some("or")
            }
            _ => None,
        }
    }
    fn sides(e: &Expr) -> (&Expr, &Expr) {
        match &e.kind {
            ExprKind::While { lhs, rhs } | ExprKind::Binary { lhs, rhs, .. } => (lhs, rhs),
            _ => unreachable!("only called on chains"),
        }
    }
    let kind = conn(e)?;
    let mut rights = Vec::new();
    let mut cur = e;
    while conn(cur) == Some(kind) {
        let (lhs, rhs) = sides(cur);
        rights.push(rhs);
        cur = lhs;
    }
    let mut parts = vec![("", cur)];
    parts.extend(rights.into_iter().rev().map(|r| (kind, r)));
    Some(parts)
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Buy => "buy",
        Action::Sell => "sell",
        Action::Short => "short",
        Action::Cover => "cover",
        Action::Exit => "exit",
    }
}

fn weekday(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Output lines with at most one blank line in a row and none at the start.
#[derive(Default)]
struct Lines {
    lines: Vec<String>,
}

impl Lines {
    fn push(&mut self, blank_before: bool, line: String) {
        if blank_before && self.lines.last().is_some_and(|l| !l.is_empty()) {
            self.lines.push(String::new());
        }
        self.lines.push(line.trim_end().to_string());
    }

    fn finish(self) -> String {
        let mut out = self.lines.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn fmt(text: &str) -> String {
        format(&parse(text).expect("valid syntax"), text)
    }

    #[test]
    fn erase_spans_removes_only_spans() {
        assert_eq!(
            erase_spans("Name(x @12..13) @12..13, String(\"a@b\") @1..2, @.."),
            "Name(x ) , String(\"a@b\") , @.."
        );
    }

    #[test]
    fn verify_accepts_the_formatted_text() {
        let text = "let a=1+2*3 # note\n";
        let file = parse(text).unwrap();
        assert_eq!(fmt(text), "let a = 1 + 2 * 3  # note\n");
        assert_eq!(verify(&file, &fmt(text)), Ok(()));
    }

    #[test]
    fn verify_rejects_other_meanings_and_lost_comments() {
        let file = parse("let a = 1 + 2 * 3 # note\n").unwrap();
        assert!(verify(&file, "let a = (1 + 2) * 3 # note\n").is_err());
        assert!(verify(&file, "let a = 1 + 2 * 3\n").is_err());
        assert!(verify(&file, "let a = 1 +\n").is_err());
    }

    #[test]
    fn rule_clauses_are_indented_and_separated() {
        assert_eq!(
            fmt("symbol g = G\nrule r: buy g stop 2%\nrule s:\nsell g"),
            "symbol g = G\n\nrule r:\n    buy g\n    stop 2%\n\nrule s:\n    sell g\n"
        );
    }

    #[test]
    fn negation_never_glues_two_minus_signs() {
        assert_eq!(
            fmt("let a = - -1\nlet b = -(-1)\n"),
            "let a = - -1\nlet b = -(-1)\n"
        );
    }
}
