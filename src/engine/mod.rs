//! Engine: the live snapshot behind arc-swap, reloads that never serve a broken policy,
//! audit events for every change, decision logs and metrics.
//!
//! A check loads the live snapshot once and runs entirely against it, so a reload that
//! swaps in a new snapshot mid-check cannot tear a decision. Reloads read, parse and
//! compile the whole set off the check path, one at a time, and swap only on success.

mod audit;
mod decision_log;
mod stats;
mod watch;

pub use audit::{AuditEvent, Changes, ReloadFailure, ReloadMetadata, rfc3339};
pub use decision_log::DecisionLogConfig;
pub use stats::Metrics;
pub use watch::{WatchError, Watcher};

use crate::diagnostic::Report;
use crate::{Decision, Limits, PolicySet, Request, Snapshot, Trace, Version, diff};
use arc_swap::ArcSwap;
use audit::AuditFile;
use decision_log::DecisionLog;
use stats::Stats;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How long, while watching, a file that became empty is taken for a write in progress.
pub(crate) const EMPTY_FILE_GRACE: Duration = Duration::from_secs(1);

/// What started a reload; it becomes the audit event's actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadSource {
    /// The first load, when the engine is built.
    Start,
    /// A call to [`Engine::reload`].
    Manual,
    /// A change seen by [`Engine::watch`].
    Watch,
    /// A signal (SIGHUP).
    Signal,
    /// Named by the application, such as an admin endpoint with its user.
    Other(String),
}

impl ReloadSource {
    fn actor(&self) -> String {
        match self {
            ReloadSource::Start => "rampart:start".into(),
            ReloadSource::Manual => "rampart:manual".into(),
            ReloadSource::Watch => "rampart:watch".into(),
            ReloadSource::Signal => "rampart:signal".into(),
            ReloadSource::Other(actor) => actor.clone(),
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReloadOutcome {
    /// The files' content hash is the live one: nothing was swapped.
    Unchanged(Version),
    /// A new snapshot is live.
    Reloaded(Box<AuditEvent>),
}

/// Why a reload did not install a new snapshot. The old snapshot stays live.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReloadError {
    /// The engine was built from a snapshot, not from files.
    #[error("the engine has no policy files to reload from")]
    NoSources,
    /// The files changed while being read (a half-written file); the next change retries.
    #[error("the policy files changed while they were read; waiting for them to settle")]
    Unsettled,
    /// The policy set does not compile.
    #[error("the policy set does not compile:\n{0}")]
    Invalid(Arc<Report>),
}

/// Observes reloads: successes, failures and skips.
pub type ReloadObserver = Box<dyn Fn(&Result<ReloadOutcome, ReloadError>) + Send + Sync>;

/// Builds an [`Engine`] from policy files.
#[derive(Default)]
pub struct EngineBuilder {
    paths: Vec<PathBuf>,
    limits: Limits,
    audit_file: Option<PathBuf>,
    decision_log: Option<(DecisionLogConfig, Box<dyn std::io::Write + Send>)>,
    observers: Vec<ReloadObserver>,
    settle: Option<Duration>,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("paths", &self.paths)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// Adds a policy file or directory (see [`PolicySet::add_path`]).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.paths.push(path.into());
        self
    }

    /// Sets the input limits. Default: [`Limits::default`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Appends audit events (reloads and failed reloads) to this JSON Lines file, flushed
    /// to disk per event. Default: events go to `tracing` only.
    pub fn audit_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit_file = Some(path.into());
        self
    }

    /// Logs decisions as security events to `out` (a file, stderr), as configured.
    /// Default: no decision log.
    pub fn decision_log(mut self, config: DecisionLogConfig, out: Box<dyn std::io::Write + Send>) -> Self {
        self.decision_log = Some((config, out));
        self
    }

    /// Calls `observer` after every reload attempt, with its outcome.
    pub fn on_reload(mut self, observer: impl Fn(&Result<ReloadOutcome, ReloadError>) + Send + Sync + 'static) -> Self {
        self.observers.push(Box::new(observer));
        self
    }

    /// How long a watched reload waits before reading the files a second time to make
    /// sure they are no longer being written. Default: 50 ms.
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = Some(settle);
        self
    }

    /// Loads the policy set and starts the engine. Fails when the set does not compile
    /// (with every diagnostic) or the audit file cannot be opened.
    pub fn build(self) -> Result<Engine, EngineError> {
        let audit = match &self.audit_file {
            Some(p) => Some(AuditFile::open(p).map_err(|e| EngineError::Audit(p.display().to_string(), e))?),
            None => None,
        };
        let placeholder = Arc::new(crate::compile::empty(&self.limits));
        let engine = Engine {
            inner: Arc::new(Inner {
                live: ArcSwap::new(Arc::new(Live::new(placeholder, None))),
                paths: self.paths,
                limits: self.limits,
                reloading: Mutex::new(0),
                info: Mutex::new(ReloadState::default()),
                audit,
                decisions: self.decision_log.map(|(config, out)| DecisionLog::start(config, out)),
                stats: Stats::default(),
                observers: self.observers,
                settle: self.settle.unwrap_or(Duration::from_millis(50)),
                reloads_ok: AtomicU64::new(0),
                reloads_failed: AtomicU64::new(0),
            }),
        };
        match engine.reload_from(ReloadSource::Start) {
            Ok(_) => Ok(engine),
            Err(ReloadError::Invalid(report)) => Err(EngineError::Invalid(report)),
            Err(e) => Err(EngineError::Reload(e)),
        }
    }
}

/// Why an engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The policy set does not compile.
    #[error("the policy set does not compile:\n{0}")]
    Invalid(Arc<Report>),
    /// The first load failed otherwise.
    #[error(transparent)]
    Reload(ReloadError),
    /// The audit file cannot be opened.
    #[error("cannot open the audit file `{0}`: {1}")]
    Audit(String, std::io::Error),
}

/// The live snapshot held by [`Engine::pin`]: every decision made through it is made by
/// that one snapshot, and counted by the engine.
pub struct Pinned<'e> {
    engine: &'e Engine,
    live: arc_swap::Guard<Arc<Live>>,
}

impl Pinned<'_> {
    /// The pinned snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.live.snapshot
    }

    /// Decides a request against the pinned snapshot ([`Snapshot::check`]).
    #[inline]
    pub fn check(&self, request: &Request<'_>) -> Decision {
        let decision = self.live.snapshot.check(request);
        self.engine.observe(&self.live, request, &decision);
        decision
    }

    /// Decides a request and records every rule considered ([`Snapshot::explain`]). The
    /// decision counts in the metrics and the decision log: explaining a decision is
    /// still making it.
    pub fn explain(&self, request: &Request<'_>) -> (Decision, Trace) {
        let (decision, trace) = self.live.snapshot.explain(request);
        self.engine.observe(&self.live, request, &decision);
        (decision, trace)
    }
}

impl std::fmt::Debug for Pinned<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pinned").field("version", &self.live.snapshot.version()).finish()
    }
}

/// The live snapshot and its per-policy deny counters.
struct Live {
    snapshot: Arc<Snapshot>,
    denies: Vec<AtomicU64>,
}

impl Live {
    fn new(snapshot: Arc<Snapshot>, previous: Option<&Live>) -> Live {
        // Deny counts carry over by policy id across reloads.
        let before: std::collections::HashMap<&str, u64> = previous
            .map(|p| p.snapshot.policy_ids().zip(&p.denies).map(|(id, n)| (id, n.load(Ordering::Relaxed))).collect())
            .unwrap_or_default();
        let denies = snapshot.policy_ids().map(|id| AtomicU64::new(before.get(id).copied().unwrap_or(0))).collect();
        Live { snapshot, denies }
    }
}

/// What the last reloads left behind; locked only briefly (never during a reload), so
/// that reading it does not wait for a reload in progress.
#[derive(Default)]
struct ReloadState {
    last_error: Option<Arc<Report>>,
    last_duration: Duration,
    loaded_at: Option<SystemTime>,
}

struct Inner {
    live: ArcSwap<Live>,
    paths: Vec<PathBuf>,
    limits: Limits,
    /// Held for the whole of a reload, so that reloads run one at a time; holds the last
    /// version number given out.
    reloading: Mutex<u64>,
    info: Mutex<ReloadState>,
    audit: Option<AuditFile>,
    decisions: Option<DecisionLog>,
    stats: Stats,
    observers: Vec<ReloadObserver>,
    settle: Duration,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

/// The live authorization engine: checks against the current snapshot, reloads from the
/// policy files, audits every change. Cheap to clone; clones share everything.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("rampart-doc-engine-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # std::fs::write(dir.join("p.policy"), "resource doc { actions: read }\nrole reader { grant doc:read }").unwrap();
/// use rampart::{Engine, Principal, Request, Resource};
///
/// let engine = Engine::builder().path(&dir).build()?;
/// let _watcher = engine.watch()?; // follows the directory until dropped
/// let roles = ["reader"];
/// let request = Request::new(Principal::new("ann").roles(&roles), "read", Resource::new("doc", "d1"));
/// assert!(engine.check(&request).is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("paths", &self.inner.paths).field("version", &self.version()).finish()
    }
}

impl Engine {
    /// Starts building an engine from policy files.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An engine serving a fixed snapshot (it cannot reload).
    pub fn from_snapshot(mut snapshot: Snapshot) -> Engine {
        snapshot.version = 1;
        let limits = snapshot.limits;
        Engine {
            inner: Arc::new(Inner {
                live: ArcSwap::new(Arc::new(Live::new(Arc::new(snapshot), None))),
                paths: Vec::new(),
                limits,
                reloading: Mutex::new(1),
                info: Mutex::new(ReloadState { loaded_at: Some(SystemTime::now()), ..Default::default() }),
                audit: None,
                decisions: None,
                stats: Stats::default(),
                observers: Vec::new(),
                settle: Duration::ZERO,
                reloads_ok: AtomicU64::new(0),
                reloads_failed: AtomicU64::new(0),
            }),
        }
    }

    /// Decides a request against the live snapshot. Never blocks: a reload in progress
    /// does not delay it, and the whole check sees one snapshot.
    #[inline]
    pub fn check(&self, request: &Request<'_>) -> Decision {
        self.pin().check(request)
    }

    /// Holds the live snapshot for decisions that must agree with it: a batch decided by
    /// one version of the policy set, or a decision described in names
    /// ([`Snapshot::explain_decision`]), which must be done against the snapshot that made
    /// it (a reload in between swaps in a set whose rule ids mean other rules). Checks
    /// through it count in the metrics and the decision log like [`Engine::check`].
    ///
    /// Hold it briefly: reloads go on, and the pinned snapshot stays in memory until it is
    /// dropped.
    pub fn pin(&self) -> Pinned<'_> {
        Pinned { engine: self, live: self.inner.live.load() }
    }

    /// Counts a decision in the metrics and writes it to the decision log.
    #[inline]
    fn observe(&self, live: &Live, request: &Request<'_>, decision: &Decision) {
        self.inner.stats.record(decision.is_allowed(), decision.errors().len());
        if !decision.is_allowed() {
            for rule in decision.reasons() {
                if let crate::Rule::Policy(p) = rule
                    && let Some(counter) = live.denies.get(p.index())
                {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if let Some(log) = &self.inner.decisions {
            log.record(&live.snapshot, request, decision);
        }
    }

    /// The live snapshot (it stays valid, and unchanged, after later reloads).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.inner.live.load().snapshot)
    }

    /// The live snapshot's version.
    pub fn version(&self) -> Version {
        self.inner.live.load().snapshot.version()
    }

    /// The policy paths the engine reloads from.
    pub fn paths(&self) -> &[PathBuf] {
        &self.inner.paths
    }

    /// The diagnostics of the last failed reload, cleared by the next successful one.
    pub fn last_error(&self) -> Option<Arc<Report>> {
        self.lock_state().last_error.clone()
    }

    /// When the live snapshot was installed.
    pub fn loaded_at(&self) -> Option<SystemTime> {
        self.lock_state().loaded_at
    }

    /// Reloads the policy files now.
    pub fn reload(&self) -> Result<ReloadOutcome, ReloadError> {
        self.reload_from(ReloadSource::Manual)
    }

    /// Reloads the policy files, naming what started the reload (the audit actor).
    pub fn reload_from(&self, source: ReloadSource) -> Result<ReloadOutcome, ReloadError> {
        let result = self.try_reload(&source);
        for observer in &self.inner.observers {
            observer(&result);
        }
        result
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, ReloadState> {
        self.inner.info.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> PolicySet {
        let mut set = PolicySet::with_limits(self.inner.limits);
        for p in &self.inner.paths {
            set.add_path(p);
        }
        set
    }

    /// The latest modification time of the policy paths and everything under them
    /// (following links, but never into a directory already visited).
    fn newest_change(&self) -> Option<SystemTime> {
        let mut newest = None;
        let mut note = |path: &std::path::Path| {
            let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
            newest = newest.max(modified);
        };
        for p in &self.inner.paths {
            if p.is_dir() {
                // Hidden entries too: a ConfigMap swaps its `..data` link.
                crate::walk::walk_dir(p, true, &mut |step| {
                    if let crate::walk::Step::Dir(path) | crate::walk::Step::File(path, _) = step {
                        note(path);
                    }
                    true
                });
            } else {
                note(p);
            }
        }
        newest
    }

    /// Waits (up to twenty settle periods) until nothing has changed for one settle period;
    /// returns the newest modification time then.
    fn wait_until_quiet(&self) -> Option<SystemTime> {
        let settle = self.inner.settle;
        for _ in 0..20 {
            let newest = self.newest_change();
            let age = newest.and_then(|t| SystemTime::now().duration_since(t).ok()).unwrap_or(Duration::ZERO);
            if age >= settle {
                return newest;
            }
            std::thread::sleep(settle - age);
        }
        self.newest_change()
    }

    fn resource(&self) -> String {
        let paths: Vec<String> = self.inner.paths.iter().map(|p| p.display().to_string()).collect();
        format!("policy-set:{}", paths.join(","))
    }

    fn try_reload(&self, source: &ReloadSource) -> Result<ReloadOutcome, ReloadError> {
        if self.inner.paths.is_empty() {
            return Err(ReloadError::NoSources);
        }
        // One reload at a time; checks go on against the live snapshot meanwhile.
        let mut number = self.inner.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let started = Instant::now();
        let previous = self.inner.live.load_full();
        let first = *number == 0;
        // A watched change may be a write in progress: wait until nothing under the paths
        // has changed for the settle period, read, and make sure nothing changed meanwhile.
        // A signal often follows a deploy script's copy: it waits for quiet files too.
        let watched = matches!(source, ReloadSource::Watch | ReloadSource::Signal) && !self.inner.settle.is_zero();
        let quiet_since = if watched { self.wait_until_quiet() } else { None };
        let set = self.read();
        let hash = set.content_hash();
        // An empty file is what a write looks like between truncating and writing: while
        // watching, a file that became empty less than a second ago is taken as unfinished.
        let young_empty_file = set.sources().iter().any(|(_, s)| {
            s.text().is_empty()
                && std::fs::metadata(s.name())
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or(Duration::ZERO) < EMPTY_FILE_GRACE)
        });
        if watched && (young_empty_file || self.newest_change() != quiet_since || self.read().content_hash() != hash) {
            tracing::debug!(target: "rampart::watch", "policy files still changing; the reload waits");
            return Err(ReloadError::Unsettled);
        }
        if !first && hash == previous.snapshot.content_hash {
            // Back to what is live (say, a broken edit reverted): nothing is wrong any more.
            self.lock_state().last_error = None;
            return Ok(ReloadOutcome::Unchanged(previous.snapshot.version()));
        }
        let mut snapshot = match set.compile() {
            Ok(s) => s,
            Err(report) => {
                let report = Arc::new(report);
                self.lock_state().last_error = Some(Arc::clone(&report));
                drop(number);
                self.inner.reloads_failed.fetch_add(1, Ordering::Relaxed);
                self.report_failure(source, &previous, first, &report);
                return Err(ReloadError::Invalid(report));
            }
        };
        *number += 1;
        snapshot.version = *number;
        let snapshot = Arc::new(snapshot);
        let diff = if first {
            diff(&crate::compile::empty(&self.inner.limits), &snapshot)
        } else {
            diff(&previous.snapshot, &snapshot)
        };
        self.inner.live.store(Arc::new(Live::new(Arc::clone(&snapshot), Some(&previous))));
        let duration = started.elapsed();
        {
            let mut info = self.lock_state();
            info.last_error = None;
            info.last_duration = duration;
            info.loaded_at = Some(SystemTime::now());
        }
        drop(number);
        self.inner.reloads_ok.fetch_add(1, Ordering::Relaxed);
        let event = AuditEvent {
            timestamp: rfc3339(SystemTime::now()),
            actor: source.actor(),
            action: "policy.reload",
            resource: self.resource(),
            changes: Changes { before: (!first).then(|| previous.snapshot.version()), after: snapshot.version() },
            metadata: ReloadMetadata {
                files: snapshot.files().map(str::to_owned).collect(),
                duration_ms: (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0,
                diff,
            },
        };
        self.audit(&event);
        self.metrics().publish();
        Ok(ReloadOutcome::Reloaded(Box::new(event)))
    }

    fn audit(&self, event: &AuditEvent) {
        let json = serde_json::to_string(event).unwrap_or_default();
        tracing::info!(target: "rampart::audit", event = %json, "policy reloaded: {} -> {}",
            event.changes.before.map_or_else(|| "none".to_owned(), |v| v.to_string()), event.changes.after);
        if let Some(file) = &self.inner.audit
            && let Err(e) = file.append(event)
        {
            tracing::error!(target: "rampart::audit", "cannot write the audit file: {e}");
        }
    }

    fn report_failure(&self, source: &ReloadSource, previous: &Live, first: bool, report: &Report) {
        let failure = ReloadFailure {
            timestamp: rfc3339(SystemTime::now()),
            level: "error",
            category: "policy",
            event: "policy.reload_failed",
            actor: source.actor(),
            resource: self.resource(),
            live_version: (!first).then(|| previous.snapshot.version()),
            diagnostics: report.records(),
        };
        tracing::error!(target: "rampart::audit", event = %serde_json::to_string(&failure).unwrap_or_default(),
            "policy reload failed; the live policy is unchanged:\n{}", report.render(false));
        if let Some(file) = &self.inner.audit
            && let Err(e) = file.append(&failure)
        {
            tracing::error!(target: "rampart::audit", "cannot write the audit file: {e}");
        }
    }

    /// The engine's counters and gauges now.
    pub fn metrics(&self) -> Metrics {
        let live = self.inner.live.load();
        let state = self.lock_state();
        Metrics {
            checks_allowed: self.inner.stats.allows(),
            checks_denied: self.inner.stats.denies(),
            denies_by_rule: live
                .snapshot
                .policy_ids()
                .zip(&live.denies)
                .map(|(id, n)| (id.to_owned(), n.load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            evaluation_errors: self.inner.stats.errors(),
            reloads_succeeded: self.inner.reloads_ok.load(Ordering::Relaxed),
            reloads_failed: self.inner.reloads_failed.load(Ordering::Relaxed),
            last_reload_seconds: state.last_duration.as_secs_f64(),
            snapshot_version: live.snapshot.version,
            counts: live.snapshot.counts(),
            decision_log_dropped: self.inner.decisions.as_ref().map_or(0, DecisionLog::dropped),
        }
    }

    /// Follows the policy paths: every change to a file or directory under them (edits,
    /// atomic renames, new, deleted and renamed files, sub-directories, a Kubernetes
    /// ConfigMap's `..data` swap) reloads the set. Stops when the watcher is dropped.
    pub fn watch(&self) -> Result<Watcher, WatchError> {
        watch::start(self.clone())
    }

    pub(crate) fn watched_paths(&self) -> &[PathBuf] {
        &self.inner.paths
    }
}
