//! `rampart watch`: keep a policy set live, reloading on every change and on SIGHUP.

use super::color_stderr;
use rampart::{Engine, ReloadError, ReloadOutcome, ReloadSource};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) fn run(policies: &[PathBuf], audit_file: Option<&Path>, metrics_file: Option<&Path>) -> i32 {
    let metrics_path = metrics_file.map(Path::to_path_buf);
    // Until the engine has started, failures are reported once, below, with exit code 2.
    let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let running = std::sync::Arc::clone(&started);
    let mut builder = Engine::builder().on_reload(move |outcome| {
        if running.load(std::sync::atomic::Ordering::Relaxed) || outcome.is_ok() {
            print_outcome(outcome);
        }
    });
    for p in policies {
        builder = builder.path(p);
    }
    if let Some(a) = audit_file {
        builder = builder.audit_file(a);
    }
    let engine = match builder.build() {
        Ok(engine) => engine,
        Err(e) => {
            match e {
                rampart::EngineError::Invalid(report) => eprint!("{}", report.render(color_stderr())),
                other => eprintln!("error: {other}"),
            }
            return 2;
        }
    };
    started.store(true, std::sync::atomic::Ordering::Relaxed);
    let _watcher = match engine.watch() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut signals = match signal_hook::iterator::Signals::new([SIGHUP, SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return 2;
        }
    };
    eprintln!("watching {} (version {}); SIGHUP reloads, Ctrl-C stops", describe(policies), engine.version());
    write_metrics(&engine, metrics_path.as_deref());
    loop {
        // Wake up five times a second for signals, and refresh the metrics file.
        std::thread::sleep(Duration::from_millis(200));
        for signal in signals.pending() {
            match signal {
                SIGHUP => {
                    let _ = engine.reload_from(ReloadSource::Signal);
                }
                _ => {
                    write_metrics(&engine, metrics_path.as_deref());
                    return 0;
                }
            }
        }
        write_metrics(&engine, metrics_path.as_deref());
    }
}

fn describe(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
}

/// Successful reloads print their audit event (one JSON line) on stdout; failures print
/// their diagnostics on stderr.
fn print_outcome(outcome: &Result<ReloadOutcome, ReloadError>) {
    match outcome {
        Ok(ReloadOutcome::Reloaded(event)) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let _ = writeln!(out, "{}", serde_json::to_string(event).unwrap_or_default());
            let _ = out.flush();
        }
        Ok(ReloadOutcome::Unchanged(_)) | Err(ReloadError::Unsettled) => {}
        Err(ReloadError::Invalid(report)) => {
            eprint!("{}", report.render(color_stderr()));
            eprintln!("the live policy is unchanged; waiting for the next change");
        }
        Err(e) => eprintln!("error: {e}"),
    }
}

/// Writes the metrics in the Prometheus text format, atomically (a temporary file renamed
/// over the target), for a node exporter's textfile collector or any scraper.
fn write_metrics(engine: &Engine, path: Option<&Path>) {
    let Some(path) = path else { return };
    let tmp = path.with_extension("prom.tmp");
    let written = std::fs::write(&tmp, engine.metrics().to_prometheus()).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        eprintln!("error: cannot write the metrics file `{}`: {e}", path.display());
    }
}
