//! The token endpoint's grants: password, refresh_token (rotating, with reuse detection), client_credentials.
//! The device-code grant joins the dispatch in the device-flow issue.

use tessera_core::ids::FamilyId;
use tessera_core::token_format::{self, TokenKind};
use tessera_core::{ScopeSet, UnixTime};
use tessera_db::models::refresh::{RefreshFamily, RefreshToken};
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;
use tessera_db::models::users::User;

use super::mint::{store_refresh, Subject};
use super::{
    parse_requested_scope, AuthedClient, OAuthFailure, GRANT_CLIENT_CREDENTIALS, GRANT_PASSWORD,
    GRANT_REFRESH,
};
use crate::identity::user_rights;
use crate::login::LoginFailure;
use crate::{audit, Services};

/// The token request's parameters, as parsed from form or JSON.
#[derive(Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub device_code: Option<String>,
    /// The authorization_code grant's `code`, `redirect_uri` and PKCE `code_verifier`.
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// The password grant's second factor (`otp`: a current code or a recovery code).
    pub otp: Option<String>,
    /// The client's address, for the login rate limits.
    pub client_ip: Option<String>,
    /// RomM's `/api/token`: a `scope` on refresh is intersected with the grant (RomM ignores it) instead
    /// of refused, since RomM's clients re-send their whole list on every refresh.
    pub refresh_scope_intersects: bool,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub refresh_expires_in: Option<i64>,
    pub scope: String,
    /// OpenID Connect: present when the code was issued for the `openid` scope.
    pub id_token: Option<String>,
}

pub(crate) fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, OAuthFailure> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthFailure::InvalidRequest(format!("{name} is required")))
}

const BAD_LOGIN: &str = "invalid username or password";

/// The scopes a refresh asks for: the family's when none are named; a narrower set as named; a wider one is
/// `invalid_scope` (RFC 6749 §6), or on RomM's `/api/token` intersected with the family's.
fn refresh_scopes(
    requested: Option<ScopeSet>,
    family: ScopeSet,
    intersect: bool,
) -> Result<ScopeSet, OAuthFailure> {
    match requested {
        None => Ok(family),
        Some(r) if family.covers(r) => Ok(r),
        Some(r) if intersect => Ok(r.and(family)),
        Some(_) => Err(OAuthFailure::InvalidScope(
            "a refresh may only narrow the granted scopes".into(),
        )),
    }
}

/// What a refresh attempt found, decided inside one transaction.
enum Rotation {
    Rotated {
        user: Box<User>,
        family: Box<RefreshFamily>,
        /// What the new access token carries: family (narrowed as asked) ∩ client ∩ rights.
        scopes: ScopeSet,
        refresh_expires_at: i64,
        /// A retry within the reuse grace: the previous successor was retired.
        retried: bool,
    },
    Replayed {
        user_id: i64,
        family_id: String,
    },
    Invalid(&'static str),
    /// Refused for the request, not the token: nothing was written and the token stays usable.
    Refused(OAuthFailure),
}

impl Services {
    #[tracing::instrument(skip_all, fields(client.id = %client.client_id, grant = ?req.grant_type))]
    pub async fn exchange(
        &self,
        client: &AuthedClient,
        req: TokenRequest,
    ) -> Result<IssuedTokens, OAuthFailure> {
        let grant = required(&req.grant_type, "grant_type")?.to_owned();
        if !super::GRANT_TYPES.contains(&grant.as_str()) {
            return Err(OAuthFailure::UnsupportedGrantType);
        }
        if !client.allows(&grant) {
            return Err(OAuthFailure::UnauthorizedClient(format!(
                "this client may not use the {grant} grant"
            )));
        }
        let issued = match grant.as_str() {
            GRANT_PASSWORD => self.password_grant(client, &req).await,
            GRANT_REFRESH => self.refresh_grant(client, &req).await,
            GRANT_CLIENT_CREDENTIALS => self.client_credentials_grant(client, &req).await,
            super::GRANT_DEVICE_CODE => self.device_code_grant(client, &req).await,
            super::GRANT_AUTHORIZATION_CODE => self.authorization_code_grant(client, &req).await,
            _ => Err(OAuthFailure::UnsupportedGrantType),
        }?;
        let event = if grant == GRANT_REFRESH {
            "refreshed"
        } else {
            "issued"
        };
        self.metrics.token("access", event);
        if issued.refresh_token.is_some() {
            self.metrics.token("refresh", event);
        }
        Ok(issued)
    }

    /// Requested ∩ client-allowed ∩ rights; omitted means everything the client and user may have. When
    /// none of the scopes the request *names* can be granted it is `invalid_scope`, even if scopes they
    /// imply could be (a member asking only for `users.write` must not get `me.read me.write` instead).
    fn grant_scopes(
        &self,
        scope: Option<&str>,
        client: &AuthedClient,
        rights: ScopeSet,
    ) -> Result<ScopeSet, OAuthFailure> {
        let ceiling = client.scopes.and(rights);
        let named = super::parse_named_scope(&self.catalog, scope)?;
        let granted = named.map_or(ceiling, |n| self.catalog.normalize(n).and(ceiling));
        if granted.is_empty() || named.is_some_and(|n| n.and(ceiling).is_empty()) {
            return Err(OAuthFailure::InvalidScope(
                "none of the requested scopes can be granted".into(),
            ));
        }
        Ok(granted)
    }

    async fn password_grant(
        &self,
        client: &AuthedClient,
        req: &TokenRequest,
    ) -> Result<IssuedTokens, OAuthFailure> {
        if !self.settings.auth.password_login {
            return Err(OAuthFailure::PasswordLoginDisabled);
        }
        let username = required(&req.username, "username")?;
        let password = required(&req.password, "password")?;
        // Unknown scope names are refused before any password work.
        super::parse_named_scope(&self.catalog, req.scope.as_deref())?;
        let ip = req.client_ip.as_deref().unwrap_or("unknown");
        let factor = crate::login::SecondFactor::Code(req.otp.as_deref());
        let user = match self
            .verify_login(username, password, factor, "password grant", ip)
            .await
        {
            Ok(u) => u,
            Err(LoginFailure::BadCredentials | LoginFailure::BadSecondFactor) => {
                return Err(OAuthFailure::InvalidGrant(BAD_LOGIN.into()))
            }
            Err(LoginFailure::SecondFactorRequired) => return Err(OAuthFailure::MfaRequired),
            Err(LoginFailure::PasswordLoginDisabled) => return Err(OAuthFailure::PasswordLoginDisabled),
            Err(LoginFailure::Service(e)) => return Err(e.into()),
        };
        let now = self.clock.now();
        let catalog = self.catalog.clone();
        let u = user.clone();
        let rights = self
            .db
            .run(move |c| Ok::<_, OAuthFailure>(user_rights(c, &catalog, &u)?))
            .await?;
        let scopes = self.grant_scopes(req.scope.as_deref(), client, rights)?;
        self.start_family(&user, client, scopes, None, None, now).await
    }

    /// A new login: a refresh family, its first refresh token, and an access token.
    pub(crate) async fn start_family(
        &self,
        user: &User,
        client: &AuthedClient,
        scopes: ScopeSet,
        device_id: Option<String>,
        family_cap: Option<i64>,
        now: UnixTime,
    ) -> Result<IssuedTokens, OAuthFailure> {
        let family_id = FamilyId::generate().to_string();
        let refresh = self.new_refresh_token()?;
        let cap = family_cap.unwrap_or(now.as_secs() + self.settings.oauth.refresh_family_cap_secs);
        let refresh_expires_at = (now.as_secs() + self.settings.oauth.refresh_ttl_secs).min(cap);
        let family = RefreshFamily {
            id: family_id.clone(),
            user_id: user.id,
            client_id: client.client_id.clone(),
            device_id: device_id.clone(),
            scopes: self.catalog.to_text(scopes),
            created_at: now.as_secs(),
            expires_at: Some(cap),
            revoked_at: None,
            oidc_scopes: None,
        };
        let r = refresh.clone();
        let uid = user.id;
        self.db
            .write_tx(move |c| {
                RefreshFamily::insert(c, &family)?;
                store_refresh(c, &r, &family.id, now, refresh_expires_at)?;
                User::touch_login(c, uid, now.as_secs())?;
                audit::record(
                    c,
                    now,
                    "login.succeeded",
                    Some(uid),
                    Some(&family.client_id),
                    None,
                )?;
                Ok::<_, OAuthFailure>(())
            })
            .await?;
        let subject = Subject::User {
            user,
            family_id: &family_id,
            device_id: device_id.as_deref(),
        };
        let access = self.sign_access(self.access_claims(&subject, &client.client_id, scopes, now))?;
        Ok(IssuedTokens {
            access_token: access,
            expires_in: self.settings.jwt.access_ttl_secs,
            refresh_token: Some(refresh.expose().to_owned()),
            refresh_expires_in: Some(refresh_expires_at - now.as_secs()),
            scope: self.catalog.to_text(scopes),
            id_token: None,
        })
    }

    async fn refresh_grant(
        &self,
        client: &AuthedClient,
        req: &TokenRequest,
    ) -> Result<IssuedTokens, OAuthFailure> {
        let presented = required(&req.refresh_token, "refresh_token")?;
        let requested = parse_requested_scope(&self.catalog, req.scope.as_deref())?;
        let Ok(token) = token_format::parse(TokenKind::Refresh, &self.settings.tokens.prefix, presented)
        else {
            return Err(OAuthFailure::InvalidGrant("invalid refresh token".into()));
        };
        let digest = token.digest();
        let now = self.clock.now();
        let next = self.new_refresh_token()?;
        let next_stored = next.clone();
        let client_id = client.client_id.clone();
        let client_scopes = client.scopes;
        let intersect = req.refresh_scope_intersects;
        let catalog = self.catalog.clone();
        let ttl = self.settings.oauth.refresh_ttl_secs;
        let grace = self.settings.oauth.refresh_reuse_grace_secs;
        let revoke_until = now.as_secs() + self.settings.jwt.access_ttl_secs + self.settings.jwt.leeway_secs;
        // Every check that can refuse runs before the conditional update that consumes the token: a client
        // that got an error still holds a working refresh token (RFC 6749 §5.2).
        let outcome = self
            .db
            .write_tx(move |c| -> Result<Rotation, OAuthFailure> {
                let Some(old) = RefreshToken::find(c, digest.as_bytes())? else {
                    return Ok(Rotation::Invalid("invalid refresh token"));
                };
                let Some(family) = RefreshFamily::find(c, &old.family_id)? else {
                    return Ok(Rotation::Invalid("invalid refresh token"));
                };
                // A refresh token works only for the client it was issued to.
                if family.client_id != client_id || family.revoked_at.is_some() {
                    return Ok(Rotation::Invalid("invalid refresh token"));
                }
                let replay = |c: &mut tessera_db::DbConnection| -> Result<Rotation, OAuthFailure> {
                    // Already used: revoke the whole family, its access tokens through `sid`.
                    RefreshFamily::revoke(c, &family.id, now.as_secs())?;
                    RevokedAccessToken::revoke(c, &format!("sid:{}", family.id), "sid", revoke_until)?;
                    audit::record(
                        c,
                        now,
                        "refresh.replayed",
                        Some(family.user_id),
                        Some(&family.client_id),
                        Some(&family.id),
                    )?;
                    Ok(Rotation::Replayed {
                        user_id: family.user_id,
                        family_id: family.id.clone(),
                    })
                };
                // Used already: a retry within the grace window (the client never got the answer) or
                // theft. Anything else about a used token is decided after the checks below.
                let within_grace = |used_at: i64| grace > 0 && now.as_secs() - used_at <= grace;
                if old.used_at.is_some_and(|u| !within_grace(u)) {
                    return replay(c);
                }
                let cap = family.expires_at.unwrap_or(i64::MAX);
                if old.expires_at <= now.as_secs() || cap <= now.as_secs() {
                    return Ok(Rotation::Invalid("refresh token expired"));
                }
                let Some(user) = User::find(c, family.user_id)?.filter(|u| u.enabled) else {
                    return Ok(Rotation::Invalid("invalid refresh token"));
                };
                let rights = user_rights(c, &catalog, &user)?;
                let family_scopes = catalog.parse(&family.scopes).unwrap_or_default();
                let scopes = match refresh_scopes(requested, family_scopes, intersect) {
                    // The client's scopes now: narrowing a client narrows its logins at their next refresh.
                    Ok(s) => s.and(client_scopes).and(rights),
                    Err(e) => return Ok(Rotation::Refused(e)),
                };
                if scopes.is_empty() {
                    return Ok(Rotation::Refused(OAuthFailure::InvalidScope(
                        "the owner no longer holds any of these scopes".into(),
                    )));
                }
                // The conditional update picks one winner among racing refreshes. A loser, or a token
                // already used, is a replay unless it is a retry within the grace window of the rotation
                // that produced the family's live token: then that token is retired and a fresh one
                // answers, so a lost response never logs the user out (and the chain stays one).
                let mut retried = false;
                if !RefreshToken::mark_used(c, digest.as_bytes(), now.as_secs())? {
                    let used_at = RefreshToken::find(c, digest.as_bytes())?.and_then(|t| t.used_at);
                    let successor = match used_at {
                        Some(u) if within_grace(u) => RefreshToken::live_successor(c, &family.id, u)?,
                        _ => None,
                    };
                    let Some(successor) = successor else {
                        return replay(c);
                    };
                    if !RefreshToken::mark_used(c, &successor.digest, now.as_secs())? {
                        return replay(c);
                    }
                    RefreshToken::mark_reused(c, digest.as_bytes(), now.as_secs())?;
                    audit::record(
                        c,
                        now,
                        "refresh.retried",
                        Some(family.user_id),
                        Some(&family.client_id),
                        Some(&family.id),
                    )?;
                    retried = true;
                }
                let refresh_expires_at = (now.as_secs() + ttl).min(cap);
                store_refresh(c, &next_stored, &family.id, now, refresh_expires_at)?;
                Ok(Rotation::Rotated {
                    user: Box::new(user),
                    family: Box::new(family),
                    scopes,
                    refresh_expires_at,
                    retried,
                })
            })
            .await?;
        let (user, family, scopes, refresh_expires_at) = match outcome {
            Rotation::Rotated {
                user,
                family,
                scopes,
                refresh_expires_at,
                retried,
            } => {
                if retried {
                    tracing::info!(target: "tessera::security", event = "refresh.retried", user.id = user.id, family.id = %family.id, "refresh token presented again within the reuse grace; rotated again");
                }
                (user, family, scopes, refresh_expires_at)
            }
            Rotation::Replayed { user_id, family_id } => {
                self.evict(&[crate::cache::Eviction::Family(family_id.clone())])
                    .await?;
                tracing::warn!(target: "tessera::security", event = "refresh.replayed", user.id = user_id, family.id = %family_id, "refresh token replayed; family revoked");
                return Err(OAuthFailure::InvalidGrant("invalid refresh token".into()));
            }
            Rotation::Invalid(why) => return Err(OAuthFailure::InvalidGrant(why.into())),
            Rotation::Refused(e) => return Err(e),
        };
        let subject = Subject::User {
            user: &user,
            family_id: &family.id,
            device_id: family.device_id.as_deref(),
        };
        let claims = Self::with_oidc_scopes(
            self.access_claims(&subject, &client.client_id, scopes, now),
            family.oidc_scopes.as_deref(),
        );
        let access = self.sign_access(claims)?;
        Ok(IssuedTokens {
            access_token: access,
            expires_in: self.settings.jwt.access_ttl_secs,
            refresh_token: Some(next.expose().to_owned()),
            refresh_expires_in: Some(refresh_expires_at - now.as_secs()),
            scope: self.catalog.to_text(scopes),
            id_token: None,
        })
    }

    async fn device_code_grant(
        &self,
        client: &AuthedClient,
        req: &TokenRequest,
    ) -> Result<IssuedTokens, OAuthFailure> {
        use crate::device_flow::{Flavor, Poll};
        let code = required(&req.device_code, "device_code")?;
        match self.poll_device(Flavor::Rfc, code, Some(client)).await? {
            Poll::Rfc(issued) => Ok(issued),
            Poll::Pending => Err(OAuthFailure::AuthorizationPending),
            Poll::SlowDown { interval } => Err(OAuthFailure::SlowDown(interval)),
            Poll::Denied => Err(OAuthFailure::AccessDenied),
            Poll::Expired => Err(OAuthFailure::ExpiredToken),
            Poll::Invalid | Poll::Romm { .. } => Err(OAuthFailure::InvalidGrant(
                "invalid or already used device code".into(),
            )),
        }
    }

    async fn client_credentials_grant(
        &self,
        client: &AuthedClient,
        req: &TokenRequest,
    ) -> Result<IssuedTokens, OAuthFailure> {
        if !client.confidential {
            return Err(OAuthFailure::UnauthorizedClient(
                "client_credentials needs a confidential client".into(),
            ));
        }
        let scopes = self.grant_scopes(req.scope.as_deref(), client, self.catalog.all())?;
        let now = self.clock.now();
        let access =
            self.sign_access(self.access_claims(&Subject::Client, &client.client_id, scopes, now))?;
        Ok(IssuedTokens {
            access_token: access,
            expires_in: self.settings.jwt.access_ttl_secs,
            refresh_token: None,
            refresh_expires_in: None,
            scope: self.catalog.to_text(scopes),
            id_token: None,
        })
    }
}
