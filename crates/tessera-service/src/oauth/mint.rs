//! Minting: access-token claims and refresh tokens. Nothing here decides scopes; callers pass them narrowed.

use serde_json::{json, Map, Value};
use tessera_core::token_format::{PlainToken, TokenKind};
use tessera_core::{ScopeSet, UnixTime};
use tessera_db::models::refresh::RefreshToken;
use tessera_db::models::users::User;
use tessera_db::DbConnection;

use super::OAuthFailure;
use crate::{ServiceError, Services};

/// Who an access token speaks for.
pub(crate) enum Subject<'a> {
    User {
        user: &'a User,
        family_id: &'a str,
        device_id: Option<&'a str>,
    },
    Client,
}

impl Services {
    pub(crate) fn access_claims(
        &self,
        subject: &Subject<'_>,
        client_id: &str,
        scopes: ScopeSet,
        now: UnixTime,
    ) -> Map<String, Value> {
        let jwt = &self.settings.jwt;
        let aud = if jwt.audience.len() == 1 {
            json!(jwt.audience[0])
        } else {
            json!(jwt.audience)
        };
        let mut m = Map::new();
        m.insert("iss".into(), json!(self.settings.server.public_url));
        m.insert("aud".into(), aud);
        m.insert("iat".into(), json!(now.as_secs()));
        m.insert("nbf".into(), json!(now.as_secs()));
        m.insert("exp".into(), json!(now.as_secs() + jwt.access_ttl_secs));
        m.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        m.insert("client_id".into(), json!(client_id));
        m.insert("scope".into(), json!(self.catalog.to_text(scopes)));
        match subject {
            Subject::User {
                user,
                family_id,
                device_id,
            } => {
                m.insert("sub".into(), json!(user.id.to_string()));
                m.insert("sid".into(), json!(family_id));
                m.insert("username".into(), json!(user.username));
                m.insert("role".into(), json!(user.role));
                // The owner's generation: a new password or disabling makes older tokens invalid.
                m.insert("gen".into(), json!(user.generation));
                if let Some(d) = device_id {
                    m.insert("device_id".into(), json!(d));
                }
            }
            Subject::Client => {
                m.insert("sub".into(), json!(format!("client:{client_id}")));
            }
        }
        m
    }

    /// Access claims of an OpenID sign-in carry its OpenID scopes (`oidc_scope`): what `userinfo` answers.
    pub(crate) fn with_oidc_scopes(mut claims: Map<String, Value>, oidc: Option<&str>) -> Map<String, Value> {
        if let Some(o) = oidc {
            claims.insert("oidc_scope".into(), json!(o));
        }
        claims
    }

    pub(crate) fn sign_access(&self, claims: Map<String, Value>) -> Result<String, OAuthFailure> {
        Ok(self.keys.sign(claims)?)
    }

    pub(crate) fn new_refresh_token(&self) -> Result<PlainToken, ServiceError> {
        tessera_crypto::random::token(TokenKind::Refresh, &self.settings.tokens.prefix)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("{e}")))
    }
}

/// Stores a refresh token's digest in its family, expiring at the sliding lifetime or the family cap.
pub(crate) fn store_refresh(
    conn: &mut DbConnection,
    token: &PlainToken,
    family_id: &str,
    now: UnixTime,
    expires_at: i64,
) -> Result<(), tessera_db::DbError> {
    RefreshToken::insert(
        conn,
        &RefreshToken {
            digest: token.digest().as_bytes().to_vec(),
            family_id: family_id.to_owned(),
            issued_at: now.as_secs(),
            expires_at,
            used_at: None,
        },
    )
}
