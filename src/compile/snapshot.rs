//! The compiled, immutable policy set that requests are checked against.

use super::expr::{AttrPath, Cond};
use super::roles;
use super::table::{GrantId, KindId, NameIndex, PermId, PolicyId, RoleId, Table};
use crate::limits::Limits;
use crate::syntax::ast::{AttrType, Effect};

/// Where a rule is written: file (index into the snapshot's file names), line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub(crate) file: u32,
    pub(crate) line: u32,
    pub(crate) col: u32,
}

#[derive(Debug)]
pub(crate) struct Kind {
    pub(crate) name: Box<str>,
    pub(crate) actions: NameIndex<PermId>,
}

#[derive(Debug)]
pub(crate) struct Perm {
    pub(crate) kind: KindId,
    pub(crate) action: Box<str>,
}

#[derive(Debug)]
pub(crate) struct Role {
    pub(crate) name: Box<str>,
    pub(crate) loc: Loc,
}

/// One `grant` statement. Kept small (a million grants is a supported size): its glob
/// and condition live in the snapshot's `globs` and `conds` tables.
#[derive(Debug)]
pub(crate) struct GrantRule {
    /// The role that declares it.
    pub(crate) role: RoleId,
    /// A glob the resource id must match (index into `Snapshot::globs`).
    pub(crate) on: Option<u32>,
    /// The condition (index into `Snapshot::conds`).
    pub(crate) when: Option<u32>,
    pub(crate) loc: Loc,
}

#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) id: Box<str>,
    pub(crate) effect: Effect,
    pub(crate) perms: Box<[PermId]>,
    pub(crate) roles: Box<[RoleId]>,
    pub(crate) principals: Box<[Box<str>]>,
    pub(crate) resources: Box<[Box<str>]>,
    pub(crate) cond: Option<Cond>,
    /// `unless`: the policy applies when the condition is false.
    pub(crate) unless: bool,
    pub(crate) loc: Loc,
}

/// A compiled policy set: every name interned, the role closure and a permission index
/// precomputed. Immutable and `Send + Sync`, so one snapshot serves every thread.
///
/// Build one with [`crate::PolicySet::compile`]; ask it with [`Snapshot::check`].
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) kinds: Vec<Kind>,
    pub(crate) kind_ids: NameIndex<KindId>,
    pub(crate) kind_attrs: Vec<Vec<(Box<str>, AttrType)>>,
    pub(crate) perms: Vec<Perm>,
    pub(crate) roles: Vec<Role>,
    pub(crate) role_ids: NameIndex<RoleId>,
    pub(crate) parents: Vec<Vec<RoleId>>,
    /// Per role: itself and every role it inherits from, sorted.
    pub(crate) ancestors: Table<RoleId>,
    /// Per role: unconditional grants over its closure, sorted by permission, one per permission.
    pub(crate) plain: Table<(PermId, GrantId)>,
    /// Per role: grants with `on` or `when` over its closure, sorted by permission.
    pub(crate) guarded: Table<(PermId, GrantId)>,
    pub(crate) grants: Vec<GrantRule>,
    /// The globs of grants' `on`.
    pub(crate) globs: Vec<Box<str>>,
    /// The conditions of grants' `when`.
    pub(crate) conds: Vec<Cond>,
    pub(crate) policies: Vec<Policy>,
    /// Per permission: the deny policies that cover it.
    pub(crate) deny_index: Table<PolicyId>,
    /// Per permission: the allow policies that cover it.
    pub(crate) allow_index: Table<PolicyId>,
    pub(crate) attr_paths: Vec<AttrPath>,
    pub(crate) groups: Vec<(Box<str>, Box<[PermId]>)>,
    pub(crate) files: Vec<Box<str>>,
    pub(crate) limits: Limits,
}

/// Sizes of a snapshot, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Resource kinds.
    pub resource_kinds: usize,
    /// Permissions (`kind:action` pairs).
    pub permissions: usize,
    /// Permission groups.
    pub groups: usize,
    /// Roles.
    pub roles: usize,
    /// `grant` statements.
    pub grants: usize,
    /// Access policies.
    pub policies: usize,
}

/// A permission a role holds, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct HeldPermission {
    /// `kind:action`.
    pub permission: String,
    /// The inheritance path from the role to the role whose grant carries it.
    pub via: Vec<String>,
    /// Whether the grant is limited by `on` or `when`.
    pub conditional: bool,
    /// Where the grant is written (`file:line:col`).
    pub location: String,
}

impl Snapshot {
    /// The numbers of things in this snapshot.
    pub fn counts(&self) -> Counts {
        Counts {
            resource_kinds: self.kinds.len(),
            permissions: self.perms.len(),
            groups: self.groups.len(),
            roles: self.roles.len(),
            grants: self.grants.len(),
            policies: self.policies.len(),
        }
    }

    /// The input limits this snapshot enforces on requests.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Every role name, in declaration order.
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(|r| &*r.name)
    }

    /// Every permission, as `kind:action`, in declaration order.
    pub fn permission_names(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.perms.len()).map(|i| self.perm_name(PermId::from_index(i)))
    }

    /// Every access policy id, in declaration order.
    pub fn policy_ids(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| &*p.id)
    }

    /// The roles a role inherits from, directly and through its parents (itself excluded).
    pub fn inherited_roles(&self, role: &str) -> Option<Vec<&str>> {
        let id = *self.role_ids.get(role)?;
        Some(self.ancestors.row(id.index()).iter().filter(|r| **r != id).map(|r| self.role_name(*r)).collect())
    }

    /// The permissions a role holds through its grants and inheritance, sorted by
    /// permission, with the path and grant each comes from. `None` for an unknown role.
    pub fn effective_permissions(&self, role: &str) -> Option<Vec<HeldPermission>> {
        let id = *self.role_ids.get(role)?;
        let held = |&(perm, grant): &(PermId, GrantId), conditional| {
            let g = &self.grants[grant.index()];
            HeldPermission {
                permission: self.perm_name(perm),
                via: self.role_path(id, g.role).into_iter().map(str::to_owned).collect(),
                conditional,
                location: self.loc_string(g.loc),
            }
        };
        let mut out: Vec<HeldPermission> = self.plain.row(id.index()).iter().map(|e| held(e, false)).collect();
        out.extend(self.guarded.row(id.index()).iter().map(|e| held(e, true)));
        out.sort();
        Some(out)
    }

    /// Where a role is declared (`file:line:col`). `None` for an unknown role.
    pub fn role_location(&self, role: &str) -> Option<String> {
        let id = self.role_ids.get(role)?;
        Some(self.loc_string(self.roles[id.index()].loc))
    }

    pub(crate) fn role_name(&self, id: RoleId) -> &str {
        self.roles.get(id.index()).map_or("?", |r| &r.name)
    }

    pub(crate) fn perm_name(&self, id: PermId) -> String {
        match self.perms.get(id.index()) {
            Some(p) => format!("{}:{}", self.kinds[p.kind.index()].name, p.action),
            None => "?".to_owned(),
        }
    }

    /// The inheritance path from `from` to `to`, as role names.
    pub(crate) fn role_path(&self, from: RoleId, to: RoleId) -> Vec<&str> {
        roles::path(&self.parents, from, to).into_iter().map(|r| self.role_name(r)).collect()
    }

    pub(crate) fn loc_string(&self, loc: Loc) -> String {
        let file = self.files.get(loc.file as usize).map_or("?", |f| &**f);
        format!("{file}:{}:{}", loc.line, loc.col)
    }

    /// Approximate heap bytes held by the snapshot's tables (not counting hash maps' overhead).
    pub fn approx_heap_bytes(&self) -> usize {
        self.ancestors.heap_bytes()
            + self.plain.heap_bytes()
            + self.guarded.heap_bytes()
            + self.deny_index.heap_bytes()
            + self.allow_index.heap_bytes()
            + self.grants.capacity() * std::mem::size_of::<GrantRule>()
            + self.policies.capacity() * std::mem::size_of::<Policy>()
            + self.roles.capacity() * std::mem::size_of::<Role>()
            + self.perms.capacity() * std::mem::size_of::<Perm>()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn snapshot_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Snapshot>();
    }
}
