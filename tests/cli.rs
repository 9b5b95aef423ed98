//! The `rampart` binary, end to end: output and exit codes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn rampart(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    // The child may exit before reading its input (a policy error, say): a closed pipe is fine.
    let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under the target directory for one test's files.
/// A child process killed when the test ends, even by a panic.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh directory for one test of this run (named with the process id, so that nothing
/// left by another run, such as a process a failed run could not stop, can touch it).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_accepts_the_bundled_policies() {
    let out = rampart(&["check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with("ok: "), "{}", text(&out.stderr));
}

#[test]
fn check_reports_errors_with_exit_code_one() {
    let dir = scratch("check-errors");
    std::fs::write(dir.join("bad.policy"), "resource mail { actions: read }\nrole r { grant mail:raed }\n").unwrap();
    let out = rampart(&["check", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error[R0006]: unknown action `mail:raed`"), "{err}");
    assert!(err.contains("bad.policy:2:21"), "{err}");
    assert!(err.contains("= help: did you mean `read`?"), "{err}");

    let out = rampart(&["check", "--format", "json", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["code"], "R0006");
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(lines[0]["location"]["line"], 2);
    assert_eq!(lines[0]["location"]["column"], 21);
    assert_eq!(lines[0]["help"], "did you mean `read`?");
}

#[test]
fn check_on_a_missing_path_is_an_io_error() {
    let out = rampart(&["check", "no/such/dir"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read `no/such/dir`"), "{}", text(&out.stderr));
}

#[test]
fn usage_errors_exit_with_two() {
    assert_eq!(rampart(&["frobnicate"], None).status.code(), Some(2));
    assert_eq!(rampart(&["check", "--format", "xml"], None).status.code(), Some(2));
}

#[test]
fn eval_decides_the_readme_example() {
    let out = rampart(&["eval", "policies/examples/member-deletes-own-mail.json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(decision["decision"], "allow");
    assert_eq!(decision["reasons"][0]["rule"], "grant");
    assert!(decision.get("considered").is_none());
}

#[test]
fn eval_reads_json_lines_and_survives_bad_lines() {
    let dir = scratch("eval-lines");
    std::fs::write(
        dir.join("p.policy"),
        "resource doc { actions: read }\nrole reader { grant doc:read }\ndeny \"secret\" { actions: doc:read\n resources: \"secret-*\" }\n",
    )
    .unwrap();
    let input = [
        r#"{"principal": {"id": "a", "roles": ["reader"]}, "action": "read", "resource": {"kind": "doc", "id": "d1"}}"#,
        r#"{"principal": {"id": "a", "roles": ["reader"]}, "action": "read""#,
        "",
        r#"{"principal": {"id": "a", "roles": ["reader"]}, "action": "read", "resource": {"kind": "doc", "id": "secret-1"}}"#,
    ]
    .join("\n");
    let out = rampart(&["eval", "-p", dir.to_str().unwrap(), "--explain"], Some(&input));
    assert_eq!(out.status.code(), Some(1), "a malformed line makes the exit code 1");
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("invalid request"));
    assert_eq!(lines[2]["decision"], "deny");
    assert_eq!(lines[2]["reasons"][0]["policy"], "secret");
    let considered = lines[2]["considered"].as_array().unwrap();
    assert!(considered.iter().any(|r| r["rule"] == "deny" && r["outcome"] == "applies"), "{considered:?}");
}

#[test]
fn eval_refuses_to_run_on_broken_policies() {
    let dir = scratch("eval-broken");
    std::fs::write(dir.join("p.policy"), "role a inherits a\n").unwrap();
    let out = rampart(&["eval", "-p", dir.to_str().unwrap()], Some("{}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("inheritance cycle: a -> a"));
    assert!(text(&out.stdout).is_empty());
}

#[cfg(unix)]
#[test]
fn watch_prints_audit_events_reloads_on_sighup_and_stops_on_sigterm() {
    use std::io::BufRead as _;
    use std::sync::mpsc::channel;
    use std::time::Duration;
    let dir = scratch("watch-cli");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("p.policy"), "resource doc { actions: read }\nrole reader\n").unwrap();
    // A file linked from outside the watched directory: the watcher does not see its
    // changes (links are not followed for events), a SIGHUP does.
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("extra.policy"), "role extra\n").unwrap();
    std::os::unix::fs::symlink(outside.join("extra.policy"), policies.join("extra.policy")).unwrap();
    let metrics = dir.join("rampart.prom");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["watch", "-p", policies.to_str().unwrap(), "--metrics-file", metrics.to_str().unwrap()])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (tx, lines) = channel();
    let (out, err) = (child.0.stdout.take().unwrap(), child.0.stderr.take().unwrap());
    let tx_err = tx.clone();
    std::thread::spawn(move || std::io::BufReader::new(out).lines().for_each(|l| drop(tx.send(("out", l.unwrap())))));
    std::thread::spawn(move || {
        std::io::BufReader::new(err).lines().for_each(|l| drop(tx_err.send(("err", l.unwrap()))))
    });
    // Lines of the other stream are kept, to show what happened if the wait times out.
    let seen = std::cell::RefCell::new(Vec::new());
    let next = |stream: &str| loop {
        let Ok((s, line)) = lines.recv_timeout(Duration::from_secs(30)) else {
            panic!("rampart watch went quiet waiting on std{stream}; it printed:\n{}", seen.borrow().join("\n"));
        };
        seen.borrow_mut().push(format!("{s}: {line}"));
        if s == stream {
            return line;
        }
    };
    // The start is audited on stdout; the banner goes to stderr.
    let start: serde_json::Value = serde_json::from_str(&next("out")).unwrap();
    assert_eq!(start["actor"], "rampart:start");
    assert!(next("err").starts_with("watching"));

    std::fs::write(policies.join("p.policy"), "resource doc { actions: read }\nrole reader { grant doc:read }\n")
        .unwrap();
    let change: serde_json::Value = serde_json::from_str(&next("out")).unwrap();
    assert_eq!(change["actor"], "rampart:watch");
    assert_eq!(change["metadata"]["diff"]["roles"][0]["gained"], serde_json::json!(["doc:read"]));

    std::fs::write(policies.join("p.policy"), "resource doc { actions: read }\nrole reader { grant doc:raed }\n")
        .unwrap();
    let mut err_lines = Vec::new();
    while !err_lines.iter().any(|l: &String| l.contains("live policy is unchanged")) {
        err_lines.push(next("err"));
    }
    assert!(err_lines.iter().any(|l| l.contains("error[R0006]: unknown action `doc:raed`")), "{err_lines:?}");

    std::fs::write(policies.join("p.policy"), "resource doc { actions: read }\nrole reader { grant doc:* }\n").unwrap();
    let fixed: serde_json::Value = serde_json::from_str(&next("out")).unwrap();
    assert_eq!(fixed["changes"]["after"]["number"], 3);

    // SIGHUP reloads what the watcher cannot see.
    std::fs::write(outside.join("extra.policy"), "role extra { grant doc:read }\n").unwrap();
    let status = Command::new("kill").args(["-HUP", &child.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let signalled: serde_json::Value = serde_json::from_str(&next("out")).unwrap();
    assert_eq!(signalled["actor"], "rampart:signal");
    assert_eq!(signalled["changes"]["after"]["number"], 4);
    assert_eq!(signalled["metadata"]["diff"]["roles"][0]["gained"], serde_json::json!(["doc:read"]));

    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    let count = |result: &str| -> u64 {
        let prefix = format!("rampart_reloads_total{{result=\"{result}\"}} ");
        prom.lines().find_map(|l| l.strip_prefix(prefix.as_str())).unwrap().parse().unwrap()
    };
    assert!(count("success") >= 4 && count("failure") >= 1, "{prom}");
    assert!(prom.contains("rampart_snapshot_version 4"), "{prom}");
}

#[test]
fn diff_reports_gains_and_gates_ci() {
    let dir = scratch("diff");
    let (old, new) = (dir.join("old.policy"), dir.join("new.yaml"));
    std::fs::write(
        &old,
        "resource doc { actions: read, write }\nrole viewer { grant doc:read }\nrole editor inherits viewer\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "resources: {doc: {actions: [read, write]}}\nroles:\n  viewer: {grants: [\"doc:*\"]}\n  editor: {inherits: [viewer]}\n",
    )
    .unwrap();
    let out = rampart(&["diff", old.to_str().unwrap(), new.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let human = text(&out.stdout);
    assert!(human.contains("role editor (changed):\n  + doc:write\n"), "{human}");
    assert!(human.contains("this change may widen access"), "{human}");

    let out =
        rampart(&["diff", "--fail-on-gain", "--format", "json", old.to_str().unwrap(), new.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "a widening change fails the gate");
    let json: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(json["roles"][1]["role"], "viewer");
    assert_eq!(json["roles"][1]["gained"], serde_json::json!(["doc:write"]));

    let out = rampart(&["diff", "--fail-on-gain", new.to_str().unwrap(), new.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("no change"));
}

#[test]
fn who_can_and_permissions_review_the_bundled_policies() {
    let out = rampart(&["who-can", "mail:read", "--on", "private-inbox/m-1", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let roles: Vec<&str> = json["roles"].as_array().unwrap().iter().map(|h| h["role"].as_str().unwrap()).collect();
    assert!(roles.contains(&"viewer") && !roles.contains(&"support"), "{roles:?}");
    let policies: Vec<&str> =
        json["policies"].as_array().unwrap().iter().map(|p| p["policy"].as_str().unwrap()).collect();
    assert!(policies.contains(&"pii-requires-mfa") && policies.contains(&"break-glass-on-call"), "{policies:?}");

    let out = rampart(&["permissions", "manager"], None);
    assert_eq!(out.status.code(), Some(0));
    let listing = text(&out.stdout);
    let read = listing.lines().find(|l| l.trim_start().starts_with("mail:read ")).unwrap();
    assert!(read.contains("via manager -> member -> viewer") && read.contains("roles.yaml"), "{listing}");
    let out = rampart(&["permissions", "managr"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown role `managr`"));
    assert_eq!(rampart(&["who-can", "mail:fly"], None).status.code(), Some(2));
}

#[test]
fn convert_translates_both_ways_without_changing_meaning() {
    let dir = scratch("convert");
    let out = rampart(&["convert", "policies/access.policy"], None);
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(dir.join("access.yaml"), out.stdout).unwrap();
    let back = rampart(&["convert", dir.join("access.yaml").to_str().unwrap(), "--to", "dsl"], None);
    std::fs::write(dir.join("access.policy"), back.stdout).unwrap();
    std::fs::copy("policies/roles.yaml", dir.join("roles.yaml")).unwrap();
    std::fs::copy("policies/resources.policy", dir.join("resources.policy")).unwrap();
    std::fs::remove_file(dir.join("access.yaml")).unwrap();
    let out = rampart(&["diff", "policies", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("no change"), "{}", text(&out.stdout));
}

#[test]
fn check_prints_warnings_and_denies_them_on_request() {
    let dir = scratch("check-warnings");
    std::fs::write(
        dir.join("w.policy"),
        "resource doc { actions: read }\nrole viewer { grant doc:read }\nrole reader inherits viewer\n",
    )
    .unwrap();
    let path = dir.to_str().unwrap();
    let out = rampart(&["check", path], None);
    assert_eq!(out.status.code(), Some(0), "warnings alone do not fail the check");
    let err = text(&out.stderr);
    assert!(
        err.contains("warning[W0002]: role `reader` grants nothing beyond what it inherits from `viewer`"),
        "{err}"
    );
    assert!(err.contains("w.policy:3:6"), "{err}");
    assert!(err.contains("= help: use `viewer` instead, or give `reader` grants of its own"), "{err}");
    assert!(err.contains("\nwarning: 1 warning emitted\nok: 1 files,"), "{err}");

    let out = rampart(&["check", "--deny-warnings", path], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.ends_with("warning: 1 warning emitted\nerror: 1 warning denied by `--deny-warnings`\n"), "{err}");

    let out = rampart(&["check", "--format", "json", path], None);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["severity"], "warning");
    assert_eq!(lines[0]["code"], "W0002");
    assert_eq!(lines[0]["message"], "role `reader` grants nothing beyond what it inherits from `viewer`");
    assert_eq!(lines[0]["location"]["line"], 3);
    assert_eq!(lines[0]["location"]["column"], 6);
    assert_eq!(lines[0]["snippet"], "reader");
    assert_eq!(rampart(&["check", "--format", "json", "--deny-warnings", path], None).status.code(), Some(1));

    // `--max-depth` sets W0008's limit.
    let out = rampart(&["check", "--format", "json", "--max-depth", "0", path], None);
    let codes: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["code"].to_string())
        .collect();
    assert_eq!(codes, ["\"W0002\"", "\"W0008\""]);
    assert_eq!(rampart(&["check", "--max-depth", "x", path], None).status.code(), Some(2));

    // The bundled policies are clean, even when warnings are denied.
    let out = rampart(&["check", "--deny-warnings"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with("ok: "), "{}", text(&out.stderr));
}

#[test]
fn check_writes_sarif_for_code_scanning() {
    let dir = scratch("check-sarif");
    std::fs::write(
        dir.join("w.policy"),
        "resource doc { actions: read }\nrole viewer { grant doc:read }\nrole reader inherits viewer\n",
    )
    .unwrap();
    let out = rampart(&["check", "--format", "sarif", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "rampart");
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    for id in ["R0001", "R0003", "R0015", "W0001", "W0002", "W0010"] {
        let rule = rules.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no rule {id}"));
        assert!(!rule["shortDescription"]["text"].as_str().unwrap().is_empty(), "{id}");
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty(), "{id}");
    }
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let result = &results[0];
    assert_eq!(result["ruleId"], "W0002");
    assert_eq!(rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"], "W0002");
    assert_eq!(result["level"], "warning");
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("role `reader` grants nothing beyond what it inherits from `viewer`"),
        "{result}"
    );
    let location = &result["locations"][0]["physicalLocation"];
    let uri = location["artifactLocation"]["uri"].as_str().unwrap();
    assert!(uri.ends_with(&format!("check-sarif-{}/w.policy", std::process::id())), "{uri}");
    // The scratch directory is under the working directory: a path relative to it.
    if dir.starts_with(env!("CARGO_MANIFEST_DIR")) {
        assert!(!uri.starts_with('/') && !uri.contains(':'), "{uri}");
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    }
    let region = &location["region"];
    assert_eq!(
        (&region["startLine"], &region["startColumn"], &region["endLine"], &region["endColumn"]),
        (&serde_json::json!(3), &serde_json::json!(6), &serde_json::json!(3), &serde_json::json!(12))
    );

    // Errors are results too, and `--deny-warnings` applies to every format.
    let out = rampart(&["check", "--format", "sarif", "--deny-warnings", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(dir.join("e.policy"), "role broken { grant doc:raed }\n").unwrap();
    let out = rampart(&["check", "--format", "sarif", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let result = &log["runs"][0]["results"][0];
    assert_eq!((&result["ruleId"], &result["level"]), (&serde_json::json!("R0006"), &serde_json::json!("error")));
}

#[test]
fn test_runs_the_bundled_suite_and_reports_coverage() {
    let out = rampart(&["test"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("test maily.test.yaml: members delete their own mail ... ok"), "{stdout}");
    assert!(stdout.contains("test result: ok. 24 passed; 0 failed"), "{stdout}");
    assert!(stdout.contains("coverage: ") && stdout.contains("not exercised:"), "{stdout}");
    assert_eq!(rampart(&["test", "--min-coverage", "99.5"], None).status.code(), Some(1));
}

#[test]
fn test_failures_are_explained_in_every_format() {
    let dir = scratch("policy-tests");
    std::fs::write(dir.join("p.policy"), "resource doc { actions: read, write }\nrole reader { grant doc:read }\n")
        .unwrap();
    std::fs::write(
        dir.join("p.test.yaml"),
        "principals:\n  ann: {roles: [reader]}\nresources:\n  d: {kind: doc, id: d1}\ncases:\n  - {name: reads, principal: ann, resource: d, allow: [read]}\n  - {name: writes, principal: ann, resource: d, allow: [write]}\n",
    )
    .unwrap();
    let p = dir.to_str().unwrap();
    let out = rampart(&["test", "-p", p], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("test p.test.yaml: writes ... FAILED"), "{stdout}");
    assert!(
        stdout.contains(
            "---- p.test.yaml: writes ----\n`write`: expected allow, got deny (no grant or allow policy applies)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("test result: FAILED. 1 passed; 1 failed"), "{stdout}");

    let out = rampart(&["test", "-p", p, "--format", "json"], None);
    let json: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(json["cases"][1]["passed"], false);
    assert_eq!(json["coverage"], 100.0);

    let out = rampart(&["test", "-p", p, "--format", "junit"], None);
    let xml = text(&out.stdout);
    assert!(xml.contains("<testsuite name=\"rampart\" tests=\"2\" failures=\"1\">"), "{xml}");
    assert!(
        xml.contains(
            "<testcase classname=\"p.test.yaml\" name=\"writes\">\n    <failure message=\"`write`: expected allow"
        ),
        "{xml}"
    );
}

#[test]
fn report_writes_the_access_matrix() {
    let out = rampart(&["report", "--format", "csv"], None);
    assert_eq!(out.status.code(), Some(0));
    let csv = text(&out.stdout);
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("role,mail:read,mail:send"), "{header}");
    let member = csv.lines().find(|l| l.starts_with("member,")).unwrap();
    let cells: Vec<&str> = member.split(',').collect();
    let column = |p: &str| header.split(',').position(|h| h == p).unwrap();
    assert_eq!(
        (cells[column("mail:read")], cells[column("mail:delete")], cells[column("mail:export")]),
        ("yes", "conditional", "")
    );
    let html = text(&rampart(&["report", "--format", "html"], None).stdout);
    assert!(html.starts_with("<!doctype html>") && html.contains("<td class=\"role\">member</td>"));
    assert!(text(&rampart(&["report"], None).stdout).starts_with("| role | mail:read |"));
}

#[test]
fn fmt_checks_and_rewrites_dsl_files() {
    let dir = scratch("fmt");
    std::fs::write(dir.join("a.policy"), "resource doc {actions:read}\nrole r{grant doc:read} # the reader\n").unwrap();
    std::fs::write(dir.join("b.yaml"), "roles: {}\n").unwrap();
    let d = dir.to_str().unwrap();
    let out = rampart(&["fmt", "--check", d], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).trim_end().ends_with("a.policy"), "{}", text(&out.stdout));
    assert_eq!(rampart(&["fmt", d], None).status.code(), Some(0));
    let formatted = std::fs::read_to_string(dir.join("a.policy")).unwrap();
    assert_eq!(formatted, "resource doc { actions: read }\n\nrole r {\n    grant doc:read\n}  # the reader\n");
    assert_eq!(rampart(&["fmt", "--check", d], None).status.code(), Some(0));
    assert_eq!(rampart(&["fmt", "--check", "policies"], None).status.code(), Some(0), "bundled files are formatted");
    std::fs::write(dir.join("a.policy"), "role {").unwrap();
    assert_eq!(rampart(&["fmt", d], None).status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn fmt_and_test_walk_directories_without_following_link_loops() {
    let dir = scratch("walk-loops");
    std::fs::write(dir.join("p.policy"), "resource doc { actions: read }\n\nrole r {\n    grant doc:read\n}\n")
        .unwrap();
    std::fs::write(
        dir.join("p.test.yaml"),
        "principals:\n  a: {roles: [r]}\nresources:\n  d: {kind: doc, id: d1}\ncases:\n  - {name: reads, principal: a, resource: d, allow: [read]}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(".", dir.join("again")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("more")).unwrap();
    let d = dir.to_str().unwrap();
    let out = rampart(&["fmt", "--check", d], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = rampart(&["test", "-p", d], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("test result: ok. 1 passed; 0 failed"), "{}", text(&out.stdout));
}
