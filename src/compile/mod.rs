//! Compile: syntax trees into an immutable [`Snapshot`], resolving every name.
//!
//! The stages, in order: declare names (duplicates), resource kinds and permissions,
//! groups, roles (inheritance cycles, closure), grants, access policies (conditions
//! type-checked and lowered), then the per-role and per-permission indexes.

pub(crate) mod expr;
mod roles;
mod snapshot;
pub(crate) mod table;

pub use expr::AttrRef;
pub use snapshot::{Counts, HeldPermission, Snapshot, Version};
pub(crate) use snapshot::{GrantRule, Guard, Loc, Policy};
pub use table::{GrantId, KindId, PermId, PolicyId, RoleId};
use table::{GrantIndex, PermIndex};
pub(crate) use table::{Held, same};

use crate::diagnostic::{Diagnostic, ErrorKind, NameKind, suggest};
use crate::limits::Limits;
use crate::source::{Location, Sources, Span};
use crate::syntax::ast::*;
use expr::{Lowerer, Scope};
use snapshot::{Kind, Perm, Role};
use table::{NameIndex, NameMap, Table};

/// Compiles parsed policy files into a snapshot, or returns every error found.
pub fn compile(files: &[PolicyFile], sources: &Sources, limits: &Limits) -> Result<Snapshot, Vec<Diagnostic>> {
    let mut cx = Compiler { sources, errors: Vec::new() };
    let decls = cx.declare(files);
    let snapshot = cx.build(&decls, limits);
    if cx.errors.is_empty() {
        Ok(snapshot)
    } else {
        cx.errors.sort_by_key(|d| d.span.map(|s| (s.source(), s.range().start)));
        Err(cx.errors)
    }
}

/// A snapshot with nothing in it: what is live before the first load.
pub(crate) fn empty(limits: &Limits) -> Snapshot {
    let sources = Sources::new();
    Compiler { sources: &sources, errors: Vec::new() }.build(&Decls::default(), limits)
}

/// Declarations of the whole set, in order, duplicates removed.
#[derive(Default)]
struct Decls<'a> {
    resources: Vec<&'a ResourceDecl>,
    groups: Vec<&'a GroupDecl>,
    roles: Vec<&'a RoleDecl>,
    policies: Vec<&'a PolicyDecl>,
}

struct Compiler<'s> {
    sources: &'s Sources,
    errors: Vec<Diagnostic>,
}

impl Compiler<'_> {
    fn error(&mut self, kind: ErrorKind, span: Span) {
        self.errors.push(Diagnostic::error(kind, span));
    }

    /// The part `start..end` of a pattern's span, when the span holds the pattern as
    /// written (a YAML alias, say, points elsewhere: then the whole span).
    fn sub_span(&self, span: Span, start: usize, end: usize) -> Span {
        let text = self.sources.get(span.source()).text();
        let written = text.get(span.range()).unwrap_or("");
        let exact = written.contains(':')
            && !written.starts_with('*')
            && end <= written.len()
            && written.is_char_boundary(start)
            && written.is_char_boundary(end);
        if exact { Span::new(span.source(), span.range().start + start, span.range().start + end) } else { span }
    }

    fn loc(&self, span: Span) -> Loc {
        let at = self.sources.get(span.source()).line_col(span.range().start);
        Loc { file: span.source().0, line: at.line, col: at.col }
    }

    fn location(&self, span: Span) -> Location {
        self.sources.locate(span)
    }

    /// Keeps the first of each name; reports the others.
    fn unique<'a, T>(
        &mut self,
        kind: NameKind,
        items: impl Iterator<Item = &'a T>,
        name: impl Fn(&T) -> (&str, Span),
    ) -> Vec<&'a T> {
        let mut seen: NameMap<Span> = NameMap::default();
        let mut kept = Vec::new();
        for item in items {
            let (n, span) = name(item);
            if let Some(first) = seen.get(n) {
                let first = self.location(*first);
                self.error(ErrorKind::Duplicate { kind, name: n.to_owned(), first }, span);
            } else {
                seen.insert(n.into(), span);
                kept.push(item);
            }
        }
        kept
    }

    fn declare<'a>(&mut self, files: &'a [PolicyFile]) -> Decls<'a> {
        let items = || files.iter().flat_map(|f| &f.items);
        Decls {
            resources: self.unique(
                NameKind::Resource,
                items().filter_map(|i| if let Item::Resource(r) = i { Some(r) } else { None }),
                |r| (&r.name.name, r.name.span),
            ),
            groups: self.unique(
                NameKind::Group,
                items().filter_map(|i| if let Item::Group(g) = i { Some(g) } else { None }),
                |g| (&g.name.name, g.name.span),
            ),
            roles: self.unique(
                NameKind::Role,
                items().filter_map(|i| if let Item::Role(r) = i { Some(r) } else { None }),
                |r| (&r.name.name, r.name.span),
            ),
            policies: self.unique(
                NameKind::Policy,
                items().filter_map(|i| if let Item::Policy(p) = i { Some(p) } else { None }),
                |p| (&p.id.value, p.id.span),
            ),
        }
    }

    fn build(&mut self, decls: &Decls<'_>, limits: &Limits) -> Snapshot {
        let mut snap = Snapshot {
            kinds: Vec::new(),
            kind_ids: NameIndex::default(),
            kind_attrs: Vec::new(),
            perms: Vec::new(),
            roles: Vec::new(),
            role_ids: NameIndex::default(),
            parents: Vec::new(),
            ancestors: Table::default(),
            plain: Table::default(),
            guarded: Table::default(),
            grant_index: GrantIndex::default(),
            perm_index: PermIndex::default(),
            grants: Vec::new(),
            guards: Vec::new(),
            policies: Vec::new(),
            deny_index: Table::default(),
            allow_index: Table::default(),
            attr_paths: Vec::new(),
            groups: Vec::new(),
            files: self.sources.iter().map(|(_, s)| s.name().into()).collect(),
            limits: *limits,
            version: 0,
            content_hash: self.sources.content_hash(),
        };
        self.resources(&mut snap, &decls.resources);
        let groups = self.groups(&mut snap, &decls.groups);
        self.roles(&mut snap, &decls.roles, limits);
        let mut lowerer = Lowerer::default();
        let (own_plain, own_guarded) = self.grants(&mut snap, &decls.roles, &groups, &mut lowerer);
        self.policies(&mut snap, &decls.policies, &groups, &mut lowerer);
        self.errors.append(&mut lowerer.errors);
        snap.attr_paths = lowerer.paths;
        if self.errors.is_empty() {
            // The indexes hold (role, permission) and (permission, policy) pairs: bound them
            // before building, as wildcards over many kinds can multiply them.
            let roles_size = index_size(&snap, &own_plain, &own_guarded);
            let policies_size: usize = snap.policies.iter().map(|p| p.perms.len()).sum();
            // Every grant is in its own role's closure, so the bound also keeps grant ids
            // within what the (role, permission) index encodes.
            let limit = limits.max_index_entries.min(table::MAX_INDEX_ENTRIES);
            if roles_size.saturating_add(policies_size) > limit {
                let what =
                    format!("size of the permission index ({} entries)", roles_size.saturating_add(policies_size));
                let span = decls.roles.first().map(|r| r.name.span).or(decls.policies.first().map(|p| p.id.span));
                let kind = ErrorKind::Limit { what, limit };
                match span {
                    Some(span) => self.error(kind, span),
                    None => self.errors.push(Diagnostic::unlocated(kind)),
                }
            } else {
                index_roles(&mut snap, &own_plain, &own_guarded);
                index_policies(&mut snap);
                index_names(&mut snap);
            }
        }
        snap
    }

    fn resources(&mut self, snap: &mut Snapshot, decls: &[&ResourceDecl]) {
        for decl in decls {
            let kind = KindId::from_index(snap.kinds.len());
            let mut actions: NameIndex<PermId> = NameIndex::default();
            for action in &decl.actions {
                if actions.contains_key(action.name.as_str()) {
                    let first = decl.actions.iter().find(|a| a.name == action.name).map_or(action.span, |a| a.span);
                    let first = self.location(first);
                    let name = format!("{}:{}", decl.name.name, action.name);
                    self.error(ErrorKind::Duplicate { kind: NameKind::Action, name, first }, action.span);
                    continue;
                }
                let perm = PermId::from_index(snap.perms.len());
                snap.perms.push(Perm { kind, action: action.name.as_str().into() });
                actions.insert(action.name.as_str(), perm);
            }
            let mut attrs: Vec<(Box<str>, AttrType)> = Vec::new();
            for attr in &decl.attributes {
                let name = attr.name.name.as_str();
                if matches!(name, "id" | "kind") {
                    let message = format!("`{name}` is reserved: `resource.{name}` is always the request's {name}");
                    let help = Some("choose another attribute name".to_owned());
                    self.error(ErrorKind::Invalid { message, help }, attr.name.span);
                } else if attrs.iter().any(|(n, _)| &**n == name) {
                    let first =
                        decl.attributes.iter().find(|a| a.name.name == name).map_or(attr.name.span, |a| a.name.span);
                    let first = self.location(first);
                    let name = format!("{}.{name}", decl.name.name);
                    self.error(ErrorKind::Duplicate { kind: NameKind::Attribute, name, first }, attr.name.span);
                } else {
                    attrs.push((name.into(), attr.ty.clone()));
                }
            }
            snap.kind_ids.insert(decl.name.name.as_str(), kind);
            snap.kinds.push(Kind { name: decl.name.name.as_str().into(), actions });
            snap.kind_attrs.push(attrs);
        }
    }

    /// Resolves a permission reference to sorted permissions; `None` after reporting an error.
    fn resolve(&mut self, snap: &Snapshot, r: &PermRef, groups: &NameMap<Vec<PermId>>) -> Option<Vec<PermId>> {
        let (kind, action, span) = match r {
            PermRef::Group(g) => {
                return match groups.get(g.name.as_str()) {
                    Some(perms) => Some(perms.clone()),
                    None => {
                        let mut names: Vec<&str> = groups.keys().map(|k| &**k).collect();
                        names.extend(snap.kinds.iter().map(|k| &*k.name));
                        // A bare kind name most likely means all of its actions.
                        let exact = snap.kind_ids.contains_key(g.name.as_str()).then(|| g.name.clone());
                        let suggestion = exact
                            .or_else(|| suggest(&g.name, names))
                            .map(|s| if snap.kind_ids.contains_key(s.as_str()) { format!("{s}:*") } else { s });
                        let kind =
                            ErrorKind::Unknown { kind: NameKind::Group, name: g.name.clone(), suggestion, scope: None };
                        self.error(kind, g.span);
                        None
                    }
                };
            }
            PermRef::Pattern { kind, action, span } => (kind, action, *span),
        };
        let kinds: Vec<KindId> = match kind {
            NamePattern::Any => (0..snap.kinds.len()).map(KindId::from_index).collect(),
            NamePattern::Name(k) => match snap.kind_ids.get(k.as_str()) {
                Some(id) => vec![*id],
                None => {
                    let suggestion = suggest(k, snap.kinds.iter().map(|k| &*k.name));
                    let kind =
                        ErrorKind::Unknown { kind: NameKind::Resource, name: k.clone(), suggestion, scope: None };
                    self.error(kind, self.sub_span(span, 0, k.len()));
                    return None;
                }
            },
        };
        let mut perms: Vec<PermId> = Vec::new();
        for k in &kinds {
            let actions = &snap.kinds[k.index()].actions;
            match action {
                NamePattern::Any => perms.extend(actions.values().copied()),
                NamePattern::Name(a) => perms.extend(actions.get(a.as_str()).copied()),
            }
        }
        if perms.is_empty() {
            match (kind, action) {
                (NamePattern::Name(k), NamePattern::Name(a)) => {
                    let actions = &snap.kinds[kinds[0].index()].actions;
                    let suggestion = suggest(a, actions.keys());
                    let scope = Some(format!("`resource {k}`"));
                    let kind =
                        ErrorKind::Unknown { kind: NameKind::Action, name: format!("{k}:{a}"), suggestion, scope };
                    let len = span.range().len();
                    self.error(kind, self.sub_span(span, k.len() + 1, len));
                }
                _ => {
                    let pattern = crate::syntax::print::perm_ref(r);
                    self.error(ErrorKind::EmptyPattern { pattern }, span);
                }
            }
            return None;
        }
        perms.sort_unstable();
        perms.dedup();
        Some(perms)
    }

    fn resolve_all(&mut self, snap: &Snapshot, refs: &[PermRef], groups: &NameMap<Vec<PermId>>) -> Option<Vec<PermId>> {
        let mut all = Vec::new();
        let mut ok = true;
        for r in refs {
            match self.resolve(snap, r, groups) {
                Some(perms) => all.extend(perms),
                None => ok = false,
            }
        }
        all.sort_unstable();
        all.dedup();
        ok.then_some(all)
    }

    fn groups(&mut self, snap: &mut Snapshot, decls: &[&GroupDecl]) -> NameMap<Vec<PermId>> {
        let mut groups: NameMap<Vec<PermId>> = NameMap::default();
        let declared: Vec<&str> = decls.iter().map(|g| g.name.name.as_str()).collect();
        for decl in decls {
            let mut perms = Vec::new();
            for item in &decl.items {
                if let PermRef::Group(inner) = item
                    && declared.contains(&inner.name.as_str())
                {
                    let message = format!("group `{}` lists another group, `{}`", decl.name.name, inner.name);
                    let help = Some("groups hold permissions and patterns; list its permissions here".to_owned());
                    self.error(ErrorKind::Invalid { message, help }, inner.span);
                    continue;
                }
                perms.extend(self.resolve(snap, item, &groups).unwrap_or_default());
            }
            perms.sort_unstable();
            perms.dedup();
            snap.groups.push((decl.name.name.as_str().into(), perms.clone().into()));
            groups.insert(decl.name.name.as_str().into(), perms);
        }
        groups
    }

    fn roles(&mut self, snap: &mut Snapshot, decls: &[&RoleDecl], limits: &Limits) {
        for decl in decls {
            let id = RoleId::from_index(snap.roles.len());
            snap.role_ids.insert(decl.name.name.as_str(), id);
            snap.roles.push(Role { name: decl.name.name.as_str().into(), loc: self.loc(decl.name.span) });
        }
        for decl in decls {
            let mut parents = Vec::new();
            for parent in &decl.inherits {
                match snap.role_ids.get(parent.name.as_str()) {
                    Some(p) if !parents.contains(p) => parents.push(*p),
                    Some(_) => {}
                    None => {
                        let suggestion = suggest(&parent.name, snap.roles.iter().map(|r| &*r.name));
                        let kind = ErrorKind::Unknown {
                            kind: NameKind::Role,
                            name: parent.name.clone(),
                            suggestion,
                            scope: None,
                        };
                        self.error(kind, parent.span);
                    }
                }
            }
            snap.parents.push(parents);
        }
        let cycles = roles::cycles(&snap.parents);
        for cycle in &cycles {
            let names: Vec<String> = cycle.iter().map(|r| snap.role_name(*r).to_owned()).collect();
            // Point at the `inherits` entry that closes the cycle in the first role.
            let first = decls[cycle[0].index()];
            let next = snap.role_name(cycle[1]).to_owned();
            let span = first.inherits.iter().find(|p| p.name == next).map_or(first.name.span, |p| p.span);
            self.error(ErrorKind::Cycle { cycle: names }, span);
        }
        if cycles.is_empty() {
            match roles::ancestors(&snap.parents, limits.max_closure_entries) {
                Ok(table) => snap.ancestors = table,
                Err(role) => {
                    let what = "total size of role closures".to_owned();
                    let kind = ErrorKind::Limit { what, limit: limits.max_closure_entries };
                    self.error(kind, decls[role.index()].name.span);
                }
            }
        }
    }

    fn glob(&mut self, lit: &StrLit) -> Box<str> {
        lit.value.as_str().into()
    }

    /// Compiles every grant; returns each role's own plain and guarded (permission, grant) pairs.
    #[allow(clippy::type_complexity)]
    fn grants(
        &mut self,
        snap: &mut Snapshot,
        decls: &[&RoleDecl],
        groups: &NameMap<Vec<PermId>>,
        lowerer: &mut Lowerer,
    ) -> (Vec<Vec<(PermId, GrantId)>>, Vec<Vec<(PermId, GrantId)>>) {
        let mut plain = vec![Vec::new(); decls.len()];
        let mut guarded = vec![Vec::new(); decls.len()];
        for (r, decl) in decls.iter().enumerate() {
            for grant in &decl.grants {
                let Some(perms) = self.resolve_all(snap, &grant.items, groups) else { continue };
                let kinds = kinds_of(snap, &perms);
                let scope = Scope { kind_attrs: &snap.kind_attrs, kinds: &kinds, role_ids: &snap.role_ids };
                let when = match &grant.when {
                    Some(e) => match lowerer.condition(e, &scope) {
                        Some(c) => Some(c),
                        None => continue,
                    },
                    None => None,
                };
                let id = GrantId::from_index(snap.grants.len());
                let guard = if grant.on.is_some() || when.is_some() {
                    let mut text = String::new();
                    if let Some(on) = &grant.on {
                        text.push_str(&format!("on {}", crate::syntax::quote(&on.value)));
                    }
                    if let Some(e) = &grant.when {
                        let sep = if text.is_empty() { "" } else { " " };
                        text.push_str(&format!("{sep}when {}", crate::syntax::expr_to_string(e)));
                    }
                    snap.guards.push(Guard { on: grant.on.as_ref().map(|g| self.glob(g)), when, text: text.into() });
                    guarded[r].extend(perms.iter().map(|p| (*p, id)));
                    Some(index_u32(snap.guards.len() - 1))
                } else {
                    plain[r].extend(perms.iter().map(|p| (*p, id)));
                    None
                };
                snap.grants.push(GrantRule { role: RoleId::from_index(r), guard, loc: self.loc(grant.span) });
            }
        }
        (plain, guarded)
    }

    fn policies(
        &mut self,
        snap: &mut Snapshot,
        decls: &[&PolicyDecl],
        groups: &NameMap<Vec<PermId>>,
        lowerer: &mut Lowerer,
    ) {
        for decl in decls {
            let perms = self.resolve_all(snap, &decl.actions, groups);
            let mut roles = Vec::new();
            for role in &decl.roles {
                match snap.role_ids.get(role.name.as_str()) {
                    Some(id) => roles.push(*id),
                    None => {
                        let suggestion = suggest(&role.name, snap.roles.iter().map(|r| &*r.name));
                        let kind = ErrorKind::Unknown {
                            kind: NameKind::Role,
                            name: role.name.clone(),
                            suggestion,
                            scope: None,
                        };
                        self.error(kind, role.span);
                    }
                }
            }
            let Some(perms) = perms else { continue };
            let kinds = kinds_of(snap, &perms);
            let scope = Scope { kind_attrs: &snap.kind_attrs, kinds: &kinds, role_ids: &snap.role_ids };
            let (cond, unless) = match &decl.condition {
                Some(c) => match lowerer.condition(&c.expr, &scope) {
                    Some(cond) => (Some(cond), c.kind == ConditionKind::Unless),
                    None => continue,
                },
                None => (None, false),
            };
            roles.sort_unstable();
            roles.dedup();
            let principals = decl.principals.iter().map(|g| self.glob(g)).collect();
            let resources = decl.resources.iter().map(|g| self.glob(g)).collect();
            snap.policies.push(Policy {
                id: decl.id.value.as_str().into(),
                effect: decl.effect,
                perms: perms.into(),
                roles: roles.into(),
                principals,
                resources,
                cond,
                unless,
                text: crate::syntax::policy_to_dsl(decl).into(),
                loc: self.loc(decl.span),
            });
        }
    }
}

fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The resource kinds of some permissions, sorted and deduplicated.
fn kinds_of(snap: &Snapshot, perms: &[PermId]) -> Vec<KindId> {
    let mut kinds: Vec<KindId> = perms.iter().map(|p| snap.perms[p.index()].kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// How many entries `index_roles` would create (an upper bound: duplicates are removed).
fn index_size(snap: &Snapshot, own_plain: &[Vec<(PermId, GrantId)>], own_guarded: &[Vec<(PermId, GrantId)>]) -> usize {
    (0..snap.roles.len())
        .map(|role| {
            snap.ancestors
                .row(role)
                .iter()
                .map(|a| own_plain[a.index()].len() + own_guarded[a.index()].len())
                .sum::<usize>()
        })
        .fold(0usize, usize::saturating_add)
}

/// Flattens each role's grants over its closure: one plain grant per permission (the
/// role's own first), and every guarded grant, both sorted by permission.
fn index_roles(snap: &mut Snapshot, own_plain: &[Vec<(PermId, GrantId)>], own_guarded: &[Vec<(PermId, GrantId)>]) {
    let mut plain = Table::default();
    let mut guarded = Table::default();
    for role in 0..snap.roles.len() {
        let closure = snap.ancestors.row(role);
        // Own grants sort first for each permission, so dedup keeps them.
        let mut p: Vec<(PermId, bool, GrantId)> = closure
            .iter()
            .flat_map(|a| own_plain[a.index()].iter().map(move |&(perm, g)| (perm, a.index() != role, g)))
            .collect();
        p.sort_unstable();
        p.dedup_by_key(|e| e.0);
        plain.push_row(p.into_iter().map(|(perm, _, g)| (perm, g)));
        let mut g: Vec<(PermId, GrantId)> =
            closure.iter().flat_map(|a| own_guarded[a.index()].iter().copied()).collect();
        g.sort_unstable();
        g.dedup();
        guarded.push_row(g);
    }
    snap.plain = plain;
    snap.guarded = guarded;
    snap.grant_index = grant_index(snap);
}

/// The (role, permission) lookup of the check path, from the rows just built.
fn grant_index(snap: &Snapshot) -> GrantIndex {
    let mut entries = Vec::new();
    for r in 0..snap.roles.len() {
        let role = RoleId::from_index(r);
        let plain = snap.plain.row(r);
        entries.extend(plain.iter().map(|&(perm, g)| (role, perm, Held::Plain(g))));
        // The guarded row is sorted by permission: one entry per run, naming the grant
        // when the run has just one.
        for run in snap.guarded.row(r).chunk_by(|a, b| a.0 == b.0) {
            let perm = run[0].0;
            if plain.binary_search_by_key(&perm, |e| e.0).is_err() {
                entries.push((role, perm, if let [(_, g)] = run { Held::GuardedBy(*g) } else { Held::Guarded }));
            }
        }
    }
    GrantIndex::new(&entries, snap.roles.len(), snap.perms.len())
}

/// The name lookups of the check path: the (kind, action) pairs, and the role names laid
/// out again now that all are in.
fn index_names(snap: &mut Snapshot) {
    let pairs = snap.perms.iter().enumerate();
    let pairs = pairs.map(|(i, p)| (snap.kinds[p.kind.index()].name.clone(), p.action.clone(), PermId::from_index(i)));
    snap.perm_index = PermIndex::new(pairs.collect());
    snap.role_ids.settle();
}

/// For each permission, the deny and allow policies that cover it.
fn index_policies(snap: &mut Snapshot) {
    let mut deny: Vec<Vec<PolicyId>> = vec![Vec::new(); snap.perms.len()];
    let mut allow: Vec<Vec<PolicyId>> = vec![Vec::new(); snap.perms.len()];
    for (i, p) in snap.policies.iter().enumerate() {
        let index = if p.effect == Effect::Deny { &mut deny } else { &mut allow };
        for perm in &p.perms {
            index[perm.index()].push(PolicyId::from_index(i));
        }
    }
    let mut deny_index = Table::default();
    let mut allow_index = Table::default();
    for (d, a) in deny.into_iter().zip(allow) {
        deny_index.push_row(d);
        allow_index.push_row(a);
    }
    snap.deny_index = deny_index;
    snap.allow_index = allow_index;
}
