//! Hostile input: nothing a policy file or a request contains makes Rampart panic,
//! overflow its stack or hang. Every case must end in a value or a diagnostic.

use proptest::prelude::*;
use rampart::{Limits, LintConfig, PolicySet, Request};

const VALID_DSL: &str = include_str!("../policies/access.policy");
const VALID_YAML: &str = include_str!("../policies/roles.yaml");
const VALID_REQUEST: &str = include_str!("../policies/examples/member-deletes-own-mail.json");

/// Compiles one text as a file of the given name, and lints it when it compiles; only
/// the absence of a panic matters.
fn compile(name: &str, text: &str) -> bool {
    let mut set = PolicySet::new();
    set.add_source(name, text);
    set.check(&LintConfig::default()).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        compile("x.policy", &text);
        compile("x.yaml", &text);
        let _ = Request::from_json(&text, &Limits::default());
    }

    #[test]
    fn truncated_and_spliced_files_never_panic(cut in 0usize..4000, at in 0usize..4000, junk in "[{}()\\[\\]\"':,!&|=<>*#\\\\ a-z0-9\\n]{0,12}") {
        for (name, valid) in [("x.policy", VALID_DSL), ("x.yaml", VALID_YAML), ("x.json", VALID_REQUEST)] {
            let mut text: String = valid.chars().take(cut % (valid.len() + 1)).collect();
            let at = text.char_indices().map(|(i, _)| i).nth(at % (text.chars().count() + 1)).unwrap_or(text.len());
            text.insert_str(at, &junk);
            if name.ends_with(".json") {
                let _ = Request::from_json(&text, &Limits::default());
            } else {
                compile(name, &text);
            }
        }
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing() {
    let deep = 20_000;
    let dsl = format!("role r {{ grant a:b when {}context.x{} }}", "(".repeat(deep), ")".repeat(deep));
    assert!(!compile("deep.policy", &dsl));
    let nots = format!("resource a {{ actions: b }}\nrole r {{ grant a:b when {}context.x }}", "!".repeat(deep));
    assert!(!compile("nots.policy", &nots));
    let chain =
        format!("resource a {{ actions: b }}\nrole r {{ grant a:b when {} }}", vec!["context.x"; deep].join(" && "));
    assert!(!compile("chain.policy", &chain));
    let yaml = format!("roles: {}{}", "[".repeat(deep), "]".repeat(deep));
    assert!(!compile("deep.yaml", &yaml));
    let cond = format!(
        "policies:\n  - id: p\n    effect: deny\n    actions: [\"a:b\"]\n    when: '{}true{}'\n",
        "(".repeat(deep),
        ")".repeat(deep)
    );
    assert!(!compile("cond.yaml", &cond));
    let json = format!("{}{}", "[".repeat(deep), "]".repeat(deep));
    assert!(Request::from_json(&json, &Limits { max_request_bytes: usize::MAX, ..Limits::default() }).is_err());
}

#[test]
fn long_inheritance_chains_are_bounded() {
    // A chain of 5,000 roles: closures would hold 12.5 million entries, over the limit.
    let mut text = String::from("role r0\n");
    for i in 1..5_000 {
        text.push_str(&format!("role r{i} inherits r{}\n", i - 1));
    }
    let mut set = PolicySet::with_limits(Limits { max_closure_entries: 1_000_000, ..Limits::default() });
    set.add_source("chain.policy", text);
    let report = set.compile().unwrap_err();
    assert_eq!(report.records()[0].code, "R0002");
}

#[test]
fn long_inheritance_chains_are_linted_without_overflowing() {
    // A chain of 1,500 roles compiles (1.1 million closure entries); the depth lint walks
    // it without recursion and reports the chain once.
    let mut text = String::from("resource a { actions: b }\nrole r0 { grant a:b }\n");
    for i in 1..1_500 {
        text.push_str(&format!("role r{i} inherits r{} {{ grant a:b when context.x == {i} }}\n", i - 1));
    }
    let mut set = PolicySet::new();
    set.add_source("chain.policy", text);
    let (_, report) = set.check(&LintConfig::default()).unwrap();
    let deep: Vec<String> = report.records().into_iter().filter(|r| r.code == "W0008").map(|r| r.message).collect();
    assert_eq!(deep.len(), 1, "{deep:?}");
    assert!(
        deep[0].starts_with("role `r9` is 9 levels deep (`r9 -> r8 -> r7 -> r6 -> r5 -> r4 -> r3 -> r2 -> r1 -> r0`)")
    );
}

#[test]
fn lints_survive_hostile_text_in_names_strings_and_comments() {
    let text = "resource a { actions: b }\n# \u{202e}\u{2066}\u{feff}\u{e0041}\n\
                allow \"\u{202e}x\u{200b}\" { actions: a:b\n principals: \"\u{2028}\", \"\u{ad}\" }\n\
                allow \"X\" { actions: *:*\n when: \"\u{202e}\" == \"\u{202e}\" || len(\"\u{e0041}\") > 0 }\n";
    let mut set = PolicySet::new();
    set.add_source("t.policy", text);
    let (_, report) = set.check(&LintConfig::default()).unwrap();
    let _ = report.render(false);
    assert!(report.records().iter().any(|r| r.code == "W0009"));
}

#[test]
fn binary_and_oversized_files_are_reported() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-files");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("binary.policy"), [0xff, 0xfe, 0x00, 0x80, 0x41]).unwrap();
    std::fs::write(dir.join("huge.yaml"), vec![b'#'; 2048]).unwrap();
    let mut set = PolicySet::with_limits(Limits { max_file_bytes: 1024, ..Limits::default() });
    set.add_path(&dir);
    let records = set.compile().unwrap_err().records();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(records.len(), 2, "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("binary.policy") && m.contains("not UTF-8")), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.contains("huge.yaml") && m.contains("exceeds the limit of 1024")),
        "{messages:?}"
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_special_files_do_not_hang_the_loader() {
    use std::os::unix::fs::symlink;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-links");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.policy"), "resource a { actions: b }\n").unwrap();
    symlink(".", dir.join("a")).unwrap();
    symlink(".", dir.join("b")).unwrap();
    symlink("/dev/zero", dir.join("zero.policy")).unwrap();
    let mut set = PolicySet::new();
    set.add_path(&dir);
    let records = set.compile().unwrap_err().records();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert!(records[0].message.contains("zero.policy") && records[0].message.contains("not a regular file"));
    assert_eq!(set.sources().len(), 1, "the loops are not followed");
}

/// A directory reached by two links is loaded once, the first time (in name order); a
/// fan of links that reaches one directory by 2^30 paths is walked in a moment.
#[cfg(unix)]
#[test]
fn a_directory_reached_by_many_links_is_loaded_once() {
    use std::os::unix::fs::symlink;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-fan");
    let _ = std::fs::remove_dir_all(&dir);
    for level in 0..=30 {
        std::fs::create_dir_all(dir.join(format!("d{level}"))).unwrap();
    }
    for level in 0..30 {
        symlink(format!("../d{}", level + 1), dir.join(format!("d{level}/x"))).unwrap();
        symlink(format!("../d{}", level + 1), dir.join(format!("d{level}/y"))).unwrap();
    }
    std::fs::write(dir.join("d30/p.policy"), "resource a { actions: b }\n").unwrap();
    let mut set = PolicySet::new();
    set.add_path(dir.join("d0"));
    assert!(set.compile().is_ok(), "no duplicate declarations");
    let names: Vec<String> = set.sources().iter().map(|(_, s)| s.name().to_owned()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(&format!("d0{}/p.policy", "/x".repeat(30))), "{names:?}");
}
