//! Eval: one request against a snapshot.
//!
//! Order: resolve the permission and roles; deny policies (an erroring deny applies);
//! then the principal's grants, unconditional first; then allow policies; otherwise
//! deny. Only rules indexed under the requested permission are looked at. A plain role
//! check is one probe for the permission, one per presented role name, a bit test per
//! role, and a probe of the (role, permission) index for each role whose bit is set (every
//! role, when the set is too large for the bitsets); nothing is allocated unless more than
//! 16 roles are presented. Data-dependent branches are kept few, because on a stream of
//! different requests a mispredicted branch costs more than a table read.

use crate::compile::expr::{AttrPath, Cmp, Cond, Lit};
use crate::compile::{GrantRule, Held, PermId, Policy, PolicyId, RoleId, Snapshot};
use crate::decision::{Decision, EvalError, EvalErrorKind, Outcome, RequestProblem, Rule, Trace};
use crate::glob::glob_match;
use crate::request::{Attrs, Request, RequestError, Value};
use crate::syntax::ast::{Effect, Root};
use std::net::{IpAddr, Ipv4Addr};

/// Receives every rule considered. The no-op tracer compiles away.
pub(crate) trait Tracer {
    /// Whether to evaluate every candidate rule rather than stop once decided.
    const EXHAUSTIVE: bool;
    fn step(&mut self, rule: Rule, outcome: Outcome);
}

pub(crate) struct NoTrace;

impl Tracer for NoTrace {
    const EXHAUSTIVE: bool = false;
    #[inline(always)]
    fn step(&mut self, _: Rule, _: Outcome) {}
}

impl Tracer for Trace {
    const EXHAUSTIVE: bool = true;
    fn step(&mut self, rule: Rule, outcome: Outcome) {
        self.steps.push((rule, outcome));
    }
}

impl Snapshot {
    /// Decides a request. Never fails: problems with the request give a deny decision
    /// that says what was wrong ([`Decision::problem`]).
    pub fn check(&self, request: &Request<'_>) -> Decision {
        let mut decision = evaluate(self, request, &mut NoTrace);
        decision.version = self.version;
        decision
    }

    /// Decides a request and records every rule that could have decided it, and why
    /// each did or did not apply. Gives the same decision as [`Snapshot::check`].
    pub fn explain(&self, request: &Request<'_>) -> (Decision, Trace) {
        let mut trace = Trace::default();
        let mut decision = evaluate(self, request, &mut trace);
        decision.version = self.version;
        (decision, trace)
    }
}

/// Role ids resolved from a request are kept on the stack up to this many roles.
const INLINE_ROLES: usize = 16;

#[inline(always)]
fn evaluate<T: Tracer>(snap: &Snapshot, req: &Request<'_>, t: &mut T) -> Decision {
    // Attribute sizes are enforced where requests are decoded (`Request::from_json`);
    // here only the role count, which bounds the work below.
    if req.principal.roles.len() > snap.limits.max_request_roles {
        let limit = snap.limits.max_request_roles;
        return Decision::refuse(RequestProblem::Invalid(RequestError::Limit { what: "principal.roles", limit }));
    }
    let Some(perm) = snap.perm_index.get(&req.resource.kind, &req.action) else {
        return Decision::refuse(unknown_permission(snap, req));
    };
    let mut decision = Decision::default();
    // The presented roles' ids, on the stack unless there are many. Duplicates are kept:
    // they cost a repeated lookup, not a wrong answer.
    let presented = req.principal.roles.len();
    let (mut inline, mut spill) = ([RoleId(0); INLINE_ROLES], Vec::new());
    let ids: &mut [RoleId] = if presented <= INLINE_ROLES {
        &mut inline[..presented]
    } else {
        spill.resize(presented, RoleId(0));
        &mut spill
    };
    // With each id, whether the (role, permission) index may hold the pair, as a bit of a
    // mask (first 64 roles), so the grant lookup below needs no second loop over roles.
    let (mut known, mut may_hold) = (0, 0u64);
    req.principal.roles.for_each(|name| match snap.role_ids.get(name) {
        Some(&id) => {
            if let Some(slot) = ids.get_mut(known) {
                *slot = id;
                if known < 64 {
                    may_hold |= u64::from(snap.grant_index.may_hold(id, perm)) << known;
                }
                known += 1;
            }
        }
        None => decision.push_unknown_role(name),
    });
    let cx = Cx { snap, req, roles: &ids[..known] };
    let perm_ix = perm.index();

    for &pid in snap.deny_index.row(perm_ix) {
        let rule = Rule::Policy(pid);
        let outcome = cx.policy(&snap.policies[pid.index()]);
        if let Outcome::ConditionError(kind) = outcome {
            decision.push_error(EvalError { rule, kind });
        }
        if matches!(outcome, Outcome::Applies | Outcome::ConditionError(_)) {
            decision.deny_by(rule);
        }
        t.step(rule, outcome);
    }
    if decision.is_denied_by_rule() && !T::EXHAUSTIVE {
        return decision;
    }

    // The (role, permission) index, 64 roles at a time: a mask of the roles that may hold
    // the permission (bit tests, no branch per role), then one probe per such role, in the
    // order presented. A plain grant decides; guarded grants are looked up afterwards, in
    // the rows of the roles that have one (a mask of the first 64; past those, every role).
    let (mut guarded, mut guarded_past_64) = (0u64, false);
    for (c, chunk) in cx.roles.chunks(64).enumerate() {
        let mut mask = if c == 0 {
            may_hold
        } else {
            let bits = chunk.iter().map(|&role| u64::from(snap.grant_index.may_hold(role, perm)));
            bits.enumerate().fold(0, |mask, (i, bit)| mask | bit << i)
        };
        while mask != 0 {
            let at = mask.trailing_zeros();
            let role = chunk[at as usize];
            mask &= mask - 1;
            match snap.grant_index.probe(role, perm) {
                Some(Held::Plain(grant)) => {
                    let rule = Rule::Grant { role, grant };
                    decision.allow(rule);
                    t.step(rule, Outcome::Applies);
                    if !T::EXHAUSTIVE {
                        return decision;
                    }
                }
                Some(Held::Guarded | Held::GuardedBy(_)) if c == 0 => guarded |= 1 << at,
                Some(Held::Guarded | Held::GuardedBy(_)) => guarded_past_64 = true,
                None => {}
            }
        }
    }
    if guarded != 0 || guarded_past_64 || T::EXHAUSTIVE {
        for (i, &role) in cx.roles.iter().enumerate() {
            let has_guarded = if i < 64 { guarded >> i & 1 == 1 } else { guarded_past_64 };
            if !has_guarded && !T::EXHAUSTIVE {
                continue;
            }
            // A role with one guarded grant of the permission has it in the index (probed
            // again, in cache now); otherwise its row lists them.
            let only = if T::EXHAUSTIVE {
                None
            } else if let Some(Held::GuardedBy(grant)) = snap.grant_index.probe(role, perm) {
                Some([(perm, grant)])
            } else {
                None
            };
            let grants = match &only {
                Some(one) => &one[..],
                None => equal_range(snap.guarded.row(role.index()), perm),
            };
            for &(_, grant) in grants {
                let rule = Rule::Grant { role, grant };
                let outcome = cx.grant(&snap.grants[grant.index()]);
                record_allow(&mut decision, rule, outcome, t);
                if decision.is_allowed() && !T::EXHAUSTIVE {
                    return decision;
                }
            }
        }
    }
    for &pid in snap.allow_index.row(perm_ix) {
        let rule = Rule::Policy(pid);
        let outcome = cx.policy(&snap.policies[pid.index()]);
        record_allow(&mut decision, rule, outcome, t);
        if decision.is_allowed() && !T::EXHAUSTIVE {
            return decision;
        }
    }
    decision
}

/// Why a request's kind and action name no permission: the kind, or the action.
#[cold]
fn unknown_permission(snap: &Snapshot, req: &Request<'_>) -> RequestProblem {
    let kind = req.resource.kind.to_string();
    if snap.kind_ids.contains_key(&kind) {
        RequestProblem::UnknownAction { kind, action: req.action.to_string() }
    } else {
        RequestProblem::UnknownKind { kind }
    }
}

fn record_allow<T: Tracer>(decision: &mut Decision, rule: Rule, outcome: Outcome, t: &mut T) {
    match outcome {
        Outcome::Applies => decision.allow(rule),
        Outcome::ConditionError(kind) => decision.push_error(EvalError { rule, kind }),
        _ => {}
    }
    t.step(rule, outcome);
}

/// The entries of a row sorted by permission whose permission is `perm`.
fn equal_range<T>(row: &[(PermId, T)], perm: PermId) -> &[(PermId, T)] {
    let start = row.partition_point(|e| e.0 < perm);
    let end = start + row[start..].partition_point(|e| e.0 == perm);
    &row[start..end]
}

/// A value during evaluation, borrowing from the request or the snapshot.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Bool(bool),
    Int(i64),
    Str(&'a str),
    Ip(IpAddr),
    List(List<'a>),
    Map,
}

#[derive(Debug, Clone, Copy)]
enum List<'a> {
    Request(&'a [Value<'a>]),
    Lit(&'a [Lit]),
}

impl<'a> Val<'a> {
    fn of_value(v: &'a Value<'a>) -> Val<'a> {
        match v {
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(n) => Val::Int(*n),
            Value::Str(s) => Val::Str(s),
            Value::Ip(ip) => Val::Ip(*ip),
            Value::List(items) => Val::List(List::Request(items)),
            Value::Map(_) => Val::Map,
        }
    }

    fn of_lit(l: &'a Lit) -> Val<'a> {
        match l {
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Int(n) => Val::Int(*n),
            Lit::Str(s) => Val::Str(s),
            Lit::Ip(ip) => Val::Ip(*ip),
            Lit::List(items) => Val::List(List::Lit(items)),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Str(_) => "string",
            Val::Ip(_) => "ip",
            Val::List(_) => "list",
            Val::Map => "map",
        }
    }

    fn mismatch(&self, expected: &'static str) -> EvalErrorKind {
        EvalErrorKind::Type { expected, found: self.type_name() }
    }

    fn bool(self) -> Result<bool, EvalErrorKind> {
        match self {
            Val::Bool(b) => Ok(b),
            other => Err(other.mismatch("bool")),
        }
    }

    fn int(self) -> Result<i64, EvalErrorKind> {
        match self {
            Val::Int(n) => Ok(n),
            other => Err(other.mismatch("int")),
        }
    }

    fn str(self) -> Result<&'a str, EvalErrorKind> {
        match self {
            Val::Str(s) => Ok(s),
            other => Err(other.mismatch("string")),
        }
    }

    fn ip(self) -> Result<IpAddr, EvalErrorKind> {
        match self {
            Val::Ip(ip) => Ok(ip),
            Val::Str(s) => parse_ip(s),
            other => Err(other.mismatch("ip")),
        }
    }
}

/// An address given as a string, read as `IpAddr::from_str` reads it. A dotted quad in
/// canonical form (the usual `context.ip`) is read by one pass over its bytes, several
/// times faster; anything else goes to the standard parser.
fn parse_ip(s: &str) -> Result<IpAddr, EvalErrorKind> {
    match dotted_quad(s.as_bytes()) {
        Some(v4) => Ok(IpAddr::V4(v4)),
        None => s.parse().map_err(|_| EvalErrorKind::NotAnIp),
    }
}

/// Four decimal octets of at most 255 without leading zeros, separated by dots; `None` for
/// anything else (which the standard parser then decides).
fn dotted_quad(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let (mut part, mut value, mut digits) = (0, 0u32, 0);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && value == 0 {
                    return None;
                }
                value = value * 10 + u32::from(c - b'0');
                digits += 1;
                *octets.get_mut(part)? = u8::try_from(value).ok()?;
            }
            b'.' if digits > 0 && part < 3 => (part, value, digits) = (part + 1, 0, 0),
            _ => return None,
        }
    }
    (part == 3 && digits > 0).then(|| Ipv4Addr::from(octets))
}

impl List<'_> {
    fn len(&self) -> usize {
        match self {
            List::Request(items) => items.len(),
            List::Lit(items) => items.len(),
        }
    }

    fn any(&self, mut f: impl FnMut(Val<'_>) -> Result<bool, EvalErrorKind>) -> Result<bool, EvalErrorKind> {
        match self {
            List::Request(items) => {
                for v in items.iter() {
                    if f(Val::of_value(v))? {
                        return Ok(true);
                    }
                }
            }
            List::Lit(items) => {
                for l in items.iter() {
                    if f(Val::of_lit(l))? {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }
}

/// Deepest list nesting `==` compares (lists built by a library caller are not bounded by
/// the JSON limits).
const MAX_LIST_DEPTH: usize = 32;

/// Equality; values of different types are a type error (strings and IPs compare as IPs).
fn equal(a: Val<'_>, b: Val<'_>) -> Result<bool, EvalErrorKind> {
    equal_within(a, b, 0)
}

fn equal_within(a: Val<'_>, b: Val<'_>, depth: usize) -> Result<bool, EvalErrorKind> {
    if depth > MAX_LIST_DEPTH {
        return Err(EvalErrorKind::Type { expected: "lists nested at most 32 deep", found: "deeper lists" });
    }
    Ok(match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Ip(x), Val::Ip(y)) => x.to_canonical() == y.to_canonical(),
        (Val::Ip(ip), Val::Str(s)) | (Val::Str(s), Val::Ip(ip)) => parse_ip(s)?.to_canonical() == ip.to_canonical(),
        (Val::List(x), Val::List(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for i in 0..x.len() {
                if !equal_within(x.get(i), y.get(i), depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (a, b) => return Err(EvalErrorKind::Compare { left: a.type_name(), right: b.type_name() }),
    })
}

/// Whether a list holds a value. Items of another type than the value do not match;
/// when none matches and some had another type, that is an error (so the answer does
/// not depend on the order of the items).
fn contains(items: List<'_>, needle: Val<'_>) -> Result<bool, EvalErrorKind> {
    let mut mismatch = None;
    let found = items.any(|v| match equal(needle, v) {
        Ok(eq) => Ok(eq),
        Err(e) => {
            mismatch = Some(e);
            Ok(false)
        }
    })?;
    match mismatch {
        Some(e) if !found => Err(e),
        _ => Ok(found),
    }
}

impl<'a> List<'a> {
    fn get(&self, i: usize) -> Val<'a> {
        match self {
            List::Request(items) => Val::of_value(&items[i]),
            List::Lit(items) => Val::of_lit(&items[i]),
        }
    }
}

/// One request's view of the snapshot during evaluation.
struct Cx<'a> {
    snap: &'a Snapshot,
    req: &'a Request<'a>,
    roles: &'a [RoleId],
}

impl<'a> Cx<'a> {
    /// Whether the principal holds `role`, directly or by inheritance.
    fn holds(&self, role: RoleId) -> bool {
        self.roles.iter().any(|r| self.snap.ancestors.row(r.index()).binary_search(&role).is_ok())
    }

    fn policy(&self, p: &'a Policy) -> Outcome {
        if !p.roles.is_empty() && !p.roles.iter().any(|r| self.holds(*r)) {
            return Outcome::RoleNotHeld;
        }
        if !p.principals.is_empty() && !p.principals.iter().any(|g| glob_match(g, &self.req.principal.id)) {
            return Outcome::PrincipalNotMatched;
        }
        if !p.resources.is_empty() && !p.resources.iter().any(|g| glob_match(g, &self.req.resource.id)) {
            return Outcome::ResourceNotMatched;
        }
        self.condition(p.cond.as_ref(), p.unless)
    }

    fn grant(&self, g: &'a GrantRule) -> Outcome {
        let Some(guard) = g.guard.and_then(|i| self.snap.guards.get(i as usize)) else { return Outcome::Applies };
        if let Some(on) = &guard.on
            && !glob_match(on, &self.req.resource.id)
        {
            return Outcome::ResourceNotMatched;
        }
        self.condition(guard.when.as_ref(), false)
    }

    fn condition(&self, cond: Option<&'a Cond>, unless: bool) -> Outcome {
        let Some(cond) = cond else { return Outcome::Applies };
        match self.eval(cond).and_then(Val::bool) {
            Ok(b) if b != unless => Outcome::Applies,
            Ok(_) => Outcome::ConditionFalse,
            Err(e) => Outcome::ConditionError(e),
        }
    }

    fn lookup(&self, path: &AttrPath) -> Option<&'a Value<'a>> {
        let root: &'a Attrs<'a> = match path.root {
            Root::Principal => &self.req.principal.attrs,
            Root::Resource => &self.req.resource.attrs,
            Root::Context => &self.req.context,
        };
        let (first, rest) = path.keys.split_first()?;
        let mut value = root.get(first)?;
        for key in rest {
            match value {
                Value::Map(m) => value = m.get(key)?,
                _ => return None,
            }
        }
        Some(value)
    }

    /// The number of distinct roles the principal holds, inherited ones included.
    fn role_count(&self) -> usize {
        let rows: &[RoleId] = self.roles;
        let mut count = 0;
        for (i, r) in rows.iter().enumerate() {
            for a in self.snap.ancestors.row(r.index()) {
                let seen = rows[..i].iter().any(|p| self.snap.ancestors.row(p.index()).binary_search(a).is_ok());
                count += usize::from(!seen);
            }
        }
        count
    }

    /// Evaluates a condition node. Leaves (literals and attributes, most operands) are
    /// handled here, inline in their parent, saving a call per operand.
    #[inline(always)]
    fn eval(&self, c: &'a Cond) -> Result<Val<'a>, EvalErrorKind> {
        match c {
            Cond::Lit(l) => Ok(Val::of_lit(l)),
            Cond::Attr(a) => {
                let path = &self.snap.attr_paths[a.0 as usize];
                Ok(Val::of_value(self.lookup(path).ok_or(EvalErrorKind::Missing(*a))?))
            }
            _ => self.eval_node(c),
        }
    }

    fn eval_node(&self, c: &'a Cond) -> Result<Val<'a>, EvalErrorKind> {
        Ok(match c {
            Cond::Lit(l) => Val::of_lit(l),
            Cond::PrincipalId => Val::Str(&self.req.principal.id),
            Cond::ResourceId => Val::Str(&self.req.resource.id),
            Cond::ResourceKind => Val::Str(&self.req.resource.kind),
            Cond::Attr(a) => {
                let path = &self.snap.attr_paths[a.0 as usize];
                Val::of_value(self.lookup(path).ok_or(EvalErrorKind::Missing(*a))?)
            }
            Cond::Has(a) => Val::Bool(self.lookup(&self.snap.attr_paths[a.0 as usize]).is_some()),
            Cond::HasRole(r) => Val::Bool(self.holds(*r)),
            Cond::InRoles(name) => {
                let name = self.eval(name)?.str()?;
                Val::Bool(self.snap.role_ids.get(name).is_some_and(|r| self.holds(*r)))
            }
            Cond::RoleCount => Val::Int(i64::try_from(self.role_count()).unwrap_or(i64::MAX)),
            Cond::AsIp(inner) => Val::Ip(self.eval(inner)?.ip()?),
            Cond::Not(inner) => Val::Bool(!self.eval(inner)?.bool()?),
            Cond::And(l, r) => Val::Bool(self.eval(l)?.bool()? && self.eval(r)?.bool()?),
            Cond::Or(l, r) => Val::Bool(self.eval(l)?.bool()? || self.eval(r)?.bool()?),
            Cond::Cmp(op, l, r) => {
                let (l, r) = (self.eval(l)?, self.eval(r)?);
                Val::Bool(match op {
                    Cmp::Eq => equal(l, r)?,
                    Cmp::Ne => !equal(l, r)?,
                    Cmp::Lt => l.int()? < r.int()?,
                    Cmp::Le => l.int()? <= r.int()?,
                    Cmp::Gt => l.int()? > r.int()?,
                    Cmp::Ge => l.int()? >= r.int()?,
                })
            }
            Cond::In(needle, list) => {
                let needle = self.eval(needle)?;
                match self.eval(list)? {
                    Val::List(items) => Val::Bool(contains(items, needle)?),
                    other => return Err(other.mismatch("list")),
                }
            }
            Cond::InCidr(ip, net) => Val::Bool(net.contains(self.eval(ip)?.ip()?)),
            Cond::StartsWith(s, p) => Val::Bool(self.eval(s)?.str()?.starts_with(self.eval(p)?.str()?)),
            Cond::EndsWith(s, p) => Val::Bool(self.eval(s)?.str()?.ends_with(self.eval(p)?.str()?)),
            Cond::Matches(s, p) => {
                let s = self.eval(s)?.str()?;
                Val::Bool(glob_match(self.eval(p)?.str()?, s))
            }
            Cond::Len(x) => {
                let n = match self.eval(x)? {
                    Val::Str(s) => s.chars().count(),
                    Val::List(items) => items.len(),
                    other => return Err(other.mismatch("string or list")),
                };
                Val::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }
        })
    }
}

impl Snapshot {
    /// The effect of an access policy, by id.
    pub fn policy_effect(&self, id: PolicyId) -> Option<Effect> {
        self.policies.get(id.index()).map(|p| p.effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dotted_quads_read_as_the_standard_parser_reads_them() {
        for ok in ["0.0.0.0", "10.0.0.1", "255.255.255.255", "192.168.1.20", "1.22.133.4"] {
            assert_eq!(dotted_quad(ok.as_bytes()).map(IpAddr::V4), ok.parse().ok(), "{ok}");
            assert!(dotted_quad(ok.as_bytes()).is_some(), "{ok}");
        }
        for odd in
            ["", "1.2.3", "1.2.3.4.", ".1.2.3", "1..2.3", "01.2.3.4", "1.2.3.256", "1.2.3.1000", "::1", "1.2.3.4 "]
        {
            assert_eq!(dotted_quad(odd.as_bytes()), None, "{odd}");
            assert_eq!(parse_ip(odd).ok(), odd.parse().ok(), "{odd}");
        }
    }

    proptest! {
        #[test]
        fn parse_ip_agrees_with_the_standard_parser(s in "[0-9.:a-f]{0,18}", n in any::<u32>()) {
            prop_assert_eq!(parse_ip(&s).ok(), s.parse::<IpAddr>().ok());
            let quad = Ipv4Addr::from(n).to_string();
            prop_assert_eq!(dotted_quad(quad.as_bytes()), Some(Ipv4Addr::from(n)));
        }
    }
}
