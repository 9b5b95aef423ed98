//! W0009 `invisible-character`: invisible or bidirectional Unicode characters in a
//! policy file (Trojan Source).

use super::{Context, warning};
use crate::diagnostic::{CodeInfo, Diagnostic};
use crate::source::Span;

/// ## What it finds
/// Characters that are invisible, or that change the display order of text, anywhere in
/// a policy file, comments and strings included: the bidirectional embeddings,
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069), the marks U+200E, U+200F and
/// U+061C, zero-width characters (U+200B–U+200D, U+2060–U+2064, U+FEFF after the start
/// of the file), the soft hyphen U+00AD, fillers (U+115F, U+1160, U+3164, U+FFA0), tag
/// characters (U+E0000–U+E007F) and other invisible format characters. A run of such
/// characters is reported once.
///
/// ## Why it matters
/// A reviewer reads what the editor displays, and the compiler reads the characters. A
/// right-to-left override in a comment can make a condition look commented out when it
/// is not ("Trojan Source", CVE-2021-42574); a zero-width space makes `"admin"` and
/// `"adm\u{200b}in"` look the same and compare different.
///
/// ## Example
/// ```text
/// allow "p" { actions: doc:read  principals: "ad<U+200B>min" }   # warning[W0009]: invisible character U+200B (zero width space)
/// ```
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0009",
    name: "invisible-character",
    summary: "an invisible or bidirectional Unicode character (Trojan Source)",
    help: "remove it; inside a string, write it as an escape (`\\u{202e}`) if it is really meant",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (id, source) in cx.sources.iter() {
        let text = source.text();
        let mut chars = text.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            let Some(first) = describe(c) else { continue };
            let mut run = vec![(c, first)];
            let mut end = start + c.len_utf8();
            while let Some(&(at, next)) = chars.peek() {
                let Some(d) = describe(next) else { break };
                if !run.iter().any(|(r, _)| *r == next) {
                    run.push((next, d));
                }
                end = at + next.len_utf8();
                chars.next();
            }
            let bidi = run.iter().any(|(_, d)| d.bidi);
            let kind = match (bidi, run.iter().all(|(_, d)| d.bidi)) {
                (true, true) => "bidirectional control character",
                (true, false) => "invisible or bidirectional character",
                _ => "invisible character",
            };
            let listed: Vec<String> =
                run.iter().take(4).map(|(c, d)| format!("U+{:04X} ({})", u32::from(*c), d.name)).collect();
            let more = if run.len() > 4 { ", ..." } else { "" };
            let s = if end - start > c.len_utf8() { "s" } else { "" };
            let message = format!("{kind}{s} {}{more}", listed.join(", "));
            let why = if bidi {
                "it can make the text display in another order than it is read (Trojan Source)"
            } else {
                "it cannot be seen, yet it changes the text"
            };
            let help = format!(
                "{why}: remove it; inside a string, write it as an escape (`\\u{{{:x}}}`) if it is really meant",
                u32::from(c)
            );
            out.push(warning(&LINT, Span::new(id, start, end), message, help));
        }
    }
}

/// What a suspicious character is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Char {
    name: &'static str,
    /// Whether it changes the display order of text.
    bidi: bool,
}

/// The description of an invisible or bidirectional character; `None` for any other.
pub(super) fn describe(c: char) -> Option<Char> {
    let (name, bidi) = match c {
        '\u{202A}' => ("left-to-right embedding", true),
        '\u{202B}' => ("right-to-left embedding", true),
        '\u{202C}' => ("pop directional formatting", true),
        '\u{202D}' => ("left-to-right override", true),
        '\u{202E}' => ("right-to-left override", true),
        '\u{2066}' => ("left-to-right isolate", true),
        '\u{2067}' => ("right-to-left isolate", true),
        '\u{2068}' => ("first strong isolate", true),
        '\u{2069}' => ("pop directional isolate", true),
        '\u{200E}' => ("left-to-right mark", true),
        '\u{200F}' => ("right-to-left mark", true),
        '\u{061C}' => ("arabic letter mark", true),
        '\u{00AD}' => ("soft hyphen", false),
        '\u{034F}' => ("combining grapheme joiner", false),
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => ("hangul filler", false),
        '\u{17B4}' | '\u{17B5}' => ("khmer inherent vowel", false),
        '\u{180B}'..='\u{180D}' | '\u{180F}' => ("mongolian free variation selector", false),
        '\u{180E}' => ("mongolian vowel separator", false),
        '\u{200B}' => ("zero width space", false),
        '\u{200C}' => ("zero width non-joiner", false),
        '\u{200D}' => ("zero width joiner", false),
        '\u{2028}' => ("line separator", false),
        '\u{2029}' => ("paragraph separator", false),
        '\u{2060}' => ("word joiner", false),
        '\u{2061}'..='\u{2064}' => ("invisible operator", false),
        '\u{206A}'..='\u{206F}' => ("deprecated format character", false),
        '\u{FEFF}' => ("zero width no-break space", false),
        '\u{FFF9}'..='\u{FFFB}' => ("interlinear annotation character", false),
        '\u{1D173}'..='\u{1D17A}' => ("musical format character", false),
        '\u{E0000}'..='\u{E007F}' => ("tag character", false),
        _ => return None,
    };
    Some(Char { name, bidi })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_is_not_suspicious() {
        for c in ['a', ' ', '\t', '\n', 'é', '中', '🙂', '\u{05D0}'] {
            assert!(describe(c).is_none(), "{c:?}");
        }
        assert!(describe('\u{202E}').is_some_and(|d| d.bidi));
        assert!(describe('\u{200B}').is_some_and(|d| !d.bidi));
    }
}
