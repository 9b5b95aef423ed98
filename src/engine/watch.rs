//! Following policy directories with notify: debounced events trigger a reload.

use super::{Engine, ReloadError, ReloadSource};
use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::time::Duration;

/// How long to wait for a burst of file events to end before reloading.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// Follows an engine's policy paths until dropped.
pub struct Watcher {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
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

pub(super) fn start(engine: Engine) -> Result<Watcher, WatchError> {
    let paths = engine.watched_paths().to_vec();
    if paths.is_empty() {
        return Err(WatchError::NoSources);
    }
    let handler_engine = engine.clone();
    let handler = move |events: DebounceEventResult| {
        let relevant = match &events {
            Ok(events) => events.iter().any(|e| !e.kind.is_access()),
            Err(errors) => {
                for e in errors {
                    tracing::warn!(target: "rampart::watch", "file watch error: {e}");
                }
                true
            }
        };
        if relevant {
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
    for path in &paths {
        // A file is watched through its directory, so that replacing it (rename over it,
        // delete and create) is seen; a directory is watched with everything under it.
        let (target, mode) = if path.is_dir() {
            (path.clone(), RecursiveMode::Recursive)
        } else {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            (parent.to_path_buf(), RecursiveMode::NonRecursive)
        };
        debouncer
            .watch(&target, mode)
            .map_err(|source| WatchError::Notify { path: target.display().to_string(), source })?;
    }
    Ok(Watcher { _debouncer: debouncer })
}
