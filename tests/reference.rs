//! The compiled evaluator agrees with a small, obviously correct reference evaluator
//! that works on the syntax tree, over random policy sets and requests.
//!
//! The reference does everything the slow way: it expands permission patterns by
//! string comparison, walks `inherits` recursively, and interprets conditions on the
//! tree with JSON values. Requests deliberately carry missing attributes and values of
//! the wrong type, so the fail-closed rules are exercised too.

use proptest::prelude::*;
use rampart::syntax::ast::*;
use rampart::{PolicySet, Request};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;

const KINDS: [(&str, &[&str]); 2] = [("doc", &["read", "write", "share"]), ("img", &["read", "delete"])];
const PERMS: [&str; 9] =
    ["doc:read", "doc:write", "doc:share", "img:read", "img:delete", "doc:*", "*:read", "*:*", "grp"];
const MAX_ROLES: usize = 5;

// ---- generation -------------------------------------------------------------------

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("context.mfa".to_owned()),
        (0..3i64).prop_map(|k| format!("context.n > {k}")),
        (0..3i64).prop_map(|k| format!("context.n == {k}")),
        Just("resource.owner == principal.id".to_owned()),
        Just("principal.dept == \"eng\"".to_owned()),
        Just("principal.dept != \"eng\"".to_owned()),
        Just("\"a\" in resource.tags".to_owned()),
        Just("has(context.n)".to_owned()),
        Just("has(resource.owner)".to_owned()),
        Just("\"r0\" in principal.roles".to_owned()),
        Just("principal.dept in [\"eng\", \"ops\"]".to_owned()),
        Just("starts_with(resource.id, \"d\")".to_owned()),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("!({e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) || ({b})")),
        ]
    })
}

fn perm_list() -> impl Strategy<Value = String> {
    proptest::sample::subsequence(PERMS.to_vec(), 1..3).prop_map(|v| v.join(", "))
}

fn grant() -> impl Strategy<Value = String> {
    (
        perm_list(),
        proptest::option::of(prop_oneof![Just("d*"), Just("*1"), Just("x")]),
        proptest::option::weighted(0.4, condition()),
    )
        .prop_map(|(items, on, when)| {
            let mut g = format!("    grant {items}");
            if let Some(on) = on {
                g.push_str(&format!(" on \"{on}\""));
            }
            if let Some(when) = when {
                g.push_str(&format!(" when {when}"));
            }
            g
        })
}

fn role(index: usize) -> impl Strategy<Value = String> {
    let parents = proptest::sample::subsequence((0..index).collect::<Vec<_>>(), 0..=index.min(2));
    (parents, proptest::collection::vec(grant(), 0..3)).prop_map(move |(parents, grants)| {
        let mut r = format!("role r{index}");
        if !parents.is_empty() {
            let names: Vec<String> = parents.iter().map(|p| format!("r{p}")).collect();
            r.push_str(&format!(" inherits {}", names.join(", ")));
        }
        r.push_str(" {\n");
        for g in grants {
            r.push_str(&g);
            r.push('\n');
        }
        r.push_str("}\n");
        r
    })
}

fn policy(index: usize, roles: usize) -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        perm_list(),
        proptest::sample::subsequence((0..roles).collect::<Vec<_>>(), 0..=roles.min(2)),
        proptest::option::of(prop_oneof![Just("u*"), Just("admin")]),
        proptest::option::of(prop_oneof![Just("d*"), Just("x")]),
        proptest::option::of((any::<bool>(), condition())),
    )
        .prop_map(move |(deny, actions, roles, principal, resource, cond)| {
            let mut p = format!("{} \"p{index}\" {{\n    actions: {actions}\n", if deny { "deny" } else { "allow" });
            if !roles.is_empty() {
                let names: Vec<String> = roles.iter().map(|r| format!("r{r}")).collect();
                p.push_str(&format!("    roles: {}\n", names.join(", ")));
            }
            if let Some(g) = principal {
                p.push_str(&format!("    principals: \"{g}\"\n"));
            }
            if let Some(g) = resource {
                p.push_str(&format!("    resources: \"{g}\"\n"));
            }
            if let Some((unless, c)) = cond {
                p.push_str(&format!("    {}: {c}\n", if unless { "unless" } else { "when" }));
            }
            p.push_str("}\n");
            p
        })
}

pub(crate) fn policy_set() -> impl Strategy<Value = String> {
    (1..=MAX_ROLES, 0..5usize).prop_flat_map(|(roles, policies)| {
        let roles: Vec<_> = (0..roles).map(role).collect();
        let n = roles.len();
        let policies: Vec<_> = (0..policies).map(|i| policy(i, n)).collect();
        (roles, policies).prop_map(|(roles, policies)| {
            let mut text = String::from(
                "resource doc { actions: read, write, share }\nresource img { actions: read, delete }\ngroup grp = doc:read, img:delete\n",
            );
            text.extend(roles);
            text.extend(policies);
            text
        })
    })
}

/// An attribute that may be absent, right, or of the wrong type.
fn maybe(values: Vec<Json>) -> impl Strategy<Value = Option<Json>> {
    proptest::option::weighted(0.8, proptest::sample::select(values))
}

fn request() -> impl Strategy<Value = Json> {
    let names: Vec<String> = (0..MAX_ROLES + 1).map(|i| format!("r{i}")).chain(["ghost".to_owned()]).collect();
    let perms: Vec<(&str, &str)> = KINDS.iter().flat_map(|(k, acts)| acts.iter().map(move |a| (*k, *a))).collect();
    (
        proptest::sample::select(vec!["u1", "u2", "admin"]),
        // Mostly a few roles; sometimes more than the 64 a check resolves in one batch.
        prop_oneof![
            4 => proptest::sample::subsequence(names.clone(), 0..3),
            1 => proptest::collection::vec(proptest::sample::select(names), 60..80),
        ],
        proptest::sample::select(perms),
        proptest::sample::select(vec!["d1", "d2", "x"]),
        maybe(vec![json!(true), json!(false), json!("yes")]),
        maybe(vec![json!(0), json!(1), json!(2), json!(3), json!("2")]),
        maybe(vec![json!("u1"), json!("u2"), json!(5)]),
        maybe(vec![json!("eng"), json!("ops"), json!(1)]),
        maybe(vec![json!(["a"]), json!(["b", "a"]), json!([]), json!("a")]),
    )
        .prop_map(|(id, roles, (kind, action), rid, mfa, n, owner, dept, tags)| {
            let object = |pairs: [(&str, Option<Json>); 2]| {
                pairs.into_iter().filter_map(|(k, v)| Some((k.to_owned(), v?))).collect::<serde_json::Map<_, _>>()
            };
            let context = object([("mfa", mfa), ("n", n)]);
            let rattrs = object([("owner", owner), ("tags", tags)]);
            let pattrs = object([("dept", dept), ("unused", None)]);
            json!({
                "principal": {"id": id, "roles": roles, "attrs": pattrs},
                "action": action,
                "resource": {"kind": kind, "id": rid, "attrs": rattrs},
                "context": context,
            })
        })
}

// ---- the reference evaluator ----------------------------------------------------------

struct Model<'a> {
    groups: Vec<&'a GroupDecl>,
    roles: Vec<&'a RoleDecl>,
    policies: Vec<&'a PolicyDecl>,
}

fn part_matches(p: &NamePattern, name: &str) -> bool {
    match p {
        NamePattern::Any => true,
        NamePattern::Name(n) => n == name,
    }
}

impl Model<'_> {
    fn covers(&self, r: &PermRef, kind: &str, action: &str) -> bool {
        match r {
            PermRef::Pattern { kind: k, action: a, .. } => part_matches(k, kind) && part_matches(a, action),
            PermRef::Group(g) => self
                .groups
                .iter()
                .filter(|d| d.name.name == g.name)
                .any(|d| d.items.iter().any(|i| self.covers(i, kind, action))),
        }
    }

    /// A role and everything it inherits, by recursion.
    fn closure(&self, role: &str, out: &mut BTreeSet<String>) {
        if !out.insert(role.to_owned()) {
            return;
        }
        for r in self.roles.iter().filter(|r| r.name.name == role) {
            for p in &r.inherits {
                self.closure(&p.name, out);
            }
        }
    }

    fn effective_roles(&self, req: &Json) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for name in req["principal"]["roles"].as_array().unwrap() {
            let name = name.as_str().unwrap();
            if self.roles.iter().any(|r| r.name.name == name) {
                self.closure(name, &mut out);
            }
        }
        out
    }
}

/// Values during reference evaluation; `Err(())` is an evaluation error.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<V>),
    Roles,
}

fn of_json(j: &Json) -> V {
    match j {
        Json::Bool(b) => V::Bool(*b),
        Json::Number(n) => V::Int(n.as_i64().unwrap()),
        Json::String(s) => V::Str(s.clone()),
        Json::Array(items) => V::List(items.iter().map(of_json).collect()),
        other => panic!("unexpected {other}"),
    }
}

fn equal(a: &V, b: &V) -> Result<bool, ()> {
    match (a, b) {
        (V::Bool(x), V::Bool(y)) => Ok(x == y),
        (V::Int(x), V::Int(y)) => Ok(x == y),
        (V::Str(x), V::Str(y)) => Ok(x == y),
        _ => Err(()),
    }
}

fn eval(e: &Expr, req: &Json, roles: &BTreeSet<String>) -> Result<V, ()> {
    let boolean = |e: &Expr| match eval(e, req, roles)? {
        V::Bool(b) => Ok(b),
        _ => Err(()),
    };
    match &e.kind {
        ExprKind::Str(s) => Ok(V::Str(s.clone())),
        ExprKind::Int(n) => Ok(V::Int(*n)),
        ExprKind::Bool(b) => Ok(V::Bool(*b)),
        ExprKind::List(items) => items.iter().map(|i| eval(i, req, roles)).collect::<Result<_, _>>().map(V::List),
        ExprKind::Path { root, fields } => {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            match (root, names.as_slice()) {
                (Root::Principal, ["id"]) => Ok(of_json(&req["principal"]["id"])),
                (Root::Principal, ["roles"]) => Ok(V::Roles),
                (Root::Resource, ["id"]) => Ok(of_json(&req["resource"]["id"])),
                (Root::Resource, ["kind"]) => Ok(of_json(&req["resource"]["kind"])),
                (Root::Principal, [a]) => req["principal"]["attrs"].get(a).map(of_json).ok_or(()),
                (Root::Resource, [a]) => req["resource"]["attrs"].get(a).map(of_json).ok_or(()),
                (Root::Context, [a]) => req["context"].get(a).map(of_json).ok_or(()),
                _ => panic!("path not generated: {names:?}"),
            }
        }
        ExprKind::Call { func, args } => match func.name.as_str() {
            "has" => Ok(V::Bool(eval(&args[0], req, roles).is_ok())),
            "starts_with" => match (eval(&args[0], req, roles)?, eval(&args[1], req, roles)?) {
                (V::Str(s), V::Str(p)) => Ok(V::Bool(s.starts_with(&p))),
                _ => Err(()),
            },
            other => panic!("function not generated: {other}"),
        },
        ExprKind::Not(inner) => Ok(V::Bool(!boolean(inner)?)),
        ExprKind::And(l, r) => Ok(V::Bool(boolean(l)? && boolean(r)?)),
        ExprKind::Or(l, r) => Ok(V::Bool(boolean(l)? || boolean(r)?)),
        ExprKind::Cmp { op, lhs, rhs } => {
            let (l, r) = (eval(lhs, req, roles)?, eval(rhs, req, roles)?);
            match op {
                CmpOp::Eq => equal(&l, &r).map(V::Bool),
                CmpOp::Ne => equal(&l, &r).map(|b| V::Bool(!b)),
                CmpOp::Gt => match (l, r) {
                    (V::Int(a), V::Int(b)) => Ok(V::Bool(a > b)),
                    _ => Err(()),
                },
                CmpOp::In => match (l, r) {
                    (V::Str(name), V::Roles) => Ok(V::Bool(roles.contains(&name))),
                    (needle, V::List(items)) => {
                        let results: Vec<Result<bool, ()>> = items.iter().map(|i| equal(&needle, i)).collect();
                        if results.contains(&Ok(true)) {
                            Ok(V::Bool(true))
                        } else if results.contains(&Err(())) {
                            Err(())
                        } else {
                            Ok(V::Bool(false))
                        }
                    }
                    _ => Err(()),
                },
                other => panic!("operator not generated: {other:?}"),
            }
        }
    }
}

/// `Some(true)` applies, `Some(false)` does not, `None` failed to evaluate.
fn holds(cond: Option<&Expr>, req: &Json, roles: &BTreeSet<String>) -> Option<bool> {
    match cond {
        None => Some(true),
        Some(e) => match eval(e, req, roles) {
            Ok(V::Bool(b)) => Some(b),
            _ => None,
        },
    }
}

/// The reference decision: allowed, and the deny policies that applied.
fn reference(model: &Model<'_>, req: &Json) -> (bool, BTreeSet<String>) {
    let kind = req["resource"]["kind"].as_str().unwrap();
    let action = req["action"].as_str().unwrap();
    let rid = req["resource"]["id"].as_str().unwrap();
    let pid = req["principal"]["id"].as_str().unwrap();
    let roles = model.effective_roles(req);
    let glob = |globs: &[StrLit], id: &str| globs.is_empty() || globs.iter().any(|g| rampart::glob_match(&g.value, id));
    let policy_applies = |p: &PolicyDecl| -> Option<bool> {
        let narrowed = p.actions.iter().any(|a| model.covers(a, kind, action))
            && (p.roles.is_empty() || p.roles.iter().any(|r| roles.contains(&r.name)))
            && glob(&p.principals, pid)
            && glob(&p.resources, rid);
        if !narrowed {
            return Some(false);
        }
        let c = p.condition.as_ref();
        let held = holds(c.map(|c| &c.expr), req, &roles)?;
        let unless = c.is_some_and(|c| c.kind == ConditionKind::Unless);
        Some(held != unless)
    };
    let denies: BTreeSet<String> = model
        .policies
        .iter()
        .filter(|p| p.effect == Effect::Deny && policy_applies(p).unwrap_or(true))
        .map(|p| p.id.value.clone())
        .collect();
    if !denies.is_empty() {
        return (false, denies);
    }
    let by_grant = model.roles.iter().filter(|r| roles.contains(&r.name.name)).any(|r| {
        r.grants.iter().any(|g| {
            g.items.iter().any(|i| model.covers(i, kind, action))
                && g.on.as_ref().is_none_or(|on| rampart::glob_match(&on.value, rid))
                && holds(g.when.as_ref(), req, &roles) == Some(true)
        })
    });
    let by_policy = model.policies.iter().any(|p| p.effect == Effect::Allow && policy_applies(p) == Some(true));
    (by_grant || by_policy, denies)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn compiled_evaluator_agrees_with_the_reference(text in policy_set(), requests in proptest::collection::vec(request(), 1..12)) {
        let mut set = PolicySet::new();
        set.add_source("random.policy", text.clone());
        let (files, errors) = set.parse();
        prop_assert!(errors.is_empty(), "{text}\n{errors:?}");
        let snapshot = set.compile().map_err(|r| TestCaseError::fail(format!("{text}\n{}", r.render(false))))?;
        let items: Vec<&Item> = files.iter().flat_map(|f| &f.items).collect();
        let model = Model {
            groups: items.iter().filter_map(|i| if let Item::Group(g) = i { Some(g) } else { None }).collect(),
            roles: items.iter().filter_map(|i| if let Item::Role(r) = i { Some(r) } else { None }).collect(),
            policies: items.iter().filter_map(|i| if let Item::Policy(p) = i { Some(p) } else { None }).collect(),
        };
        for req in &requests {
            let json = req.to_string();
            let request = Request::from_json(&json, snapshot.limits()).unwrap();
            let decision = snapshot.check(&request);
            let (allowed, denies) = reference(&model, req);
            prop_assert_eq!(decision.is_allowed(), allowed, "{}\n{}", text, json);
            if denies.len() <= 4 {
                let got: BTreeSet<String> = decision
                    .reasons()
                    .filter_map(|r| snapshot.describe_rule(r).policy.filter(|_| !decision.is_allowed()))
                    .collect();
                prop_assert_eq!(got, denies, "{}\n{}", text, json);
            }
            let (explained, _) = snapshot.explain(&request);
            prop_assert_eq!(explained.is_allowed(), decision.is_allowed());
        }
    }
}

/// More roles than the check resolves in one batch (64) and than it keeps on the stack
/// (16): a grant held only by a role presented late is found wherever that role stands,
/// the first role presented that holds a plain grant is the reason, and a guarded grant
/// of a late role is evaluated.
#[test]
fn roles_presented_past_the_first_batches_are_all_looked_at() {
    let mut text = "resource doc { actions: read, edit }\n".to_owned();
    for i in 0..100 {
        let grant = match i {
            90 | 95 => "grant doc:read",
            97 => "grant doc:edit when resource.id == \"x\"",
            _ => "",
        };
        text.push_str(&format!("role r{i} {{ {grant} }}\n"));
    }
    let mut set = PolicySet::new();
    set.add_source("many.policy", text);
    let snapshot = set.compile().unwrap_or_else(|r| panic!("{}", r.render(false)));
    let others: Vec<String> = (0..90).map(|i| format!("r{i}")).collect();
    let check = |roles: &[String], action: &str, id: &str| {
        let json = json!({"principal": {"id": "u", "roles": roles}, "action": action,
            "resource": {"kind": "doc", "id": id}})
        .to_string();
        let decision = snapshot.check(&Request::from_json(&json, snapshot.limits()).unwrap());
        let reason = decision.reasons().next().map(|r| snapshot.rule_label(r)).unwrap_or_default();
        (decision.is_allowed(), reason)
    };
    for at in [0, 15, 16, 63, 64, 65, 89] {
        let mut roles = others.clone();
        roles.insert(at, "r90".to_owned());
        assert_eq!(check(&roles, "read", "y"), (true, "grant of role `r90` at many.policy:92:12".to_owned()), "{at}");
        assert!(!check(&roles, "edit", "x").0, "{at}");
        roles.insert(at, "r95".to_owned());
        assert!(check(&roles, "read", "y").1.contains("`r95`"), "the first holder presented decides: {at}");
        roles.push("ghost".to_owned());
        for guarded_at in [at, at.max(70)] {
            let mut roles = roles.clone();
            roles.insert(guarded_at, "r97".to_owned());
            assert!(check(&roles, "edit", "x").0, "{at} {guarded_at}");
            assert!(!check(&roles, "edit", "y").0, "{at} {guarded_at}");
        }
        roles.retain(|r| r != "r90" && r != "r95");
        assert_eq!(check(&roles, "read", "y"), (false, String::new()), "{at}");
    }
}
