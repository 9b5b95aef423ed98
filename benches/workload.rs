//! Generated workloads for the benchmarks, from a fixed seed so every run measures the
//! same thing. Used by the criterion bench (`benches/check.rs`) and by the side-by-side
//! comparison with Cedar and Casbin (`benches/peers/`, which includes this file with
//! `#[path]`), so it depends on `std` only.
//!
//! A [`Workload`] is structured data, not policy text: resource kinds and their actions,
//! roles (a forest) with their grants, deny rules, users with their roles and attributes,
//! and queries. Conditions are a small closed enum ([`Cond`]) whose meaning is written on
//! each variant, so each engine's translation is a mechanical `match`. Rampart's form is
//! [`Workload::rampart_policy`] and [`Workload::request_json`]; [`Workload::decide`] is a
//! plain reference evaluator, so a disagreement between engines can be pinned on one.
//!
//! The workloads:
//!
//! - small RBAC ([`small_rbac`]): 5 resource kinds of 5 actions; 10 roles in one binary
//!   tree of 4 levels; 50 unconditional grants (5 per role); 1,000 users with 1 to 3
//!   roles each;
//! - large RBAC ([`large_rbac`]): 50 kinds of 10 actions; 1,000 roles in a forest of 5
//!   binary trees of 200 roles, 8 levels each; 10,000 grants (10 per role), one in ten
//!   conditional on `resource.owner == principal.id`; 100,000 users with 1 to 3 roles;
//! - ABAC ([`abac`]): small RBAC (the same kinds, roles and 50 grants for the same seed)
//!   plus 20 attribute conditions: 10 conditional grants (one more grant per role) and 10
//!   deny rules: owner-only, PII needs MFA, IP range, same department, clearance level,
//!   business hours, suspended users, archived resources; users and queries carry the
//!   attributes;
//! - scale ([`scale`]): a forest like large RBAC, of any size (a 100,000-role,
//!   1,000,000-grant set for a scale run).
//!
//! Every workload has 10,000 queries: a random user on a random resource; half ask for a
//! permission the user's roles grant (conditionally or not), half for a random permission
//! of a random kind, so decisions are a mix of allows and denies. Every query carries every
//! attribute the workload's conditions read, so no engine ever meets a missing attribute
//! (on which engines differ: Rampart applies an erroring deny, Cedar skips it).

#![allow(dead_code)]

use std::fmt::Write as _;

/// Departments, for users and resources.
pub const DEPARTMENTS: [&str; 3] = ["eng", "sales", "ops"];
/// Resource classifications.
pub const CLASSIFICATIONS: [&str; 3] = ["public", "internal", "pii"];
/// Clearances of users and levels of resources are `0..LEVELS`.
pub const LEVELS: i64 = 5;
/// The office network, for the IP-range conditions.
pub const OFFICE_NETWORK: &str = "10.0.0.0/8";
/// Queries per workload.
pub const QUERIES: usize = 10_000;

/// A generated policy set, its users, and queries against it.
pub struct Workload {
    /// `small_rbac`, `large_rbac`, `abac` or `scale`.
    pub name: &'static str,
    /// Resource kinds, named `k0`, `k1`, ...
    pub kinds: Vec<Kind>,
    /// Roles, named `r0`, `r1`, ...; a forest (each role has at most one parent, declared
    /// before it).
    pub roles: Vec<Role>,
    /// Deny rules; they override every grant.
    pub denies: Vec<Deny>,
    /// Users, named `u0`, `u1`, ...
    pub users: Vec<User>,
    /// The queries, in the order they are checked.
    pub queries: Vec<Query>,
}

/// A resource kind and its actions.
pub struct Kind {
    /// `k<index>`.
    pub name: String,
    /// `a0`, `a1`, ...; every kind of a workload has the same action names.
    pub actions: Vec<String>,
}

/// A role: it holds its own grants and every grant of its ancestors.
pub struct Role {
    /// `r<index>`.
    pub name: String,
    /// The role it inherits from (a role of lower index), if any.
    pub parent: Option<usize>,
    /// Its own grants.
    pub grants: Vec<Grant>,
}

/// One grant of one permission (a kind's action), with an optional condition.
#[derive(Clone)]
pub struct Grant {
    /// Index into [`Workload::kinds`].
    pub kind: usize,
    /// Index into the kind's actions.
    pub action: usize,
    /// When set, the grant applies only if the condition holds.
    pub cond: Option<Cond>,
}

/// A permission pattern: `None` is `*`, every kind or every action.
#[derive(Clone, Copy)]
pub struct Pattern {
    /// A kind index, or every kind.
    pub kind: Option<usize>,
    /// An action index, or every action.
    pub action: Option<usize>,
}

impl Pattern {
    /// Whether the pattern covers the permission.
    pub fn matches(&self, kind: usize, action: usize) -> bool {
        self.kind.is_none_or(|k| k == kind) && self.action.is_none_or(|a| a == action)
    }
}

/// A deny rule: it applies to every principal, on the permissions its patterns cover,
/// when its condition holds.
pub struct Deny {
    /// A unique id, such as `pii-needs-mfa`.
    pub id: String,
    /// The permissions it covers.
    pub patterns: Vec<Pattern>,
    /// It applies when this holds.
    pub when: Cond,
}

/// A user: the roles it is a member of, and its attributes.
pub struct User {
    /// `u<index>`.
    pub id: String,
    /// Indexes into [`Workload::roles`], distinct, 1 to 3 of them.
    pub roles: Vec<usize>,
    /// Set in the ABAC workload only.
    pub attrs: Option<UserAttrs>,
}

/// A user's attributes (`principal.<name>`).
pub struct UserAttrs {
    /// One of [`DEPARTMENTS`].
    pub department: &'static str,
    /// `0..LEVELS`.
    pub clearance: i64,
    /// One user in twenty is suspended.
    pub suspended: bool,
}

/// One authorization question: may `user` do `action` on the resource `resource` of
/// kind `kind`?
pub struct Query {
    /// Index into [`Workload::users`].
    pub user: usize,
    /// Index into [`Workload::kinds`].
    pub kind: usize,
    /// Index into the kind's actions.
    pub action: usize,
    /// The resource's id, `res-<query index>` (unique per query).
    pub resource: String,
    /// The resource's owner (`resource.owner`), an index into [`Workload::users`]: the
    /// asking user for half the queries. Every query carries it.
    pub owner: usize,
    /// The resource's other attributes; set in the ABAC workload only.
    pub attrs: Option<ResourceAttrs>,
    /// The request context; set in the ABAC workload only.
    pub context: Option<Context>,
}

/// A resource's attributes besides its owner (`resource.<name>`).
pub struct ResourceAttrs {
    /// One of [`DEPARTMENTS`].
    pub department: &'static str,
    /// `0..LEVELS`.
    pub level: i64,
    /// One of [`CLASSIFICATIONS`].
    pub classification: &'static str,
    /// One resource in ten is archived.
    pub archived: bool,
}

/// The request context (`context.<name>`).
pub struct Context {
    /// An IPv4 address, as text: in [`OFFICE_NETWORK`] for 85% of the queries, in
    /// 198.51.100.0/24 otherwise.
    pub ip: String,
    /// Whether the user authenticated with multi-factor authentication.
    pub mfa: bool,
    /// The hour of day, `0..24`.
    pub hour: i64,
}

/// A condition over a query. Each variant's documentation is its meaning, written in
/// Rampart's language; the other engines translate variant by variant. "The user" is the
/// asking principal, "the resource" the query's resource.
#[derive(Clone)]
pub enum Cond {
    /// `resource.owner == principal.id`: the user owns the resource.
    Owner,
    /// `resource.department == principal.department`.
    SameDepartment,
    /// `principal.clearance >= resource.level`.
    ClearanceCoversLevel,
    /// `principal.clearance > resource.level`.
    ClearanceAboveLevel,
    /// `principal.clearance >= N`.
    ClearanceAtLeast(i64),
    /// `resource.level > N`.
    LevelAbove(i64),
    /// `resource.classification == "pii"`.
    Pii,
    /// `resource.archived` (a bool).
    Archived,
    /// `principal.suspended` (a bool).
    Suspended,
    /// `context.mfa` (a bool).
    Mfa,
    /// `context.ip in cidr(NETWORK)`: the address is in the network.
    IpIn(&'static str),
    /// `context.hour >= N`.
    HourAtLeast(i64),
    /// `context.hour < N`.
    HourBefore(i64),
    /// `principal.department in [D, ...]`: the user's department is one of these.
    DepartmentIn(&'static [&'static str]),
    /// Negation: `!(C)`.
    Not(Box<Cond>),
    /// Conjunction: every one holds.
    And(Vec<Cond>),
    /// Disjunction: at least one holds.
    Or(Vec<Cond>),
}

impl Cond {
    fn not(c: Cond) -> Cond {
        Cond::Not(Box::new(c))
    }

    /// The condition in Rampart's language.
    pub fn rampart(&self) -> String {
        let join = |items: &[Cond], op: &str| {
            let parts: Vec<String> = items.iter().map(Cond::rampart).collect();
            format!("({})", parts.join(op))
        };
        match self {
            Cond::Owner => "resource.owner == principal.id".into(),
            Cond::SameDepartment => "resource.department == principal.department".into(),
            Cond::ClearanceCoversLevel => "principal.clearance >= resource.level".into(),
            Cond::ClearanceAboveLevel => "principal.clearance > resource.level".into(),
            Cond::ClearanceAtLeast(n) => format!("principal.clearance >= {n}"),
            Cond::LevelAbove(n) => format!("resource.level > {n}"),
            Cond::Pii => "resource.classification == \"pii\"".into(),
            Cond::Archived => "resource.archived".into(),
            Cond::Suspended => "principal.suspended".into(),
            Cond::Mfa => "context.mfa".into(),
            Cond::IpIn(net) => format!("context.ip in cidr(\"{net}\")"),
            Cond::HourAtLeast(n) => format!("context.hour >= {n}"),
            Cond::HourBefore(n) => format!("context.hour < {n}"),
            Cond::DepartmentIn(ds) => {
                let items: Vec<String> = ds.iter().map(|d| format!("\"{d}\"")).collect();
                format!("principal.department in [{}]", items.join(", "))
            }
            Cond::Not(c) => format!("!({})", c.rampart()),
            Cond::And(cs) => join(cs, " && "),
            Cond::Or(cs) => join(cs, " || "),
        }
    }

    /// Evaluates the condition; `None` when an attribute it reads is missing.
    pub fn eval(&self, w: &Workload, q: &Query) -> Option<bool> {
        let user = &w.users[q.user];
        let (u, r, c) = (user.attrs.as_ref(), q.attrs.as_ref(), q.context.as_ref());
        Some(match self {
            Cond::Owner => q.owner == q.user,
            Cond::SameDepartment => r?.department == u?.department,
            Cond::ClearanceCoversLevel => u?.clearance >= r?.level,
            Cond::ClearanceAboveLevel => u?.clearance > r?.level,
            Cond::ClearanceAtLeast(n) => u?.clearance >= *n,
            Cond::LevelAbove(n) => r?.level > *n,
            Cond::Pii => r?.classification == "pii",
            Cond::Archived => r?.archived,
            Cond::Suspended => u?.suspended,
            Cond::Mfa => c?.mfa,
            Cond::IpIn(net) => ipv4_in(&c?.ip, net)?,
            Cond::HourAtLeast(n) => c?.hour >= *n,
            Cond::HourBefore(n) => c?.hour < *n,
            Cond::DepartmentIn(ds) => ds.contains(&u?.department),
            Cond::Not(inner) => !inner.eval(w, q)?,
            Cond::And(cs) => {
                for c in cs {
                    if !c.eval(w, q)? {
                        return Some(false);
                    }
                }
                true
            }
            Cond::Or(cs) => {
                for c in cs {
                    if c.eval(w, q)? {
                        return Some(true);
                    }
                }
                false
            }
        })
    }
}

/// Whether an IPv4 address is in an IPv4 network written `a.b.c.d/len`.
fn ipv4_in(ip: &str, net: &str) -> Option<bool> {
    let (base, len) = net.split_once('/')?;
    let (ip, base): (std::net::Ipv4Addr, std::net::Ipv4Addr) = (ip.parse().ok()?, base.parse().ok()?);
    let len: u32 = len.parse().ok()?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some(u32::from(ip) & mask == u32::from(base) & mask)
}

/// xorshift64*: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True once in `n` draws, on average.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The shape of an RBAC forest.
struct Shape {
    kinds: usize,
    actions: usize,
    roles: usize,
    /// Roles per tree; each tree is a binary heap (role `l` of a tree inherits `(l - 1) / 2`).
    tree: usize,
    grants: usize,
    /// Every n-th grant (counting from the first) is conditional on ownership; 0 for none.
    owner_every: usize,
    users: usize,
}

const SMALL: Shape = Shape { kinds: 5, actions: 5, roles: 10, tree: 10, grants: 50, owner_every: 0, users: 1_000 };

/// Small RBAC: 10 roles in a tree of 4 levels, 50 grants, 1,000 users with 1 to 3 roles.
pub fn small_rbac(seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut w = forest("small_rbac", &SMALL, &mut rng);
    add_users(&mut w, SMALL.users, false, &mut rng);
    add_queries(&mut w, &mut rng);
    w
}

/// Large RBAC: 1,000 roles in a forest of 8 levels, 10,000 grants (one in ten conditional
/// on ownership), 100,000 users with 1 to 3 roles.
pub fn large_rbac(seed: u64) -> Workload {
    let shape =
        Shape { kinds: 50, actions: 10, roles: 1_000, tree: 200, grants: 10_000, owner_every: 10, users: 100_000 };
    let mut rng = Rng::new(seed);
    let mut w = forest("large_rbac", &shape, &mut rng);
    add_users(&mut w, shape.users, false, &mut rng);
    add_queries(&mut w, &mut rng);
    w
}

/// A forest like large RBAC (trees of 200 roles, 8 levels; 50 kinds of 10 actions; one
/// grant in ten conditional on ownership) of any size, such as 100,000 roles and
/// 1,000,000 grants for a scale run.
pub fn scale(seed: u64, roles: usize, grants: usize, users: usize) -> Workload {
    let shape = Shape { kinds: 50, actions: 10, roles, tree: 200, grants, owner_every: 10, users };
    let mut rng = Rng::new(seed);
    let mut w = forest("scale", &shape, &mut rng);
    add_users(&mut w, shape.users, false, &mut rng);
    add_queries(&mut w, &mut rng);
    w
}

/// ABAC: small RBAC plus 20 attribute conditions, as 10 conditional grants (one more
/// grant per role) and 10 deny rules.
pub fn abac(seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut w = forest("abac", &SMALL, &mut rng);
    let office = Cond::IpIn(OFFICE_NETWORK);
    let grants = [
        Cond::Owner,
        Cond::SameDepartment,
        Cond::ClearanceCoversLevel,
        Cond::And(vec![Cond::HourAtLeast(9), Cond::HourBefore(18)]),
        Cond::Or(vec![Cond::Owner, Cond::ClearanceAtLeast(4)]),
        Cond::And(vec![Cond::not(Cond::Pii), Cond::SameDepartment]),
        office.clone(),
        Cond::And(vec![Cond::ClearanceAboveLevel, Cond::Mfa]),
        Cond::And(vec![Cond::not(Cond::Archived), Cond::Owner]),
        Cond::DepartmentIn(&["eng", "ops"]),
    ];
    for (r, cond) in grants.into_iter().enumerate() {
        // A permission the role does not already hold unconditionally, when one is found.
        let held = w.plain_permissions(r);
        let mut perm = (rng.below(SMALL.kinds), rng.below(SMALL.actions));
        for _ in 0..16 {
            if !held.contains(&perm) {
                break;
            }
            perm = (rng.below(SMALL.kinds), rng.below(SMALL.actions));
        }
        w.roles[r].grants.push(Grant { kind: perm.0, action: perm.1, cond: Some(cond) });
    }
    let all = Pattern { kind: None, action: None };
    let kind = |k| Pattern { kind: Some(k), action: None };
    let action = |a| Pattern { kind: None, action: Some(a) };
    let perm = |k, a| Pattern { kind: Some(k), action: Some(a) };
    let denies = [
        ("pii-needs-mfa", vec![all], Cond::And(vec![Cond::Pii, Cond::not(Cond::Mfa)])),
        ("office-network", vec![kind(0), kind(1)], Cond::not(office)),
        ("suspended", vec![all], Cond::Suspended),
        ("archived", vec![action(1), action(2)], Cond::Archived),
        ("business-hours", vec![kind(2)], Cond::not(Cond::And(vec![Cond::HourAtLeast(7), Cond::HourBefore(20)]))),
        ("clearance", vec![kind(3)], Cond::not(Cond::ClearanceCoversLevel)),
        ("department", vec![perm(4, 0)], Cond::not(Cond::SameDepartment)),
        ("level-cap", vec![action(4)], Cond::And(vec![Cond::LevelAbove(3), Cond::not(Cond::ClearanceAtLeast(4))])),
        ("pii-export", vec![action(3)], Cond::Pii),
        ("night-admin", vec![perm(0, 0)], Cond::HourBefore(6)),
    ];
    w.denies = denies.into_iter().map(|(id, patterns, when)| Deny { id: id.into(), patterns, when }).collect();
    add_users(&mut w, SMALL.users, true, &mut rng);
    add_queries(&mut w, &mut rng);
    w
}

/// Kinds and a forest of roles with their grants; no users or queries yet.
fn forest(name: &'static str, shape: &Shape, rng: &mut Rng) -> Workload {
    let kinds = (0..shape.kinds)
        .map(|k| Kind { name: format!("k{k}"), actions: (0..shape.actions).map(|a| format!("a{a}")).collect() })
        .collect();
    let mut roles = Vec::with_capacity(shape.roles);
    let mut n = 0;
    for r in 0..shape.roles {
        let local = r % shape.tree;
        let parent = (local > 0).then(|| r - local + (local - 1) / 2);
        // The grants spread evenly; the first roles take the remainder.
        let count = shape.grants / shape.roles + usize::from(r < shape.grants % shape.roles);
        let grants = (0..count)
            .map(|_| {
                let (kind, action) = (rng.below(shape.kinds), rng.below(shape.actions));
                let cond = (shape.owner_every > 0 && n % shape.owner_every == 0).then_some(Cond::Owner);
                n += 1;
                Grant { kind, action, cond }
            })
            .collect();
        roles.push(Role { name: format!("r{r}"), parent, grants });
    }
    Workload { name, kinds, roles, denies: Vec::new(), users: Vec::new(), queries: Vec::new() }
}

fn add_users(w: &mut Workload, count: usize, attrs: bool, rng: &mut Rng) {
    let n = w.roles.len();
    w.users = (0..count)
        .map(|u| {
            let wanted = (1 + rng.below(3)).min(n);
            let mut roles = Vec::with_capacity(wanted);
            while roles.len() < wanted {
                let r = rng.below(n);
                if !roles.contains(&r) {
                    roles.push(r);
                }
            }
            let attrs = attrs.then(|| UserAttrs {
                department: rng.pick(&DEPARTMENTS),
                clearance: rng.below(LEVELS as usize) as i64,
                suspended: rng.one_in(20),
            });
            User { id: format!("u{u}"), roles, attrs }
        })
        .collect();
}

fn add_queries(w: &mut Workload, rng: &mut Rng) {
    let abac = w.users.first().is_some_and(|u| u.attrs.is_some());
    let (kinds, actions) = (w.kinds.len(), w.kinds[0].actions.len());
    w.queries = (0..QUERIES)
        .map(|i| {
            let user = rng.below(w.users.len());
            // Half the queries ask for a permission one of the user's roles grants, possibly
            // through inheritance; the rest for any permission.
            let mut perm = None;
            if rng.one_in(2) {
                let roles = &w.users[user].roles;
                let mut role = roles[rng.below(roles.len())];
                for _ in 0..rng.below(4) {
                    role = w.roles[role].parent.unwrap_or(role);
                }
                let grants = &w.roles[role].grants;
                if !grants.is_empty() {
                    let g = &grants[rng.below(grants.len())];
                    perm = Some((g.kind, g.action));
                }
            }
            let (kind, action) = perm.unwrap_or_else(|| (rng.below(kinds), rng.below(actions)));
            let owner = if rng.one_in(2) { user } else { rng.below(w.users.len()) };
            let (attrs, context) = if abac {
                let attrs = ResourceAttrs {
                    department: rng.pick(&DEPARTMENTS),
                    level: rng.below(LEVELS as usize) as i64,
                    classification: rng.pick(&CLASSIFICATIONS),
                    archived: rng.one_in(10),
                };
                let ip = if rng.below(100) < 85 {
                    format!("10.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256))
                } else {
                    format!("198.51.100.{}", rng.below(256))
                };
                let context = Context { ip, mfa: rng.one_in(2), hour: rng.below(24) as i64 };
                (Some(attrs), Some(context))
            } else {
                (None, None)
            };
            Query { user, kind, action, resource: format!("res-{i}"), owner, attrs, context }
        })
        .collect();
}

impl Workload {
    /// A role and every role it inherits from, the role first.
    pub fn closure(&self, role: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(role), |r| self.roles[*r].parent)
    }

    /// The permissions a role holds unconditionally, inheritance included.
    fn plain_permissions(&self, role: usize) -> Vec<(usize, usize)> {
        self.closure(role)
            .flat_map(|r| self.roles[r].grants.iter().filter(|g| g.cond.is_none()).map(|g| (g.kind, g.action)))
            .collect()
    }

    /// Total grants, and how many of them are conditional.
    pub fn grant_counts(&self) -> (usize, usize) {
        let all = self.roles.iter().map(|r| r.grants.len()).sum();
        let conditional = self.roles.iter().flat_map(|r| &r.grants).filter(|g| g.cond.is_some()).count();
        (all, conditional)
    }

    /// The deepest role's number of levels (a root alone is 1).
    pub fn depth(&self) -> usize {
        (0..self.roles.len()).map(|r| self.closure(r).count()).max().unwrap_or(0)
    }

    /// Whether any grant or deny rule has a condition.
    pub fn has_conditions(&self) -> bool {
        !self.denies.is_empty() || self.roles.iter().flat_map(|r| &r.grants).any(|g| g.cond.is_some())
    }

    /// A one-line description: roles, grants, rules, users, queries.
    pub fn summary(&self) -> String {
        let (grants, conditional) = self.grant_counts();
        format!(
            "{} roles ({} levels), {} grants ({} conditional), {} deny rules, {} users, {} queries",
            self.roles.len(),
            self.depth(),
            grants,
            conditional,
            self.denies.len(),
            self.users.len(),
            self.queries.len()
        )
    }

    /// The reference decision for query `i`: denied if a deny rule covers the permission
    /// and its condition holds (or cannot be evaluated: fail closed); else allowed if a
    /// grant of one of the user's roles or their ancestors covers the permission and has
    /// no condition or one that holds; else denied.
    pub fn decide(&self, i: usize) -> bool {
        let q = &self.queries[i];
        let denied = self
            .denies
            .iter()
            .any(|d| d.patterns.iter().any(|p| p.matches(q.kind, q.action)) && d.when.eval(self, q) != Some(false));
        if denied {
            return false;
        }
        self.users[q.user].roles.iter().flat_map(|&r| self.closure(r)).any(|r| {
            self.roles[r].grants.iter().any(|g| {
                g.kind == q.kind
                    && g.action == q.action
                    && g.cond.as_ref().is_none_or(|c| c.eval(self, q) == Some(true))
            })
        })
    }

    /// The policy set in Rampart's DSL: one `resource` per kind (declaring the attribute
    /// types), one `role` per role with its grants, one `deny` per deny rule.
    pub fn rampart_policy(&self) -> String {
        let mut out = String::new();
        for k in &self.kinds {
            let _ = writeln!(
                out,
                "resource {} {{\n    actions: {}\n    attributes: {{ owner: string, department: string, level: int, \
                 classification: string, archived: bool }}\n}}",
                k.name,
                k.actions.join(", ")
            );
        }
        for role in &self.roles {
            let _ = write!(out, "role {}", role.name);
            if let Some(p) = role.parent {
                let _ = write!(out, " inherits {}", self.roles[p].name);
            }
            out.push_str(" {\n");
            for g in &role.grants {
                let _ = write!(out, "    grant {}:{}", self.kinds[g.kind].name, self.kinds[g.kind].actions[g.action]);
                if let Some(c) = &g.cond {
                    let _ = write!(out, " when {}", c.rampart());
                }
                out.push('\n');
            }
            out.push_str("}\n");
        }
        for d in &self.denies {
            let patterns: Vec<String> = d
                .patterns
                .iter()
                .map(|p| {
                    let kind = p.kind.map_or("*", |k| &self.kinds[k].name);
                    let action = p.action.map_or("*", |a| &self.kinds[0].actions[a]);
                    format!("{kind}:{action}")
                })
                .collect();
            let cond = match &d.when {
                Cond::Not(inner) => format!("unless: {}", inner.rampart()),
                c => format!("when: {}", c.rampart()),
            };
            let _ = writeln!(out, "deny \"{}\" {{\n    actions: {}\n    {cond}\n}}", d.id, patterns.join(", "));
        }
        out
    }

    /// Query `i` as a Rampart JSON request: the principal presents the user's roles and
    /// attributes; the resource carries its kind, id and attributes; the context, if any.
    pub fn request_json(&self, i: usize) -> String {
        let q = &self.queries[i];
        let user = &self.users[q.user];
        let mut out = String::with_capacity(320);
        let _ = write!(out, "{{\"principal\": {{\"id\": {}, \"roles\": [", json_str(&user.id));
        for (n, r) in user.roles.iter().enumerate() {
            let _ = write!(out, "{}{}", if n > 0 { ", " } else { "" }, json_str(&self.roles[*r].name));
        }
        out.push(']');
        if let Some(a) = &user.attrs {
            let _ = write!(
                out,
                ", \"attrs\": {{\"department\": {}, \"clearance\": {}, \"suspended\": {}}}",
                json_str(a.department),
                a.clearance,
                a.suspended
            );
        }
        let kind = &self.kinds[q.kind];
        let _ = write!(
            out,
            "}}, \"action\": {}, \"resource\": {{\"kind\": {}, \"id\": {}, \"attrs\": {{\"owner\": {}",
            json_str(&kind.actions[q.action]),
            json_str(&kind.name),
            json_str(&q.resource),
            json_str(&self.users[q.owner].id)
        );
        if let Some(a) = &q.attrs {
            let _ = write!(
                out,
                ", \"department\": {}, \"level\": {}, \"classification\": {}, \"archived\": {}",
                json_str(a.department),
                a.level,
                json_str(a.classification),
                a.archived
            );
        }
        out.push_str("}}");
        if let Some(c) = &q.context {
            let _ =
                write!(out, ", \"context\": {{\"ip\": {}, \"mfa\": {}, \"hour\": {}}}", json_str(&c.ip), c.mfa, c.hour);
        }
        out.push('}');
        out
    }

    /// Every query as a Rampart JSON request, in order.
    pub fn requests_json(&self) -> Vec<String> {
        (0..self.queries.len()).map(|i| self.request_json(i)).collect()
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
