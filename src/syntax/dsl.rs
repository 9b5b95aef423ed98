//! The DSL front end: pest parse tree into the syntax tree.
//!
//! The generated parser's types (`Pair`, `Rule`) stay inside this module.

use super::ast::*;
use super::scan::{Piece, pieces};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::source::{SourceId, Span};
use pest::Parser as _;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/policy.pest"]
struct PolicyParser;

/// Where the text given to the parser sits in its source file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Placement {
    /// The text starts at this byte offset of the source, unchanged.
    At(usize),
    /// The text was unescaped from the source (a YAML scalar): every node gets this span.
    Within(Span),
}

/// Turns pest pairs into syntax tree nodes, collecting every error.
pub(crate) struct Converter {
    source: SourceId,
    placement: Placement,
    max_nesting: usize,
    pub(crate) errors: Vec<Diagnostic>,
}

impl Converter {
    pub(crate) fn new(source: SourceId, placement: Placement, max_nesting: usize) -> Converter {
        Converter { source, placement, max_nesting, errors: Vec::new() }
    }

    fn span_of(&self, start: usize, end: usize) -> Span {
        match self.placement {
            Placement::At(base) => Span::new(self.source, base + start, base + end),
            Placement::Within(span) => span,
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        self.span_of(s.start(), s.end())
    }

    fn error(&mut self, kind: ErrorKind, span: Span) {
        self.errors.push(Diagnostic::error(kind, span));
    }

    fn invalid(&mut self, message: String, help: Option<&str>, span: Span) {
        self.error(ErrorKind::Invalid { message, help: help.map(str::to_owned) }, span);
    }

    /// Rejects text nested deeper than the limit before the recursive parser sees it.
    fn check_nesting(&mut self, text: &str) -> bool {
        match nesting_violation(text, self.max_nesting) {
            None => true,
            Some(at) => {
                let span = self.span_of(at, at + 1);
                let what = "nesting depth of brackets (or run of `!`)".to_owned();
                self.error(ErrorKind::Limit { what, limit: self.max_nesting }, span);
                false
            }
        }
    }

    fn parse<'t>(&mut self, rule: Rule, text: &'t str) -> Option<Pair<'t, Rule>> {
        // Borrowck: the pair borrows `text`, not `self`.
        match PolicyParser::parse(rule, text) {
            Ok(mut pairs) => pairs.next(),
            Err(e) => {
                // Parse again collecting expected punctuation too (slower, so only on failure);
                // structural punctuation only: the tokens inside expressions would drown the message.
                pest::set_error_detail(true);
                let detailed = PolicyParser::parse(rule, text).err();
                pest::set_error_detail(false);
                let tokens = detailed.and_then(|d| d.parse_attempts()).map(|a| a.expected_tokens()).unwrap_or_default();
                let tokens: Vec<String> = tokens
                    .iter()
                    .map(ToString::to_string)
                    .filter(|t| ["{", "}", ",", ")", "]", ":", "="].contains(&t.as_str()))
                    .map(|t| format!("`{t}`"))
                    .collect();
                let (start, end) = match e.location {
                    pest::error::InputLocation::Pos(p) => (p, p),
                    pest::error::InputLocation::Span(s) => s,
                };
                let end = if end == start { next_char_end(text, start) } else { end };
                let message = syntax_message(&e.variant, &tokens, text, start);
                let span = self.span_of(start, end);
                self.error(ErrorKind::Syntax { message }, span);
                None
            }
        }
    }

    /// Parses a whole DSL file.
    pub(crate) fn file(&mut self, text: &str) -> Vec<Item> {
        if !self.check_nesting(text) {
            return Vec::new();
        }
        let Some(file) = self.parse(Rule::file, text) else { return Vec::new() };
        let mut items = Vec::new();
        for pair in file.into_inner() {
            let item = match pair.as_rule() {
                Rule::resource => Item::Resource(self.resource(pair)),
                Rule::group => Item::Group(self.group(pair)),
                Rule::role => Item::Role(self.role(pair)),
                Rule::policy => match self.policy(pair) {
                    Some(p) => Item::Policy(p),
                    None => continue,
                },
                _ => continue,
            };
            items.push(item);
        }
        items
    }

    /// Parses a standalone condition (a YAML string).
    pub(crate) fn condition(&mut self, text: &str) -> Option<Expr> {
        if !self.check_nesting(text) {
            return None;
        }
        let pair = self.parse(Rule::expr_only, text)?;
        let expr = pair.into_inner().find(|p| p.as_rule() == Rule::expr)?;
        self.expr(expr)
    }

    /// Parses a standalone permission reference (a YAML string).
    pub(crate) fn perm_ref_text(&mut self, text: &str) -> Option<PermRef> {
        let pair = self.parse(Rule::perm_ref_only, text)?;
        pair.into_inner().find(|p| matches!(p.as_rule(), Rule::permission | Rule::ident)).map(|p| self.perm_ref(p))
    }

    /// Checks a name written as a YAML key or value.
    pub(crate) fn ident_text(&mut self, text: &str) -> Option<Ident> {
        let pair = self.parse(Rule::ident_only, text)?;
        pair.into_inner().find(|p| p.as_rule() == Rule::ident).map(|p| self.ident(p))
    }

    /// Parses an attribute type written as a YAML value.
    pub(crate) fn attr_type_text(&mut self, text: &str) -> Option<(AttrType, Span)> {
        let pair = self.parse(Rule::attr_type_only, text)?;
        let ty = pair.into_inner().find(|p| p.as_rule() == Rule::attr_type)?;
        let span = self.span(&ty);
        self.attr_type(ty).map(|t| (t, span))
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_owned(), span: self.span(&pair) }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> StrLit {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        match unescape(inner) {
            Ok(value) => StrLit { value, span },
            Err(message) => {
                self.invalid(message, Some("use \\\", \\\\, \\n, \\t, \\r or \\u{HEX}"), span);
                StrLit { value: String::new(), span }
            }
        }
    }

    fn resource(&mut self, pair: Pair<'_, Rule>) -> ResourceDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::resource_kw);
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(missing_ident);
        let mut decl = ResourceDecl { name, actions: Vec::new(), attributes: Vec::new(), span };
        for field in inner {
            match field.as_rule() {
                Rule::actions => decl
                    .actions
                    .extend(field.into_inner().filter(|p| p.as_rule() == Rule::ident).map(|p| self.ident(p))),
                Rule::attributes => {
                    for attr in field.into_inner().filter(|p| p.as_rule() == Rule::attr_decl) {
                        let mut parts = attr.into_inner();
                        let (Some(name), Some(ty)) = (parts.next(), parts.next()) else { continue };
                        let name = self.ident(name);
                        let ty_span = self.span(&ty);
                        if let Some(ty) = self.attr_type(ty) {
                            decl.attributes.push(AttrDecl { name, ty, ty_span });
                        }
                    }
                }
                _ => {}
            }
        }
        decl
    }

    fn attr_type(&mut self, pair: Pair<'_, Rule>) -> Option<AttrType> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        match inner.as_rule() {
            Rule::list_type => {
                let elem = inner.into_inner().next()?;
                let elem_span = self.span(&elem);
                self.scalar_type(elem.as_str(), elem_span).map(|t| AttrType::List(Box::new(t)))
            }
            _ => self.scalar_type(inner.as_str(), span),
        }
    }

    fn scalar_type(&mut self, name: &str, span: Span) -> Option<AttrType> {
        match name {
            "string" => Some(AttrType::String),
            "int" => Some(AttrType::Int),
            "bool" => Some(AttrType::Bool),
            "ip" => Some(AttrType::Ip),
            _ => {
                let help = match crate::diagnostic::suggest(name, ["string", "int", "bool", "ip"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "the types are `string`, `int`, `bool`, `ip` and `list<T>` of those".to_owned(),
                };
                self.invalid(format!("unknown attribute type `{name}`"), Some(&help), span);
                None
            }
        }
    }

    fn perm_ref(&self, pair: Pair<'_, Rule>) -> PermRef {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::permission => {
                let mut parts = pair.into_inner().map(|p| match p.as_str() {
                    "*" => NamePattern::Any,
                    s => NamePattern::Name(s.to_owned()),
                });
                let kind = parts.next().unwrap_or(NamePattern::Any);
                let action = parts.next().unwrap_or(NamePattern::Any);
                PermRef::Pattern { kind, action, span }
            }
            _ => PermRef::Group(self.ident(pair)),
        }
    }

    fn perm_refs<'i>(&self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> Vec<PermRef> {
        pairs.filter(|p| matches!(p.as_rule(), Rule::permission | Rule::ident)).map(|p| self.perm_ref(p)).collect()
    }

    fn group(&mut self, pair: Pair<'_, Rule>) -> GroupDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::group_kw);
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(missing_ident);
        GroupDecl { name, items: self.perm_refs(inner), span }
    }

    fn role(&mut self, pair: Pair<'_, Rule>) -> RoleDecl {
        let span = self.span(&pair);
        let admin = pair.clone().into_inner().any(|p| p.as_rule() == Rule::admin_kw);
        let mut inner = pair.into_inner().filter(|p| !matches!(p.as_rule(), Rule::admin_kw | Rule::role_kw));
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(missing_ident);
        let mut role = RoleDecl { name, admin, inherits: Vec::new(), grants: Vec::new(), span };
        for part in inner {
            match part.as_rule() {
                Rule::inherits => role
                    .inherits
                    .extend(part.into_inner().filter(|p| p.as_rule() == Rule::ident).map(|p| self.ident(p))),
                Rule::grant => {
                    if let Some(g) = self.grant(part) {
                        role.grants.push(g);
                    }
                }
                _ => {}
            }
        }
        role
    }

    fn grant(&mut self, pair: Pair<'_, Rule>) -> Option<Grant> {
        // The pair may also hold the whitespace and comments after the grant.
        let start = pair.as_span().start();
        let span = self.span_of(start, start + significant_len(pair.as_str()));
        let mut grant = Grant { items: Vec::new(), on: None, when: None, span };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::grant_items => grant.items = self.perm_refs(part.into_inner()),
                Rule::string => grant.on = Some(self.string(part)),
                Rule::expr => grant.when = Some(self.expr(part)?),
                _ => {}
            }
        }
        Some(grant)
    }

    fn policy(&mut self, pair: Pair<'_, Rule>) -> Option<PolicyDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let effect = match inner.next().map(|p| p.as_rule()) {
            Some(Rule::deny_kw) => Effect::Deny,
            _ => Effect::Allow,
        };
        let id = self.string(inner.next()?);
        let mut policy = PolicyDecl {
            id,
            effect,
            actions: Vec::new(),
            roles: Vec::new(),
            principals: Vec::new(),
            resources: Vec::new(),
            condition: None,
            span,
        };
        let mut seen: Vec<Rule> = Vec::new();
        let mut ok = true;
        for field in inner {
            let rule = field.as_rule();
            let field_span = self.span(&field);
            let keyword = field.as_str().split(':').next().unwrap_or("").trim().to_owned();
            let conflicts = |r: &Rule| {
                *r == rule
                    || (matches!(rule, Rule::policy_when | Rule::policy_unless)
                        && matches!(r, Rule::policy_when | Rule::policy_unless))
            };
            if seen.iter().any(conflicts) {
                let (message, help) = if matches!(rule, Rule::policy_when | Rule::policy_unless) {
                    (
                        "a policy has at most one `when` or `unless` condition".to_owned(),
                        "combine the conditions with `&&` or `||`",
                    )
                } else {
                    (format!("`{keyword}` is given twice"), "list every value in one field, separated by commas")
                };
                self.invalid(message, Some(help), field_span);
                continue;
            }
            seen.push(rule);
            let values = field.into_inner().filter(|p| !is_keyword(p.as_rule()));
            match rule {
                Rule::policy_actions => policy.actions = self.perm_refs(values),
                Rule::policy_roles => policy.roles = values.map(|p| self.ident(p)).collect(),
                Rule::policy_principals => policy.principals = values.map(|p| self.string(p)).collect(),
                Rule::policy_resources => policy.resources = values.map(|p| self.string(p)).collect(),
                Rule::policy_when | Rule::policy_unless => {
                    let kind = if rule == Rule::policy_when { ConditionKind::When } else { ConditionKind::Unless };
                    match values.into_iter().next().and_then(|e| self.expr(e)) {
                        Some(expr) => policy.condition = Some(Condition { kind, expr }),
                        None => ok = false,
                    }
                }
                _ => {}
            }
        }
        if policy.actions.is_empty() && ok {
            self.invalid(
                format!("policy `{}` has no `actions`", policy.id.value),
                Some("add `actions: kind:action, ...` (patterns such as `mail:*` are allowed)"),
                policy.id.span,
            );
        }
        ok.then_some(policy)
    }

    /// Converts an expression, rejecting trees deeper than the nesting limit (so that
    /// compiling, evaluating and dropping them cannot exhaust the stack).
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        self.expr_with_depth(pair).map(|(e, _)| e)
    }

    /// Builds a node over children of the given depths, checking the limit.
    fn node(&mut self, kind: ExprKind, span: Span, child_depth: usize) -> Option<(Expr, usize)> {
        let depth = child_depth + 1;
        if depth > self.max_nesting {
            let what = "expression nesting depth".to_owned();
            self.error(ErrorKind::Limit { what, limit: self.max_nesting }, span);
            return None;
        }
        Some((Expr { kind, span }, depth))
    }

    fn expr_with_depth(&mut self, pair: Pair<'_, Rule>) -> Option<(Expr, usize)> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::expr;
                let mut acc: Option<(Expr, usize)> = None;
                for operand in pair.into_inner().filter(|p| !matches!(p.as_rule(), Rule::or_op | Rule::and_op)) {
                    let (rhs, rd) = self.expr_with_depth(operand)?;
                    acc = Some(match acc {
                        None => (rhs, rd),
                        Some((lhs, ld)) => {
                            let span = lhs.span.to(rhs.span);
                            let (l, r) = (Box::new(lhs), Box::new(rhs));
                            let kind = if is_or { ExprKind::Or(l, r) } else { ExprKind::And(l, r) };
                            self.node(kind, span, ld.max(rd))?
                        }
                    });
                }
                acc
            }
            Rule::cmp_expr => {
                let mut inner = pair.into_inner();
                let (lhs, ld) = self.expr_with_depth(inner.next()?)?;
                let Some(op) = inner.next() else { return Some((lhs, ld)) };
                let op = match op.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Ge,
                    _ => CmpOp::In,
                };
                let (rhs, rd) = self.expr_with_depth(inner.next()?)?;
                self.node(ExprKind::Cmp { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span, ld.max(rd))
            }
            Rule::unary => {
                let parts: Vec<_> = pair.into_inner().collect();
                let nots = parts.iter().filter(|p| p.as_rule() == Rule::not_op).count();
                let primary = parts.into_iter().find(|p| p.as_rule() != Rule::not_op)?;
                let mut acc = self.expr_with_depth(primary)?;
                for _ in 0..nots {
                    acc = self.node(ExprKind::Not(Box::new(acc.0)), span, acc.1)?;
                }
                Some(acc)
            }
            Rule::string => {
                let s = self.string(pair);
                Some((Expr { kind: ExprKind::Str(s.value), span }, 1))
            }
            Rule::int => match pair.as_str().parse::<i64>() {
                Ok(n) => Some((Expr { kind: ExprKind::Int(n), span }, 1)),
                Err(_) => {
                    let message = format!("integer `{}` does not fit in 64 bits", pair.as_str());
                    self.invalid(message, Some("integers range from -2^63 to 2^63-1"), span);
                    None
                }
            },
            Rule::boolean => Some((Expr { kind: ExprKind::Bool(pair.as_str() == "true"), span }, 1)),
            Rule::list => {
                let (items, depth) = self.exprs(pair.into_inner())?;
                self.node(ExprKind::List(items), span, depth)
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next()?);
                let (args, depth) = self.exprs(inner)?;
                self.node(ExprKind::Call { func, args }, span, depth)
            }
            Rule::path => {
                let mut idents = pair.into_inner().map(|p| self.ident(p));
                let root_ident = idents.next()?;
                let root = match root_ident.name.as_str() {
                    "principal" => Root::Principal,
                    "resource" => Root::Resource,
                    "context" => Root::Context,
                    other => {
                        let help = match crate::diagnostic::suggest(other, ["principal", "resource", "context"]) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "paths start with `principal`, `resource` or `context`".to_owned(),
                        };
                        self.invalid(format!("unknown variable `{other}`"), Some(&help), root_ident.span);
                        return None;
                    }
                };
                Some((Expr { kind: ExprKind::Path { root, fields: idents.collect() }, span }, 1))
            }
            _ => {
                self.invalid(format!("unexpected `{}` in an expression", pair.as_str()), None, span);
                None
            }
        }
    }

    /// Converts a sequence of expressions; returns them and the deepest one's depth.
    fn exprs<'i>(&mut self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> Option<(Vec<Expr>, usize)> {
        let mut items = Vec::new();
        let mut depth = 0;
        for p in pairs {
            let (e, d) = self.expr_with_depth(p)?;
            depth = depth.max(d);
            items.push(e);
        }
        Some((items, depth))
    }
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::actions_kw | Rule::roles_kw | Rule::principals_kw | Rule::resources_kw | Rule::when_kw | Rule::unless_kw
    )
}

/// The length of `text` without the whitespace and comments that end it.
fn significant_len(text: &str) -> usize {
    let mut end = 0;
    for (i, piece) in pieces(text) {
        match piece {
            Piece::Code(' ' | '\t' | '\n' | '\r') => {}
            Piece::Code(c) => end = i + c.len_utf8(),
            Piece::Str { end: e } => end = e,
            Piece::Comment { .. } => {}
        }
    }
    end
}

fn missing_ident() -> Ident {
    Ident { name: String::new(), span: Span::default() }
}

fn next_char_end(text: &str, at: usize) -> usize {
    text.get(at..).and_then(|rest| rest.chars().next()).map_or(at, |c| at + c.len_utf8())
}

/// The byte offset where bracket nesting first goes deeper than `limit`, or a run of `!`
/// grows longer than `limit`, skipping strings and comments. It runs before the
/// recursive parser, which must never see deeper input.
pub(crate) fn nesting_violation(text: &str, limit: usize) -> Option<usize> {
    let (mut depth, mut nots) = (0usize, 0usize);
    for (i, piece) in pieces(text) {
        match piece {
            Piece::Code('(' | '[' | '{') => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            Piece::Code(')' | ']' | '}') => depth = depth.saturating_sub(1),
            Piece::Code('!') => {
                nots += 1;
                if nots > limit {
                    return Some(i);
                }
                continue;
            }
            Piece::Code(c) if c.is_whitespace() => continue,
            _ => {}
        }
        nots = 0;
    }
    None
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                match code {
                    Some(c) => out.push(c),
                    None => return Err(format!("`\\u{{{hex}}}` is not a Unicode scalar value")),
                }
            }
            other => return Err(format!("unknown escape `\\{}`", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}

/// Quotes a string for the DSL, escaping what `unescape` reads back.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn syntax_message(variant: &pest::error::ErrorVariant<Rule>, tokens: &[String], text: &str, at: usize) -> String {
    let found = match text.get(at..).and_then(|rest| rest.split_whitespace().next()) {
        None => "end of input".to_owned(),
        Some(tok) => {
            let tok: String = tok.chars().take(20).collect();
            format!("`{tok}`")
        }
    };
    match variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| rule_name(*r)).collect();
            names.extend(tokens.iter().map(String::as_str));
            names.sort_unstable();
            names.dedup();
            match names.as_slice() {
                [] => format!("unexpected {found}"),
                [one] => format!("expected {one}, found {found}"),
                [init @ .., last] => format!("expected {} or {last}, found {found}", init.join(", ")),
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    }
}

fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of input",
        Rule::resource | Rule::resource_kw => "`resource`",
        Rule::group | Rule::group_kw => "`group`",
        Rule::role | Rule::role_kw => "`role`",
        Rule::admin_kw => "`admin`",
        Rule::policy | Rule::allow_kw => "`allow`",
        Rule::deny_kw => "`deny`",
        Rule::ident | Rule::ident_only => "a name",
        Rule::string => "a string",
        Rule::permission | Rule::perm_part | Rule::perm_ref_only => "a permission",
        Rule::actions | Rule::actions_kw | Rule::policy_actions => "`actions`",
        Rule::attributes | Rule::attributes_kw => "`attributes`",
        Rule::attr_decl => "an attribute",
        Rule::attr_type | Rule::list_type | Rule::attr_type_only => "a type",
        Rule::inherits | Rule::inherits_kw => "`inherits`",
        Rule::grant | Rule::grant_kw => "`grant`",
        Rule::on_kw => "`on`",
        Rule::when_kw | Rule::policy_when => "`when`",
        Rule::unless_kw | Rule::policy_unless => "`unless`",
        Rule::roles_kw | Rule::policy_roles => "`roles`",
        Rule::principals_kw | Rule::policy_principals => "`principals`",
        Rule::resources_kw | Rule::policy_resources => "`resources`",
        Rule::expr | Rule::expr_only | Rule::and_expr | Rule::cmp_expr | Rule::unary => "an expression",
        Rule::or_op => "`||`",
        Rule::and_op => "`&&`",
        Rule::cmp_op | Rule::in_kw => "an operator",
        Rule::not_op => "`!`",
        Rule::int => "an integer",
        Rule::boolean => "`true` or `false`",
        Rule::list => "a list",
        Rule::call => "a function call",
        Rule::path => "a path",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_reads_what_quote_writes() {
        for s in ["plain", "a\"b", "back\\slash", "line\nbreak", "tab\t", "bell\u{7}"] {
            let quoted = quote(s);
            assert_eq!(unescape(&quoted[1..quoted.len() - 1]).as_deref(), Ok(s));
        }
        assert!(unescape("\\q").is_err());
        assert_eq!(unescape("\\u{e9}").as_deref(), Ok("é"));
    }

    #[test]
    fn trailing_whitespace_and_comments_are_not_significant() {
        assert_eq!(significant_len("grant a:b \n  "), 9);
        assert_eq!(significant_len("grant a:b on \"# x\" # note\r\n"), 18);
        assert_eq!(significant_len("   "), 0);
    }

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(nesting_violation("((a))", 2), None);
        assert_eq!(nesting_violation("(((a)))", 2), Some(2));
        assert_eq!(nesting_violation("\"(((\" # (((\n", 1), None);
        // A lone carriage return ends a comment, as in the grammar.
        assert_eq!(nesting_violation("# x\r((", 1), Some(5));
        assert_eq!(nesting_violation("!! ! !x", 3), Some(5));
        assert_eq!(nesting_violation("!= !x != !y", 1), None);
    }
}
