//! Globs over ids: `*` matches any run of characters (the empty run included); every
//! other character matches itself.

/// Whether `text` matches the glob `pattern`. Runs in linear time and never allocates.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let Some(last_star) = pattern.rfind('*') else { return rest.is_empty() };
    let last = &pattern[last_star + 1..];
    // Middle parts: every part between the first and the last star, leftmost match each.
    let middle = &pattern[first.len()..last_star];
    for part in middle.split('*').filter(|p| !p.is_empty()) {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn literal_patterns_match_exactly() {
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(!glob_match("abc", "ab"));
        assert!(glob_match("", ""));
    }

    #[test]
    fn star_matches_any_run_including_empty() {
        assert!(glob_match("shared-*", "shared-"));
        assert!(glob_match("shared-*", "shared-inbox"));
        assert!(!glob_match("shared-*", "private-inbox"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*-x", "a-x"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(glob_match("a*b*c", "a-b-b-c"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(glob_match("**", "anything"));
    }

    #[test]
    fn prefix_and_suffix_do_not_overlap() {
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("ab*ba", "abba"));
    }

    #[test]
    fn matches_on_character_boundaries() {
        assert!(glob_match("é*", "éclair"));
        assert!(glob_match("*ün", "grün"));
        assert!(!glob_match("*ü", "grün"));
    }
}
