//! The bundled policy set `policies/` (Maily): it compiles, and every example request
//! under `policies/examples/` decides as its name says, for the intended reason.

use rampart::{Request, RuleReport};
use std::path::Path;

/// The rule expected to decide an example.
#[derive(Debug)]
enum Why {
    /// A grant, reached through this role path (the presented role first).
    Grant(&'static [&'static str]),
    /// The allow policy with this id.
    Allow(&'static str),
    /// The deny policy with this id, and no other.
    Deny(&'static str),
    /// A default deny: no grant or allow policy applies.
    Default,
}

/// (example file, allowed, deciding rule, role names the request presents that the set
/// does not declare).
const EXAMPLES: &[(&str, bool, Why, &[&str])] = &[
    ("manager-reads-mail-via-inheritance.json", true, Why::Grant(&["manager", "member", "viewer"]), &[]),
    ("member-deletes-own-mail.json", true, Why::Grant(&["member"]), &[]),
    ("member-deletes-someone-elses-mail.json", false, Why::Default, &[]),
    ("member-reads-pii-mail-without-mfa.json", false, Why::Deny("pii-requires-mfa"), &[]),
    ("admin-configures-workspace-outside-office.json", false, Why::Deny("admin-actions-from-trusted-networks"), &[]),
    ("support-reads-shared-mailbox.json", true, Why::Grant(&["support"]), &[]),
    ("support-reads-private-mailbox.json", false, Why::Default, &[]),
    ("oncall-break-glass-reads-private-mailbox.json", true, Why::Allow("break-glass-on-call"), &[]),
    ("manager-exports-contacts-with-mfa-and-reason.json", true, Why::Grant(&["manager"]), &[]),
    ("manager-exports-contacts-without-reason.json", false, Why::Deny("exports-need-mfa-and-reason-or-scope"), &[]),
    ("siem-exports-audit-log-with-oauth-scope.json", true, Why::Grant(&["auditor"]), &[]),
    ("unknown-role-is-ignored.json", false, Why::Default, &["superadmin"]),
];

fn reason_matches(r: &RuleReport, why: &Why) -> bool {
    match why {
        Why::Grant(path) => {
            r.rule == "grant"
                && r.role_path.as_deref().is_some_and(|p| p.iter().map(String::as_str).eq(path.iter().copied()))
        }
        Why::Allow(id) => r.rule == "allow" && r.policy.as_deref() == Some(*id),
        Why::Deny(id) => r.rule == "deny" && r.policy.as_deref() == Some(*id),
        Why::Default => r.rule == "default",
    }
}

#[test]
fn bundled_examples_decide_as_their_names_say() {
    let loaded = rampart::load(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"));
    if let Err(report) = &loaded {
        eprintln!("policies/ does not compile:\n{}", report.render(false));
    }
    let snapshot = loaded.unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/examples");

    // Every example file has an expectation, and every expectation has its file.
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|(file, ..)| String::from(*file)).collect();
    listed.sort();
    listed.dedup();
    assert_eq!(listed.len(), EXAMPLES.len(), "an example is listed twice");
    assert_eq!(on_disk, listed, "policies/examples/*.json and the EXAMPLES table differ");

    for (file, allowed, why, ignored_roles) in EXAMPLES {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let request = Request::from_json(&text, snapshot.limits()).map_err(|e| format!("{file}: {e}")).unwrap();
        let decision = snapshot.check(&request);
        let permission = format!("{}:{}", request.resource.kind, request.action);
        let report = snapshot.explain_decision(&decision, &permission, None);

        assert_eq!(decision.is_allowed(), *allowed, "{file}: wrong decision, reasons {:?}", report.reasons);
        assert_eq!(report.decision, if *allowed { "allow" } else { "deny" }, "{file}");
        assert!(decision.problem().is_none(), "{file}: {:?}", decision.problem());
        // No condition failed: the decision is the intended one, not a fail-closed accident.
        assert!(decision.errors().is_empty(), "{file}: condition errors {:?}", report.errors);
        assert!(
            report.reasons.len() == 1 && reason_matches(&report.reasons[0], why),
            "{file}: expected {why:?}, got {:?}",
            report.reasons
        );
        assert_eq!(decision.unknown_roles().collect::<Vec<_>>(), ignored_roles.to_vec(), "{file}: ignored roles");

        // The explained evaluation agrees with the plain one.
        let (explained, _) = snapshot.explain(&request);
        assert_eq!(explained.is_allowed(), *allowed, "{file}: explain disagrees");
    }
}
