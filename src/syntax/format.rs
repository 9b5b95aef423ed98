//! `rampart fmt`: the canonical layout of a DSL file, keeping its comments.
//!
//! The tree is printed line by line, each line remembering the source offset of what it
//! prints (its anchor). Comments are found in the source text and put back where they
//! stood relative to the anchors: a comment on a line of its own goes before the first
//! line whose anchor follows it, at that line's indentation; a comment after code on the
//! same line stays at the end of the line printed for that code. Formatting a formatted
//! file changes nothing.

use super::ast::*;
use super::dsl::quote;
use super::print::{expr_to_string, operator_chain, perm_ref, type_name};
use super::scan::{Piece, pieces};

/// A comment in the source: where it starts, its text, and whether code precedes it on
/// its line.
struct Comment<'a> {
    offset: usize,
    text: &'a str,
    trailing: bool,
}

/// The comments of a DSL text (outside string literals), in order.
fn comments(text: &str) -> Vec<Comment<'_>> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for (i, piece) in pieces(text) {
        match piece {
            Piece::Code('\n' | '\r') => line_start = i + 1,
            Piece::Comment { end } => {
                let trailing = !text[line_start..i].trim().is_empty();
                out.push(Comment { offset: i, text: text[i..end].trim_end(), trailing });
            }
            Piece::Code(_) | Piece::Str { .. } => {}
        }
    }
    out
}

/// One printed line: its text, its indentation, and the source offset it stands for.
struct Line {
    indent: usize,
    text: String,
    anchor: usize,
    /// A closing brace: comments before it belong inside the block.
    close: bool,
}

impl Line {
    fn new(indent: usize, text: String, anchor: usize) -> Line {
        Line { indent, text, anchor, close: false }
    }
}

fn names(ids: &[Ident]) -> String {
    ids.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn refs(items: &[PermRef]) -> String {
    items.iter().map(perm_ref).collect::<Vec<_>>().join(", ")
}

fn strings(s: &[StrLit]) -> String {
    s.iter().map(|s| quote(&s.value)).collect::<Vec<_>>().join(", ")
}

const WIDTH: usize = 100;

/// `prefix` followed by the condition; when that is wider than the page, the condition's
/// top-level `||` or `&&` chain is broken over lines, one operand a line, the operators
/// aligned under the condition's start.
fn condition_text(prefix: String, e: &Expr, indent: usize) -> String {
    let one = format!("{prefix}{}", expr_to_string(e));
    if indent + one.chars().count() <= WIDTH {
        return one;
    }
    let Some((op, parts)) = operator_chain(e) else { return one };
    let pad = " ".repeat(indent + prefix.chars().count().saturating_sub(op.len() + 1));
    let mut text = format!("{prefix}{}", parts[0]);
    for part in &parts[1..] {
        text.push_str(&format!("\n{pad}{op} {part}"));
    }
    text
}

/// The lines of one item.
fn item_lines(item: &Item, has_comment_inside: bool, out: &mut Vec<Line>) {
    match item {
        Item::Resource(r) => {
            let start = r.span.range().start;
            let actions = names(&r.actions);
            let attrs: Vec<String> =
                r.attributes.iter().map(|a| format!("{}: {}", a.name.name, type_name(&a.ty))).collect();
            if r.attributes.is_empty() {
                let body = if r.actions.is_empty() { String::new() } else { format!(" actions: {actions} ") };
                out.push(Line::new(0, format!("resource {} {{{body}}}", r.name.name), start));
                return;
            }
            out.push(Line::new(0, format!("resource {} {{", r.name.name), start));
            if let Some(first) = r.actions.first() {
                out.push(Line::new(4, format!("actions: {actions}"), first.span.range().start));
            }
            let one_line = format!("attributes: {{ {} }}", attrs.join(", "));
            let anchor = r.attributes[0].name.span.range().start;
            if !has_comment_inside && one_line.len() + 4 <= WIDTH {
                out.push(Line::new(4, one_line, anchor));
            } else {
                out.push(Line::new(4, "attributes: {".to_owned(), anchor));
                for (a, text) in r.attributes.iter().zip(&attrs) {
                    out.push(Line::new(8, format!("{text},"), a.name.span.range().start));
                }
                out.push(Line { close: true, ..Line::new(4, "}".to_owned(), r.span.range().end.saturating_sub(1)) });
            }
            out.push(Line { close: true, ..Line::new(0, "}".to_owned(), r.span.range().end.saturating_sub(1)) });
        }
        Item::Group(g) => {
            out.push(Line::new(0, format!("group {} = {}", g.name.name, refs(&g.items)), g.span.range().start));
        }
        Item::Role(r) => {
            let mut head = format!("{}role {}", if r.admin { "admin " } else { "" }, r.name.name);
            if !r.inherits.is_empty() {
                head.push_str(&format!(" inherits {}", names(&r.inherits)));
            }
            if r.grants.is_empty() {
                out.push(Line::new(0, head, r.span.range().start));
                return;
            }
            out.push(Line::new(0, format!("{head} {{"), r.span.range().start));
            for g in &r.grants {
                let mut text = format!("grant {}", refs(&g.items));
                if let Some(on) = &g.on {
                    text.push_str(&format!(" on {}", quote(&on.value)));
                }
                if let Some(when) = &g.when {
                    text = condition_text(format!("{text} when "), when, 4);
                }
                out.push(Line::new(4, text, g.span.range().start));
            }
            out.push(Line { close: true, ..Line::new(0, "}".to_owned(), r.span.range().end.saturating_sub(1)) });
        }
        Item::Policy(p) => {
            let effect = if p.effect == Effect::Deny { "deny" } else { "allow" };
            out.push(Line::new(0, format!("{effect} {} {{", quote(&p.id.value)), p.span.range().start));
            let at = |span: Option<crate::Span>| span.map_or(p.id.span.range().end, |s| s.range().start);
            out.push(Line::new(4, format!("actions: {}", refs(&p.actions)), at(p.actions.first().map(PermRef::span))));
            if !p.roles.is_empty() {
                out.push(Line::new(4, format!("roles: {}", names(&p.roles)), at(p.roles.first().map(|r| r.span))));
            }
            if !p.principals.is_empty() {
                out.push(Line::new(
                    4,
                    format!("principals: {}", strings(&p.principals)),
                    at(Some(p.principals[0].span)),
                ));
            }
            if !p.resources.is_empty() {
                out.push(Line::new(4, format!("resources: {}", strings(&p.resources)), at(Some(p.resources[0].span))));
            }
            if let Some(c) = &p.condition {
                let kw = if c.kind == ConditionKind::When { "when" } else { "unless" };
                let text = condition_text(format!("{kw}: "), &c.expr, 4);
                out.push(Line::new(4, text, c.expr.span.range().start));
            }
            out.push(Line { close: true, ..Line::new(0, "}".to_owned(), p.span.range().end.saturating_sub(1)) });
        }
    }
}

fn item_span(item: &Item) -> crate::Span {
    match item {
        Item::Resource(r) => r.span,
        Item::Group(g) => g.span,
        Item::Role(r) => r.span,
        Item::Policy(p) => p.span,
    }
}

/// Whether an item prints on one line (consecutive ones are not separated by blank lines).
fn one_liner(item: &Item) -> bool {
    match item {
        Item::Group(_) => true,
        Item::Resource(r) => r.attributes.is_empty(),
        _ => false,
    }
}

/// Whether the source line before the one at `offset` is blank (a paragraph break that
/// a comment block keeps).
fn follows_blank_line(text: &str, offset: usize) -> bool {
    let before = &text[..offset];
    let Some(line_start) = before.rfind(['\n', '\r']) else { return false };
    let previous = before[..line_start].trim_end_matches('\r');
    let previous_line = previous.rsplit(['\n', '\r']).next().unwrap_or(previous);
    !previous.is_empty() && previous_line.trim().is_empty()
}

/// Puts a comment back: at the end of the last code line if it followed code there,
/// otherwise on a line of its own.
fn place(c: &Comment<'_>, indent: usize, out: &mut Vec<String>, last_code: &mut Option<usize>) {
    match *last_code {
        Some(i) if c.trailing && !out[i].contains(" # ") => out[i] = format!("{}  {}", out[i], c.text),
        _ => {
            out.push(format!("{}{}", " ".repeat(indent), c.text));
            *last_code = None;
        }
    }
}

/// Formats a DSL file: `file` is its tree, `text` the source it was parsed from.
pub fn format_dsl(file: &PolicyFile, text: &str) -> String {
    let comments = comments(text);
    let mut lines: Vec<Option<Line>> = Vec::new(); // `None` is a blank line
    let mut previous: Option<&Item> = None;
    for item in &file.items {
        if let Some(p) = previous {
            let same = std::mem::discriminant(p) == std::mem::discriminant(item);
            if !(same && one_liner(p) && one_liner(item)) {
                lines.push(None);
            }
        }
        let range = item_span(item).range();
        let inside = comments.iter().any(|c| range.contains(&c.offset));
        let mut item_out = Vec::new();
        item_lines(item, inside, &mut item_out);
        lines.extend(item_out.into_iter().map(Some));
        previous = Some(item);
    }

    let mut out: Vec<String> = Vec::new();
    let mut last_code: Option<usize> = None;
    let mut pending = comments.iter().peekable();
    for line in &lines {
        let Some(line) = line else {
            out.push(String::new());
            continue;
        };
        while let Some(c) = pending.next_if(|c| c.offset < line.anchor) {
            let indent = if line.close { line.indent + 4 } else { line.indent };
            if !c.trailing && follows_blank_line(text, c.offset) && out.last().is_some_and(|l| !l.is_empty()) {
                out.push(String::new());
            }
            place(c, indent, &mut out, &mut last_code);
        }
        // A comment block that stood apart from the item after it stays apart.
        let after_comment = out.last().is_some_and(|l| l.trim_start().starts_with('#'));
        if line.indent == 0 && !line.close && after_comment && follows_blank_line(text, line.anchor) {
            out.push(String::new());
        }
        out.push(format!("{}{}", " ".repeat(line.indent), line.text));
        last_code = Some(out.len() - 1);
    }
    for c in pending {
        place(c, 0, &mut out, &mut last_code);
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}
