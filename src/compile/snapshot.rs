//! The compiled, immutable policy set that requests are checked against.

use super::expr::{AttrPath, Cond};
use super::roles;
use super::table::{GrantId, GrantIndex, KindId, NameIndex, PermId, PermIndex, PolicyId, RoleId, Table};
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

/// One `grant` statement. Kept small (a million grants is a supported size): the glob
/// and condition of a guarded grant live in the snapshot's `guards` table.
#[derive(Debug)]
pub(crate) struct GrantRule {
    /// The role that declares it.
    pub(crate) role: RoleId,
    /// Its `on` and `when` (index into `Snapshot::guards`), if it has either.
    pub(crate) guard: Option<u32>,
    pub(crate) loc: Loc,
}

/// What limits a grant: a glob on the resource id, a condition, or both.
#[derive(Debug)]
pub(crate) struct Guard {
    pub(crate) on: Option<Box<str>>,
    pub(crate) when: Option<Cond>,
    /// `on "glob" when expr`, printed canonically (for diffs and reports).
    pub(crate) text: Box<str>,
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
    /// The policy printed canonically (for diffs and reports).
    pub(crate) text: Box<str>,
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
    /// (role, permission) → what the role holds over its closure: the check path's view
    /// of `plain` and `guarded`.
    pub(crate) grant_index: GrantIndex,
    /// (kind, action) names to the permission, in one probe.
    pub(crate) perm_index: PermIndex,
    pub(crate) grants: Vec<GrantRule>,
    pub(crate) guards: Vec<Guard>,
    pub(crate) policies: Vec<Policy>,
    /// Per permission: the deny policies that cover it.
    pub(crate) deny_index: Table<PolicyId>,
    /// Per permission: the allow policies that cover it.
    pub(crate) allow_index: Table<PolicyId>,
    pub(crate) attr_paths: Vec<AttrPath>,
    pub(crate) groups: Vec<(Box<str>, Box<[PermId]>)>,
    pub(crate) files: Vec<Box<str>>,
    pub(crate) limits: Limits,
    /// The version number an engine gave this snapshot (0 before it went live).
    pub(crate) version: u64,
    /// A hash of the source texts and their names.
    pub(crate) content_hash: u64,
}

/// Which policy set a snapshot holds: a number that grows with every snapshot an engine
/// installs, and a hash of the source files' names and texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    /// 1 for the first snapshot an engine serves, then one more per successful reload;
    /// 0 for a snapshot that no engine installed.
    pub number: u64,
    /// FNV-1a over every source's name and text, in load order. It detects changes; it is
    /// not a cryptographic digest.
    #[serde(serialize_with = "hex")]
    pub hash: u64,
}

fn hex<S: serde::Serializer>(h: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{h:016x}"))
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{} ({:016x})", self.number, self.hash)
    }
}

/// Sizes of a snapshot, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
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
    /// For a grant limited by `on` or `when`: the limit, as `on "glob" when expr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The inheritance path from the role to the role whose grant carries it.
    pub via: Vec<String>,
    /// Whether the grant is limited by `on` or `when`.
    pub conditional: bool,
    /// Where the grant is written (`file:line:col`).
    pub location: String,
}

impl Snapshot {
    /// Which policy set this is.
    pub fn version(&self) -> Version {
        Version { number: self.version, hash: self.content_hash }
    }

    /// The names of the source files, in load order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| &**f)
    }

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

    /// The actions a resource kind declares, in declaration order; `None` for an unknown kind.
    pub fn actions(&self, kind: &str) -> Option<Vec<&str>> {
        let id = self.kind_ids.get(kind)?;
        Some(self.kinds[id.index()].actions.keys().collect())
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

    /// An access policy's canonical text (the DSL form, whatever form it was written in).
    pub fn policy_text(&self, id: &str) -> Option<&str> {
        self.policies.iter().find(|p| &*p.id == id).map(|p| &*p.text)
    }

    /// An access policy's effect, by id.
    pub fn policy_effect_by_id(&self, id: &str) -> Option<Effect> {
        self.policies.iter().find(|p| &*p.id == id).map(|p| p.effect)
    }

    /// The permissions an access policy covers once its groups and patterns are resolved,
    /// as sorted `kind:action` names.
    pub fn policy_permissions(&self, id: &str) -> Option<Vec<String>> {
        let p = self.policies.iter().find(|p| &*p.id == id)?;
        let mut names: Vec<String> = p.perms.iter().map(|perm| self.perm_name(*perm)).collect();
        names.sort();
        Some(names)
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
                condition: g.guard.and_then(|i| self.guards.get(i as usize)).map(|guard| guard.text.to_string()),
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
            + self.grant_index.heap_bytes()
            + self.perm_index.heap_bytes()
            + self.role_ids.heap_bytes()
            + self.kind_ids.heap_bytes()
            + self.kinds.iter().map(|k| k.actions.heap_bytes()).sum::<usize>()
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
