//! A circuit breaker in front of a dependency (the database pool, the Redis store). Without it every
//! request that needs the dependency during an outage waits out its whole timeout for a 503 and holds a
//! worker meanwhile, so a proxy with a 5 s timeout shows its own 504. Once one attempt has found it
//! unreachable (a refused or failed connection, or a call that timed out), the breaker opens: requests are
//! refused at once, and callers already waiting give up at their next look. After a short cool-down one
//! request is let through as a probe; its success closes the breaker, its failure opens it again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long the breaker stays open before one probe may try again.
pub const COOLDOWN: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct Breaker {
    started: Instant,
    /// Milliseconds since `started` until which the breaker is open; 0 when closed.
    open_until: AtomicU64,
    /// When the probe now in flight was let through (0: none). Against a dependency that holds packets
    /// a probe waits out its whole deadline; one at a time is enough.
    probing_since: AtomicU64,
    /// A probe still out after this long (the caller's deadline) no longer holds back the next one: its
    /// caller went away without an answer (a client that disconnects must not keep the breaker shut).
    probe_limit_ms: u64,
    /// Requests refused without trying, for `/metrics`.
    refused: AtomicU64,
}

/// What a caller may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Closed: use the database.
    Closed,
    /// Half-open: this caller is the one probe of this cool-down.
    Probe,
    /// Open: answer unavailable without trying.
    Refused,
}

impl Breaker {
    /// `probe_limit`: the longest a call to the dependency can take (its deadline).
    pub fn new(probe_limit: Duration) -> Self {
        Breaker {
            started: Instant::now(),
            open_until: AtomicU64::new(0),
            probing_since: AtomicU64::new(0),
            probe_limit_ms: u64::try_from(probe_limit.as_millis()).unwrap_or(u64::MAX),
            refused: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn cooldown_ms() -> u64 {
        u64::try_from(COOLDOWN.as_millis()).unwrap_or(500)
    }

    pub fn admit(&self) -> Admission {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Admission::Closed;
        }
        let now = self.now_ms();
        let probing = self.probing_since.load(Ordering::Acquire);
        let probe_out = probing != 0 && now.saturating_sub(probing) < self.probe_limit_ms;
        if now >= until
            && !probe_out
            && self
                .open_until
                .compare_exchange(
                    until,
                    now + Self::cooldown_ms(),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
        {
            self.probing_since.store(now, Ordering::Release);
            return Admission::Probe;
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        Admission::Refused
    }

    /// The dependency was found unreachable: refuse for a cool-down. True when this opened the breaker
    /// (the caller logs it once).
    pub fn trip(&self) -> bool {
        self.probing_since.store(0, Ordering::Release);
        self.open_until
            .swap(self.now_ms() + Self::cooldown_ms(), Ordering::AcqRel)
            == 0
    }

    /// It answered: close. True when the breaker was open (the caller logs the recovery once).
    pub fn close(&self) -> bool {
        // Every successful call lands here: reading first keeps the closed state's cache line shared.
        if self.open_until.load(Ordering::Acquire) == 0 && self.probing_since.load(Ordering::Acquire) == 0 {
            return false;
        }
        self.probing_since.store(0, Ordering::Release);
        self.open_until.swap(0, Ordering::AcqRel) != 0
    }

    /// Open and within its cool-down (a caller that is waiting for a connection gives up).
    pub fn is_open(&self) -> bool {
        let until = self.open_until.load(Ordering::Acquire);
        until != 0 && self.now_ms() < until
    }

    /// Requests refused while open, since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_refuses_and_lets_one_probe_through() {
        let b = Breaker::new(Duration::from_secs(60));
        assert_eq!(b.admit(), Admission::Closed);
        b.trip();
        assert!(b.is_open());
        assert_eq!(b.admit(), Admission::Refused);
        assert_eq!(b.refused(), 1);
        // Past the cool-down exactly one caller becomes the probe, and none other while it is out.
        b.open_until.store(1, Ordering::Release);
        assert_eq!(b.admit(), Admission::Probe);
        assert_eq!(b.admit(), Admission::Refused);
        b.open_until.store(1, Ordering::Release);
        assert_eq!(b.admit(), Admission::Refused, "the probe is still out");
        b.trip();
        b.open_until.store(1, Ordering::Release);
        assert_eq!(
            b.admit(),
            Admission::Probe,
            "a failed probe makes room for the next"
        );
        b.close();
        assert_eq!(b.admit(), Admission::Closed);
        assert!(!b.is_open());
    }

    #[test]
    fn a_probe_whose_caller_went_away_expires() {
        let b = Breaker::new(Duration::ZERO);
        b.trip();
        b.open_until.store(1, Ordering::Release);
        assert_eq!(b.admit(), Admission::Probe);
        // Nobody closed or tripped it; past its limit the next caller may probe.
        b.open_until.store(1, Ordering::Release);
        assert_eq!(b.admit(), Admission::Probe);
    }
}
