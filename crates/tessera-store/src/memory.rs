//! The zero-config store: one process, one replica.
//!
//! Bounded: each map is a moka cache with a capacity and a per-entry time to live, so a flood of flows or
//! counters neither grows memory without end nor makes any call scan the whole map (moka expires and
//! evicts incrementally). Every value still carries its absolute expiry from the injected clock and is
//! checked on read; moka's real-time TTL only cleans up.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::ops::compute::{CompResult, Op};
use moka::sync::Cache;
use moka::Expiry;
use tessera_core::UnixTime;
use tokio::sync::broadcast;

use crate::{decode, encode, Store, StoreError, Subscription};

/// Entries per map (values, counters, rate-limit arrival times). Past it the least useful entries go
/// first; the per-IP budgets keep one client from filling it.
pub const MEMORY_STORE_CAPACITY: u64 = 100_000;

/// A value and how long (real time) moka keeps it.
#[derive(Clone, Debug)]
struct Held<V> {
    value: V,
    ttl: Duration,
}

struct HeldExpiry;

impl<V> Expiry<String, Held<V>> for HeldExpiry {
    fn expire_after_create(&self, _: &String, v: &Held<V>, _: Instant) -> Option<Duration> {
        Some(v.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        v: &Held<V>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.ttl)
    }
}

fn bounded<V: Clone + Send + Sync + 'static>(capacity: u64) -> Cache<String, Held<V>> {
    Cache::builder()
        .max_capacity(capacity)
        .expire_after(HeldExpiry)
        .build()
}

/// The cleanup delay for something live until `until` on the injected clock (at least a second).
fn ttl_until(until: i64, now: i64) -> Duration {
    Duration::from_secs(u64::try_from(until.saturating_sub(now)).unwrap_or(0).max(1))
}

pub struct MemoryStore {
    values: Cache<String, Held<Vec<u8>>>,
    counters: Cache<String, Held<(i64, UnixTime)>>,
    /// GCRA theoretical arrival times, in ms.
    tats: Cache<String, Held<i64>>,
    channels: Mutex<HashMap<String, broadcast::Sender<String>>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("values", &self.values.entry_count())
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(MEMORY_STORE_CAPACITY)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding at most `capacity` entries per map.
    pub fn with_capacity(capacity: u64) -> Self {
        Self {
            values: bounded(capacity),
            counters: bounded(capacity),
            tats: bounded(capacity),
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// Entries held now, after pending expiries and evictions are applied (for tests and metrics).
    pub fn len(&self) -> u64 {
        self.values.run_pending_tasks();
        self.counters.run_pending_tasks();
        self.tats.run_pending_tasks();
        self.values.entry_count() + self.counters.entry_count() + self.tats.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn held(value: &[u8], expires_at: UnixTime, now: UnixTime) -> Held<Vec<u8>> {
        Held {
            value: encode(value, expires_at),
            ttl: ttl_until(expires_at.0, now.0),
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn set(
        &self,
        key: &str,
        value: &[u8],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.values
            .insert(key.to_owned(), Self::held(value, expires_at, now));
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        // One key-level lock decides between racing callers.
        let result = self.values.entry(key.to_owned()).and_compute_with(|old| {
            match old.filter(|e| decode(&e.value().value, now).is_some()) {
                Some(_) => Op::Nop,
                None => Op::Put(Self::held(value, expires_at, now)),
            }
        });
        Ok(matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        ))
    }

    async fn get(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.values.get(key).and_then(|v| decode(&v.value, now)))
    }

    async fn take(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.values.remove(key).and_then(|v| decode(&v.value, now)))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.values.invalidate(key);
        Ok(())
    }

    async fn incr(&self, key: &str, by: i64, expires_at: UnixTime, now: UnixTime) -> Result<i64, StoreError> {
        let result = self.counters.entry(key.to_owned()).and_compute_with(|old| {
            let (count, exp) = match old.map(|e| e.into_value().value) {
                Some((count, exp)) if exp > now => (count, exp),
                _ => (0, expires_at),
            };
            Op::Put(Held {
                value: (count + by, exp),
                ttl: ttl_until(exp.0, now.0),
            })
        });
        Ok(result.into_entry().map_or(by, |e| e.into_value().value.0))
    }

    async fn gcra(
        &self,
        key: &str,
        interval_ms: i64,
        burst: i64,
        cost: i64,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut wait = None;
        self.tats.entry(key.to_owned()).and_compute_with(|old| {
            let tat = old.map(|e| e.into_value().value);
            match crate::gcra_step(tat, interval_ms, burst, cost, now_ms) {
                Ok(tat) => Op::Put(Held {
                    value: tat,
                    ttl: Duration::from_millis(u64::try_from(tat.saturating_sub(now_ms)).unwrap_or(0))
                        .max(Duration::from_secs(1)),
                }),
                Err(w) => {
                    wait = Some(w);
                    Op::Nop
                }
            }
        });
        Ok(wait)
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), StoreError> {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = channels.get(channel) {
            // No subscribers is not an error: there is simply nobody to tell.
            let _ = tx.send(message.to_owned());
        }
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError> {
        let mut rx = {
            let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            channels
                .entry(channel.to_owned())
                .or_insert_with(|| broadcast::channel(1024).0)
                .subscribe()
        };
        let (tx, out) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            // A lagging subscriber lost messages: end the subscription (recv error) so the listener
            // clears its caches and resubscribes, as it would after a Redis outage.
            while let Ok(m) = rx.recv().await {
                if tx.send(m).await.is_err() {
                    break;
                }
            }
        });
        Ok(out)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
