//! `rampart check`: compile, lint and report.

use super::{CheckFormat, color_stderr, policy_set, sarif};
use rampart::{LintConfig, Report, Severity};
use std::path::PathBuf;

pub(super) fn run(paths: &[PathBuf], format: CheckFormat, config: &LintConfig, deny_warnings: bool) -> i32 {
    let set = policy_set(paths);
    let (report, snapshot) = match set.check(config) {
        Ok((snapshot, warnings)) => (warnings, Some(snapshot)),
        Err(errors) => (errors, None),
    };
    let warnings = report.count(Severity::Warning);
    match format {
        CheckFormat::Human => {
            eprint!("{}", report.render(color_stderr()));
            if let Some(snapshot) = &snapshot {
                if deny_warnings && warnings > 0 {
                    let s = if warnings == 1 { "" } else { "s" };
                    eprintln!("error: {warnings} warning{s} denied by `--deny-warnings`");
                } else {
                    let c = snapshot.counts();
                    eprintln!(
                        "ok: {} files, {} resource kinds, {} permissions, {} groups, {} roles, {} grants, {} policies",
                        set.sources().len(),
                        c.resource_kinds,
                        c.permissions,
                        c.groups,
                        c.roles,
                        c.grants,
                        c.policies
                    );
                }
            }
        }
        CheckFormat::Json => print_json(&report),
        CheckFormat::Sarif => {
            let base = std::env::current_dir().ok();
            match serde_json::to_string_pretty(&sarif::log(&report, base.as_deref())) {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("error: cannot serialize the SARIF log: {e}");
                    return 2;
                }
            }
        }
    }
    if snapshot.is_none() {
        // An unreadable path is an I/O error (2) rather than a finding in a policy.
        let io_only = report.diagnostics.iter().all(|d| matches!(d.kind, rampart::ErrorKind::Io { .. }));
        return if io_only { 2 } else { 1 };
    }
    if deny_warnings && warnings > 0 { 1 } else { 0 }
}

fn print_json(report: &Report) {
    for record in report.records() {
        match serde_json::to_string(&record) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("error: cannot serialize a diagnostic: {e}"),
        }
    }
}
