//! W0004 `shadowed-allow`: an allow policy that a deny policy always overrides.

use super::constant_condition::fold_bool;
use super::{Context, listing, warning};
use crate::diagnostic::{CodeInfo, Diagnostic};
use crate::syntax::ast::{ConditionKind, Effect, PolicyDecl, StrLit};

/// ## What it finds
/// An allow policy that can never take effect, because unconditional deny policies cover
/// every permission it covers. A deny is unconditional when it has no `roles`, no
/// `principals` or `resources` other than `"*"`, and no condition (or one that is
/// constant: `when: true`, `unless: false`).
///
/// ## Why it matters
/// Deny overrides allow, so the allow policy is dead: the access its author meant to
/// open stays closed, and the policy suggests otherwise to every reader.
///
/// ## Example
/// ```text
/// deny "freeze" { actions: billing:* }
/// allow "finance-refunds" {    # warning[W0004]: allow policy `finance-refunds` never takes effect ...
///     actions: billing:refund
///     roles: finance
/// }
/// ```
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0004",
    name: "shadowed-allow",
    summary: "an allow policy that unconditional deny policies always override",
    help: "narrow the deny policy (`roles`, `principals`, `resources` or a condition), or remove the allow policy",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let denies: Vec<(&str, Vec<crate::PermId>)> = cx
        .policies()
        .filter(|p| p.effect == Effect::Deny && unconditional(p))
        .map(|p| (p.id.value.as_str(), cx.perms_of(&p.actions)))
        .collect();
    if denies.is_empty() {
        return;
    }
    for allow in cx.policies().filter(|p| p.effect == Effect::Allow) {
        let perms = cx.perms_of(&allow.actions);
        let mut by: Vec<&str> = Vec::new();
        let covered = !perms.is_empty()
            && perms.iter().all(|perm| match denies.iter().find(|(_, d)| d.binary_search(perm).is_ok()) {
                Some((id, _)) => {
                    if !by.contains(id) {
                        by.push(id);
                    }
                    true
                }
                None => false,
            });
        if covered {
            let (policies, verb) = if by.len() == 1 { ("deny policy", "refuses") } else { ("deny policies", "refuse") };
            let message = format!(
                "allow policy `{}` never takes effect: {policies} {} {verb} every permission it covers",
                allow.id.value,
                listing(&by)
            );
            out.push(warning(&LINT, allow.id.span, message, LINT.help.to_owned()));
        }
    }
}

/// Whether a policy applies to every request for its permissions.
fn unconditional(p: &PolicyDecl) -> bool {
    let everything = |globs: &[StrLit]| globs.is_empty() || globs.iter().any(|g| g.value == "*");
    let condition = match &p.condition {
        None => true,
        Some(c) => fold_bool(&c.expr) == Some(c.kind == ConditionKind::When),
    };
    p.roles.is_empty() && everything(&p.principals) && everything(&p.resources) && condition
}
