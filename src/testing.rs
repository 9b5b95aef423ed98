//! Policy test suites: named principals and resources as fixtures, then cases listing the
//! actions expected to be allowed and denied. Suites live next to the policies
//! (`*.test.yaml`) and run against a compiled snapshot; the runner also reports which grants
//! and policies no case exercised.
//!
//! ```yaml
//! principals:
//!   alice: {roles: [member], attrs: {department: eng}}
//! resources:
//!   alice-mail: {kind: mail, id: m-1, attrs: {owner: alice}}
//! cases:
//!   - name: members delete their own mail
//!     principal: alice
//!     resource: alice-mail
//!     context: {mfa: true}
//!     allow: [read, delete]
//!     deny: [export]
//! ```

use crate::decision::{Outcome, Rule};
use crate::{Decision, Limits, Request, Snapshot};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    #[serde(default)]
    principals: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    resources: BTreeMap<String, serde_json::Value>,
    cases: Vec<CaseSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSpec {
    name: String,
    principal: String,
    resource: String,
    #[serde(default)]
    context: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

/// A test suite, parsed.
#[derive(Debug)]
pub struct Suite {
    /// The file it came from.
    pub file: String,
    cases: Vec<Case>,
}

#[derive(Debug)]
struct Case {
    name: String,
    /// (action, expected allowed, the request as JSON).
    checks: Vec<(String, bool, String)>,
}

/// Why a suite could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct SuiteError {
    /// The suite's file.
    pub file: String,
    /// What is wrong (with line and column where the YAML parser gives them).
    pub message: String,
}

impl Suite {
    /// Parses a suite from YAML text.
    pub fn parse(file: &str, text: &str) -> Result<Suite, SuiteError> {
        let err = |message: String| SuiteError { file: file.to_owned(), message };
        let spec: SuiteFile = serde_saphyr::from_str(text).map_err(|e| err(e.without_snippet().to_string()))?;
        let mut cases = Vec::new();
        for c in spec.cases {
            let principal = spec
                .principals
                .get(&c.principal)
                .ok_or_else(|| err(format!("case `{}`: unknown principal `{}`", c.name, c.principal)))?;
            let resource = spec
                .resources
                .get(&c.resource)
                .ok_or_else(|| err(format!("case `{}`: unknown resource `{}`", c.name, c.resource)))?;
            let mut principal = principal.clone();
            if let Some(p) = principal.as_object_mut() {
                p.entry("id").or_insert_with(|| serde_json::Value::String(c.principal.clone()));
            }
            let mut checks = Vec::new();
            for (actions, allowed) in [(&c.allow, true), (&c.deny, false)] {
                for action in actions {
                    let request = serde_json::json!({
                        "principal": principal,
                        "action": action,
                        "resource": resource,
                        "context": c.context,
                    });
                    checks.push((action.clone(), allowed, request.to_string()));
                }
            }
            if checks.is_empty() {
                return Err(err(format!("case `{}` lists no `allow` or `deny` actions", c.name)));
            }
            cases.push(Case { name: c.name, checks });
        }
        Ok(Suite { file: file.to_owned(), cases })
    }
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseResult {
    /// The suite's file.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// Whether every expectation held.
    pub passed: bool,
    /// For each expectation that failed: what was expected, what was decided, and why.
    pub failures: Vec<String>,
}

/// The results of a run, and rule coverage.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Every case, in order.
    pub cases: Vec<CaseResult>,
    /// Grants and policies no case made apply, as `grant of role `r` at file:line:col` or
    /// `policy `id` at file:line:col`.
    pub uncovered: Vec<String>,
    /// The share of grants and policies some case made apply, from 0 to 100.
    pub coverage: f64,
}

impl RunReport {
    /// The number of cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    /// The number of cases that failed.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// Runs suites against a snapshot.
pub fn run(snapshot: &Snapshot, suites: &[Suite]) -> RunReport {
    let mut covered = vec![false; snapshot.grants.len() + snapshot.policies.len()];
    let mut cases = Vec::new();
    for suite in suites {
        for case in &suite.cases {
            let mut failures = Vec::new();
            for (action, expected, json) in &case.checks {
                let request = match Request::from_json(json, &Limits::default()) {
                    Ok(r) => r,
                    Err(e) => {
                        failures.push(format!("`{action}`: the case's request is malformed: {e}"));
                        continue;
                    }
                };
                let (decision, trace) = snapshot.explain(&request);
                for (rule, outcome) in &trace.steps {
                    if *outcome == Outcome::Applies {
                        let i = match rule {
                            Rule::Grant { grant, .. } => grant.index(),
                            Rule::Policy(p) => snapshot.grants.len() + p.index(),
                        };
                        covered[i] = true;
                    }
                }
                if decision.is_allowed() != *expected {
                    failures.push(explain_failure(snapshot, &request, action, *expected, &decision));
                }
            }
            cases.push(CaseResult {
                file: suite.file.clone(),
                name: case.name.clone(),
                passed: failures.is_empty(),
                failures,
            });
        }
    }
    let total = covered.len();
    let hit = covered.iter().filter(|c| **c).count();
    let uncovered = covered
        .iter()
        .enumerate()
        .filter(|(_, c)| !**c)
        .map(|(i, _)| {
            let rule = if i < snapshot.grants.len() {
                Rule::Grant { role: snapshot.grants[i].role, grant: crate::GrantId::from_index(i) }
            } else {
                Rule::Policy(crate::PolicyId::from_index(i - snapshot.grants.len()))
            };
            snapshot.rule_label(rule)
        })
        .collect();
    let coverage = if total == 0 { 100.0 } else { hit as f64 * 100.0 / total as f64 };
    RunReport { cases, uncovered, coverage }
}

fn explain_failure(snapshot: &Snapshot, request: &Request<'_>, action: &str, expected: bool, d: &Decision) -> String {
    let permission = format!("{}:{}", request.resource.kind, request.action);
    let report = snapshot.explain_decision(d, &permission, None);
    let reasons: Vec<String> = report
        .reasons
        .iter()
        .map(|r| match (&r.policy, &r.role_path, &r.location) {
            (Some(p), _, Some(l)) => format!("{} policy `{p}` at {l}", r.rule),
            (_, Some(path), Some(l)) => format!("grant through {} at {l}", path.join(" -> ")),
            _ => r.outcome.clone().unwrap_or_else(|| r.rule.to_owned()),
        })
        .collect();
    let mut text = format!(
        "`{action}`: expected {}, got {} ({})",
        if expected { "allow" } else { "deny" },
        report.decision,
        reasons.join("; ")
    );
    for e in &report.errors {
        text.push_str(&format!("; error: {e}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicySet;

    fn snapshot() -> Snapshot {
        let mut set = PolicySet::new();
        set.add_source(
            "t.policy",
            "resource mail { actions: read, delete }\nrole viewer { grant mail:read }\nrole member inherits viewer {\n grant mail:delete when resource.owner == principal.id\n}\ndeny \"hold\" { actions: mail:delete\n resources: \"held-*\" }\n",
        );
        set.compile().unwrap()
    }

    const SUITE: &str = "principals:\n  alice: {roles: [member]}\nresources:\n  own: {kind: mail, id: m-1, attrs: {owner: alice}}\n  other: {kind: mail, id: m-2, attrs: {owner: bob}}\ncases:\n  - {name: own mail, principal: alice, resource: own, allow: [read, delete]}\n  - {name: other mail, principal: alice, resource: other, allow: [read], deny: [delete]}\n";

    #[test]
    fn cases_pass_and_coverage_names_what_was_never_exercised() {
        let suite = Suite::parse("t.test.yaml", SUITE).unwrap();
        let report = run(&snapshot(), &[suite]);
        assert_eq!((report.passed(), report.failed()), (2, 0));
        assert_eq!(report.uncovered.len(), 1);
        assert!(report.uncovered[0].starts_with("policy `hold` at t.policy:6:1"), "{:?}", report.uncovered);
        assert!((report.coverage - 200.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_failure_says_what_decided() {
        let wrong = SUITE.replace("allow: [read], deny: [delete]", "allow: [read, delete]");
        let report = run(&snapshot(), &[Suite::parse("t.test.yaml", &wrong).unwrap()]);
        assert_eq!(report.failed(), 1);
        let failure = &report.cases[1].failures[0];
        assert!(
            failure.starts_with("`delete`: expected allow, got deny (no grant or allow policy applies)"),
            "{failure}"
        );
    }

    #[test]
    fn malformed_suites_are_reported() {
        let e = Suite::parse("t.test.yaml", "cases:\n  - {name: x, principal: nobody, resource: r, allow: [read]}\n");
        assert_eq!(e.unwrap_err().message, "case `x`: unknown principal `nobody`");
        assert!(Suite::parse("t.test.yaml", "cases: [").is_err());
    }
}
