//! RFC 7009 revocation: access tokens by `jti`, refresh tokens by family (its access tokens by `sid`).

use tessera_core::token_format::{self, TokenKind};
use tessera_db::models::refresh::{RefreshFamily, RefreshToken};
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;

use super::{AuthedClient, OAuthFailure};
use crate::cache::Eviction;
use crate::{audit, Services};

impl Services {
    /// Revokes what `token` names if `client` owns it. Unknown tokens are not an error (RFC 7009 §2.2), and
    /// evict nothing: only what a genuine token names leaves the caches (the family, the access token or
    /// the client token), so garbage cannot flush anything.
    pub async fn revoke(&self, client: &AuthedClient, token: &str) -> Result<(), OAuthFailure> {
        let result = self.revoke_inner(client, token).await;
        if let Ok(targets) = &result {
            self.evict(targets).await?;
            let prefix = &self.settings.tokens.prefix;
            let kind = if token_format::has_shape(TokenKind::Refresh, prefix, token) {
                "refresh"
            } else if token_format::has_shape(TokenKind::Client, prefix, token) {
                "client"
            } else {
                "access"
            };
            self.metrics.token(kind, "revoked");
        }
        result.map(|_| ())
    }

    /// What to evict: the named credential, whether this call or an earlier one revoked it (a retry after a
    /// failed publish must publish again).
    async fn revoke_inner(&self, client: &AuthedClient, token: &str) -> Result<Vec<Eviction>, OAuthFailure> {
        let now = self.clock.now();
        let leeway = self.settings.jwt.leeway_secs;
        let access_ttl = self.settings.jwt.access_ttl_secs;
        let prefix = &self.settings.tokens.prefix;
        if token_format::has_shape(TokenKind::Refresh, prefix, token) {
            let Ok(parsed) = token_format::parse(TokenKind::Refresh, prefix, token) else {
                return Ok(Vec::new());
            };
            let digest = parsed.digest();
            let client_id = client.client_id.clone();
            return self
                .db
                .write_tx(move |c| {
                    let Some(rt) = RefreshToken::find(c, digest.as_bytes())? else {
                        return Ok(Vec::new());
                    };
                    let Some(family) = RefreshFamily::find(c, &rt.family_id)? else {
                        return Ok(Vec::new());
                    };
                    if family.client_id != client_id {
                        return Err(OAuthFailure::UnauthorizedClient(
                            "the token belongs to another client".into(),
                        ));
                    }
                    if RefreshFamily::revoke(c, &family.id, now.as_secs())? {
                        let until = now.as_secs() + access_ttl + leeway;
                        RevokedAccessToken::revoke(c, &format!("sid:{}", family.id), "sid", until)?;
                        audit::record(
                            c,
                            now,
                            "token.revoked",
                            Some(family.user_id),
                            Some(&client_id),
                            Some("refresh family"),
                        )?;
                    }
                    Ok(vec![Eviction::Family(family.id)])
                })
                .await;
        }
        if token_format::has_shape(TokenKind::Client, prefix, token) {
            // Evicts the token itself when it existed.
            self.revoke_client_token_text(token).await?;
            return Ok(Vec::new());
        }
        // An access token: only a genuine, unexpired one is worth recording.
        let Ok(claims) = self.keys.verify(token, &self.jwt_expectations(now)).await else {
            return Ok(Vec::new());
        };
        if claims.get("client_id").and_then(|v| v.as_str()) != Some(client.client_id.as_str()) {
            return Err(OAuthFailure::UnauthorizedClient(
                "the token belongs to another client".into(),
            ));
        }
        let (Some(jti), Some(exp)) = (
            claims.get("jti").and_then(|v| v.as_str()).map(str::to_owned),
            claims.get("exp").and_then(|v| v.as_i64()),
        ) else {
            return Ok(Vec::new());
        };
        let client_id = client.client_id.clone();
        self.db
            .write_tx(move |c| {
                RevokedAccessToken::revoke(c, &format!("jti:{jti}"), "jti", exp + leeway)?;
                audit::record(
                    c,
                    now,
                    "token.revoked",
                    None,
                    Some(&client_id),
                    Some("access token"),
                )?;
                Ok::<_, OAuthFailure>(vec![Eviction::AccessToken(jti)])
            })
            .await
    }
}
