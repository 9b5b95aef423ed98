//! The decision corpus: one file per case under `tests/corpus/`, each with a DSL policy
//! set and requests with their expected decisions and reasons. Every case runs twice:
//! on the DSL text, and on its translation to YAML, which must decide identically.

use rampart::{PolicySet, Request, Snapshot, syntax};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[allow(dead_code)]
    description: String,
    policy: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    request: serde_json::Value,
    decision: String,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    errors: usize,
    #[serde(default)]
    warnings: usize,
    #[serde(default)]
    problem: Option<String>,
}

/// A reason as written in the corpus: `grant admin -> member`, `deny ID`, `allow ID`, `default`.
fn reason_text(r: &rampart::RuleReport) -> String {
    match r.rule {
        "grant" => format!("grant {}", r.role_path.clone().unwrap_or_default().join(" -> ")),
        "allow" | "deny" => format!("{} {}", r.rule, r.policy.clone().unwrap_or_default()),
        other => other.to_owned(),
    }
}

fn compile(name: &str, text: &str) -> Snapshot {
    let mut set = PolicySet::new();
    set.add_source(name, text);
    match set.compile() {
        Ok(s) => s,
        Err(report) => panic!("{name} does not compile:\n{}", report.render(false)),
    }
}

/// The YAML translation of a DSL text.
fn to_yaml(name: &str, dsl: &str) -> String {
    let mut set = PolicySet::new();
    set.add_source(name, dsl);
    let (files, errors) = set.parse();
    assert!(errors.is_empty(), "{name}: {errors:?}");
    syntax::to_yaml(&files[0])
}

fn run_file(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let file: CaseFile = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let yaml = to_yaml(&format!("{name}.policy"), &file.policy);
    let forms =
        [("dsl", compile(&format!("{name}.policy"), &file.policy)), ("yaml", compile(&format!("{name}.yaml"), &yaml))];
    let mut failures = 0;
    for case in &file.cases {
        let json = case.request.to_string();
        for (form, snapshot) in &forms {
            let request = Request::from_json(&json, snapshot.limits()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let decision = snapshot.check(&request);
            let permission = format!("{}:{}", request.resource.kind, request.action);
            let report = snapshot.explain_decision(&decision, &permission, None);
            let reasons: Vec<String> = if decision.reasons().next().is_some() {
                report.reasons.iter().map(reason_text).collect()
            } else {
                vec!["default".to_owned()]
            };
            let expected_reasons = if case.reasons.is_empty() && case.decision == "deny" {
                vec!["default".to_owned()]
            } else {
                case.reasons.clone()
            };
            let problem = decision.problem().map(|p| p.to_string());
            let ok = report.decision == case.decision
                && reasons == expected_reasons
                && decision.errors().len() == case.errors
                && report.warnings.len() == case.warnings
                && problem == case.problem;
            if !ok {
                failures += 1;
                eprintln!(
                    "FAIL {} / {} ({form}): got {} {:?}, {} errors {:?}, {} warnings, problem {:?}; \
                     expected {} {:?}, {} errors, {} warnings, problem {:?}",
                    path.display(),
                    case.name,
                    report.decision,
                    reasons,
                    decision.errors().len(),
                    report.errors,
                    report.warnings.len(),
                    problem,
                    case.decision,
                    expected_reasons,
                    case.errors,
                    case.warnings,
                    case.problem,
                );
            }
            // The explained evaluation decides the same way as the plain one.
            let (explained, trace) = snapshot.explain(&request);
            assert_eq!(explained.is_allowed(), decision.is_allowed(), "{}: explain disagrees", case.name);
            assert!(!trace.steps.is_empty() || decision.reasons().next().is_none());
        }
    }
    failures
}

#[test]
fn corpus_cases_decide_as_expected_in_both_forms() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 5, "the corpus is missing");
    let failures: usize =
        paths.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")).map(|p| run_file(p)).sum();
    assert_eq!(failures, 0, "corpus cases failed (see stderr)");
}
