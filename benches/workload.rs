//! Generated workloads for the benchmarks: policy sets in the DSL and JSON requests,
//! from a fixed seed so every run measures the same thing.
//!
//! - small RBAC: 10 roles (a binary tree, 4 levels), 50 grants, 5 resource kinds of
//!   5 actions, 1,000 users with 1 to 3 roles;
//! - large RBAC: 1,000 roles (10 binary trees of 100, 7 levels), 10,000 grants, 50 kinds
//!   of 10 actions, 100,000 users, one in ten grants conditional;
//! - ABAC: small RBAC plus 20 attribute conditions (owner-only, PII needs MFA, IP range,
//!   same department, clearance level, business hours, suspended users, archived
//!   resources) as conditional grants and deny policies.

#![allow(dead_code)]

use std::fmt::Write as _;

/// A policy set and requests against it.
pub struct Workload {
    /// The policy set, in the DSL.
    pub policy: String,
    /// One JSON request per element.
    pub requests: Vec<String>,
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
}

struct Shape {
    kinds: usize,
    actions: usize,
    roles: usize,
    tree: usize,
    grants_per_role: usize,
    conditional_every: usize,
    users: usize,
}

fn resources(out: &mut String, shape: &Shape) {
    for k in 0..shape.kinds {
        let actions: Vec<String> = (0..shape.actions).map(|a| format!("a{a}")).collect();
        let _ = writeln!(
            out,
            "resource k{k} {{\n    actions: {}\n    attributes: {{ owner: string, department: string, level: int, classification: string, archived: bool }}\n}}",
            actions.join(", ")
        );
    }
}

fn roles(out: &mut String, shape: &Shape, rng: &mut Rng) {
    for r in 0..shape.roles {
        let local = r % shape.tree;
        let _ = write!(out, "role r{r}");
        if local > 0 {
            let _ = write!(out, " inherits r{}", r - local + (local - 1) / 2);
        }
        out.push_str(" {\n");
        for g in 0..shape.grants_per_role {
            let (k, a) = (rng.below(shape.kinds), rng.below(shape.actions));
            let _ = write!(out, "    grant k{k}:a{a}");
            if shape.conditional_every > 0 && (r * shape.grants_per_role + g).is_multiple_of(shape.conditional_every) {
                out.push_str(" when resource.owner == principal.id");
            }
            out.push('\n');
        }
        out.push_str("}\n");
    }
}

fn requests(shape: &Shape, rng: &mut Rng, count: usize, abac: bool) -> Vec<String> {
    (0..count)
        .map(|i| {
            let user = rng.below(shape.users);
            let n = 1 + rng.below(3);
            let roles: Vec<String> = (0..n).map(|_| format!("\"r{}\"", rng.below(shape.roles))).collect();
            let (k, a) = (rng.below(shape.kinds), rng.below(shape.actions));
            let owner = if rng.below(2) == 0 { format!("u{user}") } else { format!("u{}", rng.below(shape.users)) };
            let mut attrs = format!("\"owner\": \"{owner}\"");
            let mut pattrs = String::new();
            let mut context = String::new();
            if abac {
                let dept = ["eng", "sales", "ops"][rng.below(3)];
                let cls = ["public", "internal", "pii"][rng.below(3)];
                let _ = write!(
                    attrs,
                    ", \"department\": \"{dept}\", \"level\": {}, \"classification\": \"{cls}\", \"archived\": {}",
                    rng.below(5),
                    rng.below(10) == 0
                );
                pattrs = format!(
                    "\"department\": \"{}\", \"clearance\": {}, \"suspended\": {}",
                    ["eng", "sales", "ops"][rng.below(3)],
                    rng.below(5),
                    rng.below(20) == 0
                );
                context = format!(
                    "\"ip\": \"10.{}.{}.{}\", \"mfa\": {}, \"hour\": {}",
                    rng.below(256),
                    rng.below(256),
                    rng.below(256),
                    rng.below(2) == 0,
                    rng.below(24)
                );
            }
            format!(
                "{{\"principal\": {{\"id\": \"u{user}\", \"roles\": [{}], \"attrs\": {{{pattrs}}}}}, \"action\": \"a{a}\", \
                 \"resource\": {{\"kind\": \"k{k}\", \"id\": \"res-{i}\", \"attrs\": {{{attrs}}}}}, \"context\": {{{context}}}}}",
                roles.join(", ")
            )
        })
        .collect()
}

const SMALL: Shape =
    Shape { kinds: 5, actions: 5, roles: 10, tree: 10, grants_per_role: 5, conditional_every: 0, users: 1_000 };

/// Small RBAC: 10 roles, 50 grants.
pub fn small_rbac(seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut policy = String::new();
    resources(&mut policy, &SMALL);
    roles(&mut policy, &SMALL, &mut rng);
    Workload { policy, requests: requests(&SMALL, &mut rng, 1_000, false) }
}

/// Large RBAC: 1,000 roles, 10,000 grants, one in ten conditional.
pub fn large_rbac(seed: u64) -> Workload {
    let shape = Shape {
        kinds: 50,
        actions: 10,
        roles: 1_000,
        tree: 100,
        grants_per_role: 10,
        conditional_every: 10,
        users: 100_000,
    };
    let mut rng = Rng::new(seed);
    let mut policy = String::new();
    resources(&mut policy, &shape);
    roles(&mut policy, &shape, &mut rng);
    let _ = writeln!(
        policy,
        "deny \"archived-read-only\" {{\n    actions: k0:*\n    when: has(resource.archived) && resource.archived\n}}"
    );
    Workload { policy, requests: requests(&shape, &mut rng, 10_000, false) }
}

/// ABAC: the small RBAC set plus 20 attribute conditions.
pub fn abac(seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut policy = String::new();
    resources(&mut policy, &SMALL);
    roles(&mut policy, &SMALL, &mut rng);
    // Ten conditional grants, one per role.
    let grants = [
        "resource.owner == principal.id",
        "resource.department == principal.department",
        "principal.clearance >= resource.level",
        "context.hour >= 9 && context.hour < 18",
        "resource.owner == principal.id || principal.clearance >= 4",
        "resource.classification != \"pii\" && resource.department == principal.department",
        "context.ip in cidr(\"10.0.0.0/8\")",
        "principal.clearance > resource.level && context.mfa",
        "!resource.archived && resource.owner == principal.id",
        "principal.department in [\"eng\", \"ops\"]",
    ];
    for (r, cond) in grants.iter().enumerate() {
        let (k, a) = (rng.below(SMALL.kinds), rng.below(SMALL.actions));
        let _ = writeln!(policy, "role c{r} inherits r{r} {{\n    grant k{k}:a{a} when {cond}\n}}");
    }
    // Ten deny policies.
    let denies = [
        ("pii-needs-mfa", "*:*", "when: resource.classification == \"pii\" && !context.mfa"),
        ("office-network", "k0:*, k1:*", "unless: context.ip in cidr(\"10.0.0.0/8\")"),
        ("suspended", "*:*", "when: principal.suspended"),
        ("archived", "*:a1, *:a2", "when: resource.archived"),
        ("business-hours", "k2:*", "unless: context.hour >= 7 && context.hour < 20"),
        ("clearance", "k3:*", "when: principal.clearance < resource.level"),
        ("department", "k4:a0", "when: resource.department != principal.department"),
        ("level-cap", "*:a4", "when: resource.level > 3 && principal.clearance < 4"),
        ("pii-export", "*:a3", "when: resource.classification == \"pii\""),
        ("night-admin", "k0:a0", "when: context.hour < 6"),
    ];
    for (id, actions, cond) in denies {
        let _ = writeln!(policy, "deny \"{id}\" {{\n    actions: {actions}\n    {cond}\n}}");
    }
    let mut reqs = requests(&SMALL, &mut rng, 1_000, true);
    // Half the requests present a conditional role.
    for (i, r) in reqs.iter_mut().enumerate().filter(|(i, _)| i.is_multiple_of(2)) {
        *r = r.replacen("\"roles\": [", &format!("\"roles\": [\"c{}\", ", i % 10), 1);
    }
    Workload { policy, requests: reqs }
}
