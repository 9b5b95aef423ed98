//! Engine counters: sharded by thread so that checks on several cores never contend on
//! one cache line, summed when read. Rendered as Prometheus text, and published to the
//! `metrics` facade for applications that install their own recorder.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const SHARDS: usize = 16;

/// One shard's counters, on its own cache lines.
#[derive(Default)]
#[repr(align(128))]
struct Shard {
    allow: AtomicU64,
    deny: AtomicU64,
    errors: AtomicU64,
}

/// Counters of checks, kept per shard.
pub(crate) struct Stats {
    shards: [Shard; SHARDS],
}

impl Default for Stats {
    fn default() -> Self {
        Stats { shards: std::array::from_fn(|_| Shard::default()) }
    }
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn shard_index() -> usize {
    SHARD.with(|s| {
        if s.get() == usize::MAX {
            s.set(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        s.get()
    })
}

impl Stats {
    #[inline]
    pub(crate) fn record(&self, allowed: bool, errors: usize) {
        let shard = &self.shards[shard_index()];
        let counter = if allowed { &shard.allow } else { &shard.deny };
        counter.fetch_add(1, Ordering::Relaxed);
        if errors > 0 {
            shard.errors.fetch_add(errors as u64, Ordering::Relaxed);
        }
    }

    fn sum(&self, field: impl Fn(&Shard) -> &AtomicU64) -> u64 {
        self.shards.iter().map(|s| field(s).load(Ordering::Relaxed)).sum()
    }

    pub(crate) fn allows(&self) -> u64 {
        self.sum(|s| &s.allow)
    }

    pub(crate) fn denies(&self) -> u64 {
        self.sum(|s| &s.deny)
    }

    pub(crate) fn errors(&self) -> u64 {
        self.sum(|s| &s.errors)
    }
}

/// A point-in-time copy of an engine's metrics.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// Checks that allowed.
    pub checks_allowed: u64,
    /// Checks that denied.
    pub checks_denied: u64,
    /// Denies by the deny policy that decided, by policy id (authorization violations).
    pub denies_by_rule: Vec<(String, u64)>,
    /// Condition evaluation errors.
    pub evaluation_errors: u64,
    /// Reloads that installed a new snapshot.
    pub reloads_succeeded: u64,
    /// Reloads that failed (the old snapshot stayed live).
    pub reloads_failed: u64,
    /// How long the last successful reload took (read, parse, compile, diff), in seconds.
    pub last_reload_seconds: f64,
    /// The live snapshot's version number.
    pub snapshot_version: u64,
    /// The live snapshot's sizes.
    pub counts: crate::Counts,
    /// Decision log events dropped because the writer was behind.
    pub decision_log_dropped: u64,
}

impl Metrics {
    /// The metrics in the Prometheus text exposition format.
    pub fn to_prometheus(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let plain = |v: String| vec![(String::new(), v)];
        metric(
            "rampart_checks_total",
            "counter",
            "Authorization checks, by decision.",
            &[
                ("{decision=\"allow\"}".to_owned(), self.checks_allowed.to_string()),
                ("{decision=\"deny\"}".to_owned(), self.checks_denied.to_string()),
            ],
        );
        let by_rule: Vec<(String, String)> = self
            .denies_by_rule
            .iter()
            .map(|(rule, n)| (format!("{{rule=\"{}\"}}", escape_label(rule)), n.to_string()))
            .collect();
        metric("rampart_denies_by_rule_total", "counter", "Denies decided by each deny policy.", &by_rule);
        metric(
            "rampart_evaluation_errors_total",
            "counter",
            "Conditions that failed to evaluate.",
            &plain(self.evaluation_errors.to_string()),
        );
        metric(
            "rampart_reloads_total",
            "counter",
            "Policy reloads, by result.",
            &[
                ("{result=\"success\"}".to_owned(), self.reloads_succeeded.to_string()),
                ("{result=\"failure\"}".to_owned(), self.reloads_failed.to_string()),
            ],
        );
        metric(
            "rampart_reload_duration_seconds",
            "gauge",
            "Duration of the last successful reload.",
            &plain(format!("{}", self.last_reload_seconds)),
        );
        metric(
            "rampart_snapshot_version",
            "gauge",
            "Version number of the live policy snapshot.",
            &plain(self.snapshot_version.to_string()),
        );
        let c = &self.counts;
        let counts: Vec<(String, String)> = [
            ("resource_kinds", c.resource_kinds),
            ("permissions", c.permissions),
            ("groups", c.groups),
            ("roles", c.roles),
            ("grants", c.grants),
            ("policies", c.policies),
        ]
        .iter()
        .map(|(k, v)| (format!("{{kind=\"{k}\"}}"), v.to_string()))
        .collect();
        metric("rampart_policy_objects", "gauge", "Objects in the live policy snapshot.", &counts);
        metric(
            "rampart_decision_log_dropped_total",
            "counter",
            "Decision log events dropped because the writer was behind.",
            &plain(self.decision_log_dropped.to_string()),
        );
        out
    }

    /// Publishes the metrics to the `metrics` facade (absolute counter values and gauges),
    /// for applications that install their own recorder.
    pub fn publish(&self) {
        metrics::counter!("rampart_checks_total", "decision" => "allow").absolute(self.checks_allowed);
        metrics::counter!("rampart_checks_total", "decision" => "deny").absolute(self.checks_denied);
        for (rule, n) in &self.denies_by_rule {
            metrics::counter!("rampart_denies_by_rule_total", "rule" => rule.clone()).absolute(*n);
        }
        metrics::counter!("rampart_evaluation_errors_total").absolute(self.evaluation_errors);
        metrics::counter!("rampart_reloads_total", "result" => "success").absolute(self.reloads_succeeded);
        metrics::counter!("rampart_reloads_total", "result" => "failure").absolute(self.reloads_failed);
        metrics::gauge!("rampart_reload_duration_seconds").set(self.last_reload_seconds);
        metrics::gauge!("rampart_snapshot_version").set(self.snapshot_version as f64);
        let c = &self.counts;
        for (kind, n) in [
            ("resource_kinds", c.resource_kinds),
            ("permissions", c.permissions),
            ("groups", c.groups),
            ("roles", c.roles),
            ("grants", c.grants),
            ("policies", c.policies),
        ] {
            metrics::gauge!("rampart_policy_objects", "kind" => kind).set(n as f64);
        }
        metrics::counter!("rampart_decision_log_dropped_total").absolute(self.decision_log_dropped);
    }
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_sum_across_threads() {
        let stats = Stats::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..1000 {
                        stats.record(i % 2 == 0, usize::from(i % 10 == 0));
                    }
                });
            }
        });
        assert_eq!((stats.allows(), stats.denies(), stats.errors()), (2000, 2000, 400));
    }

    #[test]
    fn prometheus_text_has_help_type_and_escaped_labels() {
        let m = Metrics { checks_allowed: 3, denies_by_rule: vec![("a\"b".into(), 2)], ..Metrics::default() };
        let text = m.to_prometheus();
        assert!(text.contains("# TYPE rampart_checks_total counter\nrampart_checks_total{decision=\"allow\"} 3\n"));
        assert!(text.contains("rampart_denies_by_rule_total{rule=\"a\\\"b\"} 2\n"));
    }
}
