//! RFC 7662 introspection: anything not active is `{"active": false}` and nothing else.
//!
//! Who may ask, and what it costs in the steady state (a main app introspecting on every request):
//!
//! | caller | hit | miss |
//! |--------|-----|------|
//! | the service key header | one SHA-256 and a constant-time compare | — |
//! | a client by `client_secret_basic` (the header alone) | introspector cache by the raw header's digest: nothing decoded | `client_auth` budget charge, decode, one indexed query, digest compare |
//! | a client by `client_secret_post` (or Basic with a form `client_id`) | introspector cache by a digest of (id, secret) | `client_auth` budget charge, one indexed query, digest compare |
//!
//! A miss is charged to the caller address's `client_auth` budget and refunded when the client is right
//! and may introspect (or when the database could not say), so guessing secrets here costs what it costs
//! at the token endpoint; a hit is not charged, since only a right secret is ever cached.
//!
//! Then the token itself goes through the identity cache like any credential ([`Services::resolve_bearer`]).

use crate::cache::Caches;
use tessera_core::token_format::{self, TokenKind};
use tessera_db::models::refresh::{RefreshFamily, RefreshToken};
use tessera_db::models::users::User;

use std::sync::Arc;

use super::PresentedClient;
use crate::identity::{principal_of, user_rights, CredentialKind, Identity, Principal};
use crate::{ServiceError, Services};

/// An active token's facts; `scope` is the effective set. Shared pieces of the identity are shared here
/// too, so answering from the identity cache copies nothing but the scope text.
#[derive(Clone, Debug)]
pub struct ActiveToken {
    pub token_type: &'static str,
    pub credential: &'static str,
    pub scope: String,
    pub client_id: Option<Arc<str>>,
    pub sub: Arc<str>,
    /// The user behind the token (its `username` and `role`); None for client-credentials tokens.
    pub owner: Option<Arc<Principal>>,
    pub device_id: Option<Arc<str>>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<Arc<str>>,
}

/// Who asks `POST /oauth/introspect`.
pub enum Introspector<'a> {
    /// The service key header's raw value.
    ServiceKey(&'a [u8]),
    /// A client's credentials as the request carried them.
    Client(PresentedClient<'a>),
}

impl Services {
    /// Returns None for anything inactive; errors only for faults of ours.
    /// RFC 7662 as asked by `who`: the service key, or a confidential client with `can_introspect`; anyone
    /// else is `invalid_client` (a public client or one without the right learns nothing about tokens).
    pub async fn introspect_as(
        &self,
        who: Introspector<'_>,
        token: &str,
        hint: Option<&str>,
    ) -> Result<Option<ActiveToken>, super::OAuthFailure> {
        let allowed = match who {
            Introspector::ServiceKey(raw) => self.service_key.matches(std::str::from_utf8(raw).unwrap_or("")),
            Introspector::Client(presented) => self.is_introspector(&presented).await?,
        };
        if !allowed {
            return Err(super::OAuthFailure::InvalidClient);
        }
        Ok(self.introspect(token, hint).await?)
    }

    /// Whether these client credentials belong to a confidential client with `can_introspect`, from the
    /// introspector cache when they did before. A lone `Authorization` header (what OAuth libraries
    /// send) is looked up by its raw bytes, so a hit decodes nothing; the client's changes evict it by id.
    async fn is_introspector(&self, presented: &PresentedClient<'_>) -> Result<bool, super::OAuthFailure> {
        let header_key = presented
            .lone_authorization()
            .map(Caches::introspector_header_key);
        if header_key
            .as_ref()
            .is_some_and(|k| self.caches.is_introspector(k))
        {
            return Ok(true);
        }
        let auth = presented.read()?;
        let Some(id) = auth.client_id.as_deref() else {
            return Ok(false);
        };
        let key = match header_key {
            Some(k) => k,
            None => {
                let k = Caches::introspector_key(id, auth.secret.as_deref().unwrap_or(""));
                if self.caches.is_introspector(&k) {
                    return Ok(true);
                }
                k
            }
        };
        let epoch = self.caches.epoch();
        // A client that may not introspect is charged like a wrong secret: it learns nothing, and a
        // flood of its requests is refused before the database like any other.
        let may_introspect = |c: &super::AuthedClient| c.confidential && c.can_introspect;
        let client = self
            .authenticate_charged(&auth, presented.address, may_introspect)
            .await?;
        let allowed = may_introspect(&client);
        if allowed {
            self.caches.remember_introspector(key, id, epoch);
        }
        Ok(allowed)
    }

    pub async fn introspect(
        &self,
        token: &str,
        hint: Option<&str>,
    ) -> Result<Option<ActiveToken>, ServiceError> {
        let prefix = &self.settings.tokens.prefix;
        let looks_refresh = token_format::has_shape(TokenKind::Refresh, prefix, token);
        // The hint only orders the attempts (RFC 7662 §2.1); a wrong hint still finds the token.
        let _ = hint;
        if looks_refresh {
            return self.introspect_refresh(token).await;
        }
        match self.resolve_bearer(token).await {
            Ok(id) => Ok(Some(self.active_from_identity(&id))),
            Err(
                crate::identity::AuthFailure::Invalid | crate::identity::AuthFailure::SecondFactorRequired,
            ) => Ok(None),
            Err(crate::identity::AuthFailure::Service(e)) => Err(e),
        }
    }

    pub(crate) fn active_from_identity(&self, id: &Identity) -> ActiveToken {
        ActiveToken {
            token_type: "Bearer",
            credential: id.kind.as_str(),
            scope: self.catalog.to_text(id.scopes),
            client_id: id.client_id.clone(),
            sub: id.subject.clone(),
            owner: id.principal.clone(),
            device_id: id.device_id.clone(),
            exp: id.expires_at,
            iat: id.issued_at,
            jti: id.token_id.clone(),
        }
    }

    async fn introspect_refresh(&self, token: &str) -> Result<Option<ActiveToken>, ServiceError> {
        let Ok(parsed) = token_format::parse(TokenKind::Refresh, &self.settings.tokens.prefix, token) else {
            return Ok(None);
        };
        let digest = parsed.digest();
        let now = self.clock.now().as_secs();
        let catalog = self.catalog.clone();
        self.db
            .run(move |c| -> Result<Option<ActiveToken>, ServiceError> {
                let Some(rt) = RefreshToken::find(c, digest.as_bytes())? else {
                    return Ok(None);
                };
                let Some(family) = RefreshFamily::find(c, &rt.family_id)? else {
                    return Ok(None);
                };
                let live = rt.used_at.is_none()
                    && rt.expires_at > now
                    && family.revoked_at.is_none()
                    && family.expires_at.is_none_or(|t| t > now);
                if !live {
                    return Ok(None);
                }
                let Some(user) = User::find(c, family.user_id)?.filter(|u| u.enabled) else {
                    return Ok(None);
                };
                let scopes = catalog
                    .parse(&family.scopes)
                    .unwrap_or_default()
                    .and(user_rights(c, &catalog, &user)?);
                Ok(Some(ActiveToken {
                    token_type: "refresh_token",
                    credential: CredentialKind::RefreshToken.as_str(),
                    scope: catalog.to_text(scopes),
                    client_id: Some(family.client_id.into()),
                    sub: user.id.to_string().into(),
                    owner: Some(principal_of(&user)),
                    device_id: family.device_id.map(Into::into),
                    exp: Some(rt.expires_at),
                    iat: Some(rt.issued_at),
                    jti: None,
                }))
            })
            .await
    }
}
