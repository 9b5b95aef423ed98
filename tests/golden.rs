//! Golden tests: each command's human and JSON output on fixed inputs, as insta snapshots
//! (`tests/snapshots/`). A change in output shows as a snapshot diff; accept it with
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test`) once it is intended.

use std::process::Command;

/// Runs `rampart` in the crate's directory; returns its exit code, stdout and stderr.
fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    format!(
        "$ rampart {}\nexit code: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

macro_rules! golden {
    ($name:ident, $($arg:expr),+) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), run(&[$($arg),+]));
        }
    };
}

golden!(check_clean, "check");
golden!(check_errors, "check", "tests/golden/broken.policy");
golden!(check_errors_json, "check", "--format", "json", "tests/golden/broken.policy");
golden!(check_warnings, "check", "tests/golden/warnings.policy");
golden!(check_sarif, "check", "--format", "sarif", "tests/golden/warnings.policy");
golden!(eval_allow, "eval", "policies/examples/member-deletes-own-mail.json");
golden!(eval_explain, "eval", "--explain", "policies/examples/member-reads-pii-mail-without-mfa.json");
golden!(who_can, "who-can", "mail:delete");
golden!(who_can_json, "who-can", "mail:read", "--on", "shared-helpdesk/m-1", "--format", "json");
golden!(permissions, "permissions", "member");
golden!(permissions_json, "permissions", "support", "--format", "json");
golden!(diff_human, "diff", "tests/golden/old", "tests/golden/new");
golden!(diff_json, "diff", "--format", "json", "--fail-on-gain", "tests/golden/old", "tests/golden/new");
golden!(test_human, "test");
golden!(test_junit, "test", "--format", "junit");
golden!(report_markdown, "report");
golden!(report_csv, "report", "--format", "csv");
golden!(convert_to_yaml, "convert", "policies/access.policy");
golden!(convert_to_dsl, "convert", "tests/golden/new/p.yaml");
golden!(fmt_check, "fmt", "--check", "policies", "tests/golden");
