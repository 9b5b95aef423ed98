//! Diagnostics, asserted precisely: code, message, help, location and the underlined
//! text, for every kind of compile error, in both forms.

use rampart::{DiagnosticRecord, PolicySet};

/// Compiles sources that must fail; returns every diagnostic.
fn errors(sources: &[(&str, &str)]) -> Vec<DiagnosticRecord> {
    let mut set = PolicySet::new();
    for (name, text) in sources {
        set.add_source(*name, *text);
    }
    match set.compile() {
        Ok(_) => panic!("expected errors"),
        Err(report) => report.records(),
    }
}

/// The single diagnostic of one DSL file.
fn one(text: &str) -> DiagnosticRecord {
    let mut all = errors(&[("t.policy", text)]);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

/// `code`, `message`, `line:col` and the underlined text, in one comparable tuple.
fn summary(d: &DiagnosticRecord) -> (&str, &str, String, &str) {
    let at = d.location.as_ref().map(|l| format!("{}:{}", l.start.line, l.start.col)).unwrap_or_default();
    (d.code, d.message.as_str(), at, d.snippet.as_deref().unwrap_or(""))
}

const BASE: &str = "resource mail { actions: read, send }\n";

#[test]
fn syntax_errors_say_what_was_expected() {
    let d = one("resource mail { actions: read send }");
    assert_eq!(
        summary(&d),
        ("R0010", "syntax error: expected `,`, `actions`, `attributes` or `}`, found `send`", "1:31".into(), "s")
    );
    let d = one("role r { grant mail:read when }");
    assert_eq!(d.code, "R0010");
    assert!(d.message.contains("expected an expression"), "{}", d.message);
    assert_eq!(d.location.unwrap().start.col, 31);
}

#[test]
fn unknown_names_suggest_the_closest_one() {
    let d = one(&format!("{BASE}role viewer {{ grant mail:read }}\nrole member inherits viewr"));
    assert_eq!(summary(&d), ("R0003", "unknown role `viewr`", "3:22".into(), "viewr"));
    assert_eq!(d.help.as_deref(), Some("did you mean `viewer`?"));

    let d = one(&format!("{BASE}role r {{ grant mial:read }}"));
    assert_eq!(summary(&d), ("R0005", "unknown resource kind `mial`", "2:16".into(), "mial"));
    assert_eq!(d.help.as_deref(), Some("did you mean `mail`?"));

    let d = one(&format!("{BASE}role r {{ grant mail:sned }}"));
    assert_eq!(summary(&d), ("R0006", "unknown action `mail:sned`", "2:21".into(), "sned"));
    assert_eq!(d.help.as_deref(), Some("did you mean `send`?"));

    let d = one(&format!("{BASE}group basic = mail:read\nrole r {{ grant basci }}"));
    assert_eq!(summary(&d), ("R0004", "unknown group `basci`", "3:16".into(), "basci"));
    assert_eq!(d.help.as_deref(), Some("did you mean `basic`?"));

    let d = one(&format!("{BASE}role reader\ndeny \"x\" {{ actions: mail:read\n roles: q }}"));
    assert_eq!(summary(&d), ("R0003", "unknown role `q`", "4:9".into(), "q"));
    assert_eq!(d.help.as_deref(), Some("declare the role, or correct the spelling"));
}

#[test]
fn duplicates_point_at_both_definitions() {
    let all = errors(&[("a.policy", BASE), ("b.yaml", "resources:\n  mail:\n    actions: [read]\n")]);
    assert_eq!(all.len(), 1);
    assert_eq!(summary(&all[0]), ("R0011", "duplicate resource kind `mail`", "2:3".into(), "mail"));
    assert_eq!(all[0].location.as_ref().unwrap().file, "b.yaml");
    assert_eq!(all[0].help.as_deref(), Some("first defined at a.policy:1:10; rename or remove one of them"));

    let d = one("resource mail { actions: read, read }");
    assert_eq!(summary(&d), ("R0011", "duplicate action `mail:read`", "1:32".into(), "read"));
    let d = one(&format!("{BASE}allow \"p\" {{ actions: mail:read }}\ndeny \"p\" {{ actions: mail:send }}"));
    assert_eq!(summary(&d), ("R0011", "duplicate policy `p`", "3:6".into(), "\"p\""));
}

#[test]
fn cycles_name_every_role_in_them() {
    // Two cycles: a -> c -> b -> a and d -> d; the first is reported first.
    let all = errors(&[("t.policy", "role a inherits c\nrole b inherits a\nrole c inherits b\nrole d inherits d")]);
    assert_eq!(all.len(), 2);
    assert_eq!(summary(&all[0]), ("R0013", "inheritance cycle: a -> c -> b -> a", "1:17".into(), "c"));
    assert_eq!(summary(&all[1]), ("R0013", "inheritance cycle: d -> d", "4:17".into(), "d"));
}

#[test]
fn type_errors_use_declared_attribute_types() {
    let decl = "resource mail { actions: read\n attributes: { size: int, owner: string, tags: list<string> } }\n";
    let d = one(&format!("{decl}role r {{ grant mail:read when resource.size == \"big\" }}"));
    assert_eq!(
        summary(&d),
        ("R0015", "type error: cannot compare int with string using `==`", "3:31".into(), "resource.size == \"big\"")
    );
    let d = one(&format!("{decl}role r {{ grant mail:read when resource.owner > 3 }}"));
    assert_eq!(
        summary(&d),
        ("R0015", "type error: `>` compares integers, found string", "3:31".into(), "resource.owner")
    );
    let d = one(&format!("{decl}role r {{ grant mail:read when 3 in resource.tags }}"));
    assert_eq!(summary(&d), ("R0015", "type error: cannot look for int in a list<string>", "3:31".into(), "3"));
    let d = one(&format!("{decl}role r {{ grant mail:read when resource.size }}"));
    assert_eq!(
        summary(&d),
        ("R0015", "type error: a condition must be a bool, found int", "3:31".into(), "resource.size")
    );
    let d = one(&format!("{decl}role r {{ grant mail:read when !resource.owner }}"));
    assert_eq!(d.message, "type error: the operand of `!` must be a bool, found string");
}

#[test]
fn malformed_expressions_are_explained() {
    let cases = [
        (
            "context.ip in cidr(\"10.0.0.0/33\")",
            "R0014",
            "`33` is not a prefix length for an IPv4 network (0 to 32)",
            "\"10.0.0.0/33\"",
        ),
        ("lenn(context.x) > 1", "R0014", "unknown function `lenn`", "lenn(context.x)"),
        ("has(context.a, context.b)", "R0014", "`has` takes 1 argument, found 2", "has(context.a, context.b)"),
        ("cidr(\"10.0.0.0/8\")", "R0014", "`cidr(...)` can only appear on the right of `in`", "cidr(\"10.0.0.0/8\")"),
        ("user.id == \"a\"", "R0014", "unknown variable `user`", "user"),
        ("context.a in [context.b]", "R0014", "list items must be literals", "context.b"),
        ("\"boss\" in principal.roles", "R0003", "unknown role `boss`", "\"boss\""),
        ("principal.id.x == \"a\"", "R0014", "`principal.id` has no fields", "principal.id.x"),
        (
            "context.n == 99999999999999999999",
            "R0014",
            "integer `99999999999999999999` does not fit in 64 bits",
            "99999999999999999999",
        ),
    ];
    for (cond, code, message, snippet) in cases {
        let d = one(&format!("{BASE}role r {{ grant mail:read when {cond} }}"));
        assert_eq!(
            (d.code, d.message.as_str(), d.snippet.as_deref().unwrap_or("")),
            (code, message, snippet),
            "{cond}"
        );
        assert_eq!(d.location.unwrap().start.line, 2, "{cond}");
    }
}

#[test]
fn a_bare_kind_name_suggests_all_its_actions() {
    let d = one(&format!("{BASE}role r {{ grant mail }}"));
    assert_eq!(summary(&d), ("R0004", "unknown group `mail`", "2:16".into(), "mail"));
    assert_eq!(d.help.as_deref(), Some("did you mean `mail:*`?"));
}

#[test]
fn ip_literals_compared_with_ip_attributes_are_checked() {
    let decl = "resource host { actions: ssh\n attributes: { addr: ip } }\n";
    let d = one(&format!("{decl}role r {{ grant host:ssh when resource.addr == \"10.0.0.300\" }}"));
    assert_eq!(summary(&d), ("R0014", "`10.0.0.300` is not an IP address", "3:47".into(), "\"10.0.0.300\""));
}

#[test]
fn patterns_that_match_nothing_are_errors() {
    let d = one(&format!("{BASE}role r {{ grant *:write }}"));
    assert_eq!(summary(&d), ("R0012", "`*:write` matches no declared permission", "2:16".into(), "*:write"));
}

#[test]
fn yaml_errors_have_the_same_codes_and_exact_locations() {
    let yaml = "resources:\n  mail:\n    actions: [read]\nroles:\n  r:\n    inherits: [viewr]\n    grants:\n      - {permission: mail:read, when: 'resource.x == '}\n";
    let all = errors(&[("t.yaml", yaml)]);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(summary(&all[0]), ("R0003", "unknown role `viewr`", "6:16".into(), "viewr"));
    assert_eq!(all[1].code, "R0010");
    assert_eq!(all[1].location.as_ref().unwrap().start.line, 8);
    // The end of the condition, where an operand is missing.
    assert_eq!(all[1].location.as_ref().unwrap().start.col, 54);

    let d = &errors(&[("t.yaml", "policies:\n  - id: p\n    effect: perhaps\n    actions: [\"a:b\"]\n")])[0];
    assert_eq!(summary(d), ("R0014", "unknown effect `perhaps`", "3:13".into(), "perhaps"));

    let d = &errors(&[("t.yaml", "rolez:\n  a: {}\n")])[0];
    assert_eq!(d.code, "R0010");
    assert!(d.message.contains("unknown field `rolez`"), "{}", d.message);
    assert_eq!(d.location.as_ref().unwrap().start.line, 1);

    let d = &errors(&[(
        "t.yaml",
        "resources:\n  m: {actions: [a]}\npolicies:\n  - id: p\n    effect: allow\n    actions: [m:a]\n    when: !context.blocked\n",
    )])[0];
    assert_eq!((d.code, d.message.as_str()), ("R0010", "invalid YAML: unsupported tag `!context.blocked`"));
    assert_eq!(
        d.help.as_deref(),
        Some("a YAML value that starts with `!` is a tag: quote it, as in `when: '!context.mfa'`")
    );
    assert_eq!(d.location.as_ref().unwrap().start.line, 7);

    let d = &errors(&[(
        "t.yaml",
        "resources:\n  m: {actions: [a]}\npolicies:\n  - id: p\n    effect: allow\n    actions: [m:a]\n    when:\n",
    )])[0];
    assert_eq!((d.code, d.message.as_str()), ("R0014", "`when` has no condition"));
    assert_eq!(d.help.as_deref(), Some("write the condition as a string; quote it if it starts with `!`"));

    let d = &errors(&[("t.yaml", "resources:\n  m: {actions: [a]}\ngroups:\n  g: []\n")])[0];
    assert_eq!(summary(d), ("R0014", "group `g` lists no permissions", "4:3".into(), "g"));

    let d = &errors(&[("t.yaml", "roles: [unclosed\n")])[0];
    assert_eq!(d.code, "R0010");
    assert!(d.location.is_some());
}

#[test]
fn every_error_of_every_file_is_reported() {
    let all = errors(&[
        ("a.policy", "role a inherits nobody\nrole b { grant x:y }"),
        ("b.yaml", "roles:\n  c:\n    inherits: [ghost]\n"),
        ("c.policy", "resource {"),
    ]);
    let codes: Vec<(&str, String)> =
        all.iter().map(|d| (d.code, d.location.as_ref().map(|l| l.file.clone()).unwrap_or_default())).collect();
    assert_eq!(
        codes,
        [
            ("R0003", "a.policy".into()),
            ("R0005", "a.policy".into()),
            ("R0003", "b.yaml".into()),
            ("R0010", "c.policy".into())
        ]
    );
}

#[test]
fn limits_are_enforced_with_diagnostics() {
    let deep = format!("{BASE}role r {{ grant mail:read when {}context.a{} }}", "(".repeat(100), ")".repeat(100));
    let d = one(&deep);
    assert_eq!(d.code, "R0002");
    assert_eq!(d.message, "nesting depth of brackets (or run of `!`) exceeds the limit of 32");

    let chain = vec!["context.a"; 200].join(" && ");
    let d = one(&format!("{BASE}role r {{ grant mail:read when {chain} }}"));
    assert_eq!((d.code, d.message.as_str()), ("R0002", "expression nesting depth exceeds the limit of 32"));

    // Thirty levels of parentheses fit: only the tree's depth counts.
    let nested = format!("{}context.a{}", "(".repeat(30), ")".repeat(30));
    let mut set = PolicySet::new();
    set.add_source("t.policy", format!("{BASE}role r {{ grant mail:read when {nested} }}"));
    assert!(set.compile().is_ok());

    let nots = format!("{BASE}role r {{ grant mail:read when {}context.a }}", "!".repeat(500));
    assert_eq!(one(&nots).code, "R0002");
}

#[test]
fn rendering_looks_like_rustc() {
    let mut set = PolicySet::new();
    set.add_source("roles.policy", "resource mail { actions: read }\nrole viewer\nrole member inherits viewr\n");
    let report = set.compile().unwrap_err();
    let text = report.render(false);
    let expected = "\
error[R0003]: unknown role `viewr`
 --> roles.policy:3:22
  |
3 | role member inherits viewr
  |                      ^^^^^
  |
  = help: did you mean `viewer`?

error: could not compile the policy set due to 1 error
";
    assert_eq!(text, expected);
}

#[test]
fn empty_yaml_sections_are_empty() {
    let mut set = PolicySet::new();
    set.add_source("t.yaml", "resources:\ngroups:\nroles:\npolicies:\n");
    let snapshot = set.compile().unwrap();
    assert_eq!(snapshot.counts().roles, 0);
}

#[test]
fn yaml_cannot_take_part_of_a_condition_away() {
    let head = "resources:\n  m: {actions: [a], attributes: {flagged: bool}}\npolicies:\n";
    // An anchor named `&` swallows the operator; a tag (`! x`) swallows the negation.
    for (condition, code) in
        [("&& context.mfa", "R0014"), ("! context.mfa", "R0014"), ("!not resource.flagged", "R0010")]
    {
        let yaml = format!("{head}  - {{id: p, effect: deny, actions: [m:a], when: {condition}}}\n");
        let all = errors(&[("t.yaml", &yaml)]);
        assert_eq!(all[0].code, code, "{condition}: {all:#?}");
    }
    // A DSL comment inside a folded string would swallow the rest of the condition.
    let folded = format!(
        "{head}  - id: p\n    effect: deny\n    actions: [m:a]\n    when: >\n      context.a  # note\n      || context.b\n"
    );
    let d = &errors(&[("t.yaml", &folded)])[0];
    assert_eq!(d.message, "a condition written in YAML cannot contain a `#` comment");
    // Quoted, block and plain conditions without tricks are fine.
    let fine = format!(
        "{head}  - id: p\n    effect: deny\n    actions: [m:a]\n    when: >-\n      context.a\n      || context.b\n  - {{id: q, effect: deny, actions: [m:a], when: '!context.c'}}\n  - {{id: r, effect: deny, actions: [m:a], when: \"context.d == \\\"#1\\\"\"}}\n"
    );
    let mut set = PolicySet::new();
    set.add_source("t.yaml", fine);
    assert!(set.compile().is_ok());
}

#[test]
fn aliases_and_odd_line_ends_are_located_without_panicking() {
    // An alias to an unknown permission: the diagnostic points at the alias.
    let yaml = "resources: {mail: {actions: [read]}}\ngroups: {g: [&p \"mail:fly\"]}\nroles:\n  r:\n    grants:\n      - *p #é\n";
    let mut set = PolicySet::new();
    set.add_source("t.yaml", yaml);
    let report = set.compile().unwrap_err();
    let text = report.render(false);
    assert!(text.contains("unknown action `mail:fly`"), "{text}");
    // Lone carriage returns end lines for locations, as for the parser.
    let d = one("resource mail { actions: read }\rrole r { grant mail:raed }");
    assert_eq!(d.location.unwrap().start.line, 2);
    // A byte-order mark is ignored.
    let mut set = PolicySet::new();
    set.add_source("bom.policy", "\u{feff}resource mail { actions: read }");
    assert!(set.compile().is_ok());
}

#[test]
fn comments_ended_by_a_carriage_return_do_not_hide_nesting() {
    let text = format!(
        "resource a {{ actions: b }}\nrole r {{ grant a:b when # x\r{}context.x{} }}\n",
        "(".repeat(2000),
        ")".repeat(2000)
    );
    assert_eq!(one(&text).code, "R0002");
}

#[test]
fn wildcards_over_many_roles_are_bounded() {
    use rampart::Limits;
    let mut text = String::from("resource a { actions: x, y, z }\nrole base { grant *:* }\n");
    for i in 0..100 {
        text.push_str(&format!("role r{i} inherits base\n"));
    }
    let mut set = PolicySet::with_limits(Limits { max_index_entries: 200, ..Limits::default() });
    set.add_source("t.policy", text);
    let d = &set.compile().unwrap_err().records()[0];
    assert_eq!(d.code, "R0002");
    assert!(d.message.contains("permission index (303 entries)"), "{}", d.message);
}
