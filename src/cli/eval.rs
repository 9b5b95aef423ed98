//! `rampart eval`: decide JSON requests against a policy set.

use super::{color_stderr, policy_set};
use rampart::{Request, Snapshot};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

pub(super) fn run(policies: &[PathBuf], input: Option<&Path>, explain: bool) -> i32 {
    let snapshot = match policy_set(policies).compile() {
        Ok(s) => s,
        Err(report) => {
            eprint!("{}", report.render(color_stderr()));
            return 2;
        }
    };
    let text = match read_input(input) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for (line, chunk) in requests(&text) {
        let json = match Request::from_json(chunk, snapshot.limits()) {
            Ok(request) => decide(&snapshot, &request, explain),
            Err(e) => {
                failed = true;
                serde_json::json!({ "line": line, "error": e.to_string() }).to_string()
            }
        };
        if writeln!(out, "{json}").is_err() {
            return 2;
        }
    }
    if out.flush().is_err() {
        return 2;
    }
    i32::from(failed)
}

fn decide(snapshot: &Snapshot, request: &Request<'_>, explain: bool) -> String {
    let permission = format!("{}:{}", request.resource.kind, request.action);
    let report = if explain {
        let (decision, trace) = snapshot.explain(request);
        snapshot.explain_decision(&decision, &permission, Some(&trace))
    } else {
        snapshot.explain_decision(&snapshot.check(request), &permission, None)
    };
    serde_json::to_string(&report).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
}

fn read_input(input: Option<&Path>) -> std::io::Result<String> {
    match input {
        Some(p) if p != Path::new("-") => std::fs::read_to_string(p)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read `{}`: {e}", p.display()))),
        _ => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            Ok(s)
        }
    }
}

/// Splits input into requests with their 1-based starting line: one request when the
/// whole input is one JSON value (pretty-printed, say), otherwise JSON Lines, so that a
/// malformed line is reported alone and the others are still decided.
fn requests(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty()).collect();
    let Some(&(first, _)) = lines.first() else { return Vec::new() };
    if lines.len() > 1 && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        vec![(first, text.trim())]
    } else {
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::requests;

    #[test]
    fn json_lines_and_pretty_json_are_told_apart() {
        assert_eq!(requests("{\"a\":1}\n\n{\"b\":2}\n").len(), 2);
        assert_eq!(requests("{\n  \"a\": 1\n}\n").len(), 1);
        assert_eq!(requests("{\"a\":1}\nnot json\n"), vec![(1, "{\"a\":1}"), (2, "not json")]);
        assert_eq!(requests("{\"a\":\n{\"b\":2}\n"), vec![(1, "{\"a\":"), (2, "{\"b\":2}")]);
        assert!(requests("\n\n").is_empty());
    }
}
