//! Time is an input: services take `now`, only `SystemClock` reads the wall clock.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Seconds since the Unix epoch, as stored in the database and carried in tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UnixTime(pub i64);

impl UnixTime {
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    pub fn plus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        )
    }

    /// RFC 3339 UTC text, as `/api` bodies carry times.
    pub fn to_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp(self.0, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    }

    /// Reads RFC 3339 text (any offset) or whole Unix seconds, as query parameters give times.
    pub fn parse_rfc3339_or_secs(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(secs) = text.parse::<i64>() {
            return Some(Self(secs));
        }
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Self(t.timestamp()))
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> UnixTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that reads the wall clock"
    )]
    fn now(&self) -> UnixTime {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to; tests use it instead of sleeping.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: UnixTime) -> Self {
        Self(AtomicI64::new(start.0))
    }

    pub fn advance(&self, d: Duration) {
        self.0
            .fetch_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), Ordering::SeqCst);
    }

    pub fn set(&self, t: UnixTime) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(UnixTime(1_000));
        assert_eq!(c.now(), UnixTime(1_000));
        c.advance(Duration::from_secs(601));
        assert_eq!(c.now(), UnixTime(1_601));
    }

    #[test]
    fn rfc3339_is_utc_with_z() {
        assert_eq!(UnixTime(1_795_683_600).to_rfc3339(), "2026-11-26T09:00:00Z");
    }
}
