//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6): one use, bound to the client, the
//! redirect URI and the PKCE verifier. A second use revokes everything the first issued (§10.5).
//!
//! Every check that can refuse runs before the conditional update that consumes the code, so a client
//! that sent a wrong parameter can still redeem it correctly; the redemption itself, the family and its
//! first refresh token are written in one transaction.

use tessera_core::ids::FamilyId;
use tessera_core::token_format::TokenDigest;
use tessera_core::{ScopeSet, UnixTime};
use tessera_db::models::authorization_codes::AuthorizationCode;
use tessera_db::models::oauth_clients::OAuthClient;
use tessera_db::models::oidc_session_clients::OidcSessionClient;
use tessera_db::models::refresh::RefreshFamily;
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;
use tessera_db::models::users::User;

use super::authorize::{is_pkce_string, s256};
use super::grants::required;
use super::id_token::SignIn;
use super::mint::{store_refresh, Subject};
use super::{AuthedClient, IssuedTokens, OAuthFailure, TokenRequest};
use crate::identity::{principal_of, user_rights};
use crate::ratelimit::LimitedAction;
use crate::{audit, Services};

/// What a redemption found, decided inside one transaction.
enum Redemption {
    Redeemed {
        user: Box<User>,
        code: Box<AuthorizationCode>,
        scopes: ScopeSet,
        refresh_expires_at: Option<i64>,
    },
    Replayed {
        user_id: i64,
        family_id: Option<String>,
    },
    Invalid(&'static str),
}

const INVALID_CODE: &str = "invalid, expired or already used authorization code";

impl Services {
    pub(super) async fn authorization_code_grant(
        &self,
        client: &AuthedClient,
        req: &TokenRequest,
    ) -> Result<IssuedTokens, OAuthFailure> {
        let code = required(&req.code, "code")?;
        let redirect_uri = required(&req.redirect_uri, "redirect_uri")?.to_owned();
        // Every attempt is charged and a right one refunded: the budget counts wrong codes.
        let ip = req.client_ip.clone().unwrap_or_else(|| "unknown".into());
        self.limits
            .charge(LimitedAction::CodeRedeem, &ip, self.clock.now())
            .await?;
        if code.len() != 64 || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(OAuthFailure::InvalidGrant(INVALID_CODE.into()));
        }
        let verifier = req.code_verifier.clone().filter(|v| !v.is_empty());
        if verifier.as_deref().is_some_and(|v| !is_pkce_string(v)) {
            return Err(OAuthFailure::InvalidRequest(
                "code_verifier must be 43-128 unreserved characters".into(),
            ));
        }
        let digest = TokenDigest::of(code);
        let now = self.clock.now();
        let family_id = FamilyId::generate().to_string();
        let refresh = self.new_refresh_token()?;
        let stored_refresh = refresh.clone();
        let client_id = client.client_id.clone();
        let client_scopes = client.scopes;
        let catalog = self.catalog.clone();
        let oauth = self.settings.oauth.clone();
        let session_life = self.settings.session.absolute_lifetime_secs;
        let revoke_until = now.as_secs() + self.settings.jwt.access_ttl_secs + self.settings.jwt.leeway_secs;
        let fid = family_id.clone();
        let outcome = self
            .db
            .write_tx(move |c| -> Result<Redemption, OAuthFailure> {
                let Some(row) = AuthorizationCode::find(c, digest.as_bytes())? else {
                    return Ok(Redemption::Invalid(INVALID_CODE));
                };
                // Another client's code: refused without touching it (it may be its owner's still).
                if row.client_id != client_id {
                    return Ok(Redemption::Invalid(INVALID_CODE));
                }
                let replay = |c: &mut tessera_db::DbConnection, row: &AuthorizationCode| {
                    if let Some(f) = &row.family_id {
                        RefreshFamily::revoke(c, f, now.as_secs())?;
                        RevokedAccessToken::revoke(c, &format!("sid:{f}"), "sid", revoke_until)?;
                    }
                    audit::record(
                        c,
                        now,
                        "authorization_code.replayed",
                        Some(row.user_id),
                        Some(&row.client_id),
                        row.family_id.as_deref(),
                    )?;
                    Ok::<_, OAuthFailure>(Redemption::Replayed {
                        user_id: row.user_id,
                        family_id: row.family_id.clone(),
                    })
                };
                if row.used_at.is_some() {
                    return replay(c, &row);
                }
                if row.expires_at <= now.as_secs() {
                    return Ok(Redemption::Invalid(INVALID_CODE));
                }
                if row.redirect_uri != redirect_uri {
                    return Ok(Redemption::Invalid(
                        "redirect_uri differs from the authorization request's",
                    ));
                }
                match (&row.code_challenge, &verifier) {
                    (Some(challenge), Some(v)) => {
                        if !tessera_crypto::ct_eq(s256(v).as_bytes(), challenge.as_bytes()) {
                            return Ok(Redemption::Invalid(
                                "code_verifier does not match the code_challenge",
                            ));
                        }
                    }
                    (Some(_), None) => return Ok(Redemption::Invalid("code_verifier is required")),
                    // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
                    (None, Some(_)) => return Ok(Redemption::Invalid("this code was issued without PKCE")),
                    (None, None) => {}
                }
                let Some(user) = User::find(c, row.user_id)?.filter(|u| u.enabled) else {
                    return Ok(Redemption::Invalid(INVALID_CODE));
                };
                // Rights and the client's scopes as they are now: a person demoted since consent gets less.
                let rights = user_rights(c, &catalog, &user)?;
                let scopes = catalog
                    .parse(&row.scopes)
                    .unwrap_or_default()
                    .and(client_scopes)
                    .and(rights);
                if !AuthorizationCode::redeem(c, digest.as_bytes(), &fid, now.as_secs())? {
                    // Lost a race with another redemption: that is a replay too.
                    let winner = AuthorizationCode::find(c, digest.as_bytes())?.unwrap_or(row);
                    return replay(c, &winner);
                }
                let cap = now.as_secs() + oauth.refresh_family_cap_secs;
                RefreshFamily::insert(
                    c,
                    &RefreshFamily {
                        id: fid.clone(),
                        user_id: user.id,
                        client_id: row.client_id.clone(),
                        device_id: None,
                        scopes: catalog.to_text(scopes),
                        created_at: now.as_secs(),
                        expires_at: Some(cap),
                        revoked_at: None,
                        oidc_scopes: Some(row.oidc_scopes.clone()),
                    },
                )?;
                // Refresh tokens only for `offline_access` (OpenID Connect Core §11), or for a client
                // registered to get them anyway.
                let always = OAuthClient::find_by_client_id(c, &row.client_id)?
                    .is_some_and(|cl| cl.refresh_without_offline_access);
                let offline = always || row.oidc_scopes.split(' ').any(|s| s == "offline_access");
                let refresh_expires_at = offline.then(|| (now.as_secs() + oauth.refresh_ttl_secs).min(cap));
                if let Some(exp) = refresh_expires_at {
                    store_refresh(c, &stored_refresh, &fid, now, exp)?;
                }
                if let Some(session_id) = &row.session_id {
                    OidcSessionClient::record(
                        c,
                        &OidcSessionClient {
                            session_id: session_id.clone(),
                            client_id: row.client_id.clone(),
                            user_id: user.id,
                            created_at: now.as_secs(),
                        },
                        now.as_secs() - session_life,
                    )?;
                }
                User::touch_login(c, user.id, now.as_secs())?;
                audit::record(
                    c,
                    now,
                    "authorization_code.redeemed",
                    Some(user.id),
                    Some(&row.client_id),
                    Some(&fid),
                )?;
                Ok(Redemption::Redeemed {
                    user: Box::new(user),
                    code: Box::new(row),
                    scopes,
                    refresh_expires_at,
                })
            })
            .await?;
        let (user, code, scopes, refresh_expires_at) = match outcome {
            Redemption::Redeemed {
                user,
                code,
                scopes,
                refresh_expires_at,
            } => (user, code, scopes, refresh_expires_at),
            Redemption::Replayed { user_id, family_id } => {
                if let Some(f) = family_id.clone() {
                    self.evict(&[crate::cache::Eviction::Family(f)]).await?;
                }
                tracing::warn!(target: "tessera::security", event = "authorization_code.replayed", user.id = user_id, family.id = ?family_id, "authorization code presented again; what it issued is revoked");
                return Err(OAuthFailure::InvalidGrant(INVALID_CODE.into()));
            }
            Redemption::Invalid(why) => return Err(OAuthFailure::InvalidGrant(why.into())),
        };
        self.tokens_for_code(
            client,
            &user,
            &code,
            scopes,
            &family_id,
            refresh,
            refresh_expires_at,
            now,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn tokens_for_code(
        &self,
        client: &AuthedClient,
        user: &User,
        code: &AuthorizationCode,
        scopes: ScopeSet,
        family_id: &str,
        refresh: tessera_core::token_format::PlainToken,
        refresh_expires_at: Option<i64>,
        now: UnixTime,
    ) -> Result<IssuedTokens, OAuthFailure> {
        let subject = Subject::User {
            user,
            family_id,
            device_id: None,
        };
        let claims = Self::with_oidc_scopes(
            self.access_claims(&subject, &client.client_id, scopes, now),
            Some(&code.oidc_scopes),
        );
        let access = self.sign_access(claims)?;
        let openid = code.oidc_scopes.split(' ').any(|s| s == "openid");
        let id_token = if openid {
            let groups = if code.oidc_scopes.split(' ').any(|s| s == "groups") {
                self.group_names(&principal_of(user)).await?
            } else {
                Vec::new()
            };
            Some(self.id_token(
                &SignIn {
                    user,
                    client_id: &client.client_id,
                    oidc_scopes: &code.oidc_scopes,
                    nonce: code.nonce.as_deref(),
                    auth_time: code.auth_time,
                    session_id: code.session_id.as_deref(),
                    access_token: &access,
                    groups,
                },
                now,
            )?)
        } else {
            None
        };
        let mut scope: Vec<String> = code
            .oidc_scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        scope.extend(self.catalog.names(scopes).into_iter().map(str::to_owned));
        Ok(IssuedTokens {
            access_token: access,
            expires_in: self.settings.jwt.access_ttl_secs,
            refresh_token: refresh_expires_at.map(|_| refresh.expose().to_owned()),
            refresh_expires_in: refresh_expires_at.map(|e| e - now.as_secs()),
            scope: scope.join(" "),
            id_token,
        })
    }
}
