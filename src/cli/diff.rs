//! `rampart diff OLD NEW`: the security impact of a policy change.

use super::{Format, color_stderr};
use rampart::{PolicyDiff, PolicySet};
use std::path::Path;

pub(super) fn run(old: &Path, new: &Path, format: Format, fail_on_gain: bool) -> i32 {
    let mut snapshots = Vec::new();
    for path in [old, new] {
        match PolicySet::new().add_path(path).compile() {
            Ok(s) => snapshots.push(s),
            Err(report) => {
                eprint!("{}", report.render(color_stderr()));
                return 2;
            }
        }
    }
    let d = rampart::diff(&snapshots[0], &snapshots[1]);
    match format {
        Format::Json => match serde_json::to_string_pretty(&d) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        Format::Human => print_human(&d),
    }
    i32::from(fail_on_gain && d.may_widen_access())
}

fn print_human(d: &PolicyDiff) {
    if d.is_empty() {
        println!("no change in effective permissions or policies");
        return;
    }
    for r in &d.roles {
        println!("role {} ({}):", r.role, r.change);
        for g in &r.gained {
            println!("  + {g}");
        }
        for l in &r.lost {
            println!("  - {l}");
        }
    }
    for (what, ids) in
        [("added", &d.policies_added), ("removed", &d.policies_removed), ("changed", &d.policies_changed)]
    {
        if !ids.is_empty() {
            println!("policies {what}: {}", ids.join(", "));
        }
    }
    if !d.sensitive_gains.is_empty() {
        println!("newly able to perform sensitive actions (guarded by deny policies):");
        for g in &d.sensitive_gains {
            println!("  {}: {} (guarded by {})", g.role, g.permission, g.guarded_by.join(", "));
        }
    }
    if d.may_widen_access() {
        println!("this change may widen access: review it");
    }
}
