//! W0001 `unused-name`: a group nothing uses, or a role that does nothing.

use super::{Context, warning};
use crate::diagnostic::{CodeInfo, Diagnostic};
use crate::syntax::ast::PermRef;
use std::collections::HashSet;

/// ## What it finds
/// A group that no grant and no policy lists; and a role that holds no permission (it
/// grants nothing and inherits nothing that grants anything) and that no role inherits,
/// no policy names in `roles` and no condition names in `"role" in principal.roles`.
///
/// ## Why it matters
/// An unused declaration is either dead weight or, more often, the sign of a mistake: a
/// group meant to be granted and forgotten, a role whose grants were moved elsewhere.
/// A principal presenting such a role gets nothing from it.
///
/// ## Example
/// ```text
/// group mail_basic = mail:read, mail:send   # warning[W0001]: group `mail_basic` is never used
/// role auditor                              # warning[W0001]: role `auditor` grants nothing ...
/// ```
///
/// When a condition computes role names (`context.role in principal.roles`) or counts
/// them (`len(principal.roles)`), any role can matter, and roles are not reported.
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0001",
    name: "unused-name",
    summary: "a group nothing uses, or a role that grants nothing and that nothing inherits or names",
    help: "use it (grant the group, give the role grants), or remove it",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut used: HashSet<&str> = HashSet::new();
    let refs = cx.roles().flat_map(|r| &r.grants).flat_map(|g| &g.items).chain(cx.policies().flat_map(|p| &p.actions));
    for r in refs {
        if let PermRef::Group(g) = r {
            used.insert(g.name.as_str());
        }
    }
    for group in cx.groups() {
        if !used.contains(group.name.name.as_str()) {
            let message = format!("group `{}` is never used", group.name.name);
            let help = "grant it in a role or list it in a policy's `actions`, or remove it".to_owned();
            out.push(warning(&LINT, group.name.span, message, help));
        }
    }
    for role in cx.roles() {
        let name = role.name.name.as_str();
        let Some(id) = cx.role_id(name) else { continue };
        if cx.holds_nothing(id) && !cx.uses.inherited.contains(name) && !cx.named(name) {
            let message = format!("role `{name}` grants nothing and is never inherited or named");
            let help = "give it grants, or remove it".to_owned();
            out.push(warning(&LINT, role.name.span, message, help));
        }
    }
}
