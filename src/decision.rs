//! Decisions: allow or deny, the rules that decided, and anything that went wrong.
//!
//! A [`Decision`] is a small value made of ids; it allocates nothing unless an error
//! is recorded. [`Snapshot::explain_decision`] turns it into names and locations.

use crate::compile::expr::AttrRef;
use crate::compile::{GrantId, PolicyId, RoleId, Snapshot};
use crate::request::RequestError;
use crate::syntax::ast::Effect;

/// A rule that took part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A grant, reached through one of the roles the principal presented.
    Grant {
        /// The role as presented in the request.
        role: RoleId,
        /// The grant, which may belong to a role `role` inherits.
        grant: GrantId,
    },
    /// An access policy.
    Policy(PolicyId),
}

/// Why a rule evaluated with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// An attribute the condition reads is absent from the request.
    Missing(AttrRef),
    /// A value has the wrong type for its operator.
    Type {
        /// The type needed.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// Two values of different types were compared for equality.
    Compare {
        /// The left operand's type.
        left: &'static str,
        /// The right operand's type.
        right: &'static str,
    },
    /// A string that should be an IP address is not one.
    NotAnIp,
}

/// An error while evaluating a rule's condition. An erroring allow rule does not apply;
/// an erroring deny rule applies (fail closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalError {
    /// The rule whose condition failed.
    pub rule: Rule,
    /// What failed.
    pub kind: EvalErrorKind,
}

/// Why a request could not be decided on its merits; the decision is deny.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestProblem {
    /// The resource kind is not declared.
    #[error("unknown resource kind `{kind}`")]
    UnknownKind {
        /// The kind as given.
        kind: String,
    },
    /// The action is not declared for the resource kind.
    #[error("unknown action `{action}` for resource kind `{kind}`")]
    UnknownAction {
        /// The kind.
        kind: String,
        /// The action as given.
        action: String,
    },
    /// The request exceeds a limit.
    #[error(transparent)]
    Invalid(#[from] RequestError),
}

const INLINE_REASONS: usize = 4;

/// The outcome of a check. `allowed` is false unless a grant or allow policy applied
/// and no deny policy did.
///
/// INVARIANT: a decision is a few dozen bytes and allocates only when something unusual
/// happened (an error, an unknown role, a problem with the request): `notes` stays `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    allowed: bool,
    denied: bool,
    more_reasons: u32,
    pub(crate) version: u64,
    reasons: [Option<Rule>; INLINE_REASONS],
    notes: Option<Box<Notes>>,
}

/// What a decision records besides its reasons; rare, so kept out of line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Notes {
    errors: Vec<EvalError>,
    unknown_roles: Vec<Box<str>>,
    problem: Option<RequestProblem>,
}

impl Decision {
    /// Whether the request is allowed.
    #[inline]
    pub fn is_allowed(&self) -> bool {
        self.allowed
    }

    /// The version number of the snapshot that decided (see [`crate::Version`]).
    pub fn snapshot_version(&self) -> u64 {
        self.version
    }

    /// The rules that decided: for an allow, the first grant or allow policy that applied;
    /// for a deny, every deny policy that applied (none for a default deny). At most four
    /// are kept; [`Decision::omitted_reasons`] counts the rest.
    pub fn reasons(&self) -> impl Iterator<Item = Rule> + '_ {
        self.reasons.iter().flatten().copied()
    }

    /// How many deciding rules were not kept in [`Decision::reasons`].
    pub fn omitted_reasons(&self) -> u32 {
        self.more_reasons
    }

    /// Errors met while evaluating conditions.
    pub fn errors(&self) -> &[EvalError] {
        self.notes.as_ref().map_or(&[], |n| &n.errors)
    }

    /// Role names in the request that the policy set does not declare (they were ignored).
    pub fn unknown_roles(&self) -> impl Iterator<Item = &str> {
        self.notes.iter().flat_map(|n| n.unknown_roles.iter().map(|r| &**r))
    }

    /// Why the request could not be decided, if it could not (the decision is then deny).
    pub fn problem(&self) -> Option<&RequestProblem> {
        self.notes.as_ref().and_then(|n| n.problem.as_ref())
    }

    fn notes(&mut self) -> &mut Notes {
        self.notes.get_or_insert_with(Box::default)
    }

    pub(crate) fn push_error(&mut self, error: EvalError) {
        self.notes().errors.push(error);
    }

    pub(crate) fn push_unknown_role(&mut self, name: &str) {
        self.notes().unknown_roles.push(name.into());
    }

    pub(crate) fn allow(&mut self, rule: Rule) {
        if !self.allowed && !self.denied {
            self.allowed = true;
            self.push_reason(rule);
        }
    }

    pub(crate) fn deny_by(&mut self, rule: Rule) {
        self.denied = true;
        if self.allowed {
            // Deny overrides allow: the allow reasons no longer decide.
            self.allowed = false;
            self.reasons = [None; INLINE_REASONS];
            self.more_reasons = 0;
        }
        self.push_reason(rule);
    }

    fn push_reason(&mut self, rule: Rule) {
        match self.reasons.iter_mut().find(|r| r.is_none()) {
            Some(slot) => *slot = Some(rule),
            None => self.more_reasons += 1,
        }
    }

    pub(crate) fn is_denied_by_rule(&self) -> bool {
        self.denied
    }

    pub(crate) fn refuse(problem: RequestProblem) -> Decision {
        let notes = Notes { problem: Some(problem), ..Notes::default() };
        Decision { notes: Some(Box::new(notes)), ..Decision::default() }
    }
}

/// Why a rule did or did not apply, as recorded by [`Snapshot::explain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It applied.
    Applies,
    /// Its condition was false (`when`) or true (`unless`).
    ConditionFalse,
    /// Its condition failed to evaluate; a deny then applies, an allow does not.
    ConditionError(EvalErrorKind),
    /// The resource id matched none of its globs.
    ResourceNotMatched,
    /// The principal id matched none of its globs.
    PrincipalNotMatched,
    /// The principal holds none of its roles.
    RoleNotHeld,
}

/// Every rule that could decide a request, and what each one did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The rules in evaluation order: deny policies, grants, allow policies.
    pub steps: Vec<(Rule, Outcome)>,
}

/// A decision in names and locations, ready to print or serialize.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DecisionReport {
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The version of the snapshot that decided.
    pub version: crate::Version,
    /// The rules that decided; for a default deny, a single `default` entry.
    pub reasons: Vec<RuleReport>,
    /// Deciding rules left out of `reasons` (a deny lists at most four).
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted_reasons: u32,
    /// Condition errors, with the rule they occurred in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Notes on the request, such as role names the policy set does not declare.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `--explain`: every rule considered and what it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub considered: Option<Vec<RuleReport>>,
}

/// The description of a rule id the describing snapshot does not have.
fn foreign_rule() -> RuleReport {
    RuleReport {
        rule: "unknown",
        policy: None,
        role_path: None,
        permission: None,
        location: None,
        outcome: Some("not a rule of this snapshot: describe a decision by the snapshot that made it".to_owned()),
    }
}

/// One rule, in names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleReport {
    /// `grant`, `allow`, `deny` or `default`; `unknown` for a rule id of another snapshot.
    pub rule: &'static str,
    /// The policy id (for `allow` and `deny`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// For a grant: the role path from the presented role to the granting role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_path: Option<Vec<String>>,
    /// The permission asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// Where the rule is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// With `--explain`: whether it applied, or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl Snapshot {
    /// Describes a rule in names. A rule id this snapshot does not have (the rule of a
    /// decision another snapshot made) is described as `unknown`.
    pub fn describe_rule(&self, rule: Rule) -> RuleReport {
        match rule {
            Rule::Grant { role, grant } => {
                let Some(g) = self.grants.get(grant.index()) else { return foreign_rule() };
                RuleReport {
                    rule: "grant",
                    policy: None,
                    role_path: Some(self.role_path(role, g.role).into_iter().map(str::to_owned).collect()),
                    permission: None,
                    location: Some(self.loc_string(g.loc)),
                    outcome: None,
                }
            }
            Rule::Policy(p) => {
                let Some(p) = self.policies.get(p.index()) else { return foreign_rule() };
                RuleReport {
                    rule: if p.effect == Effect::Deny { "deny" } else { "allow" },
                    policy: Some(p.id.to_string()),
                    role_path: None,
                    permission: None,
                    location: Some(self.loc_string(p.loc)),
                    outcome: None,
                }
            }
        }
    }

    /// A rule's name for messages: `policy "id"` or `grant of role`.
    pub fn rule_label(&self, rule: Rule) -> String {
        match rule {
            Rule::Grant { grant, .. } => match self.grants.get(grant.index()) {
                Some(g) => format!("grant of role `{}` at {}", self.role_name(g.role), self.loc_string(g.loc)),
                None => "a rule of another snapshot".to_owned(),
            },
            Rule::Policy(p) => match self.policies.get(p.index()) {
                Some(p) => format!("policy `{}` at {}", p.id, self.loc_string(p.loc)),
                None => "a rule of another snapshot".to_owned(),
            },
        }
    }

    /// The message for an evaluation error.
    pub fn eval_error_message(&self, kind: EvalErrorKind) -> String {
        match kind {
            EvalErrorKind::Missing(a) => {
                let path = self.attr_paths.get(a.0 as usize).map_or("?", |p| &*p.text);
                format!("attribute `{path}` is missing from the request")
            }
            EvalErrorKind::Type { expected, found } => format!("expected {expected}, found {found}"),
            EvalErrorKind::Compare { left, right } if left == right => {
                format!("values of type {left} cannot be compared")
            }
            EvalErrorKind::Compare { left, right } => format!("cannot compare {left} with {right}"),
            EvalErrorKind::NotAnIp => "a string used as an IP address is not one".to_owned(),
        }
    }

    /// Turns a decision (and optionally a trace) into names and locations. Rule ids mean
    /// rules of the snapshot that decided, so describe a decision by that snapshot
    /// ([`crate::Engine::pin`] holds it); a decision numbered by another version gets a
    /// warning that says so, and ids this snapshot lacks are described as `unknown`.
    pub fn explain_decision(&self, decision: &Decision, permission: &str, trace: Option<&Trace>) -> DecisionReport {
        let mut reasons: Vec<RuleReport> = decision
            .reasons()
            .map(|r| RuleReport { permission: Some(permission.to_owned()), ..self.describe_rule(r) })
            .collect();
        if reasons.is_empty() {
            reasons.push(RuleReport {
                rule: "default",
                policy: None,
                role_path: None,
                permission: Some(permission.to_owned()),
                location: None,
                outcome: Some(match decision.problem() {
                    Some(p) => p.to_string(),
                    None => "no grant or allow policy applies".to_owned(),
                }),
            });
        }
        let errors = decision
            .errors()
            .iter()
            .map(|e| format!("{}: {}", self.rule_label(e.rule), self.eval_error_message(e.kind)))
            .collect();
        let mut warnings: Vec<String> =
            decision.unknown_roles().map(|r| format!("unknown role `{r}` in the request was ignored")).collect();
        if decision.version != self.version {
            warnings.push(format!(
                "decided by policy version {}, described by version {}: the rules named may not be the ones that decided",
                decision.version, self.version
            ));
        }
        let considered = trace.map(|t| {
            t.steps
                .iter()
                .map(|(rule, outcome)| RuleReport {
                    outcome: Some(match outcome {
                        Outcome::Applies => "applies".to_owned(),
                        Outcome::ConditionFalse => "condition does not hold".to_owned(),
                        Outcome::ConditionError(k) => format!("condition failed: {}", self.eval_error_message(*k)),
                        Outcome::ResourceNotMatched => "resource id matches none of its globs".to_owned(),
                        Outcome::PrincipalNotMatched => "principal id matches none of its globs".to_owned(),
                        Outcome::RoleNotHeld => "principal holds none of its roles".to_owned(),
                    }),
                    ..self.describe_rule(*rule)
                })
                .collect()
        });
        DecisionReport {
            decision: if decision.is_allowed() { "allow" } else { "deny" },
            version: crate::Version { number: decision.version, hash: self.version().hash },
            reasons,
            omitted_reasons: decision.omitted_reasons(),
            errors,
            warnings,
            considered,
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_overrides_an_earlier_allow() {
        let mut d = Decision::default();
        d.allow(Rule::Policy(PolicyId(0)));
        assert!(d.is_allowed());
        d.deny_by(Rule::Policy(PolicyId(1)));
        assert!(!d.is_allowed());
        assert_eq!(d.reasons().collect::<Vec<_>>(), [Rule::Policy(PolicyId(1))]);
        d.allow(Rule::Policy(PolicyId(2)));
        assert!(!d.is_allowed());
        assert_eq!(d.reasons().count(), 1);
    }

    #[test]
    fn reasons_past_four_are_counted() {
        let mut d = Decision::default();
        for i in 0..6 {
            d.deny_by(Rule::Policy(PolicyId(i)));
        }
        assert_eq!(d.reasons().count(), 4);
        assert_eq!(d.omitted_reasons(), 2);
    }
}
