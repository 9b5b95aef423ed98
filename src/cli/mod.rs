//! The `rampart` commands.
//!
//! Exit codes: 0 success, 1 findings (policy errors for `check`, or warnings with
//! `--deny-warnings`; malformed requests for `eval`), 2 usage or I/O error, or a policy
//! set that does not compile for `eval`.

mod check;
mod convert;
mod diff;
mod eval;
mod fmt;
mod report;
mod review;
mod sarif;
#[cfg(feature = "server")]
mod serve;
mod test;
mod watch;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal as _;
use std::path::PathBuf;

/// Rampart: an authorization engine. Compile policies, ask for decisions.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a policy set and report every problem with file, line and column: errors,
    /// then, when it compiles, the lints' warnings (docs/lints.md).
    ///
    /// Example: rampart check policies/ --deny-warnings --format sarif > rampart.sarif
    ///
    /// Exit code 0 when the set compiles (with or without warnings), 1 when it has errors
    /// (or warnings, with --deny-warnings), 2 on a usage or I/O error.
    Check {
        /// Policy files or directories.
        #[arg(default_value = "policies")]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Exit with 1 when there are warnings.
        #[arg(long)]
        deny_warnings: bool,
        /// Warn about roles whose inheritance is more than N levels deep (W0008).
        #[arg(long, value_name = "N", default_value_t = rampart::LintConfig::default().max_inheritance_depth)]
        max_depth: usize,
    },
    /// Decide requests: read one JSON request, or JSON Lines (one request per line), and
    /// print one JSON decision per request, with its reasons.
    ///
    /// Example: rampart eval policies/examples/member-deletes-own-mail.json
    ///
    /// A malformed request line prints an error object for that line and processing
    /// goes on; the exit code is then 1.
    Eval {
        /// Policy files or directories.
        #[arg(short = 'p', long = "policies", default_value = "policies")]
        policies: Vec<PathBuf>,
        /// The request file; `-` or nothing reads standard input.
        input: Option<PathBuf>,
        /// Add every rule considered and why it did or did not apply.
        #[arg(long)]
        explain: bool,
    },
    /// Keep a policy set live: reload it whenever its files change, or on SIGHUP.
    ///
    /// Example: rampart watch -p policies/ --audit-file audit.jsonl --metrics-file rampart.prom
    ///
    /// Every successful reload prints its audit event (one JSON line, with the
    /// effective-permission diff) on standard output; a broken change prints its
    /// diagnostics on standard error and the previous policy stays live. Runs until
    /// interrupted (exit code 0); exit code 2 if the set does not compile at start.
    Watch {
        /// Policy files or directories.
        #[arg(short = 'p', long = "policies", default_value = "policies")]
        policies: Vec<PathBuf>,
        /// Append audit events to this JSON Lines file too.
        #[arg(long)]
        audit_file: Option<PathBuf>,
        /// Keep this file updated with the engine's metrics in the Prometheus text format.
        #[arg(long)]
        metrics_file: Option<PathBuf>,
    },
    /// Show the security impact of a change: for every role, the permissions gained and
    /// lost (through inheritance, groups and wildcards), and policies added, removed or changed.
    ///
    /// Example: rampart diff main-checkout/policies policies --fail-on-gain
    ///
    /// Exit code 0, or 1 with `--fail-on-gain` when the change may widen access;
    /// 2 when either side does not compile.
    Diff {
        /// The policy set before (a file or directory).
        old: PathBuf,
        /// The policy set after.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit with 1 when any role gains a permission or a policy is added, removed or changed.
        #[arg(long)]
        fail_on_gain: bool,
    },
    /// List the roles that hold a permission (with the inheritance path and the grant),
    /// and the policies that cover it.
    ///
    /// Example: rampart who-can mail:delete --on m-42
    WhoCan {
        /// The permission, `kind:action`.
        permission: String,
        /// Leave out grants limited by `on` to other resource ids.
        #[arg(long)]
        on: Option<String>,
        /// Policy files or directories.
        #[arg(short = 'p', long = "policies", default_value = "policies")]
        policies: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// List a role's effective permissions and where each comes from.
    ///
    /// Example: rampart permissions manager
    Permissions {
        /// The role.
        role: String,
        /// Policy files or directories.
        #[arg(short = 'p', long = "policies", default_value = "policies")]
        policies: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Run policy test suites (`*.test.yaml` next to the policies): fixtures, then cases
    /// listing the actions expected to be allowed and denied. Reports which grants and
    /// policies no case exercised.
    ///
    /// Example: rampart test --min-coverage 80
    ///
    /// Exit code 0 when every case passes (and coverage meets `--min-coverage`), 1 otherwise,
    /// 2 on a usage error, an unreadable suite or policies that do not compile.
    Test {
        /// Suite files or directories (default: the suites under the policy paths).
        suites: Vec<PathBuf>,
        /// Policy files or directories.
        #[arg(short = 'p', long = "policies", default_value = "policies")]
        policies: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = test::TestFormat::Human)]
        format: test::TestFormat,
        /// Fail when less than this percentage of grants and policies is exercised.
        #[arg(long)]
        min_coverage: Option<f64>,
    },
    /// Write the role × permission matrix for an access review: Markdown, CSV or a
    /// self-contained HTML page.
    ///
    /// Example: rampart report --format html > access-review.html
    Report {
        /// Policy files or directories.
        #[arg(short = 'p', long = "policies", default_value = "policies")]
        policies: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = report::ReportFormat::Markdown)]
        format: report::ReportFormat,
    },
    /// Serve decisions over HTTP (JSON): /v1/check, /v1/check/batch, /v1/allowed-actions,
    /// /v1/policy, /healthz, /readyz, /metrics. Reloads on policy changes and on SIGHUP;
    /// SIGTERM and SIGINT stop it after the requests in flight.
    ///
    /// Example: rampart serve -p policies/ --addr 127.0.0.1:8181
    ///
    /// Exit code 0 after a graceful shutdown, 2 if the set does not compile at start or the
    /// address cannot be bound.
    #[cfg(feature = "server")]
    Serve {
        /// Policy files or directories.
        #[arg(short = 'p', long = "policies", default_value = "policies")]
        policies: Vec<PathBuf>,
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:8181")]
        addr: std::net::SocketAddr,
        /// Do not follow the policy files (reload on SIGHUP only).
        #[arg(long)]
        no_watch: bool,
        /// Append audit events to this JSON Lines file.
        #[arg(long)]
        audit_file: Option<PathBuf>,
        /// Require `Authorization: Bearer TOKEN` with one of the tokens in this file (one a
        /// line); `/healthz` stays open.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Limit each client to this many requests per second (429 with `Retry-After` past it).
        #[arg(long)]
        rate_limit: Option<f64>,
        /// Requests a client may make at once above the rate.
        #[arg(long, default_value_t = 20)]
        burst: u32,
        /// A proxy whose `X-Forwarded-For` names the client (repeatable).
        #[arg(long = "trusted-proxy")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Log decisions as security events (every deny) to this JSON Lines file.
        #[arg(long)]
        decision_log: Option<PathBuf>,
        /// Do not write the per-request log lines to standard error.
        #[arg(long)]
        no_request_log: bool,
        /// Listen on this Unix socket instead of `--addr`.
        #[arg(long)]
        unix: Option<PathBuf>,
    },
    /// Format DSL files (`.policy`) canonically, keeping comments. Formatting a formatted
    /// file changes nothing.
    ///
    /// Example: rampart fmt --check policies/
    ///
    /// With `--check`, lists the files that would change and exits with 1 if any would;
    /// otherwise rewrites them. Exit code 2 when a file does not parse.
    Fmt {
        /// Files or directories.
        #[arg(default_value = "policies")]
        paths: Vec<PathBuf>,
        /// Only report the files that would change.
        #[arg(long)]
        check: bool,
    },
    /// Translate a policy file between the DSL and YAML (to the other form by default).
    /// The meaning is kept exactly; comments are not carried over.
    ///
    /// Example: rampart convert policies/access.policy > access.yaml
    Convert {
        /// The policy file.
        file: PathBuf,
        /// The form to write.
        #[arg(long, value_enum)]
        to: Option<FormArg>,
    },
}

/// A written form of the policy language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormArg {
    /// The Rampart DSL.
    Dsl,
    /// YAML.
    Yaml,
}

/// How to print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people: rustc-style diagnostics.
    Human,
    /// For tools: one JSON object per diagnostic, one per line.
    Json,
}

/// How `rampart check` prints diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    /// For people: rustc-style diagnostics on standard error.
    Human,
    /// For tools: one JSON object per diagnostic, one per line.
    Json,
    /// SARIF 2.1.0, one document (for GitHub code scanning and other SARIF viewers).
    Sarif,
}

/// Runs a command and returns its exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { paths, format, deny_warnings, max_depth } => {
            let config = rampart::LintConfig { max_inheritance_depth: max_depth };
            check::run(&paths, format, &config, deny_warnings)
        }
        Command::Eval { policies, input, explain } => eval::run(&policies, input.as_deref(), explain),
        Command::Watch { policies, audit_file, metrics_file } => {
            watch::run(&policies, audit_file.as_deref(), metrics_file.as_deref())
        }
        Command::Diff { old, new, format, fail_on_gain } => diff::run(&old, &new, format, fail_on_gain),
        Command::WhoCan { permission, on, policies, format } => {
            review::who_can(&policies, &permission, on.as_deref(), format)
        }
        Command::Permissions { role, policies, format } => review::permissions(&policies, &role, format),
        Command::Test { suites, policies, format, min_coverage } => test::run(&policies, &suites, format, min_coverage),
        Command::Report { policies, format } => report::run(&policies, format),
        Command::Fmt { paths, check } => fmt::run(&paths, check),
        #[cfg(feature = "server")]
        Command::Serve {
            policies,
            addr,
            no_watch,
            audit_file,
            token_file,
            rate_limit,
            burst,
            trusted_proxies,
            decision_log,
            no_request_log,
            unix,
        } => serve::run(&serve::Options {
            unix,
            policies,
            addr,
            watch: !no_watch,
            audit_file,
            token_file,
            rate_limit: rate_limit.map(|per_second| rampart::server::RateLimit { per_second, burst }),
            trusted_proxies,
            decision_log,
            request_log: !no_request_log,
        }),
        Command::Convert { file, to } => convert::run(
            &file,
            to.map(|f| match f {
                FormArg::Dsl => rampart::syntax::Form::Dsl,
                FormArg::Yaml => rampart::syntax::Form::Yaml,
            }),
        ),
    }
}

/// Whether to colour output on standard error.
fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// The files named by `paths`, and under the directories among them (recursively, in name
/// order) the files whose name `keep` accepts; entries starting with `.` are skipped.
/// Symbolic links are followed, but each directory is entered once and no deeper than 32
/// levels, so links cannot hang a command: the library's loader walks the same way (its
/// walker is private to the library, which this binary only uses through its API).
fn files_under(paths: &[PathBuf], keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    fn walk(
        dir: &std::path::Path,
        depth: usize,
        seen: &mut std::collections::HashSet<PathBuf>,
        keep: &dyn Fn(&str) -> bool,
        out: &mut Vec<PathBuf>,
    ) {
        let Ok(real) = std::fs::canonicalize(dir) else { return };
        if depth > 32 || !seen.insert(real) {
            return;
        }
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            let name = e.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            if e.is_dir() {
                walk(&e, depth + 1, seen, keep, out);
            } else if keep(&name) {
                out.push(e);
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, 0, &mut Default::default(), &keep, &mut out);
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// Loads a policy set from paths.
fn policy_set(paths: &[PathBuf]) -> rampart::PolicySet {
    let mut set = rampart::PolicySet::new();
    for p in paths {
        set.add_path(p);
    }
    set
}
