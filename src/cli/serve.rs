//! `rampart serve`: the HTTP decision point, with hot reload and graceful shutdown.

use super::color_stderr;
use rampart::server::{ServerConfig, serve, serve_unix};
use rampart::{Engine, ReloadError, ReloadOutcome, ReloadSource};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// What `rampart serve` was asked for.
pub(super) struct Options {
    pub(super) policies: Vec<PathBuf>,
    pub(super) addr: SocketAddr,
    pub(super) watch: bool,
    pub(super) audit_file: Option<PathBuf>,
    pub(super) token_file: Option<PathBuf>,
    pub(super) rate_limit: Option<rampart::server::RateLimit>,
    pub(super) trusted_proxies: Vec<std::net::IpAddr>,
    pub(super) decision_log: Option<PathBuf>,
    pub(super) request_log: bool,
    pub(super) unix: Option<PathBuf>,
}

/// The bearer tokens of a token file: one a line; blank lines and `#` comments ignored.
fn read_tokens(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let tokens: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    if tokens.is_empty() { Err(format!("`{}` holds no token", path.display())) } else { Ok(tokens) }
}

pub(super) fn run(o: &Options) -> i32 {
    let mut config = ServerConfig {
        rate_limit: o.rate_limit,
        trusted_proxies: o.trusted_proxies.clone(),
        log_requests: o.request_log,
        ..ServerConfig::default()
    };
    if let Some(path) = &o.token_file {
        match read_tokens(path) {
            Ok(tokens) => config.tokens = tokens,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let mut builder = Engine::builder().on_reload(log_reload);
    for p in &o.policies {
        builder = builder.path(p);
    }
    if let Some(a) = &o.audit_file {
        builder = builder.audit_file(a);
    }
    if let Some(path) = &o.decision_log {
        match std::fs::OpenOptions::new().create(true).append(true).open(path) {
            Ok(file) => builder = builder.decision_log(rampart::DecisionLogConfig::default(), Box::new(file)),
            Err(e) => {
                eprintln!("error: cannot open `{}`: {e}", path.display());
                return 2;
            }
        }
    }
    let engine = match builder.build() {
        Ok(engine) => engine,
        Err(rampart::EngineError::Invalid(report)) => {
            eprint!("{}", report.render(color_stderr()));
            return 2;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let _watcher = if o.watch {
        match engine.watch() {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    } else {
        None
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 2;
        }
    };
    let addr = o.addr;
    let unix = o.unix.clone();
    runtime.block_on(async move {
        let reloader = engine.clone();
        let shutdown = async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut hup), Ok(mut term), Ok(mut int)) =
                (signal(SignalKind::hangup()), signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
            else {
                return;
            };
            loop {
                tokio::select! {
                    _ = hup.recv() => {
                        let engine = reloader.clone();
                        let _ = tokio::task::spawn_blocking(move || engine.reload_from(ReloadSource::Signal)).await;
                    }
                    _ = term.recv() => break,
                    _ = int.recv() => break,
                }
            }
            eprintln!("shutting down: finishing requests in flight");
        };
        let version = engine.version();
        let served = if let Some(path) = unix {
            // A socket left by an earlier run is replaced; anything else at the path is an error.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            {
                let _ = std::fs::remove_file(&path);
            }
            let listener = match tokio::net::UnixListener::bind(&path) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: cannot listen on `{}`: {e}", path.display());
                    return 2;
                }
            };
            eprintln!("listening on unix:{} (policy {version})", path.display());
            let served = serve_unix(engine, listener, config, shutdown).await;
            let _ = std::fs::remove_file(&path);
            served
        } else {
            let listener = match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: cannot listen on {addr}: {e}");
                    return 2;
                }
            };
            let bound = listener.local_addr().map_or_else(|_| addr.to_string(), |a| a.to_string());
            eprintln!("listening on http://{bound} (policy {version})");
            serve(engine, listener, config, shutdown).await
        };
        match served {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        }
    })
}

/// Reloads are logged on standard error: the audit event of a success, the diagnostics
/// of a failure.
fn log_reload(outcome: &Result<ReloadOutcome, ReloadError>) {
    match outcome {
        Ok(ReloadOutcome::Reloaded(event)) => eprintln!("{}", serde_json::to_string(event).unwrap_or_default()),
        Ok(ReloadOutcome::Unchanged(_)) | Err(ReloadError::Unsettled) => {}
        Err(ReloadError::Invalid(report)) => {
            eprint!("{}", report.render(color_stderr()));
            eprintln!("the live policy is unchanged");
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
