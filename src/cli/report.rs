//! `rampart report`: the role × permission matrix for access reviews, as Markdown, CSV or
//! a self-contained HTML page.

use super::{color_stderr, policy_set};
use rampart::{Access, AccessMatrix};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The output of `rampart report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum ReportFormat {
    /// A Markdown table.
    Markdown,
    /// Comma-separated values, one row per role.
    Csv,
    /// A self-contained HTML page.
    Html,
}

pub(super) fn run(paths: &[PathBuf], format: ReportFormat) -> i32 {
    let snapshot = match policy_set(paths).compile() {
        Ok(s) => s,
        Err(report) => {
            eprint!("{}", report.render(color_stderr()));
            return 2;
        }
    };
    let m = snapshot.access_matrix();
    let version = snapshot.version();
    print!(
        "{}",
        match format {
            ReportFormat::Markdown => markdown(&m),
            ReportFormat::Csv => csv(&m),
            ReportFormat::Html => html(&m, &format!("{:016x}", version.hash)),
        }
    );
    0
}

fn cell(a: Access) -> &'static str {
    match a {
        Access::Always => "yes",
        Access::Conditional => "conditional",
        Access::None => "",
    }
}

fn markdown(m: &AccessMatrix) -> String {
    let mut out = format!("| role | {} |\n|---|{}\n", m.permissions.join(" | "), "---|".repeat(m.permissions.len()));
    for (role, cells) in &m.rows {
        let cells: Vec<&str> = cells.iter().map(|c| cell(*c)).collect();
        let _ = writeln!(out, "| {role} | {} |", cells.join(" | "));
    }
    out
}

fn csv(m: &AccessMatrix) -> String {
    let mut out = format!("role,{}\n", m.permissions.join(","));
    for (role, cells) in &m.rows {
        let cells: Vec<&str> = cells.iter().map(|c| cell(*c)).collect();
        let _ = writeln!(out, "{role},{}", cells.join(","));
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(m: &AccessMatrix, hash: &str) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rampart access review</title>\n\
         <style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}\
         th,td{border:1px solid #ccc;padding:4px 8px;text-align:center}th.role,td.role{text-align:left}\
         th.perm{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}\
         td.yes{background:#c8e6c9}td.conditional{background:#fff3c4}</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Access review</h1>\n<p>Policy set {}. Conditional: held only through a grant limited by <code>on</code> or <code>when</code>.</p>",
        escape(hash)
    );
    out.push_str("<table>\n<tr><th class=\"role\">role</th>");
    for p in &m.permissions {
        let _ = write!(out, "<th class=\"perm\">{}</th>", escape(p));
    }
    out.push_str("</tr>\n");
    for (role, cells) in &m.rows {
        let _ = write!(out, "<tr><td class=\"role\">{}</td>", escape(role));
        for c in cells {
            let _ = write!(
                out,
                "<td class=\"{}\">{}</td>",
                cell(*c),
                match c {
                    Access::Always => "&#10003;",
                    Access::Conditional => "~",
                    Access::None => "",
                }
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</body></html>\n");
    out
}
