//! W0007 `undeclared-attribute`: a condition reads a resource attribute that a kind the
//! rule covers does not declare.

use super::{Context, listing, walk, warning};
use crate::diagnostic::{CodeInfo, Diagnostic, suggest};
use crate::syntax::ast::{ExprKind, Root};

/// ## What it finds
/// A condition that reads `resource.x` (in a comparison, `has(...)` or anywhere else)
/// in a rule covering a resource kind that does not declare `x` among its
/// `attributes`. The kinds covered are those of the rule's permissions (a grant's
/// items, a policy's `actions`). `resource.id` and `resource.kind` always exist.
///
/// ## Why it matters
/// Undeclared attributes are not type-checked, and a misspelt one (`resource.onwer`)
/// is simply missing from every request: the grant never applies, or the deny always
/// does. When a rule covers several kinds, a kind without the attribute usually means
/// the rule covers more than intended.
///
/// ## Example
/// ```text
/// resource mail { actions: read  attributes: { owner: string } }
/// role member {
///     grant mail:read when resource.onwer == principal.id   # warning[W0007]: `resource.onwer` is not declared on resource kind `mail`
/// }
/// ```
///
/// Each attribute is reported once per condition, where it is first read.
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0007",
    name: "undeclared-attribute",
    summary: "a condition reads a resource attribute that a resource kind of the rule does not declare",
    help: "declare the attribute on the resource kind, correct its spelling, or limit the rule to kinds that have it",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let snap = cx.snapshot;
    for site in cx.sites() {
        let mut kinds: Vec<usize> =
            cx.perms_of(site.items).iter().filter_map(|p| snap.perms.get(p.index())).map(|p| p.kind.index()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let declares = |kind: usize, attr: &str| {
            snap.kind_attrs.get(kind).is_some_and(|attrs| attrs.iter().any(|(name, _)| &**name == attr))
        };
        let mut seen: Vec<&str> = Vec::new();
        walk(site.expr, &mut |e| {
            let ExprKind::Path { root: Root::Resource, fields } = &e.kind else { return };
            let Some(attr) = fields.first().map(|f| f.name.as_str()) else { return };
            if attr == "id" || attr == "kind" || seen.contains(&attr) {
                return;
            }
            seen.push(attr);
            let missing: Vec<usize> = kinds.iter().copied().filter(|k| !declares(*k, attr)).collect();
            if missing.is_empty() {
                return;
            }
            let names: Vec<&str> = missing.iter().filter_map(|k| snap.kinds.get(*k)).map(|k| &*k.name).collect();
            let s = if names.len() == 1 { "" } else { "s" };
            let message = format!("`resource.{attr}` is not declared on resource kind{s} {}", listing(&names));
            let declared = missing.iter().filter_map(|k| snap.kind_attrs.get(*k)).flatten().map(|(n, _)| &**n);
            let help = match suggest(attr, declared) {
                Some(close) => format!("did you mean `resource.{close}`?"),
                None => format!(
                    "declare `{attr}` in the attributes of {}, or limit the rule to kinds that declare it",
                    listing(&names.iter().map(|n| format!("resource {n}")).collect::<Vec<_>>())
                ),
            };
            out.push(warning(&LINT, e.span, message, help));
        });
    }
}
