//! Short-lived state behind one trait: device and user codes, pair codes, counters, revocation fan-out.
//!
//! Every value carries its absolute expiry from the injected clock and is checked on read, so tests move
//! time instead of waiting; the backend's own TTL only cleans up.

mod memory;
mod redis_store;

use std::sync::Arc;

use async_trait::async_trait;
use tessera_core::UnixTime;

pub use memory::MemoryStore;
pub use redis_store::RedisStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported store URL scheme {0:?} (expected memory:// or redis://)")]
    UnsupportedUrl(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Messages published on a channel, in order, until the connection behind them ends (then `recv` is None).
pub type Subscription = tokio::sync::mpsc::Receiver<String>;

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// "memory" or "redis".
    fn kind(&self) -> &'static str;

    async fn set(
        &self,
        key: &str,
        value: &[u8],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    /// Sets only when no live value exists; true when this call set it.
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    async fn get(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError>;

    /// Reads and deletes in one step: of any number of concurrent takers, exactly one gets the value.
    async fn take(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError>;

    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Adds `by` to a counter that lives until `expires_at` (fixed when the counter is created) and
    /// returns the new value; an expired counter starts again from zero.
    async fn incr(&self, key: &str, by: i64, expires_at: UnixTime, now: UnixTime) -> Result<i64, StoreError>;

    /// GCRA: charges one unit against a budget of `burst` units refilling evenly, one every
    /// `interval_ms`. Returns `Ok(None)` when allowed, `Ok(Some(retry_after_ms))` when over budget.
    /// A negative `cost` refunds earlier charges (never below an empty bucket).
    async fn gcra(
        &self,
        key: &str,
        interval_ms: i64,
        burst: i64,
        cost: i64,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError>;

    async fn publish(&self, channel: &str, message: &str) -> Result<(), StoreError>;

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store named by `url`; `prefix` namespaces every key and channel (one per deployment or test).
pub fn open(url: &str, prefix: &str) -> Result<DynStore, StoreError> {
    if url == "memory://" || url == "memory" {
        Ok(Arc::new(MemoryStore::new()))
    } else if url.starts_with("redis://") || url.starts_with("rediss://") {
        Ok(Arc::new(RedisStore::new(url, prefix)?))
    } else {
        let scheme = url.split_once("://").map_or(url, |(s, _)| s);
        Err(StoreError::UnsupportedUrl(scheme.to_owned()))
    }
}

/// Values are stored as 8 bytes of big-endian expiry followed by the payload.
fn encode(value: &[u8], expires_at: UnixTime) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + value.len());
    v.extend_from_slice(&expires_at.0.to_be_bytes());
    v.extend_from_slice(value);
    v
}

fn decode(raw: &[u8], now: UnixTime) -> Option<Vec<u8>> {
    let (head, body) = raw.split_at_checked(8)?;
    let exp = i64::from_be_bytes(head.try_into().ok()?);
    (exp > now.0).then(|| body.to_vec())
}

/// One GCRA step on a theoretical arrival time (TAT): the new TAT, or the wait in ms when over budget.
/// Shared by the memory store and mirrored by the Redis script.
pub fn gcra_step(tat: Option<i64>, interval_ms: i64, burst: i64, cost: i64, now_ms: i64) -> Result<i64, i64> {
    let tat = tat.unwrap_or(now_ms).max(now_ms);
    let new_tat = tat + cost * interval_ms;
    if cost < 0 {
        return Ok(new_tat.max(now_ms));
    }
    let allow_at = new_tat - burst * interval_ms;
    if allow_at > now_ms {
        Err(allow_at - now_ms)
    } else {
        Ok(new_tat)
    }
}

#[cfg(test)]
mod tests {
    use super::gcra_step;

    #[test]
    fn gcra_allows_a_burst_then_paces() {
        // 5 per minute: one unit every 12 s, bucket of 5.
        let (iv, burst) = (12_000, 5);
        let mut tat = None;
        for _ in 0..5 {
            tat = Some(gcra_step(tat, iv, burst, 1, 0).unwrap());
        }
        assert_eq!(gcra_step(tat, iv, burst, 1, 0), Err(12_000));
        assert!(
            gcra_step(tat, iv, burst, 1, 12_000).is_ok(),
            "one unit refills in 12 s"
        );
        let refunded = gcra_step(tat, iv, burst, -1, 0).unwrap();
        assert!(
            gcra_step(Some(refunded), iv, burst, 1, 0).is_ok(),
            "a refund gives the unit back"
        );
        assert_eq!(
            gcra_step(Some(5), iv, burst, -10, 100),
            Ok(100),
            "never below an empty bucket"
        );
    }
}
