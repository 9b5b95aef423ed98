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

/// Comments in a DSL text outside string literals (a `#` in a string is not one).
fn comment_count(text: &str) -> usize {
    let (mut n, mut in_string, mut escaped, mut in_comment) = (0, false, false, false);
    for c in text.chars() {
        match c {
            '\n' | '\r' => {
                in_comment = false;
                in_string = false;
            }
            _ if in_comment => {}
            _ if in_string && escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => {
                n += 1;
                in_comment = true;
            }
            _ => {}
        }
    }
    n
}

/// Formats a DSL text and checks what `rampart fmt` promises: same tree, same comments,
/// and formatting the result changes nothing. Returns the formatted text.
fn check_format(name: &str, text: &str) -> String {
    let original = parse(name, text);
    let formatted = rampart::syntax::format_dsl(&original[0], text);
    let reparsed = parse(name, &formatted);
    assert_eq!(original[0].items, reparsed[0].items, "{name}: formatting changed the meaning:\n{formatted}");
    assert_eq!(comment_count(text), comment_count(&formatted), "{name}: comments lost:\n{formatted}");
    let again = rampart::syntax::format_dsl(&reparsed[0], &formatted);
    assert_eq!(formatted, again, "{name}: formatting is not idempotent");
    formatted
}

#[test]
fn formatting_keeps_meaning_and_comments_and_is_idempotent() {
    for (name, text) in policy_texts().into_iter().filter(|(n, _)| n.ends_with(".policy")) {
        check_format(&name, &text);
    }
    // The bundled DSL files are kept formatted.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for file in ["access.policy", "resources.policy"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert_eq!(check_format(file, &text), text, "run `rampart fmt policies/`");
    }
}

#[test]
fn comments_stay_with_what_they_describe() {
    let text = "# header\n\n# the doc kind\nresource doc {   actions: read,write }\nrole  r {  # trailing on the header\n  # before the grant\n  grant doc:read   # after the grant\n  # before the brace\n}\n# at the end\n";
    let formatted = check_format("c.policy", text);
    let expected = "# header\n\n# the doc kind\nresource doc { actions: read, write }\n\nrole r {  # trailing on the header\n    # before the grant\n    grant doc:read  # after the grant\n    # before the brace\n}\n# at the end\n";
    assert_eq!(formatted, expected);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]

    #[test]
    fn fmt_and_convert_preserve_meaning(
        text in crate::reference::policy_set(),
        notes in proptest::collection::vec(0u8..4, 0..64),
    ) {
        // Sprinkle comments: after a line's code, or on a line of their own before it.
        let mut commented = String::new();
        for (i, line) in text.lines().enumerate() {
            match notes.get(i).copied().unwrap_or(0) {
                1 => commented.push_str(&format!("{line}  # note {i}\n")),
                2 => commented.push_str(&format!("# about line {i}\n{line}\n")),
                _ => commented.push_str(&format!("{line}\n")),
            }
        }
        check_format("random.policy", &commented);
        // Converting to YAML and back gives the same model.
        let dsl = parse("random.policy", &commented);
        let yaml = to_yaml(&dsl[0]);
        proptest::prop_assert_eq!(model(&dsl), model(&parse("random.yaml", &yaml)));
    }
}
