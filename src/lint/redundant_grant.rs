//! W0003 `redundant-grant`: a grant of permissions the role already inherits.

use super::{Context, listing, warning};
use crate::compile::RoleId;
use crate::diagnostic::{CodeInfo, Diagnostic};
use crate::syntax::perm_ref;

/// ## What it finds
/// A grant whose every permission the role already holds unconditionally (no `on`, no
/// `when`) through a role it inherits. When only some items of a grant are inherited,
/// each such item is reported on its own. A grant with `on` or `when` is redundant too
/// when the parent's grant is unconditional: the parent's is wider.
///
/// ## Why it matters
/// The grant does nothing, and misleads: a reader believes that removing it, or
/// narrowing it with a condition, changes what the role may do, and it does not.
///
/// ## Example
/// ```text
/// role viewer { grant mail:read }
/// role member inherits viewer {
///     grant mail:read    # warning[W0003]: `mail:read` is already inherited from `viewer`
/// }
/// ```
///
/// A role all of whose grants are inherited is reported once, by W0002.
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0003",
    name: "redundant-grant",
    summary: "a grant of permissions the role already holds unconditionally through inheritance",
    help: "remove the grant, or the item of the grant, that is already inherited",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for role in cx.roles() {
        let name = role.name.name.as_str();
        let Some(id) = cx.role_id(name) else { continue };
        if cx.snapshot.parents.get(id.index()).is_none_or(Vec::is_empty) {
            continue;
        }
        // W0002 reports this role as a whole.
        if !cx.named(name) && cx.grants_only_inherited(role) {
            continue;
        }
        let inherited = cx.inherited_plain(id);
        for grant in &role.grants {
            let holders: Vec<Option<Vec<RoleId>>> =
                grant.items.iter().map(|item| cx.inherited_from(&inherited, &cx.perms(item))).collect();
            let whole = holders.iter().all(Option::is_some);
            let whole_holders = if whole { cx.inherited_from(&inherited, &cx.perms_of(&grant.items)) } else { None };
            if let Some(holders) = whole_holders {
                let items: Vec<String> = grant.items.iter().map(perm_ref).collect();
                out.push(finding(cx, id, &items, &holders, "the grant", grant.span));
                continue;
            }
            for (item, holders) in grant.items.iter().zip(holders) {
                if let Some(holders) = holders {
                    let items = [perm_ref(item)];
                    let what = format!("`{}` from the grant", items[0]);
                    out.push(finding(cx, id, &items, &holders, &what, item.span()));
                }
            }
        }
    }
}

fn finding(
    cx: &Context<'_>,
    role: RoleId,
    items: &[String],
    holders: &[RoleId],
    what: &str,
    span: crate::source::Span,
) -> Diagnostic {
    let (verb, it) = if items.len() == 1 { ("is", "it") } else { ("are", "them") };
    let names: Vec<&str> = holders.iter().map(|h| cx.role_name(*h)).collect();
    let message = format!("{} {verb} already inherited from {}", listing(items), listing(&names));
    let path = holders.first().map(|h| cx.snapshot.role_path(role, *h).join(" -> ")).unwrap_or_default();
    let help = format!("remove {what}: `{}` holds {it} unconditionally through `{path}`", cx.role_name(role));
    warning(&LINT, span, message, help)
}
