//! `rampart who-can` and `rampart permissions`: access review from the command line.

use super::{Format, color_stderr, policy_set};
use rampart::Snapshot;
use std::path::PathBuf;

fn load(paths: &[PathBuf]) -> Result<Snapshot, i32> {
    policy_set(paths).compile().map_err(|report| {
        eprint!("{}", report.render(color_stderr()));
        2
    })
}

fn print_json(value: &impl serde::Serialize) -> i32 {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

pub(super) fn who_can(paths: &[PathBuf], permission: &str, on: Option<&str>, format: Format) -> i32 {
    let snapshot = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(answer) = snapshot.who_can(permission, on) else {
        eprintln!(
            "error: unknown permission `{permission}`: write it as `kind:action` with a declared kind and action"
        );
        return 2;
    };
    if format == Format::Json {
        return print_json(&answer);
    }
    let scope = on.map(|id| format!(" on `{id}`")).unwrap_or_default();
    if answer.roles.is_empty() {
        println!("no role holds {permission}{scope}");
    } else {
        println!("roles holding {permission}{scope}:");
        let width = answer.roles.iter().map(|h| h.role.len()).max().unwrap_or(0);
        for h in &answer.roles {
            let via = if h.via.len() > 1 { format!("  via {}", h.via.join(" -> ")) } else { String::new() };
            let condition = h.condition.as_deref().map(|c| format!("  {c}")).unwrap_or_default();
            println!("  {:width$}{via}{condition}  ({})", h.role, h.location);
        }
    }
    for p in &answer.policies {
        let effect = match p.effect {
            rampart::syntax::ast::Effect::Allow => "allow",
            rampart::syntax::ast::Effect::Deny => "deny",
        };
        println!("{effect} policy `{}` covers it ({}):", p.policy, p.location);
        for line in p.text.lines() {
            println!("    {line}");
        }
    }
    0
}

pub(super) fn permissions(paths: &[PathBuf], role: &str, format: Format) -> i32 {
    let snapshot = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(held) = snapshot.effective_permissions(role) else {
        let known: Vec<&str> = snapshot.role_names().collect();
        eprintln!("error: unknown role `{role}`; the roles are {}", known.join(", "));
        return 2;
    };
    if format == Format::Json {
        return print_json(&held);
    }
    println!("{role} holds {} permissions:", held.len());
    let width = held.iter().map(|h| h.permission.len()).max().unwrap_or(0);
    for h in &held {
        let via = if h.via.len() > 1 { format!("  via {}", h.via.join(" -> ")) } else { String::new() };
        let condition = h.condition.as_deref().map(|c| format!("  {c}")).unwrap_or_default();
        println!("  {:width$}{via}{condition}  ({})", h.permission, h.location);
    }
    0
}
