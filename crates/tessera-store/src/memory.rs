//! The zero-config store: one process, one replica.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use tessera_core::UnixTime;
use tokio::sync::broadcast;

use crate::{decode, encode, Store, StoreError, Subscription};

#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<String, Vec<u8>>>,
    counters: Mutex<HashMap<String, (i64, UnixTime)>>,
    /// GCRA theoretical arrival times, in ms.
    tats: Mutex<HashMap<String, i64>>,
    channels: Mutex<HashMap<String, broadcast::Sender<String>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn values(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        // A poisoned lock only means another thread panicked mid-operation; the map itself is intact.
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops expired entries now and then so the map does not grow without bound.
    fn sweep(map: &mut HashMap<String, Vec<u8>>, now: UnixTime) {
        if map.len() > 10_000 {
            map.retain(|_, v| decode(v, now).is_some());
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
        let mut m = self.values();
        Self::sweep(&mut m, now);
        m.insert(key.to_owned(), encode(value, expires_at));
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut m = self.values();
        if m.get(key).and_then(|v| decode(v, now)).is_some() {
            return Ok(false);
        }
        m.insert(key.to_owned(), encode(value, expires_at));
        Ok(true)
    }

    async fn get(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.values().get(key).and_then(|v| decode(v, now)))
    }

    async fn take(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.values().remove(key).and_then(|v| decode(&v, now)))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.values().remove(key);
        Ok(())
    }

    async fn incr(&self, key: &str, by: i64, expires_at: UnixTime, now: UnixTime) -> Result<i64, StoreError> {
        let mut m = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 10_000 {
            m.retain(|_, (_, exp)| *exp > now);
        }
        let entry = m.entry(key.to_owned()).or_insert((0, expires_at));
        if entry.1 <= now {
            *entry = (0, expires_at);
        }
        entry.0 += by;
        Ok(entry.0)
    }

    async fn gcra(
        &self,
        key: &str,
        interval_ms: i64,
        burst: i64,
        cost: i64,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut m = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 10_000 {
            m.retain(|_, tat| *tat > now_ms);
        }
        match crate::gcra_step(m.get(key).copied(), interval_ms, burst, cost, now_ms) {
            Ok(tat) => {
                m.insert(key.to_owned(), tat);
                Ok(None)
            }
            Err(wait) => Ok(Some(wait)),
        }
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
