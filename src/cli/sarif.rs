//! `rampart check --format sarif`: diagnostics as a SARIF 2.1.0 log, the format GitHub
//! code scanning (and most CI dashboards) read.

use rampart::{CodeInfo, ErrorKind, Report, Severity};
use serde_json::{Value, json};
use std::path::Path;

/// Where people learn about the tool: the crate's homepage or repository when the
/// manifest names one, its documentation otherwise.
const INFORMATION_URI: &str =
    first_set(&[env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY"), "https://docs.rs/rampart"]);

const fn first_set<'a>(candidates: &[&'a str]) -> &'a str {
    let mut i = 0;
    while i < candidates.len() {
        if !candidates[i].is_empty() {
            return candidates[i];
        }
        i += 1;
    }
    ""
}

/// The SARIF log of a report: one run, every code Rampart reports as a rule, one result
/// per diagnostic. File paths are made relative to `base` (the working directory) when
/// they are under it, so that they resolve against the repository root.
pub(super) fn log(report: &Report, base: Option<&Path>) -> Value {
    let codes: Vec<&CodeInfo> = CodeInfo::all().collect();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            let level = if c.code.starts_with('W') { "warning" } else { "error" };
            json!({
                "id": c.code,
                "name": c.name,
                "shortDescription": {"text": c.summary},
                "help": {"text": c.help},
                "defaultConfiguration": {"level": level},
            })
        })
        .collect();
    let records = report.records();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .zip(&records)
        .map(|(d, r)| {
            let mut text = r.message.clone();
            if let Some(help) = &r.help {
                text.push_str(&format!("\nhelp: {help}"));
            }
            let mut result = json!({
                "ruleId": r.code,
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": {"text": text},
            });
            if let Some(index) = codes.iter().position(|c| c.code == r.code) {
                result["ruleIndex"] = json!(index);
            }
            let location = match (d.span, &d.kind) {
                (Some(span), _) => {
                    let source = report.sources.get(span.source());
                    let (start, end) = (source.line_col(span.range().start), source.line_col(span.range().end));
                    let mut region = json!({
                        "startLine": start.line,
                        "startColumn": start.col,
                        "endLine": end.line,
                        "endColumn": end.col,
                    });
                    if let Some(snippet) = &r.snippet {
                        region["snippet"] = json!({"text": snippet});
                    }
                    Some(json!({"physicalLocation": {"artifactLocation": artifact(source.name(), base), "region": region}}))
                }
                // An unreadable file: the file itself, without a region.
                (None, ErrorKind::Io { path, .. }) => {
                    Some(json!({"physicalLocation": {"artifactLocation": artifact(path, base)}}))
                }
                (None, _) => None,
            };
            if let Some(location) = location {
                result["locations"] = json!([location]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rampart",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            // Columns count characters, as in every Rampart diagnostic.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// An `artifactLocation`: a path relative to the repository root (`%SRCROOT%`, the
/// working directory) when it can be written so, an absolute `file://` URI otherwise.
fn artifact(name: &str, base: Option<&Path>) -> Value {
    let path = Path::new(name);
    let relative = if path.is_absolute() { base.and_then(|b| path.strip_prefix(b).ok()) } else { Some(path) };
    match relative {
        Some(rel) => {
            let parts: Vec<String> = rel
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(part) => Some(encode(&part.to_string_lossy())),
                    std::path::Component::ParentDir => Some("..".to_owned()),
                    _ => None,
                })
                .collect();
            json!({"uri": parts.join("/"), "uriBaseId": "%SRCROOT%"})
        }
        None => {
            let parts: Vec<String> = path
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(part) => Some(encode(&part.to_string_lossy())),
                    _ => None,
                })
                .collect();
            json!({"uri": format!("file:///{}", parts.join("/"))})
        }
    }
}

/// Percent-encodes a path segment for a URI (RFC 3986: unreserved characters stay).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uris() {
        let base = Path::new("/repo");
        assert_eq!(artifact("policies/roles.yaml", Some(base))["uri"], "policies/roles.yaml");
        assert_eq!(artifact("./policies/a b.policy", Some(base))["uri"], "policies/a%20b.policy");
        assert_eq!(artifact("/repo/policies/x.policy", Some(base))["uri"], "policies/x.policy");
        assert_eq!(artifact("/repo/policies/x.policy", Some(base))["uriBaseId"], "%SRCROOT%");
        assert_eq!(artifact("/elsewhere/x.policy", Some(base))["uri"], "file:///elsewhere/x.policy");
        assert!(artifact("/elsewhere/x.policy", Some(base)).get("uriBaseId").is_none());
    }
}
