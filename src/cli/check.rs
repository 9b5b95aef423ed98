//! `rampart check`: compile and report.

use super::{Format, color_stderr, policy_set};
use rampart::Report;
use std::path::PathBuf;

pub(super) fn run(paths: &[PathBuf], format: Format) -> i32 {
    let set = policy_set(paths);
    match set.compile() {
        Ok(snapshot) => {
            let c = snapshot.counts();
            if format == Format::Human {
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
            0
        }
        Err(report) => {
            match format {
                Format::Human => eprint!("{}", report.render(color_stderr())),
                Format::Json => print_json(&report),
            }
            // An unreadable path is an I/O error (2) rather than a finding in a policy.
            let io_only = report.diagnostics.iter().all(|d| matches!(d.kind, rampart::ErrorKind::Io { .. }));
            if io_only { 2 } else { 1 }
        }
    }
}

fn print_json(report: &Report) {
    for record in report.records() {
        match serde_json::to_string(&record) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("error: cannot serialize a diagnostic: {e}"),
        }
    }
}
