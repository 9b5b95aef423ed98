//! W0006 `wildcard-grant`: `*:*` given to a role not marked administrative.

use super::{Context, listing, warning};
use crate::diagnostic::{CodeInfo, Diagnostic};
use crate::syntax::ast::{Effect, NamePattern, PermRef};
use std::collections::HashSet;

/// ## What it finds
/// A grant of `*:*` (written out, or through a group that lists it) in a role that is not
/// marked administrative (`admin role` in the DSL, `administrative: true` in YAML); and
/// an allow policy covering `*:*` unless its `roles` are all administrative.
///
/// ## Why it matters
/// `*:*` is every permission of every resource kind, including kinds added later: a
/// new `billing` kind is silently granted to whoever holds it. Full access should be a
/// deliberate, visible decision, made for a few roles marked as such.
///
/// ## Example
/// ```text
/// role support {
///     grant *:*     # warning[W0006]: `*:*` grants every permission to `support`, which is not marked administrative
/// }
/// admin role owner { grant *:* }    # fine: marked administrative
/// ```
///
/// Roles that inherit an administrative role hold `*:*` too; they are not reported, as
/// they grant nothing themselves.
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0006",
    name: "wildcard-grant",
    summary: "`*:*` granted outside a role marked administrative",
    help: "grant only the permissions needed, or mark the role administrative (`admin role`)",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let everything =
        |r: &PermRef| matches!(r, PermRef::Pattern { kind: NamePattern::Any, action: NamePattern::Any, .. });
    let wildcard_groups: HashSet<&str> =
        cx.groups().filter(|g| g.items.iter().any(everything)).map(|g| g.name.name.as_str()).collect();
    // How a reference grants everything, if it does: `*:*`, or a group that lists it.
    let describe = |r: &PermRef| match r {
        r if everything(r) => Some("`*:*`".to_owned()),
        PermRef::Group(g) if wildcard_groups.contains(g.name.as_str()) => Some(format!("group `{}` (`*:*`)", g.name)),
        _ => None,
    };
    let admins: HashSet<&str> = cx.roles().filter(|r| r.admin).map(|r| r.name.name.as_str()).collect();
    for role in cx.roles().filter(|r| !r.admin) {
        let name = &role.name.name;
        for item in role.grants.iter().flat_map(|g| &g.items) {
            let Some(what) = describe(item) else { continue };
            let message = format!("{what} grants every permission to `{name}`, which is not marked administrative");
            let help = format!(
                "grant only the permissions `{name}` needs, or mark it `admin role {name}` (in YAML, `administrative: true`)"
            );
            out.push(warning(&LINT, item.span(), message, help));
        }
    }
    for policy in cx.policies().filter(|p| p.effect == Effect::Allow) {
        if !policy.roles.is_empty() && policy.roles.iter().all(|r| admins.contains(r.name.as_str())) {
            continue;
        }
        for item in &policy.actions {
            let Some(what) = describe(item) else { continue };
            let message = format!("allow policy `{}` allows every permission through {what}", policy.id.value);
            let not_admin: Vec<&str> =
                policy.roles.iter().map(|r| r.name.as_str()).filter(|r| !admins.contains(r)).collect();
            let help = if not_admin.is_empty() {
                "list the permissions it needs, or limit it with `roles:` to administrative roles".to_owned()
            } else {
                format!("list the permissions it needs; {} not marked administrative", is_are(&not_admin))
            };
            out.push(warning(&LINT, item.span(), message, help));
        }
    }
}

fn is_are(names: &[&str]) -> String {
    let verb = if names.len() == 1 { "is" } else { "are" };
    format!("{} {verb}", listing(names))
}
