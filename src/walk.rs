//! Walking policy directories: one traversal for the loader and for the engine's wait for
//! files to settle, so both see the same files.
//!
//! Entries are visited in name order. Symbolic links are followed, but each directory is
//! entered once, whatever links lead to it: a link loop cannot hang a walk, nor can links
//! that lead to one directory by many paths multiply the work. Directories deeper than
//! [`MAX_DEPTH`] under the root are not entered.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// How deep under its root a walk goes.
pub(crate) const MAX_DEPTH: usize = 32;

/// What a walk meets.
pub(crate) enum Step<'a> {
    /// A directory, about to be entered (the root too).
    Dir(&'a Path),
    /// Anything that is not a directory, with its name.
    File(&'a Path, &'a str),
    /// A directory that could not be read.
    Unreadable(&'a Path, &'a std::io::Error),
    /// A directory deeper than [`MAX_DEPTH`], not entered.
    TooDeep(&'a Path),
}

/// Walks the directory `root`; entries whose name starts with `.` are skipped unless
/// `hidden`. `visit` returns false to stop the walk.
pub(crate) fn walk_dir(root: &Path, hidden: bool, visit: &mut dyn FnMut(Step<'_>) -> bool) {
    enter(root, 0, hidden, &mut HashSet::new(), visit);
}

/// Walks one directory; false when the walk is to stop.
fn enter(
    dir: &Path,
    depth: usize,
    hidden: bool,
    seen: &mut HashSet<PathBuf>,
    visit: &mut dyn FnMut(Step<'_>) -> bool,
) -> bool {
    if depth > MAX_DEPTH {
        return visit(Step::TooDeep(dir));
    }
    let Ok(real) = std::fs::canonicalize(dir) else { return true };
    if !seen.insert(real) {
        return true;
    }
    if !visit(Step::Dir(dir)) {
        return false;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return visit(Step::Unreadable(dir, &e)),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !hidden && name.starts_with('.') {
            continue;
        }
        let go_on =
            if path.is_dir() { enter(&path, depth + 1, hidden, seen, visit) } else { visit(Step::File(&path, &name)) };
        if !go_on {
            return false;
        }
    }
    true
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rampart-walk-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn files(root: &Path, hidden: bool) -> Vec<String> {
        let mut out = Vec::new();
        walk_dir(root, hidden, &mut |step| {
            if let Step::File(path, _) = step {
                out.push(path.strip_prefix(root).map(|p| p.display().to_string()).unwrap_or_default());
            }
            true
        });
        out
    }

    #[test]
    fn each_directory_is_entered_once_whatever_links_lead_to_it() {
        let root = scratch("links");
        let write = |p: &str| std::fs::write(root.join(p), "").unwrap();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        write("a.policy");
        write("b/c/d.policy");
        write(".hidden.policy");
        // A loop back to the root, and a second way into `b/c`.
        symlink(&root, root.join("b/loop")).unwrap();
        symlink(root.join("b/c"), root.join("again")).unwrap();
        assert_eq!(files(&root, false), ["a.policy", "again/d.policy"]);
        assert_eq!(files(&root, true), [".hidden.policy", "a.policy", "again/d.policy"]);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn links_that_fan_out_do_not_multiply_the_work() {
        // Thirty levels, each with two links to the next: 2^30 paths, 31 directories.
        let root = scratch("fan");
        for level in 0..31 {
            std::fs::create_dir_all(root.join(format!("d{level}"))).unwrap();
        }
        for level in 0..30 {
            for link in ["x", "y"] {
                let next = root.join(format!("d{}", level + 1));
                symlink(next, root.join(format!("d{level}/{link}"))).unwrap();
            }
        }
        std::fs::write(root.join("d30/deep.policy"), "").unwrap();
        let mut dirs = 0;
        walk_dir(&root.join("d0"), false, &mut |step| {
            dirs += usize::from(matches!(step, Step::Dir(_)));
            true
        });
        assert_eq!(dirs, 31);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_walk_stops_when_asked_and_reports_what_is_too_deep() {
        let root = scratch("deep");
        let mut deep = root.clone();
        for i in 0..=MAX_DEPTH + 1 {
            deep = deep.join(format!("l{i}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join("a.policy"), "").unwrap();
        std::fs::write(root.join("b.policy"), "").unwrap();
        let (mut too_deep, mut seen) = (0, Vec::new());
        walk_dir(&root, false, &mut |step| {
            match step {
                Step::TooDeep(_) => too_deep += 1,
                Step::File(_, name) => seen.push(name.to_owned()),
                _ => {}
            }
            seen.is_empty()
        });
        assert_eq!(seen, ["a.policy"], "the walk stopped after the first file");
        assert_eq!(too_deep, 0, "and never went down");
        walk_dir(&root, false, &mut |step| {
            too_deep += usize::from(matches!(step, Step::TooDeep(_)));
            true
        });
        assert_eq!(too_deep, 1);
        let _ = std::fs::remove_dir_all(&root);
    }
}
