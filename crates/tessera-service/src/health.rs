//! Readiness: the database decides; the store is reported.

use std::time::Duration;

use crate::Services;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub database_ok: bool,
    pub store_ok: bool,
    /// The revocation listener is subscribed: while it is not, this replica cannot hear other replicas'
    /// revocations, so its caches are bypassed (correct, slower) and it reports itself degraded.
    pub listener_ok: bool,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Services {
    pub async fn readiness(&self) -> Readiness {
        let (database_ok, store_ok) = tokio::join!(self.db.ping(PROBE_TIMEOUT), async {
            matches!(
                tokio::time::timeout(PROBE_TIMEOUT, self.store.ping()).await,
                Ok(Ok(()))
            )
        });
        Readiness {
            database_ok,
            store_ok,
            listener_ok: self.caches.usable(),
        }
    }
}
