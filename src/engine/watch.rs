//! Following policy directories with notify: debounced events trigger a reload.

use super::{Engine, ReloadError, ReloadSource};
use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

/// How long to wait for a burst of file events to end before reloading.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// Follows an engine's policy paths until dropped.
pub struct Watcher {
    /// The only strong reference: dropping the watcher stops the debouncer.
    _debouncer: Arc<Shared>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The engine was built from a snapshot, not from files.
    #[error("the engine has no policy paths to watch")]
    NoSources,
    /// The operating system refused to watch a path.
    #[error("cannot watch `{path}`: {source}")]
    Notify {
        /// The path.
        path: String,
        /// notify's error.
        source: notify::Error,
    },
}

/// A watched policy directory and the directory that was there when it was last watched.
struct Followed {
    path: PathBuf,
    identity: Option<(u64, u64)>,
}

/// Which directory a path names now: device and inode (Unix); `None` when it is not a
/// directory, or elsewhere than on Unix (where a replaced directory is not noticed).
fn identity(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

type Shared = Mutex<Debouncer<RecommendedWatcher, RecommendedCache>>;

/// Watches again each directory that another may have replaced (renamed over it, or
/// deleted and made again), for the old watch follows the old directory: one that events
/// named itself (not something under it), or that is another directory than when it was
/// watched. Both tests are needed: a directory made again often gets the inode number of
/// the one deleted, and events can be lost when the kernel's queue overflows.
fn rewatch_replaced(debouncer: &Weak<Shared>, dirs: &mut [Followed], named: impl Fn(&Path) -> bool) {
    for dir in dirs {
        let now = identity(&dir.path);
        if now.is_none() || (now == dir.identity && !named(&dir.path)) {
            continue;
        }
        let Some(debouncer) = debouncer.upgrade() else { return };
        let mut debouncer = debouncer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = debouncer.unwatch(&dir.path);
        match debouncer.watch(&dir.path, RecursiveMode::Recursive) {
            Ok(()) => {
                tracing::info!(target: "rampart::watch", path = %dir.path.display(), "policy directory replaced or touched; watching it again");
                dir.identity = now;
            }
            Err(e) => tracing::warn!(target: "rampart::watch", "cannot watch `{}` again: {e}", dir.path.display()),
        }
    }
}

pub(super) fn start(engine: Engine) -> Result<Watcher, WatchError> {
    // Absolute paths, so the paths in events (which notify builds from the watched ones)
    // compare with them.
    let paths: Vec<PathBuf> =
        engine.watched_paths().iter().map(|p| std::path::absolute(p).unwrap_or(p.clone())).collect();
    if paths.is_empty() {
        return Err(WatchError::NoSources);
    }
    // A file is watched through its directory, so that replacing it (rename over it, delete
    // and create) is seen; a directory with everything under it, and through its parent, so
    // that replacing the directory itself is seen too.
    let mut targets: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    let mut dirs = Vec::new();
    for path in &paths {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf);
        if path.is_dir() {
            targets.push((path.clone(), RecursiveMode::Recursive));
            targets.extend(parent.map(|p| (p, RecursiveMode::NonRecursive)));
            dirs.push(Followed { path: path.clone(), identity: identity(path) });
        } else {
            targets.push((parent.unwrap_or_else(|| PathBuf::from(".")), RecursiveMode::NonRecursive));
        }
    }
    // A directory's parent is watched only to see the directory itself replaced: events
    // there about anything else (a log written on every check, say) are noise. Only paths
    // known to be such siblings are ignored; a path in any other form (some platforms
    // report the canonical one) counts, at the cost of a reload that finds nothing changed.
    let noise = {
        let dir_paths: Vec<PathBuf> = dirs.iter().map(|d: &Followed| d.path.clone()).collect();
        let file_parents: Vec<PathBuf> =
            paths.iter().filter(|p| !dir_paths.contains(p)).filter_map(|p| p.parent().map(Path::to_path_buf)).collect();
        let dir_parents: Vec<PathBuf> = dir_paths
            .iter()
            .filter_map(|d| d.parent().map(Path::to_path_buf))
            .filter(|p| !file_parents.contains(p) && !dir_paths.iter().any(|d| p.starts_with(d)))
            .collect();
        move |p: &Path| {
            p.parent().is_some_and(|parent| dir_parents.iter().any(|d| d == parent))
                && !dir_paths.iter().any(|d| d == p)
        }
    }; // The handler reaches the debouncer (made after it) through a weak reference: a strong
    // one would keep it, and its thread, alive after the watcher is dropped.
    let shared: Arc<OnceLock<Weak<Shared>>> = Arc::new(OnceLock::new());
    let handler_shared = Arc::clone(&shared);
    let handler_engine = engine.clone();
    let handler = move |events: DebounceEventResult| {
        let relevant = match &events {
            // An event without paths (a rescan after the kernel's queue overflowed) may
            // hide anything.
            Ok(events) => {
                events.iter().any(|e| !e.kind.is_access() && (e.paths.is_empty() || e.paths.iter().any(|p| !noise(p))))
            }
            Err(errors) => {
                for e in errors {
                    tracing::warn!(target: "rampart::watch", "file watch error: {e}");
                }
                true
            }
        };
        if relevant {
            let weak = handler_shared.get().cloned().unwrap_or_default();
            let named = |dir: &Path| events.iter().flatten().any(|e| e.paths.iter().any(|p| p == dir));
            rewatch_replaced(&weak, &mut dirs, named);
            // Files still being written: try again a little later, for a few seconds (an
            // empty file is waited for a second; longer writes send more events anyway).
            for attempt in 1..=20u32 {
                match handler_engine.reload_from(ReloadSource::Watch) {
                    Err(ReloadError::Unsettled) => std::thread::sleep(DEBOUNCE * attempt.min(4)),
                    _ => break,
                }
            }
        }
    };
    let mut debouncer =
        new_debouncer(DEBOUNCE, None, handler).map_err(|source| WatchError::Notify { path: String::new(), source })?;
    for (target, mode) in &targets {
        debouncer
            .watch(target, *mode)
            .map_err(|source| WatchError::Notify { path: target.display().to_string(), source })?;
    }
    let debouncer = Arc::new(Mutex::new(debouncer));
    let _ = shared.set(Arc::downgrade(&debouncer));
    Ok(Watcher { _debouncer: debouncer })
}
