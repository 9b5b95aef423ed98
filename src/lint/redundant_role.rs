//! W0002 `redundant-role`: a role that adds nothing to what it inherits.

use super::{Context, listing, warning};
use crate::diagnostic::{CodeInfo, Diagnostic};

/// ## What it finds
/// A role that grants nothing beyond its parents: it has no grants and exactly one parent
/// (an alias), or every one of its grants gives permissions it already holds
/// unconditionally through inheritance. Roles that a policy or a condition names are
/// left alone: naming them makes them differ from their parents.
///
/// ## Why it matters
/// Such a role is another name for its parent. Two names for the same access make
/// reviews harder ("is `editor` the same as `viewer`?") and drift apart silently when
/// one of them changes.
///
/// ## Example
/// ```text
/// role viewer { grant doc:read }
/// role reader inherits viewer    # warning[W0002]: role `reader` grants nothing beyond what it inherits from `viewer`
/// ```
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0002",
    name: "redundant-role",
    summary: "a role that grants nothing beyond what it inherits",
    help: "use the parent role instead, or give the role grants of its own",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for role in cx.roles() {
        let name = role.name.name.as_str();
        let Some(id) = cx.role_id(name) else { continue };
        let parents: Vec<&str> = cx
            .snapshot
            .parents
            .get(id.index())
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|p| cx.role_name(*p))
            .collect();
        // A role that holds nothing at all is W0001's.
        if parents.is_empty() || cx.named(name) || cx.holds_nothing(id) {
            continue;
        }
        let help = if role.grants.is_empty() && parents.len() == 1 {
            format!("use `{}` instead, or give `{name}` grants of its own", parents[0])
        } else if cx.grants_only_inherited(role) {
            format!("every grant of `{name}` is already inherited: remove them, and use the roles it inherits instead")
        } else {
            continue;
        };
        let message = format!("role `{name}` grants nothing beyond what it inherits from {}", listing(&parents));
        out.push(warning(&LINT, role.name.span, message, help));
    }
}
