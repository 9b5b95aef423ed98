//! `rampart serve`: the HTTP decision point, with hot reload and graceful shutdown.

use super::color_stderr;
use rampart::server::{ServerConfig, serve};
use rampart::{Engine, ReloadError, ReloadOutcome, ReloadSource};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub(super) fn run(
    policies: &[PathBuf],
    addr: SocketAddr,
    watch: bool,
    audit_file: Option<&Path>,
    token_file: Option<&Path>,
    rate_limit: Option<rampart::server::RateLimit>,
    trusted_proxies: &[std::net::IpAddr],
) -> i32 {
    let mut config = ServerConfig { rate_limit, trusted_proxies: trusted_proxies.to_vec(), ..ServerConfig::default() };
    if let Some(path) = token_file {
        // One token a line; blank lines and `#` comments are ignored.
        match std::fs::read_to_string(path) {
            Ok(text) => {
                config.tokens = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned)
                    .collect();
                if config.tokens.is_empty() {
                    eprintln!("error: `{}` holds no token", path.display());
                    return 2;
                }
            }
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                return 2;
            }
        }
    }
    let mut builder = Engine::builder().on_reload(log_reload);
    for p in policies {
        builder = builder.path(p);
    }
    if let Some(a) = audit_file {
        builder = builder.audit_file(a);
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
    let _watcher = if watch {
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
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return 2;
            }
        };
        let bound = listener.local_addr().map_or_else(|_| addr.to_string(), |a| a.to_string());
        eprintln!("listening on http://{bound} (policy {})", engine.version());
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
        match serve(engine, listener, config, shutdown).await {
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
