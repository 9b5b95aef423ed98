//! W0010 `confusable-names`: two names that look the same.

use super::invisible_characters::describe as invisible;
use super::{Context, warning};
use crate::diagnostic::{CodeInfo, Diagnostic};
use crate::source::Span;
use std::collections::HashMap;

/// ## What it finds
/// Two roles, two groups or two policies whose names differ only by case (`Admin`,
/// `admin`), by `-` and `_` (`team-lead`, `team_lead`), or by characters that look
/// alike: `0` and `o`, `1`, `l` and `I`, `rn` and `m`, `vv` and `w`, Cyrillic and Greek
/// letters that look like Latin ones (policy ids may hold any character), and invisible
/// characters. The later declaration is reported.
///
/// ## Why it matters
/// Names are case-sensitive and compared exactly, so look-alikes are different roles:
/// a policy naming `team-lead` does not apply to `team_lead`, a principal presenting
/// `Admin` holds nothing that `admin` grants, and reviewers cannot see the difference.
///
/// ## Example
/// ```text
/// role team_lead { grant doc:read }
/// role team-lead { grant doc:edit }   # warning[W0010]: role `team-lead` can be confused with role `team_lead`
/// ```
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0010",
    name: "confusable-names",
    summary: "two role, group or policy names that differ only by case, `-`/`_` or look-alike characters",
    help: "rename one of them so that they are clearly different, or merge them",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let roles: Vec<(&str, Span)> = cx.roles().map(|r| (r.name.name.as_str(), r.name.span)).collect();
    let groups: Vec<(&str, Span)> = cx.groups().map(|g| (g.name.name.as_str(), g.name.span)).collect();
    let policies: Vec<(&str, Span)> = cx.policies().map(|p| (p.id.value.as_str(), p.id.span)).collect();
    for (kind, names) in [("role", roles), ("group", groups), ("policy", policies)] {
        // Key -> the first name with that key. Two keys: one ignoring case, one keeping it
        // (so that `I` and `l` match without matching `i` and `l`).
        let mut first: HashMap<(bool, String), (&str, Span)> = HashMap::new();
        for (name, span) in names {
            let keys = [(false, skeleton(name, false)), (true, skeleton(name, true))];
            let earlier = keys.iter().find_map(|k| first.get(k).filter(|(other, _)| *other != name).copied());
            for key in keys {
                first.entry(key).or_insert((name, span));
            }
            let Some((other, other_span)) = earlier else { continue };
            let message = format!("{kind} `{name}` can be confused with {kind} `{other}`");
            let help = format!(
                "they differ only {}; rename one of them (`{other}` is declared at {})",
                difference(name, other),
                cx.sources.locate(other_span)
            );
            out.push(warning(&LINT, span, message, help));
        }
    }
}

/// How two confusable names differ, for the help line.
fn difference(a: &str, b: &str) -> &'static str {
    let fold = |s: &str| s.to_lowercase().replace('-', "_");
    if a.to_lowercase() == b.to_lowercase() {
        "in case"
    } else if a.replace('-', "_") == b.replace('-', "_") {
        "in `-` and `_`"
    } else if fold(a) == fold(b) {
        "in case and in `-` and `_`"
    } else {
        "in characters that look alike"
    }
}

/// The name as it looks: invisible characters dropped, `-` as `_`, look-alike characters
/// replaced by one of them; lowercased unless `keep_case`.
fn skeleton(name: &str, keep_case: bool) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().filter(|c| invisible(*c).is_none()) {
        let c = look_alike(c);
        let c = match c {
            '-' => '_',
            '0' => 'o',
            '1' | '|' => 'l',
            'I' if keep_case => 'l',
            c => c,
        };
        if keep_case {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out.replace("rn", "m").replace("vv", "w")
}

/// The Latin letter a Cyrillic or Greek letter looks like; any other character unchanged.
fn look_alike(c: char) -> char {
    match c {
        'а' | 'α' => 'a',
        'е' | 'ε' => 'e',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'с' | 'ϲ' => 'c',
        'у' | 'γ' => 'y',
        'х' | 'χ' => 'x',
        'ѕ' => 's',
        'і' | 'ι' => 'i',
        'ј' => 'j',
        'ԁ' => 'd',
        'ӏ' => 'l',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'ɡ' => 'g',
        'ν' => 'v',
        'κ' => 'k',
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'Е' | 'Ε' => 'E',
        'Ζ' => 'Z',
        'Н' | 'Η' => 'H',
        'І' | 'Ι' => 'I',
        'Ј' => 'J',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Ν' => 'N',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'С' => 'C',
        'Ѕ' => 'S',
        'Т' | 'Τ' => 'T',
        'Υ' | 'Ү' => 'Y',
        'Х' | 'Χ' => 'X',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confusable(a: &str, b: &str) -> bool {
        skeleton(a, false) == skeleton(b, false) || skeleton(a, true) == skeleton(b, true)
    }

    #[test]
    fn look_alikes_are_confusable() {
        for (a, b) in [
            ("admin", "Admin"),
            ("team-lead", "team_lead"),
            ("r0le", "role"),
            ("billing", "biIling"),
            ("bi11ing", "billing"),
            ("modern", "modem"),
            ("ad\u{200b}min", "admin"),
            ("аdmin", "admin"), // Cyrillic а
        ] {
            assert!(confusable(a, b), "{a} / {b}");
        }
    }

    #[test]
    fn different_names_are_not() {
        for (a, b) in [("mail", "mall"), ("viewer", "viewers"), ("admin", "admins"), ("a_b", "ab")] {
            assert!(!confusable(a, b), "{a} / {b}");
        }
    }
}
