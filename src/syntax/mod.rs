//! Syntax: DSL and YAML policy files into one syntax tree with spans.

pub mod ast;
mod dsl;
mod format;
pub(crate) mod print;
mod scan;
mod yaml;

pub(crate) use dsl::quote;
pub use format::format_dsl;
pub use print::{expr_to_string, perm_ref, policy_to_dsl, to_dsl, to_yaml};

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::source::{SourceId, Sources};
use ast::PolicyFile;

/// The two written forms of the policy language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The Rampart DSL (`.policy` files).
    Dsl,
    /// YAML (`.yaml` and `.yml` files).
    Yaml,
}

impl Form {
    /// The form a file name implies: `.yaml`/`.yml` are YAML, everything else is the DSL.
    pub fn of_path(name: &str) -> Form {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") { Form::Yaml } else { Form::Dsl }
    }
}

/// Parses one source into a syntax tree, appending every problem found to `errors`.
///
/// The form follows the source's name (see [`Form::of_path`]). Items that parsed are
/// returned even when others failed, so that later stages can report their own errors too.
pub fn parse(sources: &Sources, id: SourceId, limits: &Limits, errors: &mut Vec<Diagnostic>) -> PolicyFile {
    let source = sources.get(id);
    let items = match Form::of_path(source.name()) {
        Form::Dsl => {
            let mut conv = dsl::Converter::new(id, dsl::Placement::At(0), limits.max_nesting);
            let items = conv.file(source.text());
            errors.append(&mut conv.errors);
            items
        }
        Form::Yaml => yaml::parse(id, source.text(), limits.max_nesting, errors),
    };
    PolicyFile { source: id, items }
}
