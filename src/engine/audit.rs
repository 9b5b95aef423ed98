//! Audit events for policy changes, in Maily's audit shape, sent through `tracing` and
//! optionally appended to a JSON Lines file that is flushed to disk per event.

use crate::diagnostic::DiagnosticRecord;
use crate::{PolicyDiff, Version};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A successful reload: who, what, before and after, and the security impact.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEvent {
    /// RFC 3339, UTC, milliseconds.
    pub timestamp: String,
    /// What triggered the reload: `rampart:start`, `rampart:manual`, `rampart:watch`, `rampart:signal`,
    /// or the actor given by the application.
    pub actor: String,
    /// Always `policy.reload`.
    pub action: &'static str,
    /// The policy set: `policy-set:` and its paths.
    pub resource: String,
    /// The versions before and after.
    pub changes: Changes,
    /// The files, the reload's duration and the effective-permission diff.
    pub metadata: ReloadMetadata,
}

/// Versions before and after a reload.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Changes {
    /// The version that was live (absent for the first load).
    pub before: Option<Version>,
    /// The version now live.
    pub after: Version,
}

/// Details of a reload.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReloadMetadata {
    /// The files of the new policy set.
    pub files: Vec<String>,
    /// Read, parse, compile and diff, in milliseconds.
    pub duration_ms: f64,
    /// For every role, the permissions gained and lost; policies added, removed, changed.
    pub diff: PolicyDiff,
}

/// A reload that failed: the security event, at error level.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReloadFailure {
    /// RFC 3339, UTC, milliseconds.
    pub timestamp: String,
    /// Always `error`.
    pub level: &'static str,
    /// Always `policy`.
    pub category: &'static str,
    /// Always `policy.reload_failed`.
    pub event: &'static str,
    /// What triggered the reload.
    pub actor: String,
    /// The policy set.
    pub resource: String,
    /// The version that stays live.
    pub live_version: Option<Version>,
    /// Every diagnostic, with file, line and column.
    pub diagnostics: Vec<DiagnosticRecord>,
}

/// An append-only JSON Lines file. Every event is written whole and flushed to disk
/// before the reload that produced it returns; a write error is reported, not ignored.
#[derive(Debug)]
pub(crate) struct AuditFile {
    file: Mutex<File>,
}

impl AuditFile {
    pub(crate) fn open(path: &Path) -> std::io::Result<AuditFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditFile { file: Mutex::new(file) })
    }

    pub(crate) fn append(&self, event: &impl serde::Serialize) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)?;
        file.flush()?;
        file.sync_data()
    }
}

/// Formats a time as RFC 3339 in UTC with milliseconds, such as `2026-12-03T18:04:05.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_321_045_123);
        assert_eq!(rfc3339(t), "2026-12-03T18:04:05.123Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&rfc3339(leap)[..10], "2000-02-29");
    }
}
