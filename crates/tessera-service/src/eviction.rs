//! The replica's eviction listener: evicts what any replica publishes a revocation of, and
//! keeps them switched off while it cannot be sure to hear one (pub/sub drops what is sent during a gap).

use std::time::Duration;

use crate::cache::{Eviction, EVICT_CHANNEL};
use crate::Services;

const PING_EVERY: Duration = Duration::from_millis(250);
const PING_TIMEOUT: Duration = Duration::from_millis(500);
const RETRY_AFTER: Duration = Duration::from_millis(250);

impl Services {
    /// Runs until the runtime ends. Caches are usable only while subscribed and answering pings.
    pub fn spawn_eviction_listener(&self) -> tokio::task::JoinHandle<()> {
        let s = self.clone();
        tokio::spawn(async move {
            loop {
                match s.store.subscribe(EVICT_CHANNEL).await {
                    Ok(mut sub) => {
                        // Anything published before this subscription is unknown: start empty.
                        s.caches.clear();
                        s.caches.set_healthy(true);
                        let mut tick = tokio::time::interval(PING_EVERY);
                        loop {
                            tokio::select! {
                                msg = sub.recv() => match msg {
                                    Some(text) => {
                                        for target in text.split(' ').filter(|t| !t.is_empty()) {
                                            s.caches.evict(&Eviction::decode(target));
                                        }
                                    }
                                    None => break,
                                },
                                _ = tick.tick() => {
                                    let alive = matches!(tokio::time::timeout(PING_TIMEOUT, s.store.ping()).await, Ok(Ok(())));
                                    if !alive {
                                        break;
                                    }
                                }
                            }
                        }
                        tracing::warn!("eviction subscription lost: caches bypassed until it is back");
                    }
                    Err(e) => tracing::debug!(error = %e, "eviction subscription not available yet"),
                }
                s.caches.set_healthy(false);
                tokio::time::sleep(RETRY_AFTER).await;
            }
        })
    }
}
