//! `rampart fmt`: canonical formatting of DSL files, keeping comments.

use super::{color_stderr, files_under};
use rampart::syntax::{Form, format_dsl};
use rampart::{PolicySet, Report};
use std::path::{Path, PathBuf};

/// The formatted text of one file, or its diagnostics.
fn formatted(path: &Path) -> Result<(String, String), Report> {
    let mut set = PolicySet::new();
    set.add_path(path);
    let (files, errors) = set.parse();
    let source = set.sources().iter().next().map(|(_, s)| s.text().to_owned());
    match (files.first(), source) {
        (Some(file), Some(text)) if errors.is_empty() => Ok((format_dsl(file, &text), text)),
        _ => Err(Report { sources: set.sources().clone(), diagnostics: errors }),
    }
}

pub(super) fn run(paths: &[PathBuf], check: bool) -> i32 {
    let files = files_under(paths, |name| name.ends_with(".policy"));
    let (mut changed, mut broken) = (Vec::new(), false);
    for path in &files {
        if Form::of_path(&path.display().to_string()) != Form::Dsl {
            continue;
        }
        match formatted(path) {
            Ok((new, old)) if new != old => {
                if check {
                    println!("{}", path.display());
                } else if let Err(e) = std::fs::write(path, &new) {
                    eprintln!("error: cannot write `{}`: {e}", path.display());
                    return 2;
                }
                changed.push(path);
            }
            Ok(_) => {}
            Err(report) => {
                eprint!("{}", report.render(color_stderr()));
                broken = true;
            }
        }
    }
    if broken {
        2
    } else if check && !changed.is_empty() {
        eprintln!("{} file(s) would be reformatted; run `rampart fmt`", changed.len());
        1
    } else {
        0
    }
}
