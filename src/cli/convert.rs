//! `rampart convert`: translate a policy file between the DSL and YAML.

use super::color_stderr;
use rampart::PolicySet;
use rampart::syntax::{Form, to_dsl, to_yaml};
use std::path::Path;

pub(super) fn run(file: &Path, to: Option<Form>) -> i32 {
    let mut set = PolicySet::new();
    set.add_path(file);
    let (files, errors) = set.parse();
    if !errors.is_empty() {
        let report = rampart::Report { sources: set.sources().clone(), diagnostics: errors };
        eprint!("{}", report.render(color_stderr()));
        return 2;
    }
    let Some(parsed) = files.first() else {
        eprintln!("error: `{}` is not a policy file", file.display());
        return 2;
    };
    let from = Form::of_path(&file.display().to_string());
    let to = to.unwrap_or(if from == Form::Dsl { Form::Yaml } else { Form::Dsl });
    print!("{}", if to == Form::Yaml { to_yaml(parsed) } else { to_dsl(parsed) });
    0
}
