//! Use cases: setup, users, readiness; later grants, device flow, introspection, forward-auth.
//! No actix here: every rule is testable without HTTP (CI checks with `cargo tree -i actix-web`).

pub mod accounts;
pub mod audit;
pub mod authn;
pub mod avatars;
pub mod background;
pub mod bootstrap;
pub mod cache;
pub mod client_tokens;
pub mod device_flow;
pub mod devices;
pub mod error;
pub mod eviction;
pub mod explain;
pub mod forward_auth;
pub mod health;
pub mod identity;
pub mod invites;
mod json_field;
pub mod keys;
pub mod login;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod oidc;
pub mod passkeys;
pub mod password_reset;
pub mod permissions;
pub mod ratelimit;
pub mod redirects;
pub mod second_factor;
pub mod service_key;
pub mod sessions;
pub mod settings;
pub mod setup;
pub mod users;
pub mod wire;

use std::sync::Arc;

use tessera_core::{Clock, ScopeCatalog};
use tessera_crypto::PasswordHasher;
use tessera_db::Db;
use tessera_store::DynStore;

pub use error::ServiceError;
pub use settings::Settings;

/// Everything a use case needs, built once at start and shared by all workers.
/// When devices (by id) and client tokens (by row id) were last written as used.
#[derive(Debug, Default)]
pub struct LastUse {
    pub devices: std::collections::HashMap<String, i64, foldhash::fast::RandomState>,
    pub client_tokens: std::collections::HashMap<i64, i64, foldhash::fast::RandomState>,
}

#[derive(Clone, Debug)]
pub struct Services {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub store: DynStore,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub catalog: Arc<ScopeCatalog>,
    pub service_key: service_key::ServiceKey,
    pub keys: Arc<keys::Keys>,
    /// Binds CSRF tokens to sessions; derived from the key-encryption key, so replicas agree.
    pub csrf_key: [u8; 32],
    pub limits: Arc<ratelimit::RateLimiter>,
    pub background: Arc<background::Background>,
    /// When each device and client token was last recorded as used (debounces `last_seen` and
    /// `last_used_at` writes).
    pub seen: Arc<std::sync::Mutex<LastUse>>,
    /// Forward-auth rules, compiled once at start.
    pub rules: Arc<forward_auth::RuleSet>,
    /// The hot-path caches, cleared on every revocation here and on every replica.
    pub caches: Arc<cache::Caches>,
    /// Password-reset and verification mail; sends nothing when SMTP is not configured.
    pub mailer: Arc<mail::Mailer>,
    /// The upstream provider's discovery document, once fetched.
    pub oidc: Arc<tokio::sync::RwLock<Option<oidc::Provider>>>,
    pub metrics: Arc<metrics::Metrics>,
}
