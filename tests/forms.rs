//! The DSL and YAML forms mean the same thing: the specification's example in both
//! forms compiles to equal models, and printing a tree in either form and parsing it
//! back gives the same tree, for every bundled policy file and corpus policy.

use rampart::PolicySet;
use rampart::syntax::ast::*;
use rampart::syntax::{perm_ref, to_dsl, to_yaml};
use std::path::Path;

const EXAMPLE_DSL: &str = r#"
resource mail {
    actions: read, send, delete, archive, export
    attributes: { owner: string, classification: string, size: int }
}
resource contact {
    actions: read, write, delete
    attributes: { classification: string }
}
resource workspace { actions: read, configure }
resource billing { actions: read, manage }

group mail_basic = mail:read, mail:send, contact:read

role viewer {
    grant mail:read, contact:read, workspace:read
}
role member inherits viewer {
    grant mail_basic, mail:archive, contact:write
    grant mail:delete when resource.owner == principal.id
}
role admin inherits member {
    grant *:*
}
role support {
    grant mail:read on "shared-*"
}

deny "pii-requires-mfa" {
    actions: mail:*, contact:*
    when: resource.classification == "pii" && !context.mfa
}
deny "admin-from-office" {
    actions: workspace:configure, billing:*
    unless: context.ip in cidr("10.0.0.0/8")
}
allow "break-glass" {
    actions: *:read
    principals: "oncall-*"
    when: context.break_glass == true
}
"#;

const EXAMPLE_YAML: &str = r#"
resources:
  mail:
    actions: [read, send, delete, archive, export]
    attributes: {owner: string, classification: string, size: int}
  contact:
    actions: [read, write, delete]
    attributes: {classification: string}
  workspace:
    actions: [read, configure]
  billing:
    actions: [read, manage]
groups:
  mail_basic: [mail:read, mail:send, contact:read]
roles:
  viewer:
    grants: [mail:read, contact:read, workspace:read]
  member:
    inherits: [viewer]
    grants:
      - mail_basic
      - mail:archive
      - contact:write
      - {permission: mail:delete, when: "resource.owner == principal.id"}
  admin:
    inherits: [member]
    grants: ["*:*"]
  support:
    grants:
      - {permission: mail:read, on: "shared-*"}
policies:
  - id: pii-requires-mfa
    effect: deny
    actions: ["mail:*", "contact:*"]
    when: 'resource.classification == "pii" && !context.mfa'
  - id: admin-from-office
    effect: deny
    actions: [workspace:configure, "billing:*"]
    unless: context.ip in cidr("10.0.0.0/8")
  - id: break-glass
    effect: allow
    actions: ["*:read"]
    principals: ["oncall-*"]
    when: context.break_glass == true
"#;

/// A grant item with its limits, one per permission reference.
type FlatGrant = (String, PermRef, Option<StrLit>, Option<Expr>);

/// Declarations by kind and name, order-free; grants flattened to one item each.
#[derive(Debug, PartialEq)]
struct Model {
    resources: Vec<ResourceDecl>,
    groups: Vec<GroupDecl>,
    roles: Vec<(Ident, Vec<Ident>, Vec<FlatGrant>)>,
    policies: Vec<PolicyDecl>,
}

fn model(files: &[PolicyFile]) -> Model {
    let items: Vec<&Item> = files.iter().flat_map(|f| &f.items).collect();
    let mut m = Model { resources: vec![], groups: vec![], roles: vec![], policies: vec![] };
    for item in items {
        match item {
            Item::Resource(r) => m.resources.push(r.clone()),
            Item::Group(g) => m.groups.push(g.clone()),
            Item::Role(r) => {
                let mut grants: Vec<FlatGrant> = r
                    .grants
                    .iter()
                    .flat_map(|g| g.items.iter().map(|i| (perm_ref(i), i.clone(), g.on.clone(), g.when.clone())))
                    .collect();
                grants.sort_by(|a, b| a.0.cmp(&b.0));
                m.roles.push((r.name.clone(), r.inherits.clone(), grants));
            }
            Item::Policy(p) => m.policies.push(p.clone()),
        }
    }
    m.resources.sort_by(|a, b| a.name.name.cmp(&b.name.name));
    m.groups.sort_by(|a, b| a.name.name.cmp(&b.name.name));
    m.roles.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    m.policies.sort_by(|a, b| a.id.value.cmp(&b.id.value));
    m
}

fn parse(name: &str, text: &str) -> Vec<PolicyFile> {
    let mut set = PolicySet::new();
    set.add_source(name, text);
    let (files, errors) = set.parse();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    files
}

#[test]
fn the_example_means_the_same_in_both_forms() {
    let dsl = model(&parse("example.policy", EXAMPLE_DSL));
    let yaml = model(&parse("example.yaml", EXAMPLE_YAML));
    assert_eq!(dsl.roles.len(), 4);
    assert_eq!(dsl.policies.len(), 3);
    assert_eq!(dsl, yaml);
    for (name, text) in [("example.policy", EXAMPLE_DSL), ("example.yaml", EXAMPLE_YAML)] {
        let mut set = PolicySet::new();
        set.add_source(name, text);
        let snapshot = set.compile().unwrap_or_else(|r| panic!("{}", r.render(false)));
        let held = snapshot.effective_permissions("member").unwrap();
        let names: Vec<&str> = held.iter().map(|h| h.permission.as_str()).collect();
        assert!(names.contains(&"mail:send") && names.contains(&"workspace:read"), "{names:?}");
    }
}

#[test]
fn a_changed_translation_is_not_equal() {
    let dsl = model(&parse("example.policy", EXAMPLE_DSL));
    let changed = EXAMPLE_YAML.replace("on: \"shared-*\"", "on: \"public-*\"");
    assert_ne!(dsl, model(&parse("example.yaml", &changed)));
}

fn policy_texts() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = vec![("example.policy".to_owned(), EXAMPLE_DSL.to_owned())];
    for entry in std::fs::read_dir(root.join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".policy") || (name.ends_with(".yaml") && !name.ends_with(".test.yaml")) {
            texts.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    for entry in std::fs::read_dir(root.join("tests/corpus")).unwrap() {
        let path = entry.unwrap().path();
        let case: serde_json::Value = serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = format!("{}.policy", path.file_stem().unwrap().to_string_lossy());
        texts.push((name, case["policy"].as_str().unwrap().to_owned()));
    }
    texts
}

#[test]
fn printing_and_parsing_round_trips_in_both_forms() {
    let texts = policy_texts();
    assert!(texts.len() >= 8, "expected the bundled policies and the corpus");
    for (name, text) in texts {
        let original = parse(&name, &text);
        let as_dsl = to_dsl(&original[0]);
        let as_yaml = to_yaml(&original[0]);
        let from_dsl = parse("printed.policy", &as_dsl);
        let from_yaml = parse("printed.yaml", &as_yaml);
        assert_eq!(original[0].items, from_dsl[0].items, "{name} via DSL:\n{as_dsl}");
        assert_eq!(model(&original), model(&from_yaml), "{name} via YAML:\n{as_yaml}");
        // Printing is stable: the printed DSL prints to itself.
        assert_eq!(to_dsl(&from_dsl[0]), as_dsl, "{name}");
    }
}
