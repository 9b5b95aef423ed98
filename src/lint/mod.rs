//! Lints: what is probably wrong in a policy set that compiles.
//!
//! Each lint lives in its own file, with a stable code (`W0001`...) and a doc comment
//! saying what it finds, why it matters, and an example. [`lint`] runs them all over the
//! syntax trees and the snapshot compiled from them; each finding is a [`Diagnostic`] of
//! severity [`Severity::Warning`] and kind [`ErrorKind::Lint`].

mod confusable_names;
mod constant_condition;
mod deep_inheritance;
mod invisible_characters;
mod redundant_grant;
mod redundant_role;
mod shadowed_allow;
mod undeclared_attribute;
mod unused_name;
mod wildcard_grant;

use crate::compile::{PermId, RoleId, Snapshot};
use crate::diagnostic::{CodeInfo, Diagnostic, ErrorKind, Severity};
use crate::source::{Sources, Span};
use crate::syntax::ast::*;
use std::collections::{HashMap, HashSet};

/// The knobs of the lints. [`LintConfig::default`] gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LintConfig {
    /// W0008 reports roles whose inheritance goes deeper than this many levels (a role
    /// that inherits nothing is level 0, one that inherits it level 1). Default: 8.
    pub max_inheritance_depth: usize,
}

impl Default for LintConfig {
    fn default() -> LintConfig {
        LintConfig { max_inheritance_depth: 8 }
    }
}

/// Every lint, by code.
pub const LINTS: [CodeInfo; 10] = [
    unused_name::LINT,
    redundant_role::LINT,
    redundant_grant::LINT,
    shadowed_allow::LINT,
    constant_condition::LINT,
    wildcard_grant::LINT,
    undeclared_attribute::LINT,
    deep_inheritance::LINT,
    invisible_characters::LINT,
    confusable_names::LINT,
];

type Check = fn(&Context<'_>, &mut Vec<Diagnostic>);

const CHECKS: [Check; 10] = [
    unused_name::check,
    redundant_role::check,
    redundant_grant::check,
    shadowed_allow::check,
    constant_condition::check,
    wildcard_grant::check,
    undeclared_attribute::check,
    deep_inheritance::check,
    invisible_characters::check,
    confusable_names::check,
];

/// Runs every lint over a policy set that compiled: `files` are its syntax trees (from
/// [`crate::PolicySet::parse`]), `snapshot` was compiled from them, `sources` holds their
/// texts. Returns the warnings in file and position order.
///
/// Lints assume the set compiled without errors; on a set with errors their findings
/// would be unreliable, so [`crate::PolicySet::check`] runs them only when it compiles.
///
/// ```
/// let mut set = rampart::PolicySet::new();
/// set.add_source("t.policy", "resource doc { actions: read }\nrole viewer { grant doc:read }\nrole reader inherits viewer");
/// let (files, _) = set.parse();
/// let snapshot = set.compile().expect("compiles");
/// let warnings = rampart::lint(&files, &snapshot, set.sources(), &rampart::LintConfig::default());
/// assert_eq!(warnings[0].kind.code(), "W0002"); // `reader` grants nothing beyond `viewer`
/// ```
pub fn lint(files: &[PolicyFile], snapshot: &Snapshot, sources: &Sources, config: &LintConfig) -> Vec<Diagnostic> {
    let cx = Context::new(files, snapshot, sources, config);
    let mut out = Vec::new();
    for check in CHECKS {
        check(&cx, &mut out);
    }
    out.sort_by_key(|d| (d.span.map(|s| (s.source(), s.range().start)), d.kind.code()));
    out
}

/// A finding of a lint.
fn warning(lint: &CodeInfo, span: Span, message: String, help: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        kind: ErrorKind::Lint { code: lint.code, message, help },
        span: Some(span),
    }
}

/// `a`, `a` and `b`, `a`, `b` and `c`: names in backticks, for messages.
fn listing<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A condition and the rule it limits.
struct Site<'a> {
    expr: &'a Expr,
    /// The permissions the rule covers, as written.
    items: &'a [PermRef],
}

/// How the roles of the set are referred to, other than by principals.
#[derive(Default)]
struct RoleUses<'a> {
    /// Roles some role inherits.
    inherited: HashSet<&'a str>,
    /// Roles named by a policy's `roles` or by `"name" in principal.roles`.
    named: HashSet<&'a str>,
    /// Whether a condition tests a computed name against `principal.roles`, or counts
    /// them with `len`: then any role may matter to a decision.
    computed: bool,
}

/// What the lints read: the syntax trees, the snapshot, and a few tables built once.
struct Context<'a> {
    files: &'a [PolicyFile],
    snapshot: &'a Snapshot,
    sources: &'a Sources,
    config: &'a LintConfig,
    groups: HashMap<&'a str, &'a [PermId]>,
    uses: RoleUses<'a>,
}

impl<'a> Context<'a> {
    fn new(files: &'a [PolicyFile], snapshot: &'a Snapshot, sources: &'a Sources, config: &'a LintConfig) -> Self {
        let groups = snapshot.groups.iter().map(|(name, perms)| (&**name, &**perms)).collect();
        let mut cx = Context { files, snapshot, sources, config, groups, uses: RoleUses::default() };
        cx.uses = cx.role_uses();
        cx
    }

    fn items(&self) -> impl Iterator<Item = &'a Item> {
        self.files.iter().flat_map(|f| &f.items)
    }

    fn roles(&self) -> impl Iterator<Item = &'a RoleDecl> {
        self.items().filter_map(|i| if let Item::Role(r) = i { Some(r) } else { None })
    }

    fn groups(&self) -> impl Iterator<Item = &'a GroupDecl> {
        self.items().filter_map(|i| if let Item::Group(g) = i { Some(g) } else { None })
    }

    fn policies(&self) -> impl Iterator<Item = &'a PolicyDecl> {
        self.items().filter_map(|i| if let Item::Policy(p) = i { Some(p) } else { None })
    }

    /// Every condition of every grant and policy.
    fn sites(&self) -> impl Iterator<Item = Site<'a>> {
        let grants = self
            .roles()
            .flat_map(|r| &r.grants)
            .filter_map(|g| g.when.as_ref().map(|expr| Site { expr, items: &g.items }));
        let policies =
            self.policies().filter_map(|p| p.condition.as_ref().map(|c| Site { expr: &c.expr, items: &p.actions }));
        grants.chain(policies)
    }

    fn role_id(&self, name: &str) -> Option<RoleId> {
        self.snapshot.role_ids.get(name).copied()
    }

    fn role_name(&self, id: RoleId) -> &'a str {
        self.snapshot.role_name(id)
    }

    /// The permissions a reference stands for, sorted; empty if it resolves to nothing.
    fn perms(&self, r: &PermRef) -> Vec<PermId> {
        let snap = self.snapshot;
        let mut perms: Vec<PermId> = match r {
            PermRef::Group(g) => self.groups.get(g.name.as_str()).map(|p| p.to_vec()).unwrap_or_default(),
            PermRef::Pattern { kind, action, .. } => {
                let kinds: Vec<usize> = match kind {
                    NamePattern::Any => (0..snap.kinds.len()).collect(),
                    NamePattern::Name(k) => snap.kind_ids.get(k).map(|id| id.index()).into_iter().collect(),
                };
                let mut perms = Vec::new();
                for k in kinds {
                    let Some(kind) = snap.kinds.get(k) else { continue };
                    match action {
                        NamePattern::Any => perms.extend(kind.actions.values().copied()),
                        NamePattern::Name(a) => perms.extend(kind.actions.get(a).copied()),
                    }
                }
                perms
            }
        };
        perms.sort_unstable();
        perms.dedup();
        perms
    }

    /// The permissions of several references, sorted and deduplicated.
    fn perms_of(&self, refs: &[PermRef]) -> Vec<PermId> {
        let mut all: Vec<PermId> = refs.iter().flat_map(|r| self.perms(r)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Whether a role holds no permission at all, own or inherited, limited or not.
    fn holds_nothing(&self, role: RoleId) -> bool {
        self.snapshot.plain.row(role.index()).is_empty() && self.snapshot.guarded.row(role.index()).is_empty()
    }

    /// The permissions a role holds unconditionally through its parents (not through its
    /// own grants), each with the ancestor whose grant gives it.
    fn inherited_plain(&self, role: RoleId) -> HashMap<PermId, RoleId> {
        let snap = self.snapshot;
        let mut held = HashMap::new();
        for parent in snap.parents.get(role.index()).map(Vec::as_slice).unwrap_or_default() {
            for &(perm, grant) in snap.plain.row(parent.index()) {
                if let Some(g) = snap.grants.get(grant.index()) {
                    held.entry(perm).or_insert(g.role);
                }
            }
        }
        held
    }

    /// The ancestors that give every permission of `perms` unconditionally, in
    /// declaration order; `None` when one of them is not inherited unconditionally.
    fn inherited_from(&self, inherited: &HashMap<PermId, RoleId>, perms: &[PermId]) -> Option<Vec<RoleId>> {
        if perms.is_empty() {
            return None;
        }
        let mut holders: Vec<RoleId> = perms.iter().map(|p| inherited.get(p).copied()).collect::<Option<_>>()?;
        holders.sort_unstable();
        holders.dedup();
        Some(holders)
    }

    /// Whether every grant of a role is already inherited unconditionally (and it has at
    /// least one): the role then grants nothing of its own.
    fn grants_only_inherited(&self, role: &RoleDecl) -> bool {
        let Some(id) = self.role_id(&role.name.name) else { return false };
        let inherited = self.inherited_plain(id);
        !role.grants.is_empty()
            && role.grants.iter().all(|g| self.inherited_from(&inherited, &self.perms_of(&g.items)).is_some())
    }

    /// Whether a role matters to decisions other than through the principals that present
    /// it: a policy or condition names it, or conditions compute role names.
    fn named(&self, role: &str) -> bool {
        self.uses.computed || self.uses.named.contains(role)
    }

    fn role_uses(&self) -> RoleUses<'a> {
        let mut uses = RoleUses::default();
        for role in self.roles() {
            uses.inherited.extend(role.inherits.iter().map(|p| p.name.as_str()));
        }
        for policy in self.policies() {
            uses.named.extend(policy.roles.iter().map(|r| r.name.as_str()));
        }
        for site in self.sites() {
            walk(site.expr, &mut |e| match &e.kind {
                ExprKind::Cmp { op: CmpOp::In, lhs, rhs } if is_role_set(rhs) => match &lhs.kind {
                    ExprKind::Str(name) => {
                        uses.named.insert(name.as_str());
                    }
                    _ => uses.computed = true,
                },
                ExprKind::Call { func, args } if func.name == "len" && args.iter().any(is_role_set) => {
                    uses.computed = true;
                }
                _ => {}
            });
        }
        uses
    }
}

/// Whether an expression is the role set `principal.roles`.
fn is_role_set(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Path { root: Root::Principal, fields } if fields.len() == 1 && fields[0].name == "roles")
}

/// Calls `f` on an expression and every expression inside it, outermost first. Trees are
/// at most `Limits::max_nesting` deep (the parser refuses deeper ones).
fn walk<'e>(e: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Path { .. } => {}
        ExprKind::List(items) | ExprKind::Call { args: items, .. } => items.iter().for_each(|i| walk(i, f)),
        ExprKind::Not(inner) => walk(inner, f),
        ExprKind::And(l, r) | ExprKind::Or(l, r) | ExprKind::Cmp { lhs: l, rhs: r, .. } => {
            walk(l, f);
            walk(r, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lint_has_a_distinct_code_in_order() {
        for (i, lint) in LINTS.iter().enumerate() {
            assert_eq!(lint.code, format!("W{:04}", i + 1));
            assert!(!lint.summary.is_empty() && !lint.help.is_empty() && !lint.name.is_empty());
        }
    }

    #[test]
    fn listings_read_as_english() {
        assert_eq!(listing(&["a"]), "`a`");
        assert_eq!(listing(&["a", "b"]), "`a` and `b`");
        assert_eq!(listing(&["a", "b", "c"]), "`a`, `b` and `c`");
    }
}
