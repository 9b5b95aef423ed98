//! `rampart test`: run policy test suites (`*.test.yaml`) against the policies.

use super::{color_stderr, files_under, policy_set};
use rampart::{RunReport, Suite};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The output of `rampart test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum TestFormat {
    /// Like `cargo test`.
    Human,
    /// One JSON object with every case, the coverage and the rules not exercised.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
}

pub(super) fn run(policies: &[PathBuf], suites: &[PathBuf], format: TestFormat, min_coverage: Option<f64>) -> i32 {
    let snapshot = match policy_set(policies).compile() {
        Ok(s) => s,
        Err(report) => {
            eprint!("{}", report.render(color_stderr()));
            return 2;
        }
    };
    let files = files_under(if suites.is_empty() { policies } else { suites }, |name| {
        name.ends_with(".test.yaml") || name.ends_with(".test.yml")
    });
    if files.is_empty() {
        eprintln!("error: no test suites (`*.test.yaml`) found");
        return 2;
    }
    let mut parsed = Vec::new();
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", f.display());
                return 2;
            }
        };
        match Suite::parse(&f.display().to_string(), &text) {
            Ok(s) => parsed.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let report = rampart::run_tests(&snapshot, &parsed);
    let text = match format {
        TestFormat::Human => human(&report, min_coverage),
        TestFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        TestFormat::Junit => junit(&report),
    };
    print!("{text}");
    let below = min_coverage.is_some_and(|m| report.coverage + 1e-9 < m);
    i32::from(report.failed() > 0 || below)
}

fn human(r: &RunReport, min_coverage: Option<f64>) -> String {
    let mut out = format!("\nrunning {} cases\n", r.cases.len());
    for c in &r.cases {
        let _ = writeln!(out, "test {}: {} ... {}", short(&c.file), c.name, if c.passed { "ok" } else { "FAILED" });
    }
    let failed: Vec<_> = r.cases.iter().filter(|c| !c.passed).collect();
    if !failed.is_empty() {
        out.push_str("\nfailures:\n");
        for c in &failed {
            let _ = writeln!(out, "\n---- {}: {} ----", short(&c.file), c.name);
            for f in &c.failures {
                let _ = writeln!(out, "{f}");
            }
        }
    }
    let status = if failed.is_empty() { "ok" } else { "FAILED" };
    let _ = writeln!(out, "\ntest result: {status}. {} passed; {} failed", r.passed(), r.failed());
    let _ = write!(out, "coverage: {:.1}% of grants and policies exercised", r.coverage);
    if let Some(m) = min_coverage {
        let _ = write!(out, " (minimum {m:.1}%{})", if r.coverage + 1e-9 < m { ": FAILED" } else { "" });
    }
    out.push('\n');
    if !r.uncovered.is_empty() {
        out.push_str("not exercised:\n");
        for u in &r.uncovered {
            let _ = writeln!(out, "  {u}");
        }
    }
    out
}

fn short(file: &str) -> String {
    Path::new(file).file_name().map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned())
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn junit(r: &RunReport) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rampart\" tests=\"{}\" failures=\"{}\">\n<testsuite name=\"rampart\" tests=\"{}\" failures=\"{}\">\n",
        r.cases.len(),
        r.failed(),
        r.cases.len(),
        r.failed()
    );
    for c in &r.cases {
        let _ = write!(out, "  <testcase classname=\"{}\" name=\"{}\"", xml(&short(&c.file)), xml(&c.name));
        if c.passed {
            out.push_str("/>\n");
        } else {
            let _ = writeln!(
                out,
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>",
                xml(c.failures.first().map_or("", String::as_str)),
                xml(&c.failures.join("\n"))
            );
        }
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}
