//! The hot-path caches (ARCHITECTURE.md §4): verified identities by credential digest, and each user's
//! rights. A hit costs two hash lookups, an expiry and generation check and an AND.
//!
//! Revocation stays instant and precise: every credential- or rights-changing write evicts what it changed
//! (a user, a refresh family, an access token, a client token, a device, an OAuth client) here and, through
//! the store's pub/sub, on every replica; nothing else is dropped, so no request can flush the caches. A
//! replica whose subscription is down bypasses the caches (checks the database on every request) until it
//! has resubscribed and cleared them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

/// A moka cache hashed with foldhash instead of SipHash: still seeded per process (the keys are digests of
/// what callers send), at a fraction of the cost: SipHash over the keys of the identity, negative and
/// rights lookups was ~1 k instructions of each cached forward-auth answer.
type FastCache<K, V> = Cache<K, V, foldhash::fast::RandomState>;
use tessera_core::token_format::TokenDigest;
use tessera_core::ScopeSet;

use crate::identity::{CredentialKind, Identity, Principal};

/// A cached credential is found by its kind and digest, so that a lookup through one path (an access-token
/// check of a client token, say) can never answer, or poison, another.
pub type CacheKey = (CredentialKind, TokenDigest);

/// What a revocation or rights change makes stale, here and on every replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// The user's rights and every credential of theirs (disabled, deleted, re-passworded, re-roled).
    User(i64),
    /// The access tokens of a refresh family (`sid`).
    Family(String),
    /// One access token (`jti`).
    AccessToken(String),
    /// One client API token, by id.
    ClientToken(i64),
    /// Every credential bound to a device.
    Device(String),
    /// Every credential issued to an OAuth client (its scopes narrowed, or the client deleted).
    Client(String),
    /// One browser session, by id (signed out or ended from the session list).
    Session(String),
    /// Every user's rights (a permission group changed); identities stay and re-intersect.
    AllRights,
    /// Everything (an unreadable message, or a gap in the subscription).
    All,
}

impl Eviction {
    /// The wire form published to other replicas: `kind:value`, with no space in it.
    pub fn encode(&self) -> String {
        match self {
            Eviction::User(id) => format!("user:{id}"),
            Eviction::Family(f) => format!("family:{f}"),
            Eviction::AccessToken(j) => format!("jti:{j}"),
            Eviction::ClientToken(id) => format!("ctok:{id}"),
            Eviction::Device(d) => format!("device:{d}"),
            Eviction::Client(c) => format!("client:{c}"),
            Eviction::Session(s) => format!("session:{s}"),
            Eviction::AllRights => "rights:*".into(),
            Eviction::All => "all".into(),
        }
    }

    /// Reads one published target; anything unreadable evicts everything (safe, never stale).
    pub fn decode(text: &str) -> Eviction {
        let (kind, value) = text.split_once(':').unwrap_or((text, ""));
        match (kind, value) {
            ("user", v) => v.parse().map_or(Eviction::All, Eviction::User),
            ("family", v) if !v.is_empty() => Eviction::Family(v.to_owned()),
            ("jti", v) if !v.is_empty() => Eviction::AccessToken(v.to_owned()),
            ("ctok", v) => v.parse().map_or(Eviction::All, Eviction::ClientToken),
            ("device", v) if !v.is_empty() => Eviction::Device(v.to_owned()),
            ("client", v) if !v.is_empty() => Eviction::Client(v.to_owned()),
            ("session", v) if !v.is_empty() => Eviction::Session(v.to_owned()),
            ("rights", "*") => Eviction::AllRights,
            _ => Eviction::All,
        }
    }

    /// Whether a cached identity is one this eviction makes stale.
    fn covers(&self, id: &Identity) -> bool {
        let user = id.principal.as_ref().map(|p| p.user_id);
        match self {
            Eviction::User(u) => user == Some(*u),
            Eviction::Family(f) => id.family_id.as_deref() == Some(f.as_str()),
            Eviction::AccessToken(j) => {
                id.kind == CredentialKind::AccessToken && id.token_id.as_deref() == Some(j.as_str())
            }
            Eviction::ClientToken(t) => {
                id.kind == CredentialKind::ClientToken
                    && id.token_id.as_deref() == Some(t.to_string().as_str())
            }
            Eviction::Device(d) => id.device_id.as_deref() == Some(d.as_str()),
            Eviction::Client(c) => {
                id.client_id.as_deref() == Some(c.as_str())
                    || id.subject.strip_prefix("client:") == Some(c.as_str())
            }
            Eviction::Session(sid) => {
                id.kind == CredentialKind::Session && id.session_id.as_deref() == Some(sid.as_str())
            }
            Eviction::AllRights => false,
            Eviction::All => true,
        }
    }
}

pub const EVICT_CHANNEL: &str = "evict";
/// How long a positive entry may live, whatever happens: the bound on staleness when an eviction is lost.
pub const POSITIVE_TTL: Duration = Duration::from_secs(30);
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
    pub principal: std::sync::Arc<Principal>,
    pub rights: ScopeSet,
    pub generation: i64,
    pub enabled: bool,
}

#[derive(Debug)]
pub struct Caches {
    identities: FastCache<CacheKey, Arc<CachedIdentity>>,
    negative: FastCache<CacheKey, ()>,
    rights: FastCache<i64, Arc<CachedRights>>,
    /// Bumped by every eviction; a load that started before an eviction does not insert.
    epoch: AtomicU64,
    /// False while the eviction subscription is down: then every request goes to the database.
    healthy: AtomicBool,
    /// OAuth clients that authenticated as allowed introspectors, by [`Caches::introspector_key`], holding
    /// the client id (evicted by it): a main app introspecting on every request pays no query after its
    /// first, and a hit allocates nothing.
    introspectors: FastCache<TokenDigest, Arc<str>>,
    /// One lock per key being loaded: concurrent misses of one credential make one load (single-flight).
    loading: FastCache<CacheKey, Arc<tokio::sync::Mutex<()>>>,
    /// Bounds the loads running at once, whatever their keys: a burst of distinct misses queues here
    /// instead of exhausting the database pool.
    pub load_slots: tokio::sync::Semaphore,
}

/// Loads of distinct credentials that may run at once.
pub const LOAD_SLOTS: usize = 64;

impl Default for Caches {
    fn default() -> Self {
        Self {
            identities: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(POSITIVE_TTL)
                .support_invalidation_closures()
                .build_with_hasher(foldhash::fast::RandomState::default()),
            negative: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(NEGATIVE_TTL)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            rights: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(POSITIVE_TTL)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            epoch: AtomicU64::new(0),
            healthy: AtomicBool::new(false),
            introspectors: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(POSITIVE_TTL)
                .support_invalidation_closures()
                .build_with_hasher(foldhash::fast::RandomState::default()),
            loading: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build_with_hasher(foldhash::fast::RandomState::default()),
            load_slots: tokio::sync::Semaphore::new(LOAD_SLOTS),
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

    /// Drops everything (a gap in the eviction subscription).
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.identities.invalidate_all();
        self.negative.invalidate_all();
        self.rights.invalidate_all();
        self.introspectors.invalidate_all();
    }

    /// Drops exactly what `e` makes stale. A load already under way when this runs does not insert
    /// (the epoch moved), so a slow load cannot resurrect a revoked entry.
    pub fn evict(&self, e: &Eviction) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match e {
            Eviction::All => return self.clear(),
            Eviction::AllRights => self.rights.invalidate_all(),
            Eviction::User(u) => self.rights.invalidate(u),
            Eviction::Client(c) => {
                let c = c.clone();
                if self
                    .introspectors
                    .invalidate_entries_if(move |_, id| **id == *c)
                    .is_err()
                {
                    self.introspectors.invalidate_all();
                }
            }
            _ => {}
        }
        if !matches!(e, Eviction::AllRights) {
            let e = e.clone();
            // Registered predicates hide matching entries from `get` at once; moka removes them lazily.
            if self
                .identities
                .invalidate_entries_if(move |_, v| e.covers(&v.identity))
                .is_err()
            {
                self.identities.invalidate_all();
            }
        }
        // A refusal remembered for a user, device or client may be wrong after it changed (re-enabled,
        // rights given back); revocations of single credentials only make refusals truer.
        if matches!(
            e,
            Eviction::User(_) | Eviction::Device(_) | Eviction::Client(_) | Eviction::AllRights
        ) {
            self.negative.invalidate_all();
        }
    }

    pub fn identity(&self, k: &CacheKey) -> Option<Arc<CachedIdentity>> {
        self.usable().then(|| self.identities.get(k)).flatten()
    }

    pub fn is_known_bad(&self, k: &CacheKey) -> bool {
        self.usable() && self.negative.contains_key(k)
    }

    pub fn remember_identity(&self, k: CacheKey, v: CachedIdentity, epoch: u64) {
        if self.usable() && self.epoch() == epoch {
            self.identities.insert(k, Arc::new(v));
        }
    }

    pub fn remember_bad(&self, k: CacheKey) {
        if self.usable() {
            self.negative.insert(k, ());
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

    /// The introspector cache's key: one SHA-256 of the client id's length, the client id and the secret
    /// (the length first, so no two (id, secret) pairs share an input).
    pub fn introspector_key(client_id: &str, secret: &str) -> TokenDigest {
        introspector_digest(client_id.len() as u64, &[client_id.as_bytes(), secret.as_bytes()])
    }

    /// The introspector cache's key for a lone `Authorization` header, by its raw bytes: one header decodes
    /// to one (id, secret), so it may stand for them. `u64::MAX` where [`Caches::introspector_key`] puts a
    /// client id's length keeps the two kinds of key apart.
    pub fn introspector_header_key(header: &[u8]) -> TokenDigest {
        introspector_digest(u64::MAX, &[header])
    }

    pub fn is_introspector(&self, key: &TokenDigest) -> bool {
        self.usable() && self.introspectors.contains_key(key)
    }

    pub fn remember_introspector(&self, key: TokenDigest, client_id: &str, epoch: u64) {
        if self.usable() && self.epoch() == epoch {
            self.introspectors.insert(key, Arc::from(client_id));
        }
    }

    /// The lock that serialises loads of one key (made at most once per key, by moka's own single-flight).
    pub fn loading_lock(&self, k: &CacheKey) -> Arc<tokio::sync::Mutex<()>> {
        self.loading
            .get_with(*k, || Arc::new(tokio::sync::Mutex::new(())))
    }

    pub fn entry_count(&self) -> u64 {
        self.identities.entry_count()
    }
}

/// SHA-256 of a little-endian prefix and the parts, in order: the one shape of every introspector key.
fn introspector_digest(prefix: u64, parts: &[&[u8]]) -> TokenDigest {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(prefix.to_le_bytes());
    for part in parts {
        h.update(part);
    }
    TokenDigest(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::Caches;

    #[test]
    fn introspector_keys_never_share_an_input() {
        // The length prefix keeps the boundary between id and secret where it was.
        assert_ne!(
            Caches::introspector_key("ab", "c"),
            Caches::introspector_key("a", "bc")
        );
        assert_eq!(
            Caches::introspector_key("app", "s"),
            Caches::introspector_key("app", "s")
        );
        // A raw header is hashed after u64::MAX where a key by id puts the id's length: the same bytes
        // after the prefix still make another key.
        assert_ne!(
            Caches::introspector_header_key(b"apps"),
            Caches::introspector_key("app", "s")
        );
        assert_ne!(
            Caches::introspector_header_key(b"Basic YXBwOnM="),
            Caches::introspector_header_key(b"Basic YXBwOnQ=")
        );
    }
}
