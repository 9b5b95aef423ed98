//! Access review: who holds a permission, and through which roles and rules.

use crate::compile::{PermId, Snapshot};
use crate::glob::glob_match;
use crate::syntax::ast::Effect;

/// A role that holds a permission.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Holder {
    /// The role.
    pub role: String,
    /// The inheritance path from the role to the role whose grant carries the permission.
    pub via: Vec<String>,
    /// The grant's limit (`on "glob" when expr`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Where the grant is written.
    pub location: String,
}

/// An access policy that covers a permission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CoveringPolicy {
    /// The policy id.
    pub policy: String,
    /// `allow` or `deny`.
    pub effect: Effect,
    /// Where it is written.
    pub location: String,
    /// Its canonical text (its narrowing and condition).
    pub text: String,
}

/// Everything that can decide one permission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WhoCan {
    /// `kind:action`.
    pub permission: String,
    /// Roles holding it (through their own grants or inheritance), by role name.
    pub roles: Vec<Holder>,
    /// Allow policies that can grant it and deny policies that can refuse it.
    pub policies: Vec<CoveringPolicy>,
}

/// How a role holds a permission, in an access matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Not held.
    None,
    /// Held only through grants limited by `on` or `when`.
    Conditional,
    /// Held unconditionally.
    Always,
}

/// The role × permission matrix of a snapshot, for periodic access reviews.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessMatrix {
    /// Column headers: every permission, `kind:action`, in declaration order.
    pub permissions: Vec<String>,
    /// One row per role, in declaration order: the role and its access to each permission.
    pub rows: Vec<(String, Vec<Access>)>,
}

impl Snapshot {
    /// The role × permission matrix (effective permissions, inheritance included).
    pub fn access_matrix(&self) -> AccessMatrix {
        let permissions: Vec<String> = self.permission_names().collect();
        let rows = (0..self.roles.len())
            .map(|r| {
                let mut cells = vec![Access::None; permissions.len()];
                for &(perm, _) in self.guarded.row(r) {
                    cells[perm.index()] = Access::Conditional;
                }
                for &(perm, _) in self.plain.row(r) {
                    cells[perm.index()] = Access::Always;
                }
                (self.roles[r].name.to_string(), cells)
            })
            .collect();
        AccessMatrix { permissions, rows }
    }

    fn perm_id(&self, permission: &str) -> Option<PermId> {
        let (kind, action) = permission.split_once(':')?;
        self.perm_index.get(kind, action)
    }

    /// Who can do `permission` (`kind:action`): every role holding it, with the path and
    /// the grant; and the policies covering it. With `resource_id`, grants limited by `on`
    /// to other ids are left out. `None` for an undeclared permission.
    pub fn who_can(&self, permission: &str, resource_id: Option<&str>) -> Option<WhoCan> {
        let perm = self.perm_id(permission)?;
        let mut roles = Vec::new();
        for (r, role) in self.roles.iter().enumerate() {
            let plain = self.plain.row(r);
            let found = plain.binary_search_by_key(&perm, |e| e.0).ok().map(|i| plain[i].1);
            let guarded = self.guarded.row(r).iter().filter(|e| e.0 == perm).map(|e| e.1);
            for grant in found.into_iter().chain(guarded) {
                let g = &self.grants[grant.index()];
                let guard = g.guard.and_then(|i| self.guards.get(i as usize));
                if let (Some(id), Some(on)) = (resource_id, guard.and_then(|gd| gd.on.as_deref()))
                    && !glob_match(on, id)
                {
                    continue;
                }
                roles.push(Holder {
                    role: role.name.to_string(),
                    via: self.role_path(crate::RoleId::from_index(r), g.role).into_iter().map(str::to_owned).collect(),
                    condition: guard.map(|gd| gd.text.to_string()),
                    location: self.loc_string(g.loc),
                });
            }
        }
        roles.sort();
        let policies = self
            .deny_index
            .row(perm.index())
            .iter()
            .chain(self.allow_index.row(perm.index()))
            .map(|p| &self.policies[p.index()])
            .filter(|p| {
                resource_id.is_none_or(|id| p.resources.is_empty() || p.resources.iter().any(|g| glob_match(g, id)))
            })
            .map(|p| CoveringPolicy {
                policy: p.id.to_string(),
                effect: p.effect,
                location: self.loc_string(p.loc),
                text: p.text.to_string(),
            })
            .collect();
        Some(WhoCan { permission: permission.to_owned(), roles, policies })
    }
}

#[cfg(test)]
mod tests {
    use crate::PolicySet;

    #[test]
    fn who_can_follows_inheritance_and_on_globs() {
        let mut set = PolicySet::new();
        set.add_source(
            "r.policy",
            "resource mail { actions: read, delete }\nrole viewer { grant mail:read }\nrole member inherits viewer\n\
             role support { grant mail:read on \"shared-*\" }\ndeny \"hold\" { actions: mail:delete }\n",
        );
        let s = set.compile().unwrap();
        let all = s.who_can("mail:read", None).unwrap();
        let roles: Vec<(&str, Vec<&str>)> =
            all.roles.iter().map(|h| (h.role.as_str(), h.via.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            roles,
            [("member", vec!["member", "viewer"]), ("support", vec!["support"]), ("viewer", vec!["viewer"])]
        );
        assert_eq!(all.roles[1].condition.as_deref(), Some("on \"shared-*\""));
        let private = s.who_can("mail:read", Some("private-1")).unwrap();
        assert!(private.roles.iter().all(|h| h.role != "support"));
        let delete = s.who_can("mail:delete", None).unwrap();
        assert!(delete.roles.is_empty());
        assert_eq!(delete.policies[0].policy, "hold");
        assert!(s.who_can("mail:fly", None).is_none());
        let m = s.access_matrix();
        assert_eq!(m.permissions, ["mail:read", "mail:delete"]);
        let support = &m.rows.iter().find(|(r, _)| r == "support").unwrap().1;
        assert_eq!(support, &[super::Access::Conditional, super::Access::None]);
        let member = &m.rows.iter().find(|(r, _)| r == "member").unwrap().1;
        assert_eq!(member, &[super::Access::Always, super::Access::None]);
    }
}
