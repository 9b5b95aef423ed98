//! Decision logs as security events, in Maily's security-log shape. Events are formatted
//! on the checking thread and handed to a writer thread through a bounded queue; when the
//! queue is full the event is dropped and counted, so logging never blocks a check.

use crate::{Attrs, Decision, Request, Snapshot, Value};
use serde_json::{Map, Value as Json, json};
use std::cell::Cell;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Which decisions to log, and what to hide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionLogConfig {
    /// Log every deny. Default: true.
    pub denies: bool,
    /// Log one allow in this many (per thread); 0 logs none, 1 logs all. Default: 0.
    pub allow_one_in: u32,
    /// Attribute names (at any depth of principal, resource and context attributes) whose
    /// values are replaced by `"***"`, such as PII fields. Default: none.
    pub mask: Vec<String>,
    /// Events the queue holds before new ones are dropped. Default: 4,096.
    pub capacity: usize,
}

impl Default for DecisionLogConfig {
    fn default() -> Self {
        DecisionLogConfig { denies: true, allow_one_in: 0, mask: Vec::new(), capacity: 4096 }
    }
}

pub(crate) struct DecisionLog {
    config: DecisionLogConfig,
    queue: Option<SyncSender<String>>,
    dropped: Arc<AtomicU64>,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionLog").field("config", &self.config).finish_non_exhaustive()
    }
}

thread_local! {
    static ALLOWS_SEEN: Cell<u64> = const { Cell::new(0) };
}

impl DecisionLog {
    pub(crate) fn start(config: DecisionLogConfig, mut out: Box<dyn Write + Send>) -> DecisionLog {
        let (tx, rx): (SyncSender<String>, Receiver<String>) = std::sync::mpsc::sync_channel(config.capacity.max(1));
        let writer = std::thread::Builder::new()
            .name("rampart-decision-log".into())
            .spawn(move || {
                while let Ok(line) = rx.recv() {
                    let _ = out.write_all(line.as_bytes());
                    // Flush when the queue is drained, not after every line.
                    let mut more = rx.try_iter().peekable();
                    while let Some(line) = more.next() {
                        let _ = out.write_all(line.as_bytes());
                        if more.peek().is_none() {
                            break;
                        }
                    }
                    let _ = out.flush();
                }
            })
            .ok();
        DecisionLog { config, queue: Some(tx), dropped: Arc::new(AtomicU64::new(0)), writer }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Logs a decision if the configuration asks for it.
    pub(crate) fn record(&self, snapshot: &Snapshot, request: &Request<'_>, decision: &Decision) {
        let wanted = if decision.is_allowed() {
            let n = self.config.allow_one_in;
            n > 0
                && ALLOWS_SEEN.with(|seen| {
                    let s = seen.get();
                    seen.set(s.wrapping_add(1));
                    s % u64::from(n) == 0
                })
        } else {
            self.config.denies
        };
        if !wanted {
            return;
        }
        let mut line = event(snapshot, request, decision, &self.config.mask).to_string();
        line.push('\n');
        if let Some(queue) = &self.queue
            && let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = queue.try_send(line)
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for DecisionLog {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has written what is queued.
        self.queue = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The security-log event for one decision.
pub(crate) fn event(snapshot: &Snapshot, request: &Request<'_>, decision: &Decision, mask: &[String]) -> Json {
    let rules: Vec<String> = decision
        .reasons()
        .map(|r| {
            let d = snapshot.describe_rule(r);
            match (d.policy, d.role_path) {
                (Some(id), _) => format!("{} {id}", d.rule),
                (None, Some(path)) => format!("grant {}", path.join(" -> ")),
                _ => d.rule.to_owned(),
            }
        })
        .collect();
    let ip = match request.context.get("ip") {
        _ if mask.iter().any(|m| m == "ip") => json!("***"),
        Some(Value::Str(s)) => json!(s),
        Some(Value::Ip(ip)) => json!(ip.to_string()),
        _ => Json::Null,
    };
    let mut details = Map::new();
    details.insert("action".into(), json!(format!("{}:{}", request.resource.kind, request.action)));
    details.insert("resource".into(), json!(format!("{}/{}", request.resource.kind, request.resource.id)));
    details.insert("decision".into(), json!(if decision.is_allowed() { "allow" } else { "deny" }));
    details.insert("rules".into(), json!(rules));
    details.insert("snapshot_version".into(), json!(decision.snapshot_version()));
    if let Some(problem) = decision.problem() {
        details.insert("problem".into(), json!(problem.to_string()));
    }
    if !decision.errors().is_empty() {
        let errors: Vec<String> = decision.errors().iter().map(|e| snapshot.eval_error_message(e.kind)).collect();
        details.insert("errors".into(), json!(errors));
    }
    details.insert(
        "attributes".into(),
        json!({
            "principal": attrs_json(&request.principal.attrs, mask),
            "resource": attrs_json(&request.resource.attrs, mask),
            "context": attrs_json(&request.context, mask),
        }),
    );
    json!({
        "timestamp": super::audit::rfc3339(std::time::SystemTime::now()),
        "level": if decision.is_allowed() { "info" } else { "warning" },
        "category": "access",
        "event": "authz.decision",
        "user": request.principal.id.as_ref(),
        "ip": ip,
        "details": details,
    })
}

fn attrs_json(attrs: &Attrs<'_>, mask: &[String]) -> Json {
    Json::Object(
        attrs
            .iter()
            .map(|(k, v)| {
                let value = if mask.iter().any(|m| m == k) { json!("***") } else { value_json(v, mask) };
                (k.to_owned(), value)
            })
            .collect(),
    )
}

fn value_json(v: &Value<'_>, mask: &[String]) -> Json {
    match v {
        Value::Bool(b) => json!(b),
        Value::Int(n) => json!(n),
        Value::Str(s) => json!(s),
        Value::Ip(ip) => json!(ip.to_string()),
        Value::List(items) => Json::Array(items.iter().map(|v| value_json(v, mask)).collect()),
        Value::Map(m) => attrs_json(m, mask),
    }
}
