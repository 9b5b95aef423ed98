//! The live engine: reloads under load never serve a broken policy, every way files
//! really change is followed, audit events and decision logs say what happened.

use rampart::{DecisionLogConfig, Engine, PolicySet, Principal, ReloadError, ReloadOutcome, Request, Resource};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("engine").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const HEAD: &str = "resource doc { actions: read, write }\n";
/// Version A lets `reader` read; version B does not.
const VALID_A: &str = "role reader { grant doc:read }\n";
const VALID_B: &str = "role reader { grant doc:write }\n";

fn reader_reads() -> Request<'static> {
    Request::new(Principal::new("ann").roles(&["reader"]), "read", Resource::new("doc", "d1"))
}

/// The content hash a directory holding these files (name, text) would have.
fn hash_of(dir: &Path, files: &[(&str, &str)]) -> u64 {
    let mut set = PolicySet::new();
    for (name, text) in files {
        set.add_source(dir.join(name).display().to_string(), *text);
    }
    set.content_hash()
}

/// Waits for the engine to report a reload for which `done` holds.
fn wait_for(
    events: &Receiver<Result<ReloadOutcome, String>>,
    what: &str,
    done: impl Fn(&Result<ReloadOutcome, String>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(e) if done(&e) => return,
            Ok(_) => {}
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// An engine on `dir` whose reload outcomes arrive on the returned channel.
fn watched_engine(dir: &Path) -> (Engine, Receiver<Result<ReloadOutcome, String>>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let engine = Engine::builder()
        .path(dir)
        .on_reload(move |r| {
            let r = r.clone().map_err(|e: ReloadError| e.to_string());
            let _ = tx.lock().unwrap().send(r);
        })
        .build()
        .unwrap();
    // The first load is reported too; the tests wait for later ones.
    while rx.try_recv().is_ok() {}
    (engine, rx)
}

fn reloaded(e: &Result<ReloadOutcome, String>) -> bool {
    matches!(e, Ok(ReloadOutcome::Reloaded(_)))
}

#[test]
fn reloads_under_load_never_serve_a_broken_policy() {
    let dir = scratch("stress");
    let file = dir.join("p.policy");
    std::fs::write(&file, format!("{HEAD}{VALID_A}")).unwrap();
    // Record which content every installed version carried, whoever installed it (this
    // thread's reloads or the watcher's).
    let versions: Arc<Mutex<HashMap<u64, u64>>> = Arc::default();
    let record = Arc::clone(&versions);
    let engine = Engine::builder()
        .path(&dir)
        .settle(Duration::from_millis(5))
        .on_reload(move |r| {
            if let Ok(ReloadOutcome::Reloaded(e)) = r {
                record.lock().unwrap().insert(e.changes.after.number, e.changes.after.hash);
            }
        })
        .build()
        .unwrap();
    let _watcher = engine.watch().unwrap();

    let hash_a = hash_of(&dir, &[("p.policy", &format!("{HEAD}{VALID_A}"))]);
    let hash_b = hash_of(&dir, &[("p.policy", &format!("{HEAD}{VALID_B}"))]);
    let broken = [
        format!("{HEAD}role reader {{ grant doc:read"), // half-written
        format!("{HEAD}role reader inherits reader {{ grant doc:read }}"), // a cycle
        format!("{HEAD}role reader {{ grant doc:raed }}"), // a typo
        "resource doc { actions: read, write }\nrole reader { gr".to_owned(), // truncated mid-word
    ];

    let stop = AtomicBool::new(false);
    let seen: Mutex<HashSet<(u64, bool)>> = Mutex::default();
    let mut last_valid = hash_a;
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let request = reader_reads();
                let mut local = HashSet::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) || n < 1000 {
                    let d = engine.check(&request);
                    assert!(d.problem().is_none() && d.errors().is_empty(), "{d:?}");
                    local.insert((d.snapshot_version(), d.is_allowed()));
                    n += 1;
                }
                seen.lock().unwrap().extend(local);
            });
        }
        for i in 0..300 {
            let (text, valid) = match i % 4 {
                0 => (format!("{HEAD}{VALID_B}"), Some(hash_b)),
                2 => (format!("{HEAD}{VALID_A}"), Some(hash_a)),
                _ => (broken[i / 2 % broken.len()].clone(), None),
            };
            std::fs::write(&file, &text).unwrap();
            let result = engine.reload();
            match (valid, &result) {
                (Some(h), Ok(outcome)) => {
                    last_valid = h;
                    let v = match outcome {
                        ReloadOutcome::Reloaded(e) => e.changes.after,
                        ReloadOutcome::Unchanged(v) => *v,
                    };
                    assert_eq!(v.hash, h, "round {i}: the live version has the content just written");
                }
                (None, Err(ReloadError::Invalid(report))) => assert!(report.has_errors()),
                (valid, result) => panic!("round {i}: valid={} gave {result:?}", valid.is_some()),
            }
            assert_eq!(engine.version().hash, last_valid, "round {i}: a broken file never goes live");
        }
        stop.store(true, Ordering::Relaxed);
    });

    let versions = versions.lock().unwrap().clone();
    assert!(versions.values().all(|h| *h == hash_a || *h == hash_b), "only valid contents went live");
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 2, "checks saw both policies: {seen:?}");
    for (version, allowed) in seen {
        let hash = versions.get(&version).unwrap_or_else(|| panic!("version {version} was never installed"));
        assert_eq!(allowed, *hash == hash_a, "version {version} decided as the other policy would");
    }
    assert_eq!(engine.version().hash, last_valid);
    assert!(engine.last_error().is_some(), "the last write was broken and is reported");
    let m = engine.metrics();
    assert!(m.reloads_failed >= 150 && m.reloads_succeeded >= 2, "{m:?}");
}

#[test]
fn watch_follows_every_way_files_change() {
    let dir = scratch("watch");
    std::fs::write(dir.join("a.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    let (engine, events) = watched_engine(&dir);
    let _watcher = engine.watch().unwrap();
    let allowed = |e: &Engine| e.check(&reader_reads()).is_allowed();
    assert!(allowed(&engine));

    // In place.
    std::fs::write(dir.join("a.policy"), format!("{HEAD}{VALID_B}")).unwrap();
    wait_for(&events, "an in-place write", reloaded);
    assert!(!allowed(&engine));

    // Write a temporary file, rename it over the original (vim, IntelliJ).
    std::fs::write(dir.join(".a.policy.swp"), format!("{HEAD}{VALID_A}")).unwrap();
    std::fs::rename(dir.join(".a.policy.swp"), dir.join("a.policy")).unwrap();
    wait_for(&events, "an atomic rename", reloaded);
    assert!(allowed(&engine));

    // A new file.
    std::fs::write(dir.join("deny.policy"), "deny \"no-reading\" { actions: doc:read }\n").unwrap();
    wait_for(&events, "a new file", reloaded);
    assert!(!allowed(&engine));

    // A renamed file: renaming it to a name that is not a policy file removes it.
    std::fs::rename(dir.join("deny.policy"), dir.join("deny.policy.off")).unwrap();
    wait_for(&events, "a rename", reloaded);
    assert!(allowed(&engine));

    // A file in a new sub-directory.
    std::fs::create_dir_all(dir.join("team/extra")).unwrap();
    std::fs::write(dir.join("team/extra/deny.yaml"), "policies:\n  - {id: sub, effect: deny, actions: [doc:read]}\n")
        .unwrap();
    wait_for(&events, "a file in a new sub-directory", reloaded);
    assert!(!allowed(&engine));

    // A deleted file.
    std::fs::remove_file(dir.join("team/extra/deny.yaml")).unwrap();
    wait_for(&events, "a deleted file", reloaded);
    assert!(allowed(&engine));

    // A broken edit keeps the old policy and is reported; fixing it reloads.
    std::fs::write(dir.join("a.policy"), format!("{HEAD}role reader {{ grant doc:read")).unwrap();
    wait_for(&events, "a failed reload", |e| matches!(e, Err(m) if m.contains("does not compile")));
    assert!(allowed(&engine), "the old snapshot stays live");
    assert!(engine.last_error().is_some());
    std::fs::write(dir.join("a.policy"), format!("{HEAD}{VALID_B}")).unwrap();
    wait_for(&events, "the fix", reloaded);
    assert!(!allowed(&engine));
    assert!(engine.last_error().is_none());
}

#[cfg(unix)]
#[test]
fn watch_follows_a_kubernetes_configmap_swap() {
    use std::os::unix::fs::symlink;
    // The layout kubelet writes: files are symlinks through `..data`, which points at a
    // timestamped directory; an update writes a new directory and swaps `..data`.
    let dir = scratch("configmap");
    let v1 = dir.join("..2026_12_03_10_00_00.000000001");
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::write(v1.join("p.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    symlink(v1.file_name().unwrap(), dir.join("..data")).unwrap();
    symlink("..data/p.policy", dir.join("p.policy")).unwrap();
    let (engine, events) = watched_engine(&dir);
    let _watcher = engine.watch().unwrap();
    assert!(engine.check(&reader_reads()).is_allowed());

    let v2 = dir.join("..2026_12_03_10_05_00.000000002");
    std::fs::create_dir_all(&v2).unwrap();
    std::fs::write(v2.join("p.policy"), format!("{HEAD}{VALID_B}")).unwrap();
    symlink(v2.file_name().unwrap(), dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    std::fs::remove_dir_all(&v1).unwrap();
    wait_for(&events, "the ..data swap", reloaded);
    assert!(!engine.check(&reader_reads()).is_allowed());
}

#[test]
fn watch_follows_a_replaced_directory() {
    let root = scratch("replaced");
    let dir = root.join("policies");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    let (engine, events) = watched_engine(&dir);
    let _watcher = engine.watch().unwrap();
    let allowed = |e: &Engine| e.check(&reader_reads()).is_allowed();
    assert!(allowed(&engine));

    // A deploy that writes the new version beside the old, moves the old away and the new
    // in: the watched directory is another directory now.
    let next = root.join("policies.next");
    std::fs::create_dir_all(&next).unwrap();
    std::fs::write(next.join("a.policy"), format!("{HEAD}{VALID_B}")).unwrap();
    std::fs::rename(&dir, root.join("policies.old")).unwrap();
    std::fs::rename(&next, &dir).unwrap();
    wait_for(&events, "the directory swap", |e| reloaded(e) && !allowed(&engine));

    // Edits in the new directory are followed, and the old one no longer counts.
    std::fs::write(dir.join("a.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    wait_for(&events, "an edit in the new directory", |e| reloaded(e) && allowed(&engine));
    std::fs::write(root.join("policies.old/a.policy"), format!("{HEAD}{VALID_B}")).unwrap();

    // Deleted and made again.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.policy"), format!("{HEAD}{VALID_B}")).unwrap();
    wait_for(&events, "a directory made again", |e| reloaded(e) && !allowed(&engine));
    std::fs::write(dir.join("a.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    wait_for(&events, "an edit in the directory made again", |e| reloaded(e) && allowed(&engine));

    // Files beside the directory are not policy: writing them reloads nothing. (First let
    // the echoes of the last changes settle: a burst can be reported twice.)
    while events.recv_timeout(Duration::from_millis(700)).is_ok() {}
    for i in 0..5 {
        std::fs::write(root.join("decisions.log"), format!("line {i}\n")).unwrap();
    }
    std::thread::sleep(Duration::from_millis(700));
    assert!(events.try_recv().is_err(), "a write beside the watched directory caused a reload");
}

#[cfg(unix)]
#[test]
fn watch_follows_a_directory_link_pointed_elsewhere() {
    use std::os::unix::fs::symlink;
    // `current -> v1`, then `current -> v2` by renaming a new link over it (an atomic deploy).
    let root = scratch("link-swap");
    for (v, text) in [("v1", VALID_A), ("v2", VALID_B)] {
        std::fs::create_dir_all(root.join(v)).unwrap();
        std::fs::write(root.join(v).join("a.policy"), format!("{HEAD}{text}")).unwrap();
    }
    symlink("v1", root.join("current")).unwrap();
    let (engine, events) = watched_engine(&root.join("current"));
    let _watcher = engine.watch().unwrap();
    let allowed = |e: &Engine| e.check(&reader_reads()).is_allowed();
    assert!(allowed(&engine));

    symlink("v2", root.join("current.tmp")).unwrap();
    std::fs::rename(root.join("current.tmp"), root.join("current")).unwrap();
    wait_for(&events, "the link swap", |e| reloaded(e) && !allowed(&engine));
    std::fs::write(root.join("v2/a.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    wait_for(&events, "an edit in the directory the link points at now", |e| reloaded(e) && allowed(&engine));
}

#[test]
fn unchanged_content_is_not_reloaded() {
    let dir = scratch("unchanged");
    std::fs::write(dir.join("p.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    let engine = Engine::builder().path(&dir).build().unwrap();
    let before = engine.version();
    std::fs::write(dir.join("p.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    assert_eq!(engine.reload().unwrap(), ReloadOutcome::Unchanged(before));
    assert_eq!(engine.version(), before);
}

#[test]
fn audit_file_records_reloads_with_the_permission_diff_and_failures() {
    let dir = scratch("audit");
    let log = dir.join("audit.jsonl");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("p.policy"),
        format!("{HEAD}role viewer {{ grant doc:read }}\nrole member inherits viewer\n"),
    )
    .unwrap();
    let engine = Engine::builder().path(&policies).audit_file(&log).build().unwrap();
    std::fs::write(
        policies.join("p.policy"),
        format!("{HEAD}role viewer {{ grant doc:read, doc:write }}\nrole member inherits viewer\ndeny \"x\" {{ actions: doc:write\n roles: member }}\n"),
    )
    .unwrap();
    engine.reload().unwrap();
    std::fs::write(policies.join("p.policy"), "role broken inherits broken\n").unwrap();
    assert!(engine.reload().is_err());

    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "start, reload, failure");
    assert_eq!(lines[0]["actor"], "rampart:start");
    assert_eq!(lines[0]["changes"]["before"], serde_json::Value::Null);
    let reload = &lines[1];
    assert_eq!(reload["action"], "policy.reload");
    assert_eq!(reload["actor"], "rampart:manual");
    assert_eq!(reload["changes"]["before"]["number"], 1);
    assert_eq!(reload["changes"]["after"]["number"], 2);
    let roles = reload["metadata"]["diff"]["roles"].as_array().unwrap();
    let gained: Vec<(String, String)> = roles
        .iter()
        .flat_map(|r| {
            let role = r["role"].as_str().unwrap().to_owned();
            r["gained"].as_array().unwrap().iter().map(move |g| (role.clone(), g.as_str().unwrap().to_owned()))
        })
        .collect();
    assert_eq!(gained, [("member".into(), "doc:write".into()), ("viewer".into(), "doc:write".into())]);
    assert_eq!(reload["metadata"]["diff"]["policies_added"], serde_json::json!(["x"]));
    let failure = &lines[2];
    assert_eq!((failure["level"].as_str(), failure["event"].as_str()), (Some("error"), Some("policy.reload_failed")));
    assert_eq!(failure["live_version"]["number"], 2);
    assert_eq!(failure["diagnostics"][0]["code"], "R0013");
    assert_eq!(failure["diagnostics"][0]["location"]["line"], 1);
    assert_eq!(engine.version().number, 2);
}

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn decisions_are_logged_as_security_events_with_masking_and_sampling() {
    let dir = scratch("decision-log");
    std::fs::write(
        dir.join("p.policy"),
        format!("{HEAD}{VALID_A}deny \"no-secrets\" {{ actions: doc:read\n resources: \"secret-*\" }}\n"),
    )
    .unwrap();
    let out = Shared::default();
    let config = DecisionLogConfig { allow_one_in: 2, mask: vec!["email".into()], ..DecisionLogConfig::default() };
    let engine = Engine::builder().path(&dir).decision_log(config, Box::new(out.clone())).build().unwrap();
    let roles = ["reader"];
    let pattrs = [rampart::attr("email", "ann@example.com"), rampart::attr("team", "blue")];
    let context = [rampart::attr("ip", "10.1.2.3")];
    let principal = || Principal::new("ann").roles(&roles).attrs(&pattrs);
    for _ in 0..4 {
        assert!(
            engine.check(&Request::new(principal(), "read", Resource::new("doc", "d1")).context(&context)).is_allowed()
        );
    }
    let denied = Request::new(principal(), "read", Resource::new("doc", "secret-1")).context(&context);
    assert!(!engine.check(&denied).is_allowed());
    drop(engine); // flushes the writer thread

    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let events: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let decisions: Vec<&str> = events.iter().map(|e| e["details"]["decision"].as_str().unwrap()).collect();
    assert_eq!(decisions, ["allow", "allow", "deny"], "one allow in two, every deny");
    let deny = &events[2];
    assert_eq!((deny["category"].as_str(), deny["event"].as_str()), (Some("access"), Some("authz.decision")));
    assert_eq!(
        (deny["user"].as_str(), deny["ip"].as_str(), deny["level"].as_str()),
        (Some("ann"), Some("10.1.2.3"), Some("warning"))
    );
    assert_eq!(deny["details"]["action"], "doc:read");
    assert_eq!(deny["details"]["resource"], "doc/secret-1");
    assert_eq!(deny["details"]["rules"], serde_json::json!(["deny no-secrets"]));
    assert_eq!(deny["details"]["snapshot_version"], 1);
    assert_eq!(deny["details"]["attributes"]["principal"]["email"], "***");
    assert_eq!(deny["details"]["attributes"]["principal"]["team"], "blue");
}

#[test]
fn metrics_count_checks_denies_by_rule_and_reloads() {
    let dir = scratch("metrics");
    std::fs::write(dir.join("p.policy"), format!("{HEAD}{VALID_A}deny \"w\" {{ actions: doc:write }}\n")).unwrap();
    let engine = Engine::builder().path(&dir).build().unwrap();
    let roles = ["reader"];
    let read = Request::new(Principal::new("a").roles(&roles), "read", Resource::new("doc", "d"));
    let write = Request::new(Principal::new("a").roles(&roles), "write", Resource::new("doc", "d"));
    for _ in 0..3 {
        engine.check(&read);
    }
    engine.check(&write);
    std::fs::write(dir.join("p.policy"), "broken {").unwrap();
    let _ = engine.reload();
    let m = engine.metrics();
    assert_eq!((m.checks_allowed, m.checks_denied), (3, 1));
    assert_eq!(m.denies_by_rule, [("w".to_owned(), 1)]);
    assert_eq!((m.reloads_succeeded, m.reloads_failed), (1, 1));
    assert_eq!(m.snapshot_version, 1);
    let text = m.to_prometheus();
    assert!(text.contains("rampart_checks_total{decision=\"deny\"} 1\n"), "{text}");
    assert!(text.contains("rampart_denies_by_rule_total{rule=\"w\"} 1\n"), "{text}");
    assert!(text.contains("rampart_reloads_total{result=\"failure\"} 1\n"), "{text}");
}

#[test]
fn a_pinned_snapshot_decides_and_describes_while_reloads_go_on() {
    let dir = scratch("pinned");
    std::fs::write(dir.join("p.policy"), format!("{HEAD}{VALID_A}")).unwrap();
    let engine = Engine::builder().path(&dir).build().unwrap();
    let pinned = engine.pin();
    // The same grant, two lines further down: a reload moves the rule that decides.
    std::fs::write(dir.join("p.policy"), format!("{HEAD}\n\n{VALID_A}")).unwrap();
    assert!(matches!(engine.reload(), Ok(ReloadOutcome::Reloaded(_))));

    let where_granted = |pinned: &rampart::Pinned<'_>| {
        let decision = pinned.check(&reader_reads());
        assert!(decision.is_allowed());
        let report = pinned.snapshot().explain_decision(&decision, "doc:read", None);
        (report.version.number, report.reasons[0].location.clone().unwrap())
    };
    let file = dir.join("p.policy").display().to_string();
    assert_eq!(where_granted(&pinned), (1, format!("{file}:2:15")));
    let (decision, trace) = pinned.explain(&reader_reads());
    assert!(decision.is_allowed() && !trace.steps.is_empty());
    assert_eq!(where_granted(&engine.pin()), (2, format!("{file}:4:15")));
    drop(pinned);

    // Pinned checks and explanations count like any other.
    assert_eq!(engine.metrics().checks_allowed, 3);
}

#[test]
fn a_decision_described_by_another_snapshot_is_flagged_not_a_panic() {
    let dir = scratch("foreign-decision");
    let roles = ["reader", "writer"];
    let write = Request::new(Principal::new("ann").roles(&roles), "write", Resource::new("doc", "d1"));
    std::fs::write(dir.join("p.policy"), format!("{HEAD}{VALID_A}role writer {{ grant doc:write }}\n")).unwrap();
    let engine = Engine::builder().path(&dir).build().unwrap();
    let decision = engine.check(&write); // by grant 1, of version 1
    assert!(decision.is_allowed());
    std::fs::write(dir.join("p.policy"), format!("{HEAD}role writer {{ grant doc:write }}\n")).unwrap();
    assert!(matches!(engine.reload(), Ok(ReloadOutcome::Reloaded(_))));

    // Version 2 has a single grant: grant 1 is not one of its rules.
    let report = engine.snapshot().explain_decision(&decision, "doc:write", None);
    assert_eq!(report.reasons[0].rule, "unknown");
    assert_eq!(report.reasons[0].location, None);
    assert!(report.warnings.iter().any(|w| w.contains("decided by policy version 1, described by version 2")));
    // Described by the snapshot that decided, a decision has no such warning.
    let writer = Request::new(Principal::new("ann").roles(&["writer"]), "write", Resource::new("doc", "d1"));
    let pinned = engine.pin();
    let report = pinned.snapshot().explain_decision(&pinned.check(&writer), "doc:write", None);
    assert_eq!((report.reasons[0].rule, &report.warnings), ("grant", &Vec::<String>::new()));
}
