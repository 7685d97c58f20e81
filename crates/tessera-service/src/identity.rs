//! Who is calling, and with which effective scopes (credential scopes ∩ the owner's rights now).

use std::sync::Arc;

use serde_json::{Map, Value};
use tessera_core::rights::{self, apply_overrides, Effect, Grant};
use tessera_core::{Role, ScopeSet, UnixTime};
use tessera_crypto::jwt::Expectations;
use tessera_db::models::oauth_clients::OAuthClient;
use tessera_db::models::permission_groups::PermissionGroup;
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;
use tessera_db::models::user_overrides::UserOverride;
use tessera_db::models::users::User;
use tessera_db::DbConnection;

use crate::cache::Eviction;
use crate::{ServiceError, Services};

/// How long a revocation may try to reach the other replicas before the call answers 503.
pub const EVICT_PUBLISH_DEADLINE: std::time::Duration = std::time::Duration::from_millis(800);

/// Which kind of credential the request carried (API.md §5 `X-Auth-Credential`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    AccessToken,
    ClientToken,
    RefreshToken,
    Session,
    Basic,
    ServiceKey,
    Kiosk,
    /// `serve --no-auth`: development only.
    NoAuth,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::AccessToken => "access_token",
            CredentialKind::ClientToken => "client_token",
            CredentialKind::RefreshToken => "refresh_token",
            CredentialKind::Session => "session",
            CredentialKind::Basic => "basic",
            CredentialKind::ServiceKey => "service_key",
            CredentialKind::Kiosk => "kiosk",
            CredentialKind::NoAuth => "no_auth",
        }
    }
}

/// The owner of a credential as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub email: Option<String>,
    pub email_verified: bool,
    pub permission_group_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Identity {
    pub kind: CredentialKind,
    /// None for the service key and client-credentials tokens.
    pub principal: Option<std::sync::Arc<Principal>>,
    /// `sub` as tokens carry it: the user id, `client:<id>`, or `service`.
    pub subject: Arc<str>,
    pub client_id: Option<Arc<str>>,
    pub device_id: Option<Arc<str>>,
    /// Effective scopes: the credential's ∩ the owner's current rights.
    pub scopes: ScopeSet,
    /// The credential's own scopes, before the intersection (for `tessera explain`).
    pub granted: ScopeSet,
    pub expires_at: Option<i64>,
    pub issued_at: Option<i64>,
    pub token_id: Option<Arc<str>>,
    pub can_introspect: bool,
    /// The session behind a cookie credential (kept when its owner changes the password).
    pub session_id: Option<Arc<str>>,
    /// The refresh family an access token belongs to (its `sid`), for precise eviction.
    pub family_id: Option<Arc<str>>,
    /// Injected-clock second after which a cached copy must be reloaded even though the credential is
    /// still valid (a session's next activity write).
    pub cache_until: Option<i64>,
    /// The OpenID scopes of an access token from an OpenID sign-in (`oidc_scope`): `userinfo` answers
    /// only their claims. None for every other credential.
    pub oidc_scopes: Option<Arc<str>>,
}

impl Identity {
    /// A user's credential carrying their full rights (sessions, Basic, operator commands).
    pub fn of_user(kind: CredentialKind, user: &User, rights: ScopeSet) -> Self {
        Identity {
            kind,
            principal: Some(principal_of(user)),
            subject: user.id.to_string().into(),
            client_id: None,
            device_id: None,
            scopes: rights,
            granted: rights,
            expires_at: None,
            issued_at: None,
            token_id: None,
            can_introspect: false,
            session_id: None,
            family_id: None,
            cache_until: None,
            oidc_scopes: None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.principal.as_ref().is_some_and(|p| p.role == Role::Admin)
    }
}

/// Why a presented credential is not accepted (all of them read as 401 / `active: false`).
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("invalid credential")]
    Invalid,
    /// HTTP Basic of a user with a second factor (it cannot carry a code).
    #[error("a second factor is required")]
    SecondFactorRequired,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<tessera_db::DbError> for AuthFailure {
    fn from(e: tessera_db::DbError) -> Self {
        AuthFailure::Service(e.into())
    }
}

/// A user's rights now: role, permission group, overrides.
pub fn user_rights(
    conn: &mut DbConnection,
    catalog: &tessera_core::ScopeCatalog,
    user: &User,
) -> Result<ScopeSet, tessera_db::DbError> {
    let role: Role = user.role.parse().unwrap_or(Role::User);
    if role == Role::Admin {
        return Ok(catalog.all());
    }
    let group = match user.permission_group_id {
        Some(g) => crate::permissions::grants_of(PermissionGroup::grants(conn, g)?),
        None => Vec::new(),
    };
    let overrides = overrides_of(conn, user.id)?;
    Ok(rights::rights(catalog, role, &apply_overrides(group, &overrides)))
}

/// The rights a new user account gets: the default group's (or what every user holds, without one).
pub fn new_user_rights(
    conn: &mut DbConnection,
    catalog: &tessera_core::ScopeCatalog,
) -> Result<ScopeSet, tessera_db::DbError> {
    let grants = match PermissionGroup::find_default(conn)? {
        Some(g) => crate::permissions::grants_of(PermissionGroup::grants(conn, g.id)?),
        None => Vec::new(),
    };
    Ok(rights::rights(catalog, Role::User, &grants))
}

/// A user's overrides as (grant, effect) pairs.
pub(crate) fn overrides_of(
    conn: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<(Grant, Effect)>, tessera_db::DbError> {
    Ok(UserOverride::for_user(conn, user_id)?
        .into_iter()
        .map(|o| {
            let effect = if o.effect == "revoke" {
                Effect::Revoke
            } else {
                Effect::Grant
            };
            (
                Grant {
                    entity: o.entity,
                    action: o.action,
                    own_only: o.own_only,
                },
                effect,
            )
        })
        .collect())
}

/// Writes `last_active` at most every five minutes per user.
pub(crate) fn touch_active_throttled(
    c: &mut DbConnection,
    user: &User,
    now: i64,
) -> Result<(), tessera_db::DbError> {
    if now - user.last_active.unwrap_or(0) >= crate::sessions::ACTIVITY_WRITE_SECS {
        User::touch_active(c, user.id, now)?;
    }
    Ok(())
}

/// Shared, so a cache hit hands the same principal to every request instead of copying its strings.
pub fn principal_of(user: &User) -> std::sync::Arc<Principal> {
    std::sync::Arc::new(Principal {
        user_id: user.id,
        username: user.username.clone(),
        role: user.role.parse().unwrap_or(Role::User),
        email: user.email.clone(),
        email_verified: user.email_verified,
        permission_group_id: user.permission_group_id,
    })
}

fn str_claim<'a>(c: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    c.get(name).and_then(Value::as_str)
}

impl Services {
    pub fn jwt_expectations(&self, now: UnixTime) -> Expectations<'_> {
        Expectations {
            issuer: &self.settings.server.public_url,
            audience: &self.settings.jwt.audience[0],
            now: now.as_secs(),
            leeway_secs: self.settings.jwt.leeway_secs,
        }
    }

    /// Resolves a bearer credential by its shape: a client token (prefix, 64 hex, CRC-32 tail) or else an
    /// access JWT. Every path that takes a bearer token goes through here, so none verifies one kind as
    /// the other (and caches the refusal).
    pub async fn resolve_bearer(&self, token: &str) -> Result<Identity, AuthFailure> {
        let prefix = &self.settings.tokens.prefix;
        if tessera_core::token_format::has_shape(tessera_core::token_format::TokenKind::Client, prefix, token)
        {
            self.resolve_client_token(token).await
        } else {
            self.resolve_access_token(token).await
        }
    }

    /// Verifies an access JWT and resolves its owner now: revoked, disabled, re-passworded or removed
    /// owners make it invalid; scopes shrink with the owner's rights. Served from the caches when warm.
    pub async fn resolve_access_token(&self, token: &str) -> Result<Identity, AuthFailure> {
        let digest = tessera_core::token_format::TokenDigest::of(token);
        self.resolve_cached(CredentialKind::AccessToken, digest, || {
            self.load_access_token(token)
        })
        .await
    }

    /// The uncached path: signature, revocation lists, owner.
    async fn load_access_token(&self, token: &str) -> Result<(Identity, Option<i64>), AuthFailure> {
        let now = self.clock.now();
        let claims = self
            .keys
            .verify(token, &self.jwt_expectations(now))
            .await
            .map_err(|_| AuthFailure::Invalid)?;
        let jti = str_claim(&claims, "jti").ok_or(AuthFailure::Invalid)?.to_owned();
        let sub = str_claim(&claims, "sub").ok_or(AuthFailure::Invalid)?.to_owned();
        let sid = str_claim(&claims, "sid").map(str::to_owned);
        let family_id = sid.clone();
        let client_id = str_claim(&claims, "client_id").map(str::to_owned);
        let client_claim = client_id.clone();
        let device_id = str_claim(&claims, "device_id").map(str::to_owned);
        let generation = claims.get("gen").and_then(Value::as_i64);
        let token_scopes = self
            .catalog
            .parse(str_claim(&claims, "scope").unwrap_or(""))
            .map_err(|_| AuthFailure::Invalid)?;
        let exp = claims.get("exp").and_then(Value::as_i64);
        let iat = claims.get("iat").and_then(Value::as_i64);
        let catalog = self.catalog.clone();
        let (principal, rights, client_cap) = self
            .db
            .run(
                move |c| -> Result<(Option<std::sync::Arc<Principal>>, ScopeSet, ScopeSet), AuthFailure> {
                    if RevokedAccessToken::is_revoked(c, &jti, sid.as_deref())? {
                        return Err(AuthFailure::Invalid);
                    }
                    if let Some(cid) = sub.strip_prefix("client:") {
                        let client = OAuthClient::find_by_client_id(c, cid)?.ok_or(AuthFailure::Invalid)?;
                        let allowed = catalog.parse(&client.scopes).unwrap_or_default();
                        return Ok((None, allowed, catalog.all()));
                    }
                    let id: i64 = sub.parse().map_err(|_| AuthFailure::Invalid)?;
                    let user = User::find(c, id)?.ok_or(AuthFailure::Invalid)?;
                    if !user.enabled || generation != Some(user.generation) {
                        return Err(AuthFailure::Invalid);
                    }
                    let rights = user_rights(c, &catalog, &user)?;
                    // The issuing client as it is now: deleted, its tokens die; narrowed, they narrow.
                    let client_cap = match client_claim.as_deref() {
                        Some(cid) => {
                            let client =
                                OAuthClient::find_by_client_id(c, cid)?.ok_or(AuthFailure::Invalid)?;
                            catalog.parse(&client.scopes).unwrap_or_default()
                        }
                        None => catalog.all(),
                    };
                    touch_active_throttled(c, &user, now.as_secs())?;
                    Ok((Some(principal_of(&user)), rights, client_cap))
                },
            )
            .await?;
        // What the token may reach at most: its own scopes within its client's; rights apply on every use.
        let granted = token_scopes.and(client_cap);
        let subject = str_claim(&claims, "sub").unwrap_or_default().to_owned();
        Ok((
            Identity {
                kind: CredentialKind::AccessToken,
                principal,
                subject: subject.into(),
                client_id: client_id.map(Arc::from),
                device_id: device_id.map(Arc::from),
                scopes: granted.and(rights),
                granted,
                expires_at: exp,
                issued_at: iat,
                token_id: str_claim(&claims, "jti").map(Arc::from),
                can_introspect: false,
                session_id: None,
                family_id: family_id.map(Arc::from),
                cache_until: None,
                oidc_scopes: str_claim(&claims, "oidc_scope").map(Arc::from),
            },
            generation,
        ))
    }

    /// Who a request without any credential is: the kiosk identity (read scopes only) in kiosk mode,
    /// an anonymous admin under `serve --no-auth`, and nobody otherwise.
    pub fn anonymous_identity(&self) -> Option<Identity> {
        let auth = &self.settings.auth;
        let (kind, user_id, username, role, scopes) = if auth.no_auth {
            (
                CredentialKind::NoAuth,
                0,
                "anonymous",
                Role::Admin,
                self.catalog.all(),
            )
        } else if auth.kiosk {
            let scopes = self
                .catalog
                .parse_names(auth.kiosk_scopes.iter().map(String::as_str))
                .unwrap_or_default();
            // RomM's kiosk user is id -1 with role user.
            (CredentialKind::Kiosk, -1, "kiosk", Role::User, scopes)
        } else {
            return None;
        };
        let scopes = self.catalog.normalize(scopes);
        Some(Identity {
            kind,
            principal: Some(std::sync::Arc::new(Principal {
                user_id,
                username: username.into(),
                role,
                email: None,
                email_verified: false,
                permission_group_id: None,
            })),
            subject: user_id.to_string().into(),
            client_id: None,
            device_id: None,
            scopes,
            granted: scopes,
            expires_at: None,
            issued_at: None,
            token_id: None,
            can_introspect: false,
            session_id: None,
            family_id: None,
            cache_until: None,
            oidc_scopes: None,
        })
    }

    /// The main app's service key: identity `service` with `users.read` and `logs.read`, may introspect.
    pub fn service_key_identity(&self, presented: &str) -> Option<Identity> {
        if !self.service_key.matches(presented) {
            return None;
        }
        let scopes = self
            .catalog
            .parse_names(
                ["users.read", "logs.read"]
                    .into_iter()
                    .filter(|n| self.catalog.get(n).is_some()),
            )
            .unwrap_or_default();
        Some(Identity {
            kind: CredentialKind::ServiceKey,
            principal: None,
            subject: "service".into(),
            client_id: None,
            device_id: None,
            scopes: self.catalog.normalize(scopes),
            granted: self.catalog.normalize(scopes),
            expires_at: None,
            issued_at: None,
            token_id: None,
            can_introspect: true,
            session_id: None,
            family_id: None,
            cache_until: None,
            oidc_scopes: None,
        })
    }
}

impl Services {
    /// The names of the permission groups a principal belongs to (for userinfo's `groups`).
    pub async fn group_names(&self, principal: &Principal) -> Result<Vec<String>, ServiceError> {
        let Some(g) = principal.permission_group_id else {
            return Ok(Vec::new());
        };
        self.db
            .run(move |c| {
                Ok::<_, ServiceError>(
                    PermissionGroup::find(c, g)?
                        .map(|g| vec![g.name])
                        .unwrap_or_default(),
                )
            })
            .await
    }
}

impl Services {
    /// A user's rights now (for `/api/permissions/me`).
    pub async fn rights_of(&self, user_id: i64) -> Result<ScopeSet, ServiceError> {
        let catalog = self.catalog.clone();
        self.db
            .run(move |c| {
                let user = User::find(c, user_id)?.ok_or(ServiceError::NotFound)?;
                Ok::<_, ServiceError>(user_rights(c, &catalog, &user)?)
            })
            .await
    }
}

impl Services {
    /// Evicts `targets` from the hot-path caches here and, through the store, on every replica. A revocation
    /// is done only when every replica will refuse the credential within a second: the publish is retried
    /// within [`EVICT_PUBLISH_DEADLINE`], then the caller hears 503 (the database change stands; retrying
    /// the call publishes again) and `tessera_eviction_publish_failures_total` counts it.
    pub async fn evict(&self, targets: &[Eviction]) -> Result<(), ServiceError> {
        if targets.is_empty() {
            return Ok(());
        }
        for t in targets {
            self.caches.evict(t);
        }
        let message = targets.iter().map(Eviction::encode).collect::<Vec<_>>().join(" ");
        let started = std::time::Instant::now();
        let mut wait = std::time::Duration::from_millis(25);
        loop {
            let left = EVICT_PUBLISH_DEADLINE.saturating_sub(started.elapsed());
            let sent =
                tokio::time::timeout(left, self.store.publish(crate::cache::EVICT_CHANNEL, &message)).await;
            match sent {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) if started.elapsed() + wait < EVICT_PUBLISH_DEADLINE => {
                    tracing::debug!(error = %e, "eviction publish failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                outcome => {
                    self.metrics.eviction_publish_failed();
                    let why = match outcome {
                        Ok(Err(e)) => e.to_string(),
                        _ => "timed out".to_owned(),
                    };
                    tracing::error!(error = %why, evict = %message, "revocation saved but not published; retrying in the background");
                    self.publish_later(message);
                    return Err(ServiceError::Unavailable(
                        "the change is saved, but other replicas could not be told yet; retry the request"
                            .into(),
                    ));
                }
            }
        }
    }

    /// Keeps trying to tell the other replicas, for as long as their caches could still hold what was
    /// revoked: a retry of the failed call may find nothing left to revoke (and so nothing to publish).
    fn publish_later(&self, message: String) {
        let store = self.store.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            while started.elapsed() < crate::cache::POSITIVE_TTL {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                let sent = tokio::time::timeout(
                    std::time::Duration::from_millis(500),
                    store.publish(crate::cache::EVICT_CHANNEL, &message),
                )
                .await;
                if matches!(sent, Ok(Ok(()))) {
                    tracing::info!(evict = %message, "delayed revocation published");
                    return;
                }
            }
        });
    }

    /// Runs a write that revokes credentials or changes rights, then evicts what `targets` names from its
    /// result, everywhere. A write that fails evicts nothing.
    pub(crate) async fn revoking<T, E: From<ServiceError>>(
        &self,
        write: impl std::future::Future<Output = Result<T, E>>,
        targets: impl FnOnce(&T) -> Vec<Eviction>,
    ) -> Result<T, E> {
        let out = write.await?;
        let targets = targets(&out);
        self.evict(&targets).await?;
        // A user change may have ended sessions in bulk: the apps they signed in to are told.
        for t in &targets {
            if let Eviction::User(id) = t {
                self.backchannel_logout_ended(*id).await?;
            }
        }
        Ok(out)
    }

    /// A user's principal and rights now, from the rights cache when warm.
    pub(crate) async fn cached_rights(
        &self,
        user_id: i64,
    ) -> Result<Option<std::sync::Arc<crate::cache::CachedRights>>, AuthFailure> {
        if let Some(r) = self.caches.rights(user_id) {
            self.metrics.rights_hits.inc();
            return Ok(Some(r));
        }
        // Boxed for the reason the identity miss is (see `resolve_cached`).
        Box::pin(self.load_rights(user_id)).await
    }

    /// [`Services::cached_rights`] after a miss.
    async fn load_rights(
        &self,
        user_id: i64,
    ) -> Result<Option<std::sync::Arc<crate::cache::CachedRights>>, AuthFailure> {
        self.metrics.rights_misses.inc();
        let epoch = self.caches.epoch();
        let catalog = self.catalog.clone();
        let loaded = self
            .db
            .run(move |c| -> Result<_, AuthFailure> {
                let Some(user) = User::find(c, user_id)? else {
                    return Ok(None);
                };
                let rights = user_rights(c, &catalog, &user)?;
                Ok(Some(crate::cache::CachedRights {
                    principal: principal_of(&user),
                    rights,
                    generation: user.generation,
                    enabled: user.enabled,
                }))
            })
            .await?;
        Ok(loaded.map(|r| {
            self.caches.remember_rights(user_id, r.clone(), epoch);
            std::sync::Arc::new(r)
        }))
    }

    /// The cache's answer for `key` at `now`: a refusal remembered, or a live entry re-checked against the
    /// owner's current rights; None when the credential must be loaded.
    async fn cached_answer(
        &self,
        key: &crate::cache::CacheKey,
        now: i64,
    ) -> Option<Result<Identity, AuthFailure>> {
        if self.caches.is_known_bad(key) {
            self.metrics.negative_hits.inc();
            return Some(Err(AuthFailure::Invalid));
        }
        if let Some(hit) = self.caches.identity(key) {
            if hit.valid_until.is_none_or(|t| t > now) {
                self.metrics.identity_hits.inc();
                let mut id = hit.identity.clone();
                if let Some(p) = &id.principal {
                    let r = match self.cached_rights(p.user_id).await {
                        Ok(Some(r)) => r,
                        Ok(None) => return Some(Err(AuthFailure::Invalid)),
                        Err(e) => return Some(Err(e)),
                    };
                    if !r.enabled || hit.generation.is_some_and(|g| g != r.generation) {
                        return Some(Err(AuthFailure::Invalid));
                    }
                    id.principal = Some(r.principal.clone());
                    id.scopes = id.granted.and(r.rights);
                }
                self.note_use(&id);
                return Some(Ok(id));
            }
        }
        None
    }

    /// The cached answer for a credential, if there is one (no load on a miss).
    pub(crate) async fn cached_identity(
        &self,
        kind: CredentialKind,
        digest: tessera_core::token_format::TokenDigest,
    ) -> Option<Result<Identity, AuthFailure>> {
        self.cached_answer(&(kind, digest), self.clock.now().as_secs())
            .await
    }

    /// The cache in front of a credential loader. A hit re-checks expiry against the clock and the owner
    /// (enabled, generation) against the rights cache, then intersects bitsets; a miss loads, and a load
    /// that raced an eviction is not cached. Invalid credentials are remembered briefly.
    pub(crate) async fn resolve_cached<F, Fut>(
        &self,
        kind: CredentialKind,
        digest: tessera_core::token_format::TokenDigest,
        load: F,
    ) -> Result<Identity, AuthFailure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Identity, Option<i64>), AuthFailure>>,
    {
        let now = self.clock.now().as_secs();
        let key = (kind, digest);
        if let Some(answer) = self.cached_answer(&key, now).await {
            return answer;
        }
        // The miss is boxed: its state (locks, a load, database round trips) is the rare path, and kept
        // inline it made every caller's future as large as the largest load (2.4 KB for forward-auth),
        // moved and boxed again on every cached answer.
        Box::pin(self.load_identity(key, now, load)).await
    }

    /// [`Services::resolve_cached`] after a miss.
    async fn load_identity<F, Fut>(
        &self,
        key: crate::cache::CacheKey,
        now: i64,
        load: F,
    ) -> Result<Identity, AuthFailure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Identity, Option<i64>), AuthFailure>>,
    {
        let kind = key.0;
        // Single-flight: one load per key however many requests miss it at once; the others wait for it
        // and then answer from the cache (or, when the caches are off, load in turn).
        let lock = self.caches.usable().then(|| self.caches.loading_lock(&key));
        let _turn = match &lock {
            Some(l) => Some(l.lock().await),
            None => None,
        };
        if lock.is_some() {
            if let Some(answer) = self.cached_answer(&key, now).await {
                return answer;
            }
        }
        let _slot =
            self.caches.load_slots.acquire().await.map_err(|_| {
                AuthFailure::Service(crate::ServiceError::Unavailable("shutting down".into()))
            })?;
        self.metrics.identity_loads.inc();
        self.metrics.identity_misses.inc();
        let epoch = self.caches.epoch();
        match load().await {
            Ok((id, generation)) => {
                // Warm the owner's rights too, so the next request needs no query at all.
                if let Some(p) = &id.principal {
                    self.cached_rights(p.user_id).await?;
                }
                let leeway = if id.kind == CredentialKind::AccessToken {
                    self.settings.jwt.leeway_secs
                } else {
                    0
                };
                self.caches.remember_identity(
                    key,
                    crate::cache::CachedIdentity {
                        identity: id.clone(),
                        generation,
                        valid_until: match (id.expires_at.map(|e| e + leeway), id.cache_until) {
                            (Some(e), Some(c)) => Some(e.min(c)),
                            (e, c) => e.or(c),
                        },
                    },
                    epoch,
                );
                self.note_use(&id);
                Ok(id)
            }
            // A wrong Basic password is never remembered: each one is charged to the login budget.
            Err(AuthFailure::Invalid) if kind == CredentialKind::Basic => Err(AuthFailure::Invalid),
            Err(AuthFailure::Invalid) => {
                self.caches.remember_bad(key);
                Err(AuthFailure::Invalid)
            }
            Err(e) => Err(e),
        }
    }

    /// Debounced, off-path bookkeeping: device `last_seen`, client token `last_used_at`.
    fn note_use(&self, id: &Identity) {
        if let Some(d) = &id.device_id {
            self.device_seen(d);
        }
        if id.kind == CredentialKind::ClientToken {
            if let Some(tid) = id.token_id.as_deref().and_then(|t| t.parse::<i64>().ok()) {
                self.client_token_used(tid);
            }
        }
    }
}
