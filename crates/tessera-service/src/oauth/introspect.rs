//! RFC 7662 introspection: anything not active is `{"active": false}` and nothing else.

use crate::cache::Caches;
use tessera_core::token_format::{self, TokenKind};
use tessera_db::models::refresh::{RefreshFamily, RefreshToken};
use tessera_db::models::users::User;

use crate::identity::{user_rights, CredentialKind, Identity};
use crate::{ServiceError, Services};

/// An active token's facts; `scope` is the effective set.
#[derive(Clone, Debug, Default)]
pub struct ActiveToken {
    pub token_type: String,
    pub credential: String,
    pub scope: String,
    pub client_id: Option<String>,
    pub sub: String,
    pub username: Option<String>,
    pub role: Option<String>,
    pub device_id: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
}

/// Who asks `POST /oauth/introspect`.
pub enum Introspector<'a> {
    /// The service key header's raw value.
    ServiceKey(&'a [u8]),
    /// The client's credentials as the request carried them.
    Client(&'a super::ClientAuth),
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
            Introspector::Client(auth) if auth.client_id.is_some() => {
                let id = auth.client_id.as_deref().unwrap_or_default();
                let key = Caches::introspector_key(id, auth.secret.as_deref().unwrap_or(""));
                if self.caches.is_introspector(&key) {
                    true
                } else {
                    let epoch = self.caches.epoch();
                    let client = self.authenticate_client(auth).await?;
                    let allowed = client.confidential && client.can_introspect;
                    if allowed {
                        self.caches.remember_introspector(key, id, epoch);
                    }
                    allowed
                }
            }
            Introspector::Client(_) => false,
        };
        if !allowed {
            return Err(super::OAuthFailure::InvalidClient);
        }
        Ok(self.introspect(token, hint).await?)
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
            token_type: "Bearer".into(),
            credential: id.kind.as_str().into(),
            scope: self.catalog.to_text(id.scopes),
            client_id: id.client_id.as_deref().map(str::to_owned),
            sub: id.subject.to_string(),
            username: id.principal.as_ref().map(|p| p.username.clone()),
            role: id.principal.as_ref().map(|p| p.role.as_str().to_owned()),
            device_id: id.device_id.as_deref().map(str::to_owned),
            exp: id.expires_at,
            iat: id.issued_at,
            jti: id.token_id.as_deref().map(str::to_owned),
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
                    token_type: "refresh_token".into(),
                    credential: CredentialKind::RefreshToken.as_str().into(),
                    scope: catalog.to_text(scopes),
                    client_id: Some(family.client_id),
                    sub: user.id.to_string(),
                    username: Some(user.username),
                    role: Some(user.role),
                    device_id: family.device_id,
                    exp: Some(rt.expires_at),
                    iat: Some(rt.issued_at),
                    jti: None,
                }))
            })
            .await
    }
}
