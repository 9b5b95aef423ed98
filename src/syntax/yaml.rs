//! The YAML front end: a serde mirror of the policy language that converts into the
//! same syntax tree as the DSL. Names, permissions and conditions inside YAML strings
//! are parsed by the DSL grammar, so both forms accept exactly the same language.

use super::ast::*;
use super::dsl::{Converter, Placement};
use super::scan::{Piece, pieces};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::source::{SourceId, Span};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;
use std::marker::PhantomData;

/// A YAML mapping kept in document order.
struct Entries<V>(Vec<(Spanned<String>, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_any(EntriesVisitor(PhantomData))
    }
}

/// A field that, when present, must have a value: `when:` with nothing after it (or an
/// unquoted `!expr`, which YAML reads as a tag on an empty value) is kept as `None` inside
/// `Some`, so that it is reported rather than taken as "no condition".
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Spanned<Option<String>>>, D::Error> {
    Spanned::<Option<String>>::deserialize(d).map(Some)
}

/// A YAML list that may also be written as `null` (an empty list).
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct YFile {
    #[serde(default)]
    resources: Entries<Option<YResource>>,
    #[serde(default)]
    groups: Entries<Option<Vec<Spanned<String>>>>,
    #[serde(default)]
    roles: Entries<Option<YRole>>,
    #[serde(default, deserialize_with = "list")]
    policies: Vec<Spanned<YPolicy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YResource {
    #[serde(default, deserialize_with = "list")]
    actions: Vec<Spanned<String>>,
    #[serde(default)]
    attributes: Entries<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YRole {
    #[serde(default)]
    administrative: bool,
    #[serde(default, deserialize_with = "list")]
    inherits: Vec<Spanned<String>>,
    #[serde(default, deserialize_with = "list")]
    grants: Vec<Spanned<YGrant>>,
}

/// `mail:read`, or `{permission: mail:read, on: "glob", when: "expr"}`
/// (`permissions: [..]` grants several under one condition).
enum YGrant {
    Simple(String),
    Full {
        permissions: Vec<Spanned<String>>,
        on: Option<Spanned<Option<String>>>,
        when: Option<Spanned<Option<String>>>,
    },
}

impl<'de> Deserialize<'de> for YGrant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct GrantVisitor;
        impl<'de> Visitor<'de> for GrantVisitor {
            type Value = YGrant;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a permission, a group name, or a mapping with `permission`, `on` and `when`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YGrant, E> {
                Ok(YGrant::Simple(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YGrant, A::Error> {
                let (mut permissions, mut on, mut when) = (Vec::new(), None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "permission" => permissions.push(map.next_value()?),
                        "permissions" => permissions.extend(map.next_value::<Vec<Spanned<String>>>()?),
                        "on" => on = Some(map.next_value()?),
                        "when" => when = Some(map.next_value()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["permission", "permissions", "on", "when"]));
                        }
                    }
                }
                if permissions.is_empty() {
                    return Err(de::Error::missing_field("permission"));
                }
                Ok(YGrant::Full { permissions, on, when })
            }
        }
        d.deserialize_any(GrantVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YPolicy {
    id: Spanned<String>,
    effect: Spanned<String>,
    #[serde(default, deserialize_with = "list")]
    actions: Vec<Spanned<String>>,
    #[serde(default, deserialize_with = "list")]
    roles: Vec<Spanned<String>>,
    #[serde(default, deserialize_with = "list")]
    principals: Vec<Spanned<String>>,
    #[serde(default, deserialize_with = "list")]
    resources: Vec<Spanned<String>>,
    #[serde(default, deserialize_with = "present")]
    when: Option<Spanned<Option<String>>>,
    #[serde(default, deserialize_with = "present")]
    unless: Option<Spanned<Option<String>>>,
}

/// Parses a YAML policy file into syntax tree items, appending diagnostics to `errors`.
pub(crate) fn parse(source: SourceId, text: &str, max_nesting: usize, errors: &mut Vec<Diagnostic>) -> Vec<Item> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = max_nesting;
    budget.max_nodes = usize::MAX;
    // Tags have no meaning in a policy file, and one on a condition would silently take
    // part of it away: reject them.
    let options = serde_saphyr::options! {
        with_snippet: false,
        budget: Some(budget),
        strict_booleans: true,
        reject_unsupported_tags: true,
        reject_tagged_field_names: true,
    };
    let file: YFile = if text.trim().is_empty() {
        YFile::default()
    } else {
        match serde_saphyr::from_str_with_options(text, options) {
            Ok(file) => file,
            Err(e) => {
                let span = match e.location() {
                    Some(loc) => location_span(source, text, &loc),
                    None => Span::new(source, 0, 0),
                };
                let message = yaml_message(&e);
                errors.push(Diagnostic::error(ErrorKind::Yaml { message }, span));
                return Vec::new();
            }
        }
    };
    let mut lower = Lower { source, text, max_nesting, errors };
    lower.file(file)
}

fn yaml_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    // The location is shown separately; keep the message itself.
    let message = full.split(" at line ").next().unwrap_or(&full).trim();
    let mut chars = message.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect::<String>().trim_end_matches('.').to_owned(),
        None => "malformed document".to_owned(),
    }
}

fn location_span(source: SourceId, text: &str, loc: &serde_saphyr::Location) -> Span {
    let span = loc.span();
    if let (Some(start), Some(len)) = (span.byte_offset(), span.byte_len()) {
        let start = usize::try_from(start).unwrap_or(usize::MAX).min(text.len());
        let len = usize::try_from(len).unwrap_or(0);
        return Span::new(source, start, start.saturating_add(len).min(text.len()));
    }
    // Fall back on line and column (1-based, in characters).
    let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
    let col = usize::try_from(loc.column()).unwrap_or(1).max(1);
    let line_start: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum();
    let offset =
        text[line_start.min(text.len())..].char_indices().nth(col - 1).map_or(text.len(), |(i, _)| line_start + i);
    Span::new(source, offset, offset)
}

/// Whether a condition's text has a `#` outside string literals.
fn has_comment(text: &str) -> bool {
    pieces(text).any(|(_, piece)| matches!(piece, Piece::Comment { .. }))
}

struct Lower<'a> {
    source: SourceId,
    text: &'a str,
    max_nesting: usize,
    errors: &'a mut Vec<Diagnostic>,
}

impl Lower<'_> {
    fn span<T>(&self, s: &Spanned<T>) -> Span {
        location_span(self.source, self.text, &s.referenced)
    }

    /// A converter for text that came from a YAML scalar: exact spans when the scalar
    /// is written unescaped in the file, the scalar's span otherwise.
    fn converter(&self, s: &Spanned<String>) -> Converter {
        let span = self.span(s);
        let written = self.text.get(span.range()).unwrap_or("");
        let placement = if written == s.value {
            Placement::At(span.range().start)
        } else if written.len() >= 2
            && (written.starts_with('"') || written.starts_with('\''))
            && written.get(1..written.len() - 1) == Some(s.value.as_str())
        {
            Placement::At(span.range().start + 1)
        } else {
            Placement::Within(span)
        };
        Converter::new(self.source, placement, self.max_nesting)
    }

    fn with<T>(&mut self, s: &Spanned<String>, f: impl FnOnce(&mut Converter, &str) -> Option<T>) -> Option<T> {
        let mut conv = self.converter(s);
        let out = f(&mut conv, &s.value);
        self.errors.append(&mut conv.errors);
        out
    }

    fn ident(&mut self, s: &Spanned<String>) -> Option<Ident> {
        self.with(s, |c, t| c.ident_text(t))
    }

    fn idents(&mut self, list: &[Spanned<String>]) -> Vec<Ident> {
        list.iter().filter_map(|s| self.ident(s)).collect()
    }

    fn perm_refs(&mut self, list: &[Spanned<String>]) -> Vec<PermRef> {
        list.iter().filter_map(|s| self.with(s, |c, t| c.perm_ref_text(t))).collect()
    }

    fn str_lit(&self, s: &Spanned<String>) -> StrLit {
        StrLit { value: s.value.clone(), span: self.span(s) }
    }

    fn condition(&mut self, s: &Spanned<String>) -> Option<Expr> {
        let span = self.span(s);
        let invalid = |message: &str, help: &str| {
            let kind = ErrorKind::Invalid { message: message.to_owned(), help: Some(help.to_owned()) };
            Diagnostic::error(kind, span)
        };
        // A YAML anchor (`&name`) before a plain condition takes part of it away silently:
        // `when: && x` reads as `x`. Whatever stands before the value must be YAML structure.
        let before = self.text.get(..span.range().start).unwrap_or("");
        let line = before.rsplit(['\n', '\r']).next().unwrap_or("").trim_end();
        let structural = line.is_empty() || line.ends_with([':', '-', ',', '[', '{', '?', '|', '>']);
        let block_header = line.rsplit([':', '-']).next().is_some_and(|h| {
            let h = h.trim();
            !h.is_empty() && h.chars().all(|c| matches!(c, '|' | '>' | '-' | '+' | '0'..='9'))
        });
        if !structural && !block_header {
            self.errors.push(invalid(
                "a YAML anchor or tag stands before this condition, and YAML removed part of it",
                "remove what stands before the condition, and quote it if it starts with `!` or `&`",
            ));
            return None;
        }
        // Inside a YAML string a DSL comment would run to the end of the folded line and
        // silently take the rest of the condition with it.
        if has_comment(&s.value) {
            self.errors.push(invalid(
                "a condition written in YAML cannot contain a `#` comment",
                "move the comment out of the string, as a YAML comment",
            ));
            return None;
        }
        self.with(s, |c, t| c.condition(t))
    }

    fn file(&mut self, file: YFile) -> Vec<Item> {
        let mut items = Vec::new();
        for (name, res) in &file.resources.0 {
            let Some(name) = self.ident(name) else { continue };
            let span = name.span;
            let mut decl = ResourceDecl { name, actions: Vec::new(), attributes: Vec::new(), span };
            if let Some(res) = res {
                decl.actions = self.idents(&res.actions);
                for (attr, ty) in &res.attributes.0 {
                    let name = self.ident(attr);
                    let ty = self.with(ty, |c, t| c.attr_type_text(t));
                    if let (Some(name), Some((ty, ty_span))) = (name, ty) {
                        decl.attributes.push(AttrDecl { name, ty, ty_span });
                    }
                }
            }
            items.push(Item::Resource(decl));
        }
        for (key, members) in &file.groups.0 {
            let Some(name) = self.ident(key) else { continue };
            if members.as_ref().is_none_or(Vec::is_empty) {
                let message = format!("group `{}` lists no permissions", name.name);
                let help = Some("list permissions or patterns, such as `[mail:read, \"contact:*\"]`".to_owned());
                self.errors.push(Diagnostic::error(ErrorKind::Invalid { message, help }, name.span));
                continue;
            }
            let items_ = self.perm_refs(members.as_deref().unwrap_or_default());
            let span = name.span;
            items.push(Item::Group(GroupDecl { name, items: items_, span }));
        }
        for (name, role) in &file.roles.0 {
            let Some(name) = self.ident(name) else { continue };
            let span = name.span;
            let mut decl = RoleDecl { name, admin: false, inherits: Vec::new(), grants: Vec::new(), span };
            if let Some(role) = role {
                decl.admin = role.administrative;
                decl.inherits = self.idents(&role.inherits);
                for grant in &role.grants {
                    if let Some(g) = self.grant(grant) {
                        decl.grants.push(g);
                    }
                }
            }
            items.push(Item::Role(decl));
        }
        for policy in &file.policies {
            if let Some(p) = self.policy(policy) {
                items.push(Item::Policy(p));
            }
        }
        items
    }

    fn grant(&mut self, grant: &Spanned<YGrant>) -> Option<Grant> {
        let span = self.span(grant);
        match &grant.value {
            YGrant::Simple(text) => {
                let spanned = Spanned::new(text.clone(), grant.referenced, grant.defined);
                let items = self.perm_refs(std::slice::from_ref(&spanned));
                (!items.is_empty()).then_some(Grant { items, on: None, when: None, span })
            }
            YGrant::Full { permissions, on, when } => {
                let items = self.perm_refs(permissions);
                let when = match when {
                    Some(w) => {
                        let w = self.present(w, "when")?;
                        Some(self.condition(&w)?)
                    }
                    None => None,
                };
                let on = match on {
                    Some(o) => {
                        let o = self.present(o, "on")?;
                        Some(self.str_lit(&o))
                    }
                    None => None,
                };
                (items.len() == permissions.len()).then_some(Grant { items, on, when, span })
            }
        }
    }

    /// The value of a key that was written, or an error if it was left empty.
    fn present(&mut self, s: &Spanned<Option<String>>, key: &str) -> Option<Spanned<String>> {
        match &s.value {
            Some(text) => Some(Spanned::new(text.clone(), s.referenced, s.defined)),
            None => {
                let message = format!("`{key}` has no value");
                let help = Some("write it as a string; quote it if it starts with `!`".to_owned());
                self.errors.push(Diagnostic::error(ErrorKind::Invalid { message, help }, self.span(s)));
                None
            }
        }
    }

    fn policy(&mut self, p: &Spanned<YPolicy>) -> Option<PolicyDecl> {
        let span = self.span(p);
        let y = &p.value;
        let effect = match y.effect.value.as_str() {
            "allow" => Effect::Allow,
            "deny" => Effect::Deny,
            other => {
                let message = format!("unknown effect `{other}`");
                let help = Some("the effect is `allow` or `deny`".to_owned());
                self.errors.push(Diagnostic::error(ErrorKind::Invalid { message, help }, self.span(&y.effect)));
                return None;
            }
        };
        let condition = match (&y.when, &y.unless) {
            (Some(_), Some(u)) => {
                let message = "a policy has at most one `when` or `unless` condition".to_owned();
                let help = Some("combine the conditions with `&&` or `||`".to_owned());
                self.errors.push(Diagnostic::error(ErrorKind::Invalid { message, help }, self.span(u)));
                return None;
            }
            (Some(c), None) | (None, Some(c)) => {
                let kind = if y.when.is_some() { ConditionKind::When } else { ConditionKind::Unless };
                let Some(text) = &c.value else {
                    let word = if kind == ConditionKind::When { "when" } else { "unless" };
                    let message = format!("`{word}` has no condition");
                    let help = Some("write the condition as a string; quote it if it starts with `!`".to_owned());
                    self.errors.push(Diagnostic::error(ErrorKind::Invalid { message, help }, self.span(c)));
                    return None;
                };
                let text = Spanned::new(text.clone(), c.referenced, c.defined);
                Some(Condition { kind, expr: self.condition(&text)? })
            }
            (None, None) => None,
        };
        let actions = self.perm_refs(&y.actions);
        if y.actions.is_empty() {
            let message = format!("policy `{}` has no `actions`", y.id.value);
            let help = Some("add `actions: [kind:action, ...]` (patterns such as `mail:*` are allowed)".to_owned());
            self.errors.push(Diagnostic::error(ErrorKind::Invalid { message, help }, self.span(&y.id)));
        }
        Some(PolicyDecl {
            id: self.str_lit(&y.id),
            effect,
            actions,
            roles: self.idents(&y.roles),
            principals: y.principals.iter().map(|s| self.str_lit(s)).collect(),
            resources: y.resources.iter().map(|s| self.str_lit(s)).collect(),
            condition,
            span,
        })
    }
}
