//! The hot-path caches (ARCHITECTURE.md §4): verified identities by credential digest, and each user's
//! rights. A hit costs two hash lookups, an expiry and generation check and an AND.
//!
//! Revocation stays instant: every credential- or rights-changing write clears both caches here and,
//! through the store's pub/sub, on every replica. A replica whose subscription is down bypasses the caches
//! (checks the database on every request) until it has resubscribed and cleared them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use tessera_core::token_format::TokenDigest;
use tessera_core::ScopeSet;

use crate::identity::{Identity, Principal};

pub const EVICT_CHANNEL: &str = "evict";
const POSITIVE_TTL: Duration = Duration::from_secs(30);
const NEGATIVE_TTL: Duration = Duration::from_secs(5);
const CAPACITY: u64 = 1_000_000;

/// A verified credential; `identity.scopes` holds the credential's own scopes until rights are applied.
#[derive(Clone, Debug)]
pub struct CachedIdentity {
    pub identity: Identity,
    /// The owner's generation the credential was issued under (None: checked by loading, e.g. sessions).
    pub generation: Option<i64>,
    /// Injected-clock second after which the entry must not be used.
    pub valid_until: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct CachedRights {
    pub principal: Principal,
    pub rights: ScopeSet,
    pub generation: i64,
    pub enabled: bool,
}

#[derive(Debug)]
pub struct Caches {
    identities: Cache<TokenDigest, Arc<CachedIdentity>>,
    negative: Cache<TokenDigest, ()>,
    rights: Cache<i64, Arc<CachedRights>>,
    /// Bumped by every eviction; a load that started before an eviction does not insert.
    epoch: AtomicU64,
    /// False while the eviction subscription is down: then every request goes to the database.
    healthy: AtomicBool,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            identities: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(POSITIVE_TTL)
                .build(),
            negative: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(NEGATIVE_TTL)
                .build(),
            rights: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(POSITIVE_TTL)
                .build(),
            epoch: AtomicU64::new(0),
            healthy: AtomicBool::new(false),
        }
    }
}

impl Caches {
    pub fn usable(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    pub fn set_healthy(&self, healthy: bool) {
        if !healthy {
            self.clear();
        }
        self.healthy.store(healthy, Ordering::Release);
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Drops everything (a revocation somewhere).
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.identities.invalidate_all();
        self.negative.invalidate_all();
        self.rights.invalidate_all();
    }

    pub fn identity(&self, d: &TokenDigest) -> Option<Arc<CachedIdentity>> {
        self.usable().then(|| self.identities.get(d)).flatten()
    }

    pub fn is_known_bad(&self, d: &TokenDigest) -> bool {
        self.usable() && self.negative.contains_key(d)
    }

    pub fn remember_identity(&self, d: TokenDigest, v: CachedIdentity, epoch: u64) {
        if self.usable() && self.epoch() == epoch {
            self.identities.insert(d, Arc::new(v));
        }
    }

    pub fn remember_bad(&self, d: TokenDigest) {
        if self.usable() {
            self.negative.insert(d, ());
        }
    }

    pub fn rights(&self, user_id: i64) -> Option<Arc<CachedRights>> {
        self.usable().then(|| self.rights.get(&user_id)).flatten()
    }

    pub fn remember_rights(&self, user_id: i64, v: CachedRights, epoch: u64) {
        if self.usable() && self.epoch() == epoch {
            self.rights.insert(user_id, Arc::new(v));
        }
    }

    pub fn entry_count(&self) -> u64 {
        self.identities.entry_count()
    }
}
