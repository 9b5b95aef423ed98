//! Compile diagnostics as data: what went wrong, where, and how to fix it.
//!
//! Every problem found while loading, parsing or compiling a policy set is a
//! [`Diagnostic`]. Rendering (for a terminal or as JSON) happens at the edge, in
//! [`Report::render`] and the CLI.

use crate::source::{Location, Sources, Span};
use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy set cannot be compiled.
    Error,
    /// The policy set compiles, but something is probably wrong.
    Warning,
}

/// What kind of thing a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A resource kind.
    Resource,
    /// An action of a resource kind.
    Action,
    /// An attribute of a resource kind.
    Attribute,
    /// A permission group.
    Group,
    /// A role.
    Role,
    /// An access policy.
    Policy,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Resource => "resource kind",
            NameKind::Action => "action",
            NameKind::Attribute => "attribute",
            NameKind::Group => "group",
            NameKind::Role => "role",
            NameKind::Policy => "policy",
        })
    }
}

/// What went wrong. The `Display` text is the diagnostic's message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("cannot read `{path}`: {reason}")]
    Io {
        /// The path that failed.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// An input limit was exceeded.
    #[error("{what} exceeds the limit of {limit}")]
    Limit {
        /// What was too big.
        what: String,
        /// The configured limit.
        limit: usize,
    },
    /// The DSL text does not follow the grammar.
    #[error("syntax error: {message}")]
    Syntax {
        /// What the parser expected.
        message: String,
    },
    /// The YAML text is malformed or has the wrong shape.
    #[error("invalid YAML: {message}")]
    Yaml {
        /// The YAML parser's message.
        message: String,
    },
    /// A name is defined twice.
    #[error("duplicate {kind} `{name}`")]
    Duplicate {
        /// What kind of name.
        kind: NameKind,
        /// The name.
        name: String,
        /// Where it was first defined.
        first: Location,
    },
    /// A name that does not refer to anything.
    #[error("unknown {kind} `{name}`")]
    Unknown {
        /// What kind of name was expected.
        kind: NameKind,
        /// The name as written.
        name: String,
        /// The closest known name, if one is close.
        suggestion: Option<String>,
        /// Where the name was looked up (for an action: the resource kinds).
        scope: Option<String>,
    },
    /// A pattern that matches no declared permission.
    #[error("`{pattern}` matches no declared permission")]
    EmptyPattern {
        /// The pattern as written.
        pattern: String,
    },
    /// Roles that inherit from each other in a cycle.
    #[error("inheritance cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The roles in the cycle, first role repeated at the end.
        cycle: Vec<String>,
    },
    /// A malformed expression, literal, pattern or field.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: Option<String>,
    },
    /// An expression whose operand types do not fit.
    #[error("type error: {message}")]
    Type {
        /// What does not fit.
        message: String,
    },
    /// A finding of a lint: the set compiles, but something is probably wrong
    /// (see [`crate::LINTS`]).
    #[error("{message}")]
    Lint {
        /// The lint's stable code, such as `W0003`.
        code: &'static str,
        /// What was found.
        message: String,
        /// How to fix it.
        help: String,
    },
}

impl ErrorKind {
    /// The stable code of this kind of error, as shown in `error[R0003]`.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Io { .. } => "R0001",
            ErrorKind::Limit { .. } => "R0002",
            ErrorKind::Syntax { .. } | ErrorKind::Yaml { .. } => "R0010",
            ErrorKind::Duplicate { .. } => "R0011",
            ErrorKind::Unknown { kind: NameKind::Role, .. } => "R0003",
            ErrorKind::Unknown { kind: NameKind::Group, .. } => "R0004",
            ErrorKind::Unknown { kind: NameKind::Resource, .. } => "R0005",
            ErrorKind::Unknown { kind: NameKind::Action, .. } => "R0006",
            ErrorKind::Unknown { .. } => "R0007",
            ErrorKind::EmptyPattern { .. } => "R0012",
            ErrorKind::Cycle { .. } => "R0013",
            ErrorKind::Invalid { .. } => "R0014",
            ErrorKind::Type { .. } => "R0015",
            ErrorKind::Lint { code, .. } => code,
        }
    }

    /// A line saying how to fix the problem, when there is something useful to say.
    pub fn help(&self) -> Option<String> {
        match self {
            ErrorKind::Unknown { suggestion: Some(s), .. } => Some(format!("did you mean `{s}`?")),
            ErrorKind::Unknown { kind, scope, .. } => Some(match scope {
                Some(scope) => format!("declare it in {scope}, or correct the spelling"),
                None => format!("declare the {kind}, or correct the spelling"),
            }),
            ErrorKind::Duplicate { first, .. } => {
                Some(format!("first defined at {first}; rename or remove one of them"))
            }
            ErrorKind::Cycle { .. } => Some("remove one of the `inherits` links in the cycle".into()),
            ErrorKind::EmptyPattern { .. } => {
                Some("declare the resource kind and action, or correct the pattern".into())
            }
            ErrorKind::Limit { .. } => Some("split the input, or raise the limit in `Limits`".into()),
            ErrorKind::Invalid { help, .. } => help.clone(),
            ErrorKind::Lint { help, .. } => Some(help.clone()),
            ErrorKind::Yaml { message } if message.contains("tag") => {
                Some("a YAML value that starts with `!` is a tag: quote it, as in `when: '!context.mfa'`".into())
            }
            _ => None,
        }
    }
}

/// What a diagnostic code stands for: the rules a tool can list (SARIF's `rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The stable code: `R0003` for an error, `W0003` for a lint.
    pub code: &'static str,
    /// A short kebab-case name, such as `unknown-role` or `redundant-grant`.
    pub name: &'static str,
    /// What the code reports, in one line.
    pub summary: &'static str,
    /// How to fix what it reports, in general.
    pub help: &'static str,
}

impl CodeInfo {
    /// Every code Rampart reports: the compile errors (`R....`), then the lints (`W....`).
    pub fn all() -> impl Iterator<Item = &'static CodeInfo> {
        ERROR_CODES.iter().chain(crate::lint::LINTS.iter())
    }

    /// The code `code`, if there is one.
    pub fn get(code: &str) -> Option<&'static CodeInfo> {
        CodeInfo::all().find(|c| c.code == code)
    }
}

/// The compile error codes, as documented in `docs/language.md` (section 10).
const ERROR_CODES: [CodeInfo; 13] = [
    CodeInfo {
        code: "R0001",
        name: "unreadable-file",
        summary: "a file or directory cannot be read",
        help: "check the path, its permissions, and that the file is UTF-8 text",
    },
    CodeInfo {
        code: "R0002",
        name: "limit-exceeded",
        summary: "an input limit is exceeded",
        help: "split the input, or raise the limit in `Limits`",
    },
    CodeInfo {
        code: "R0003",
        name: "unknown-role",
        summary: "a role name that no role declares",
        help: "declare the role, or correct the spelling",
    },
    CodeInfo {
        code: "R0004",
        name: "unknown-group",
        summary: "a group name that no group declares",
        help: "declare the group, or correct the spelling (`kind:*` means every action of a kind)",
    },
    CodeInfo {
        code: "R0005",
        name: "unknown-resource-kind",
        summary: "a permission names an undeclared resource kind",
        help: "declare the resource kind, or correct the spelling",
    },
    CodeInfo {
        code: "R0006",
        name: "unknown-action",
        summary: "a permission names an action its resource kind does not declare",
        help: "declare the action in the resource kind, or correct the spelling",
    },
    CodeInfo {
        code: "R0007",
        name: "unknown-name",
        summary: "a name that does not refer to anything",
        help: "declare it, or correct the spelling",
    },
    CodeInfo {
        code: "R0010",
        name: "syntax-error",
        summary: "a DSL syntax error, or malformed or wrongly shaped YAML",
        help: "correct the syntax at the location shown",
    },
    CodeInfo {
        code: "R0011",
        name: "duplicate-name",
        summary: "a name declared twice",
        help: "rename or remove one of the declarations",
    },
    CodeInfo {
        code: "R0012",
        name: "empty-pattern",
        summary: "a permission pattern that matches no declared permission",
        help: "declare the resource kind and action, or correct the pattern",
    },
    CodeInfo {
        code: "R0013",
        name: "inheritance-cycle",
        summary: "roles that inherit from each other in a cycle",
        help: "remove one of the `inherits` links in the cycle",
    },
    CodeInfo {
        code: "R0014",
        name: "malformed",
        summary: "a malformed expression, literal, pattern or field",
        help: "correct it as the message says",
    },
    CodeInfo {
        code: "R0015",
        name: "type-error",
        summary: "a type error in a condition",
        help: "compare values of the same type",
    },
];

/// One problem, with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where, if the problem is located in a source text.
    pub span: Option<Span>,
}

impl Diagnostic {
    /// An error at a span.
    pub fn error(kind: ErrorKind, span: Span) -> Diagnostic {
        Diagnostic { severity: Severity::Error, kind, span: Some(span) }
    }

    /// An error with no location (an unreadable file, say).
    pub fn unlocated(kind: ErrorKind) -> Diagnostic {
        Diagnostic { severity: Severity::Error, kind, span: None }
    }

    /// The message: lowercase, no final period.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// Every diagnostic of a policy set, with the sources they point into.
#[derive(Debug, Clone)]
pub struct Report {
    /// The texts the diagnostics' spans point into.
    pub sources: Sources,
    /// The diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// A diagnostic resolved for output: plain strings, stable field names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiagnosticRecord {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The stable code, such as `R0003`.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The file, line and column, when located.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The source text the span covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

impl Report {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    /// The diagnostics as plain records (for JSON output and for tests).
    pub fn records(&self) -> Vec<DiagnosticRecord> {
        self.diagnostics
            .iter()
            .map(|d| DiagnosticRecord {
                severity: d.severity,
                code: d.kind.code(),
                message: d.message(),
                help: d.kind.help(),
                location: d.span.map(|s| self.sources.locate(s)),
                snippet: d.span.and_then(|s| self.sources.get(s.source()).text().get(s.range()).map(str::to_owned)),
            })
            .collect()
    }

    /// Renders every diagnostic like rustc does: code, `file:line:col`, the source line
    /// with the span underlined, and a `help:` line. `color` adds ANSI styles.
    pub fn render(&self, color: bool) -> String {
        use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
        let renderer = if color { Renderer::styled() } else { Renderer::plain() };
        let mut out = String::new();
        for d in &self.diagnostics {
            let level = match d.severity {
                Severity::Error => Level::ERROR,
                Severity::Warning => Level::WARNING,
            };
            let message = d.message();
            let help = d.kind.help();
            let mut group = Group::with_title(level.primary_title(message.as_str()).id(d.kind.code()));
            if let Some(span) = d.span {
                let source = self.sources.get(span.source());
                let text = source.text();
                let mut range = span.range();
                range.end = range.end.min(text.len());
                while !text.is_char_boundary(range.end) {
                    range.end -= 1;
                }
                range.start = range.start.min(range.end);
                while !text.is_char_boundary(range.start) {
                    range.start -= 1;
                }
                // The renderer counts lines at `\n` only; a lone `\r` ends a line for us too.
                // Replacing it keeps every byte offset.
                let text: std::borrow::Cow<'_, str> = if text.contains('\r') {
                    text.replace("\r\n", "\u{1}\n").replace('\r', "\n").replace('\u{1}', "\r").into()
                } else {
                    text.into()
                };
                group = group
                    .element(Snippet::source(text).path(source.name()).annotation(AnnotationKind::Primary.span(range)));
            }
            if let Some(help) = &help {
                group = group.element(Level::HELP.message(help.as_str()));
            }
            out.push_str(&renderer.render(&[group]));
            out.push_str("\n\n");
        }
        let (errors, warnings) = (self.count(Severity::Error), self.count(Severity::Warning));
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        if errors > 0 {
            let also = if warnings > 0 { format!("; {} emitted", plural(warnings, "warning")) } else { String::new() };
            out.push_str(&format!(
                "error: could not compile the policy set due to {}{also}\n",
                plural(errors, "error")
            ));
        } else if warnings > 0 {
            out.push_str(&format!("warning: {} emitted\n", plural(warnings, "warning")));
        }
        out
    }

    /// How many diagnostics have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == severity).count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in self.records() {
            match &r.location {
                Some(loc) => writeln!(f, "{loc}: {}[{}]: {}", severity_word(r.severity), r.code, r.message)?,
                None => writeln!(f, "{}[{}]: {}", severity_word(r.severity), r.code, r.message)?,
            }
        }
        Ok(())
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

impl std::error::Error for Report {}

/// The closest name to `name` among `candidates`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_owned())
}

/// Edit distance over characters, counting a swap of two neighbours as one edit
/// (optimal string alignment), so `mial` is one edit from `mail`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j]; three rows suffice.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("viewr", ["viewer", "member", "admin"]), Some("viewer".into()));
        assert_eq!(suggest("zzz", ["viewer", "member"]), None);
        assert_eq!(suggest("admin", ["admin"]), None);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("mial", "mail"), 1);
        assert_eq!(suggest("sned", ["send", "read"]), Some("send".into()));
    }
}
