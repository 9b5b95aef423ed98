//! The security impact of a policy change: for every role, the effective permissions it
//! gained and lost (through inheritance, groups and wildcards), and the access policies
//! added, removed or changed.

use crate::compile::Snapshot;
use std::collections::{BTreeMap, BTreeSet};

/// What changed between two snapshots, in names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PolicyDiff {
    /// Roles whose effective permissions changed (new and removed roles included), by name.
    pub roles: Vec<RoleChange>,
    /// Policies only in the new snapshot.
    pub policies_added: Vec<String>,
    /// Policies only in the old snapshot.
    pub policies_removed: Vec<String>,
    /// Policies in both whose meaning changed: their text (effect, actions, narrowing,
    /// condition), or the permissions their groups and patterns resolve to.
    pub policies_changed: Vec<String>,
    /// Roles newly able to perform a sensitive action: a permission some deny policy (of
    /// either snapshot) guards, which the policy set treats as worth protecting. Denies
    /// over every permission do not count.
    pub sensitive_gains: Vec<SensitiveGain>,
}

/// A role that gained a sensitive permission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SensitiveGain {
    /// The role.
    pub role: String,
    /// The permission gained, `kind:action`, with its limit if it has one.
    pub permission: String,
    /// The deny policies that guard it (in the old or the new snapshot).
    pub guarded_by: Vec<String>,
}

/// How one role's effective permissions changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleChange {
    /// The role.
    pub role: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// Permissions it holds now and did not before; a limited grant reads
    /// `mail:delete when resource.owner == principal.id`.
    pub gained: Vec<String>,
    /// Permissions it held before and does not now.
    pub lost: Vec<String>,
}

impl PolicyDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
            && self.policies_added.is_empty()
            && self.policies_removed.is_empty()
            && self.policies_changed.is_empty()
    }

    /// Whether any role gained a permission or any policy was added, removed or changed
    /// (removing a deny widens access; a changed policy may): a change that deserves review.
    pub fn may_widen_access(&self) -> bool {
        self.roles.iter().any(|r| !r.gained.is_empty())
            || !self.policies_added.is_empty()
            || !self.policies_changed.is_empty()
            || !self.policies_removed.is_empty()
    }
}

/// A role's effective permissions as comparable strings.
fn held(snapshot: &Snapshot, role: &str) -> BTreeSet<String> {
    snapshot
        .effective_permissions(role)
        .unwrap_or_default()
        .into_iter()
        .map(|h| match h.condition {
            Some(c) => format!("{} {c}", h.permission),
            None => h.permission,
        })
        .collect()
}

/// Compares two snapshots.
pub fn diff(old: &Snapshot, new: &Snapshot) -> PolicyDiff {
    let old_roles: BTreeSet<&str> = old.role_names().collect();
    let new_roles: BTreeSet<&str> = new.role_names().collect();
    let mut roles = Vec::new();
    for role in old_roles.union(&new_roles) {
        let before = if old_roles.contains(role) { held(old, role) } else { BTreeSet::new() };
        let after = if new_roles.contains(role) { held(new, role) } else { BTreeSet::new() };
        let change = match (old_roles.contains(role), new_roles.contains(role)) {
            (false, _) => "added",
            (_, false) => "removed",
            _ if before == after => continue,
            _ => "changed",
        };
        roles.push(RoleChange {
            role: (*role).to_owned(),
            change,
            gained: after.difference(&before).cloned().collect(),
            lost: before.difference(&after).cloned().collect(),
        });
    }
    // A policy is its text and what its actions resolve to (a group or a wildcard can
    // change meaning without the policy's text changing).
    let texts = |s: &Snapshot| -> BTreeMap<String, (String, Vec<String>)> {
        s.policy_ids()
            .map(|id| {
                let text = s.policy_text(id).unwrap_or_default().to_owned();
                (id.to_owned(), (text, s.policy_permissions(id).unwrap_or_default()))
            })
            .collect()
    };
    let (before, after) = (texts(old), texts(new));
    // Sensitive: what a deny policy guards, in either snapshot. A deny over every
    // permission (`*:*`, such as "suspended accounts") singles nothing out: skip it.
    let mut guards: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in [old, new] {
        let all = s.counts().permissions;
        for id in s.policy_ids() {
            let perms = s.policy_permissions(id).unwrap_or_default();
            if s.policy_effect_by_id(id) == Some(crate::syntax::ast::Effect::Deny) && perms.len() < all {
                for p in perms {
                    guards.entry(p).or_default().insert(id.to_owned());
                }
            }
        }
    }
    let sensitive_gains = roles
        .iter()
        .flat_map(|r| r.gained.iter().map(move |g| (r, g)))
        .filter_map(|(r, gained)| {
            let permission = gained.split(' ').next().unwrap_or(gained);
            let guarded_by = guards.get(permission)?.iter().cloned().collect();
            Some(SensitiveGain { role: r.role.clone(), permission: gained.clone(), guarded_by })
        })
        .collect();
    PolicyDiff {
        sensitive_gains,
        roles,
        policies_added: after.keys().filter(|k| !before.contains_key(*k)).cloned().collect(),
        policies_removed: before.keys().filter(|k| !after.contains_key(*k)).cloned().collect(),
        policies_changed: after
            .iter()
            .filter(|(k, text)| before.get(*k).is_some_and(|old| old != *text))
            .map(|(k, _)| k.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicySet;

    fn snapshot(text: &str) -> Snapshot {
        let mut set = PolicySet::new();
        set.add_source("d.policy", text);
        set.compile().unwrap()
    }

    const BASE: &str = "resource mail { actions: read, send, delete }\nresource note { actions: read }\n";

    #[test]
    fn inherited_gains_show_on_every_heir() {
        let old = snapshot(&format!("{BASE}role viewer {{ grant mail:read }}\nrole member inherits viewer"));
        let new = snapshot(&format!("{BASE}role viewer {{ grant mail:read, note:read }}\nrole member inherits viewer"));
        let d = diff(&old, &new);
        let gained: Vec<(&str, &[String])> = d.roles.iter().map(|r| (r.role.as_str(), r.gained.as_slice())).collect();
        assert_eq!(gained, [("member", &["note:read".to_owned()][..]), ("viewer", &["note:read".to_owned()][..])]);
        assert!(d.roles.iter().all(|r| r.lost.is_empty() && r.change == "changed"));
        assert!(d.may_widen_access());
    }

    #[test]
    fn wildcards_and_groups_expand_and_conditions_count() {
        let old = snapshot(&format!("{BASE}group g = mail:read, mail:send\nrole a {{ grant g }}"));
        let new = snapshot(&format!("{BASE}role a {{ grant mail:*\n grant mail:send when context.ok }}"));
        let d = diff(&old, &new);
        assert_eq!(d.roles.len(), 1);
        assert_eq!(d.roles[0].gained, ["mail:delete", "mail:send when context.ok"]);
        assert!(d.roles[0].lost.is_empty(), "mail:send is still held unconditionally");
    }

    #[test]
    fn roles_and_policies_added_removed_and_changed() {
        let old = snapshot(&format!(
            "{BASE}role gone {{ grant mail:read }}\ndeny \"p1\" {{ actions: mail:delete }}\ndeny \"p2\" {{ actions: mail:send }}"
        ));
        let new = snapshot(&format!(
            "{BASE}role fresh {{ grant note:read }}\ndeny \"p1\" {{ actions: mail:delete\n roles: fresh }}\nallow \"p3\" {{ actions: note:read }}"
        ));
        let d = diff(&old, &new);
        let changes: Vec<(&str, &str)> = d.roles.iter().map(|r| (r.role.as_str(), r.change)).collect();
        assert_eq!(changes, [("fresh", "added"), ("gone", "removed")]);
        assert_eq!(d.roles[1].lost, ["mail:read"]);
        assert_eq!(d.policies_added, ["p3"]);
        assert_eq!(d.policies_removed, ["p2"]);
        assert_eq!(d.policies_changed, ["p1"]);
        assert!(d.sensitive_gains.is_empty(), "fresh gained note:read, which no deny guards");
    }

    #[test]
    fn gains_of_guarded_permissions_are_sensitive() {
        let old = snapshot(&format!(
            "{BASE}role a {{ grant mail:read }}\ndeny \"d\" {{ actions: mail:delete\n when: !context.mfa }}"
        ));
        let new = snapshot(&format!("{BASE}role a {{ grant mail:read, mail:delete, mail:send }}"));
        let d = diff(&old, &new);
        assert_eq!(d.policies_removed, ["d"]);
        let gains: Vec<(&str, &str, &[String])> = d
            .sensitive_gains
            .iter()
            .map(|g| (g.role.as_str(), g.permission.as_str(), g.guarded_by.as_slice()))
            .collect();
        assert_eq!(gains, [("a", "mail:delete", &["d".to_owned()][..])]);
    }

    #[test]
    fn a_policy_changes_when_its_group_or_wildcard_does() {
        let old = snapshot(&format!(
            "{BASE}group g = mail:read\nallow \"p\" {{ actions: g }}\nallow \"q\" {{ actions: note:* }}"
        ));
        let new = snapshot(
            "resource mail { actions: read, send, delete }\nresource note { actions: read, edit }\ngroup g = mail:read, mail:send\nallow \"p\" { actions: g }\nallow \"q\" { actions: note:* }",
        );
        let d = diff(&old, &new);
        assert_eq!(d.policies_changed, ["p", "q"]);
        assert!(d.may_widen_access());
    }

    #[test]
    fn the_same_set_in_another_form_is_no_change() {
        let old = snapshot(&format!(
            "{BASE}role a {{ grant mail:read on \"x-*\" }}\ndeny \"p\" {{ actions: mail:*\n when: !context.mfa }}"
        ));
        let mut set = PolicySet::new();
        set.add_source(
            "d.yaml",
            "resources:\n  mail: {actions: [read, send, delete]}\n  note: {actions: [read]}\nroles:\n  a:\n    grants:\n      - {permission: mail:read, on: \"x-*\"}\npolicies:\n  - {id: p, effect: deny, actions: [\"mail:*\"], when: \"!context.mfa\"}\n",
        );
        let new = set.compile().unwrap();
        assert!(diff(&old, &new).is_empty(), "{:?}", diff(&old, &new));
    }
}
