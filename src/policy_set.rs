//! Loading: the files of a policy set, read within limits, parsed and compiled.

use crate::compile::{Snapshot, compile};
use crate::diagnostic::{Diagnostic, ErrorKind, Report};
use crate::limits::Limits;
use crate::lint::{LintConfig, lint};
use crate::source::Sources;
use crate::syntax::{self, ast::PolicyFile};
use crate::walk::Step;
use std::path::Path;

/// The source files of a policy set, before compilation.
///
/// ```
/// let mut set = rampart::PolicySet::new();
/// set.add_source("inline.policy", "resource doc { actions: read }\nrole reader { grant doc:read }");
/// let snapshot = set.compile().expect("compiles");
/// assert_eq!(snapshot.counts().roles, 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    sources: Sources,
    problems: Vec<Diagnostic>,
    limits: Limits,
}

impl PolicySet {
    /// An empty policy set with default [`Limits`].
    pub fn new() -> PolicySet {
        PolicySet::default()
    }

    /// An empty policy set with the given limits.
    pub fn with_limits(limits: Limits) -> PolicySet {
        PolicySet { limits, ..PolicySet::default() }
    }

    /// Adds a policy text. Its name decides its form: `.yaml`/`.yml` is YAML, anything
    /// else the DSL.
    pub fn add_source(&mut self, name: impl Into<String>, text: impl Into<String>) -> &mut Self {
        let (name, mut text) = (name.into(), text.into());
        // A UTF-8 byte-order mark is not part of the policy.
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        if text.len() > self.limits.max_file_bytes {
            let what = format!("`{name}` ({} bytes)", text.len());
            self.problems.push(Diagnostic::unlocated(ErrorKind::Limit { what, limit: self.limits.max_file_bytes }));
        } else if self.sources.len() >= self.limits.max_files {
            let what = "number of policy files".to_owned();
            self.problems.push(Diagnostic::unlocated(ErrorKind::Limit { what, limit: self.limits.max_files }));
        } else {
            self.sources.add(name, text);
        }
        self
    }

    /// Adds a policy file, or every policy file under a directory (recursively, in name
    /// order, entering each directory once whatever links lead to it): `*.policy`, `*.yaml`
    /// and `*.yml`, except policy tests (`*.test.yaml`, `*.test.yml`) and entries whose
    /// names start with `.`. Problems reading files are
    /// reported when compiling.
    pub fn add_path(&mut self, path: impl AsRef<Path>) -> &mut Self {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => self.add_dir(path),
            Ok(_) => self.add_file(path),
            Err(e) => self.io_problem(path, &e),
        }
        self
    }

    fn io_problem(&mut self, path: &Path, e: &std::io::Error) {
        let kind = ErrorKind::Io { path: path.display().to_string(), reason: e.to_string() };
        self.problems.push(Diagnostic::unlocated(kind));
    }

    /// Adds the policy files under a directory ([`crate::walk`]: name order, each directory
    /// once, at most 32 levels), up to the limit on the number of files.
    fn add_dir(&mut self, dir: &Path) {
        crate::walk::walk_dir(dir, false, &mut |step| match step {
            Step::File(path, name) if is_policy_file(name) => {
                if self.sources.len() >= self.limits.max_files {
                    let what = "number of policy files".to_owned();
                    self.problems.push(Diagnostic::unlocated(ErrorKind::Limit { what, limit: self.limits.max_files }));
                    return false;
                }
                self.add_file(path);
                true
            }
            Step::File(..) | Step::Dir(_) => true,
            Step::Unreadable(path, e) => {
                self.io_problem(path, e);
                true
            }
            Step::TooDeep(path) => {
                let what = format!("directory depth under `{}`", path.display());
                self.problems.push(Diagnostic::unlocated(ErrorKind::Limit { what, limit: crate::walk::MAX_DEPTH }));
                true
            }
        });
    }

    fn add_file(&mut self, path: &Path) {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return self.io_problem(path, &e),
        };
        if !meta.is_file() {
            let kind = ErrorKind::Io { path: path.display().to_string(), reason: "not a regular file".to_owned() };
            self.problems.push(Diagnostic::unlocated(kind));
            return;
        }
        let limit = self.limits.max_file_bytes;
        let too_big = |size: u64| {
            let what = format!("`{}` ({size} bytes)", path.display());
            Diagnostic::unlocated(ErrorKind::Limit { what, limit })
        };
        if meta.len() > limit as u64 {
            self.problems.push(too_big(meta.len()));
            return;
        }
        // Read at most one byte past the limit: the file may grow after `metadata`.
        let read = std::fs::File::open(path).and_then(|f| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, limit as u64 + 1), &mut bytes).map(|_| bytes)
        });
        if let Ok(bytes) = &read
            && bytes.len() > limit
        {
            self.problems.push(too_big(bytes.len() as u64));
            return;
        }
        match read {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    self.add_source(path.display().to_string(), text);
                }
                Err(e) => {
                    let reason = format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to());
                    self.problems
                        .push(Diagnostic::unlocated(ErrorKind::Io { path: path.display().to_string(), reason }));
                }
            },
            Err(e) => self.io_problem(path, &e),
        }
    }

    /// A hash of the sources read so far (names and texts), the same as the compiled
    /// snapshot's [`crate::Version::hash`].
    pub fn content_hash(&self) -> u64 {
        self.sources.content_hash()
    }

    /// The sources added so far.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Parses every source. Returns the syntax trees and every problem found.
    pub fn parse(&self) -> (Vec<PolicyFile>, Vec<Diagnostic>) {
        let mut errors = self.problems.clone();
        let files =
            self.sources.iter().map(|(id, _)| syntax::parse(&self.sources, id, &self.limits, &mut errors)).collect();
        (files, errors)
    }

    /// Parses and compiles the whole set. On failure the report holds every error of
    /// every file, with the sources to render them.
    pub fn compile(&self) -> Result<Snapshot, Report> {
        self.build().map(|(_, snapshot)| snapshot)
    }

    /// Parses, compiles and lints the whole set, as `rampart check` does. When it
    /// compiles, returns the snapshot and a report of the lints' warnings (empty when
    /// clean); otherwise the report of every error, as [`PolicySet::compile`] does (lints
    /// run only on a set that compiles).
    ///
    /// ```
    /// let mut set = rampart::PolicySet::new();
    /// set.add_source("t.policy", "resource doc { actions: read }\ngroup unused = doc:read");
    /// let (_snapshot, warnings) = set.check(&rampart::LintConfig::default()).expect("compiles");
    /// assert_eq!(warnings.records()[0].message, "group `unused` is never used");
    /// ```
    pub fn check(&self, config: &LintConfig) -> Result<(Snapshot, Report), Report> {
        let (files, snapshot) = self.build()?;
        let diagnostics = lint(&files, &snapshot, &self.sources, config);
        Ok((snapshot, Report { sources: self.sources.clone(), diagnostics }))
    }

    fn build(&self) -> Result<(Vec<PolicyFile>, Snapshot), Report> {
        let (files, mut errors) = self.parse();
        match compile(&files, &self.sources, &self.limits) {
            Ok(snapshot) if errors.is_empty() => return Ok((files, snapshot)),
            Ok(_) => {}
            Err(mut more) => errors.append(&mut more),
        }
        // Unlocated problems (unreadable files) first, then in file and position order.
        errors.sort_by_key(|d| d.span.map(|s| (s.source(), s.range().start)));
        Err(Report { sources: self.sources.clone(), diagnostics: errors })
    }
}

fn is_policy_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let policy = lower.ends_with(".policy") || lower.ends_with(".yaml") || lower.ends_with(".yml");
    policy && !lower.ends_with(".test.yaml") && !lower.ends_with(".test.yml")
}

/// Loads and compiles the policy files at `path` (a file or a directory).
pub fn load(path: impl AsRef<Path>) -> Result<Snapshot, Report> {
    PolicySet::new().add_path(path).compile()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_files_are_picked_by_extension() {
        assert!(is_policy_file("roles.yaml"));
        assert!(is_policy_file("access.policy"));
        assert!(is_policy_file("X.YML"));
        assert!(!is_policy_file("maily.test.yaml"));
        assert!(!is_policy_file("request.json"));
    }

    #[test]
    fn oversized_sources_are_reported_not_loaded() {
        let mut set = PolicySet::with_limits(Limits { max_file_bytes: 8, ..Limits::default() });
        set.add_source("big.policy", "resource x { actions: a }");
        let report = set.compile().unwrap_err();
        assert_eq!(report.diagnostics.len(), 1);
        assert!(report.diagnostics[0].message().contains("exceeds the limit of 8"));
    }
}
