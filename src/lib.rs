#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod compile;
mod decision;
mod diagnostic;
mod diff;
mod engine;
mod eval;
mod glob;
mod limits;
mod lint;
mod policy_set;
mod request;
mod review;
#[cfg(feature = "server")]
pub mod server;
mod source;
pub mod syntax;
mod testing;
mod walk;

pub use compile::{
    AttrRef, Counts, GrantId, HeldPermission, KindId, PermId, PolicyId, RoleId, Snapshot, Version, compile,
};
pub use decision::{
    Decision, DecisionReport, EvalError, EvalErrorKind, Outcome, RequestProblem, Rule, RuleReport, Trace,
};
pub use diagnostic::{CodeInfo, Diagnostic, DiagnosticRecord, ErrorKind, NameKind, Report, Severity};
pub use diff::{PolicyDiff, RoleChange, SensitiveGain, diff};
pub use engine::{
    AuditEvent, Changes, DecisionLogConfig, Engine, EngineBuilder, EngineError, Metrics, Pinned, ReloadError,
    ReloadFailure, ReloadMetadata, ReloadObserver, ReloadOutcome, ReloadSource, WatchError, Watcher, rfc3339,
};
pub use glob::glob_match;
pub use limits::Limits;
pub use lint::{LINTS, LintConfig, lint};
pub use policy_set::{PolicySet, load};
pub use request::{Attr, Attrs, Principal, Request, RequestError, Resource, Roles, Slice, Value, attr};
pub use review::{Access, AccessMatrix, CoveringPolicy, Holder, WhoCan};
pub use source::{LineCol, Location, Source, SourceId, Sources, Span};
pub use testing::{CaseResult, RunReport, Suite, SuiteError, run as run_tests};
