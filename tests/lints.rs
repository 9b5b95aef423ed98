//! Lints, asserted precisely: code, message, help, location and the underlined text of
//! every warning, one test per lint; and lints stay quiet where they should.

use rampart::{DiagnosticRecord, LintConfig, PolicySet, Severity};

/// Compiles and lints sources that must compile; returns every warning.
fn warnings_with(config: &LintConfig, sources: &[(&str, &str)]) -> Vec<DiagnosticRecord> {
    let mut set = PolicySet::new();
    for (name, text) in sources {
        set.add_source(*name, *text);
    }
    match set.check(config) {
        Ok((_, report)) => {
            let records = report.records();
            assert!(records.iter().all(|r| r.severity == Severity::Warning), "{records:#?}");
            records
        }
        Err(report) => panic!("expected the set to compile:\n{}", report.render(false)),
    }
}

/// The warnings of one DSL file, with the default configuration.
fn warnings(text: &str) -> Vec<DiagnosticRecord> {
    warnings_with(&LintConfig::default(), &[("t.policy", text)])
}

/// `code`, `message`, `line:col` and the underlined text, in one comparable tuple.
fn summary(d: &DiagnosticRecord) -> (&str, &str, String, &str) {
    let at = d.location.as_ref().map(|l| format!("{}:{}", l.start.line, l.start.col)).unwrap_or_default();
    (d.code, d.message.as_str(), at, d.snippet.as_deref().unwrap_or(""))
}

fn summaries(all: &[DiagnosticRecord]) -> Vec<(&str, &str, String, &str)> {
    all.iter().map(summary).collect()
}

const DOC: &str = "resource doc { actions: read, edit }\n";

#[test]
fn w0001_unused_groups_and_roles_that_do_nothing() {
    let all = warnings(&format!(
        "{DOC}group basic = doc:read\nrole viewer {{ grant doc:read }}\nrole auditor\nrole marker\ndeny \"d\" {{ actions: doc:edit\n roles: marker }}\n"
    ));
    assert_eq!(
        summaries(&all),
        [
            ("W0001", "group `basic` is never used", "2:7".into(), "basic"),
            ("W0001", "role `auditor` grants nothing and is never inherited or named", "4:6".into(), "auditor"),
        ]
    );
    assert_eq!(all[0].help.as_deref(), Some("grant it in a role or list it in a policy's `actions`, or remove it"));
    assert_eq!(all[1].help.as_deref(), Some("give it grants, or remove it"));

    // Inherited, or named by a condition: used. A computed role name could be any role.
    let used = format!(
        "{DOC}role base\nrole viewer inherits base {{ grant doc:read }}\nrole flagged\nallow \"a\" {{ actions: doc:edit\n when: \"flagged\" in principal.roles }}\n"
    );
    assert_eq!(summaries(&warnings(&used)), []);
    let computed = format!(
        "{DOC}role ghost\nallow \"a\" {{ actions: doc:read\n when: has(context.role) && context.role in principal.roles }}\n"
    );
    assert_eq!(summaries(&warnings(&computed)), []);

    // YAML: the name's own span.
    let all = warnings_with(
        &LintConfig::default(),
        &[("t.yaml", "resources: {doc: {actions: [read]}}\ngroups:\n  basic: [doc:read]\n")],
    );
    assert_eq!(summaries(&all), [("W0001", "group `basic` is never used", "3:3".into(), "basic")]);
}

#[test]
fn w0002_roles_that_add_nothing_to_their_parents() {
    let all = warnings(&format!(
        "{DOC}role viewer {{ grant doc:read }}\nrole reader inherits viewer\nrole copy inherits viewer {{ grant doc:read }}\n"
    ));
    assert_eq!(
        summaries(&all),
        [
            ("W0002", "role `reader` grants nothing beyond what it inherits from `viewer`", "3:6".into(), "reader"),
            ("W0002", "role `copy` grants nothing beyond what it inherits from `viewer`", "4:6".into(), "copy"),
        ]
    );
    assert_eq!(all[0].help.as_deref(), Some("use `viewer` instead, or give `reader` grants of its own"));
    assert_eq!(
        all[1].help.as_deref(),
        Some("every grant of `copy` is already inherited: remove them, and use the roles it inherits instead")
    );

    // Two parents combine; a role a policy names differs from its parent.
    let fine = format!(
        "{DOC}role viewer {{ grant doc:read }}\nrole editor {{ grant doc:edit }}\nrole both inherits viewer, editor\nrole contractor inherits viewer\ndeny \"c\" {{ actions: doc:read\n roles: contractor\n when: context.late }}\n"
    );
    assert_eq!(summaries(&warnings(&fine)), []);
}

#[test]
fn w0003_grants_already_inherited_unconditionally() {
    let all = warnings(&format!(
        "{DOC}role viewer {{ grant doc:read }}\nrole member inherits viewer {{\n    grant doc:read when context.mfa\n    grant doc:edit\n}}\nrole lead inherits member {{\n    grant doc:read, doc:edit\n    grant doc:edit on \"x-*\"\n    grant doc:*\n    grant note:read\n}}\nresource note {{ actions: read }}\n"
    ));
    assert_eq!(
        summaries(&all),
        [
            ("W0003", "`doc:read` is already inherited from `viewer`", "4:5".into(), "grant doc:read when context.mfa"),
            (
                "W0003",
                "`doc:read` and `doc:edit` are already inherited from `viewer` and `member`",
                "8:5".into(),
                "grant doc:read, doc:edit"
            ),
            ("W0003", "`doc:edit` is already inherited from `member`", "9:5".into(), "grant doc:edit on \"x-*\""),
            ("W0003", "`doc:*` is already inherited from `viewer` and `member`", "10:5".into(), "grant doc:*"),
        ]
    );
    assert_eq!(
        all[0].help.as_deref(),
        Some("remove the grant: `member` holds it unconditionally through `member -> viewer`")
    );
    assert_eq!(
        all[1].help.as_deref(),
        Some("remove the grant: `lead` holds them unconditionally through `lead -> member -> viewer`")
    );

    // One item of a grant: the item alone. A parent's limited grant is not the same.
    let all = warnings(&format!(
        "{DOC}role viewer {{ grant doc:read }}\nrole limited {{ grant doc:edit when context.mfa }}\nrole member inherits viewer, limited {{\n    grant doc:edit, doc:read\n}}\n"
    ));
    assert_eq!(
        summaries(&all),
        [("W0003", "`doc:read` is already inherited from `viewer`", "5:21".into(), "doc:read")]
    );
    assert_eq!(
        all[0].help.as_deref(),
        Some("remove `doc:read` from the grant: `member` holds it unconditionally through `member -> viewer`")
    );
}

#[test]
fn w0004_allow_policies_shadowed_by_unconditional_denies() {
    let text = "resource billing { actions: read, refund }\nrole finance { grant billing:read }\n\
                deny \"freeze\" { actions: billing:* }\nallow \"finance-refunds\" {\n    actions: billing:refund\n    roles: finance\n}\n";
    let all = warnings(text);
    assert_eq!(
        summaries(&all),
        [(
            "W0004",
            "allow policy `finance-refunds` never takes effect: deny policy `freeze` refuses every permission it covers",
            "4:7".into(),
            "\"finance-refunds\""
        )]
    );
    assert_eq!(
        all[0].help.as_deref(),
        Some("narrow the deny policy (`roles`, `principals`, `resources` or a condition), or remove the allow policy")
    );

    // Two denies together; `when: true` and `resources: "*"` do not narrow.
    let all = warnings(&format!(
        "{DOC}deny \"a\" {{ actions: doc:read\n when: true }}\ndeny \"b\" {{ actions: doc:edit\n resources: \"*\" }}\nallow \"c\" {{ actions: doc:* }}\n"
    ));
    let shadowed: Vec<&str> = all.iter().filter(|d| d.code == "W0004").map(|d| d.message.as_str()).collect();
    assert_eq!(
        shadowed,
        ["allow policy `c` never takes effect: deny policies `a` and `b` refuse every permission it covers"]
    );

    // A deny with a condition, a role or a resource glob can let the allow through.
    for narrowing in ["when: context.frozen", "roles: r", "resources: \"x-*\"", "principals: \"bob\""] {
        let text = format!(
            "{DOC}role r {{ grant doc:edit }}\ndeny \"d\" {{ actions: doc:read\n {narrowing} }}\nallow \"a\" {{ actions: doc:read }}\n"
        );
        assert_eq!(summaries(&warnings(&text)), [], "{narrowing}");
    }
}

#[test]
fn w0005_constant_conditions() {
    let all = warnings(
        "resource mail { actions: read, delete\n attributes: { owner: string, size: int } }\n\
         role member {\n    grant mail:delete when resource.owner == resource.owner\n    grant mail:read when context.a || 1 > 2\n}\n\
         deny \"d\" { actions: mail:delete\n unless: true }\n",
    );
    assert_eq!(
        summaries(&all),
        [
            ("W0005", "condition is always true", "4:28".into(), "resource.owner == resource.owner"),
            ("W0005", "`1 > 2` is always false", "5:39".into(), "1 > 2"),
            ("W0005", "condition is always true", "8:10".into(), "true"),
        ]
    );
    assert_eq!(all[0].help.as_deref(), Some("both sides are `resource.owner`: compare with the value meant"));
    assert_eq!(
        all[1].help.as_deref(),
        Some("it does not depend on the request: write the condition meant, or remove it")
    );

    let all = warnings(&format!("{DOC}allow \"a\" {{ actions: doc:read\n when: context.x || !false }}\n"));
    assert_eq!(summaries(&all), [("W0005", "condition is always true", "3:8".into(), "context.x || !false")]);
    // Conditions that read the request are not constant.
    let fine =
        format!("{DOC}allow \"a\" {{ actions: doc:read\n when: context.x && true || context.y != context.z }}\n");
    assert_eq!(summaries(&warnings(&fine)), []);
}

#[test]
fn w0006_full_access_outside_administrative_roles() {
    let all = warnings(&format!(
        "{DOC}group everything = *:*\nrole support {{ grant doc:read, *:* }}\nrole ops {{ grant everything }}\nadmin role owner {{ grant *:* }}\n\
         allow \"root\" {{ actions: *:*\n principals: \"root\" }}\nallow \"owners\" {{ actions: *:*\n roles: owner }}\n"
    ));
    assert_eq!(
        summaries(&all),
        [
            (
                "W0006",
                "`*:*` grants every permission to `support`, which is not marked administrative",
                "3:32".into(),
                "*:*"
            ),
            (
                "W0006",
                "group `everything` (`*:*`) grants every permission to `ops`, which is not marked administrative",
                "4:18".into(),
                "everything"
            ),
            ("W0006", "allow policy `root` allows every permission through `*:*`", "6:25".into(), "*:*"),
        ]
    );
    assert_eq!(
        all[0].help.as_deref(),
        Some(
            "grant only the permissions `support` needs, or mark it `admin role support` (in YAML, `administrative: true`)"
        )
    );
    assert_eq!(
        all[2].help.as_deref(),
        Some("list the permissions it needs, or limit it with `roles:` to administrative roles")
    );

    // YAML: `administrative: true`.
    let yaml = "resources: {doc: {actions: [read]}}\nroles:\n  owner:\n    administrative: true\n    grants: [\"*:*\"]\n  helper:\n    grants: [\"*:*\"]\n";
    let all = warnings_with(&LintConfig::default(), &[("t.yaml", yaml)]);
    assert_eq!(
        summaries(&all),
        [(
            "W0006",
            "`*:*` grants every permission to `helper`, which is not marked administrative",
            "7:15".into(),
            "*:*"
        )]
    );
}

#[test]
fn w0007_attributes_the_rule_kinds_do_not_declare() {
    let text = "resource mail { actions: read\n attributes: { owner: string } }\nresource note { actions: read }\n\
                role member {\n    grant mail:read when resource.onwer == principal.id\n    grant mail:read, note:read when has(resource.owner) && resource.owner == principal.id\n}\n";
    let all = warnings(text);
    assert_eq!(
        summaries(&all),
        [
            ("W0007", "`resource.onwer` is not declared on resource kind `mail`", "5:26".into(), "resource.onwer"),
            ("W0007", "`resource.owner` is not declared on resource kind `note`", "6:41".into(), "resource.owner"),
        ]
    );
    assert_eq!(all[0].help.as_deref(), Some("did you mean `resource.owner`?"));
    assert_eq!(
        all[1].help.as_deref(),
        Some("declare `owner` in the attributes of `resource note`, or limit the rule to kinds that declare it")
    );
    // `id` and `kind` always exist; principal and context attributes are not declared.
    let fine = format!(
        "{DOC}allow \"a\" {{ actions: doc:read\n when: resource.id == principal.id && resource.kind == context.k }}\n"
    );
    assert_eq!(summaries(&warnings(&fine)), []);
}

#[test]
fn w0008_inheritance_deeper_than_the_limit() {
    let text = format!(
        "{DOC}role a {{ grant doc:read }}\nrole b inherits a {{ grant doc:edit on \"b-*\" }}\nrole c inherits b {{ grant doc:edit on \"c-*\" }}\n\
         role d inherits c, a {{ grant doc:edit on \"d-*\" }}\nrole e inherits d {{ grant doc:edit on \"e-*\" }}\n"
    );
    let all = warnings_with(&LintConfig { max_inheritance_depth: 2 }, &[("t.policy", &text)]);
    assert_eq!(
        summaries(&all),
        [("W0008", "role `d` is 3 levels deep (`d -> c -> b -> a`), more than the limit of 2", "5:6".into(), "d")]
    );
    assert_eq!(
        all[0].help.as_deref(),
        Some(
            "flatten the hierarchy (roles that inherit this one are deeper still), or raise the limit with `--max-depth`"
        )
    );
    assert_eq!(summaries(&warnings(&text)), [], "the default limit is 8");
}

#[test]
fn w0009_invisible_and_bidirectional_characters() {
    let text = format!(
        "{DOC}# access for admins \u{202e}\u{2066} only\nrole viewer {{ grant doc:read }}\nallow \"a\" {{ actions: doc:read\n principals: \"ad\u{200b}min\" }}\n"
    );
    let all = warnings(&text);
    assert_eq!(
        summaries(&all),
        [
            (
                "W0009",
                "bidirectional control characters U+202E (right-to-left override), U+2066 (left-to-right isolate)",
                "2:21".into(),
                "\u{202e}\u{2066}"
            ),
            ("W0009", "invisible character U+200B (zero width space)", "5:17".into(), "\u{200b}"),
        ]
    );
    assert_eq!(
        all[0].help.as_deref(),
        Some(
            "it can make the text display in another order than it is read (Trojan Source): remove it; inside a string, write it as an escape (`\\u{202e}`) if it is really meant"
        )
    );
    // In YAML too, comments included.
    let all = warnings_with(&LintConfig::default(), &[("t.yaml", "# \u{feff}\nresources: {doc: {actions: [read]}}\n")]);
    assert_eq!(
        summaries(&all),
        [("W0009", "invisible character U+FEFF (zero width no-break space)", "1:3".into(), "\u{feff}")]
    );
}

#[test]
fn w0010_confusable_names() {
    let all = warnings(&format!(
        "{DOC}role team_lead {{ grant doc:read }}\nrole team-lead {{ grant doc:edit }}\nrole Viewer {{ grant doc:read }}\nrole viewer {{ grant doc:edit }}\n\
         allow \"admin-only\" {{ actions: doc:read\n roles: team_lead, team-lead, Viewer, viewer }}\nallow \"\u{430}dmin-only\" {{ actions: doc:edit\n roles: viewer }}\n"
    ));
    assert_eq!(
        summaries(&all),
        [
            ("W0010", "role `team-lead` can be confused with role `team_lead`", "3:6".into(), "team-lead"),
            ("W0010", "role `viewer` can be confused with role `Viewer`", "5:6".into(), "viewer"),
            (
                "W0010",
                "policy `\u{430}dmin-only` can be confused with policy `admin-only`",
                "8:7".into(),
                "\"\u{430}dmin-only\""
            ),
        ]
    );
    assert_eq!(
        all[0].help.as_deref(),
        Some("they differ only in `-` and `_`; rename one of them (`team_lead` is declared at t.policy:2:6)")
    );
    assert_eq!(
        all[1].help.as_deref(),
        Some("they differ only in case; rename one of them (`Viewer` is declared at t.policy:4:6)")
    );
    assert_eq!(
        all[2].help.as_deref(),
        Some(
            "they differ only in characters that look alike; rename one of them (`admin-only` is declared at t.policy:6:7)"
        )
    );
}

#[test]
fn lints_run_only_on_a_set_that_compiles() {
    let mut set = PolicySet::new();
    set.add_source("t.policy", format!("{DOC}group unused = doc:read\nrole r {{ grant doc:raed }}\n"));
    let report = set.check(&LintConfig::default()).unwrap_err();
    let codes: Vec<&str> = report.records().iter().map(|r| r.code).collect();
    assert_eq!(codes, ["R0006"]);
}

#[test]
fn the_bundled_policies_are_clean() {
    let mut set = PolicySet::new();
    set.add_path(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"));
    let (_, report) = set.check(&LintConfig::default()).unwrap_or_else(|r| panic!("{}", r.render(false)));
    assert!(report.diagnostics.is_empty(), "{}", report.render(false));
}

#[test]
fn the_admin_marker_reads_and_prints_in_both_forms() {
    use rampart::syntax::ast::Item;
    use rampart::syntax::{to_dsl, to_yaml};
    let is_admin = |name: &str, text: &str| {
        let mut set = PolicySet::new();
        set.add_source(name, text);
        let (files, errors) = set.parse();
        assert!(errors.is_empty(), "{errors:#?}");
        let admins: Vec<bool> =
            files[0].items.iter().filter_map(|i| if let Item::Role(r) = i { Some(r.admin) } else { None }).collect();
        (admins, to_dsl(&files[0]), to_yaml(&files[0]))
    };
    let (admins, dsl, yaml) =
        is_admin("t.policy", "admin role owner inherits admin\nrole admin\nadmin role root { grant *:* }");
    assert_eq!(admins, [true, false, true]);
    assert!(dsl.starts_with("admin role owner inherits admin\n"), "{dsl}");
    assert!(yaml.contains("  owner:\n    administrative: true\n"), "{yaml}");
    assert_eq!(is_admin("printed.yaml", &yaml).0, admins);
    assert_eq!(is_admin("printed.policy", &dsl).0, admins);
    let (admins, ..) =
        is_admin("t.yaml", "roles:\n  owner: {administrative: true}\n  other: {administrative: false}\n  plain: {}\n");
    assert_eq!(admins, [true, false, false]);
}

#[test]
fn summary_lines_count_warnings() {
    let mut set = PolicySet::new();
    set.add_source("t.policy", format!("{DOC}group unused = doc:read\n"));
    let (_, report) = set.check(&LintConfig::default()).unwrap();
    let expected = "\
warning[W0001]: group `unused` is never used
 --> t.policy:2:7
  |
2 | group unused = doc:read
  |       ^^^^^^
  |
  = help: grant it in a role or list it in a policy's `actions`, or remove it

warning: 1 warning emitted
";
    assert_eq!(report.render(false), expected);
}
