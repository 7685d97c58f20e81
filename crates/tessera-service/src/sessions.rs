//! Browser sessions: a random cookie secret stored as a digest, idle and absolute lifetimes, and a CSRF
//! token bound to the session.

use tessera_core::ids::SessionId;
use tessera_core::token_format::TokenDigest;
use tessera_db::models::sessions::Session;
use tessera_db::models::users::User;

use crate::cache::Eviction;
use crate::identity::{user_rights, AuthFailure, CredentialKind, Identity};
use crate::{audit, ServiceError, Services};

/// `last_seen_at` and `last_active` are written at most this often.
pub const ACTIVITY_WRITE_SECS: i64 = 300;

/// A session just created: the cookie value is shown to the browser once and stored as a digest.
pub struct NewSession {
    pub id: String,
    pub secret: String,
    pub csrf: String,
    pub max_age_secs: i64,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A session as `GET /api/sessions` lists it.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

impl Services {
    /// The CSRF token of the session whose cookie is `secret`: an HMAC of the session's digest (its
    /// stable identifier), so it needs no lookup and a sibling host cannot mint one.
    pub fn csrf_token(&self, secret: &str) -> String {
        hex::encode(tessera_crypto::hmac_sha256(
            &self.csrf_key,
            TokenDigest::of(secret).as_bytes(),
        ))
    }

    pub fn csrf_matches(&self, secret: &str, presented: &str) -> bool {
        tessera_crypto::ct_eq(self.csrf_token(secret).as_bytes(), presented.as_bytes())
    }

    /// Starts a session; a fresh id and secret at every login (no fixation).
    pub async fn create_session(
        &self,
        user_id: i64,
        user_agent: Option<String>,
        ip: Option<String>,
        oidc_id_token: Option<String>,
    ) -> Result<NewSession, ServiceError> {
        let now = self.clock.now();
        let secret = tessera_crypto::random::hex_secret(32);
        let id = SessionId::generate().to_string();
        let life = self.settings.session.absolute_lifetime_secs;
        let row = Session {
            id: id.clone(),
            digest: TokenDigest::of(&secret).as_bytes().to_vec(),
            user_id,
            created_at: now.as_secs(),
            last_seen_at: now.as_secs(),
            expires_at: now.as_secs() + life,
            user_agent: user_agent.map(|u| u.chars().take(255).collect()),
            ip,
            oidc_id_token,
        };
        let uid = user_id;
        self.db
            .write_tx(move |c| {
                Session::insert(c, &row)?;
                User::touch_login(c, uid, now.as_secs())?;
                audit::record(c, now, "login.succeeded", Some(uid), Some("session"), None)?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        Ok(NewSession {
            csrf: self.csrf_token(&secret),
            id,
            secret,
            max_age_secs: life,
        })
    }

    /// Resolves a session cookie: within both lifetimes, owner enabled; scopes are the owner's rights.
    /// Served from the identity cache when warm: an entry lives until the earlier of the session's
    /// absolute end, its idle end as of the load, and the positive TTL; sign-out, ending it from the
    /// session list and every user change evict it on every replica. Activity is written on loads, at most
    /// every `ACTIVITY_WRITE_SECS`, which the TTL makes at least that often for an active session.
    pub async fn resolve_session(&self, secret: &str) -> Result<Identity, AuthFailure> {
        if secret.len() != 64 {
            return Err(AuthFailure::Invalid);
        }
        let digest = TokenDigest::of(secret);
        self.resolve_cached(CredentialKind::Session, digest, || self.load_session(digest))
            .await
    }

    async fn load_session(&self, digest: TokenDigest) -> Result<(Identity, Option<i64>), AuthFailure> {
        let now = self.clock.now().as_secs();
        let idle = self.settings.session.idle_timeout_secs;
        let catalog = self.catalog.clone();
        let (session, user, rights) = self
            .db
            .run(move |c| -> Result<_, AuthFailure> {
                let s = Session::find(c, digest.as_bytes())?.ok_or(AuthFailure::Invalid)?;
                if s.expires_at <= now || s.last_seen_at + idle <= now {
                    Session::delete_by_digest(c, digest.as_bytes())?;
                    return Err(AuthFailure::Invalid);
                }
                let user = User::find(c, s.user_id)?
                    .filter(|u| u.enabled)
                    .ok_or(AuthFailure::Invalid)?;
                let mut s = s;
                if now - s.last_seen_at >= ACTIVITY_WRITE_SECS {
                    Session::touch(c, &s.id, now)?;
                    User::touch_active(c, user.id, now)?;
                    s.last_seen_at = now;
                }
                let rights = user_rights(c, &catalog, &user)?;
                Ok((s, user, rights))
            })
            .await?;
        let idle_end = session.last_seen_at + idle;
        let id = Identity {
            expires_at: Some(session.expires_at.min(idle_end)),
            issued_at: Some(session.created_at),
            session_id: Some(session.id.into()),
            cache_until: Some(session.last_seen_at + ACTIVITY_WRITE_SECS),
            ..Identity::of_user(CredentialKind::Session, &user, rights)
        };
        // No generation: a session outlives a password change it was kept through (its own); the others
        // are deleted and evicted with the user.
        Ok((id, None))
    }

    /// Ends the session whose cookie is `secret` (unknown ones are already gone).
    /// Ends a session; returns the upstream ID token it was signed in with, for RP-initiated logout.
    pub async fn end_session(&self, secret: &str) -> Result<Option<String>, ServiceError> {
        let digest = TokenDigest::of(secret);
        let ended = self
            .db
            .run(move |c| {
                let row = Session::find_by_digest(c, digest.as_bytes())?;
                Session::delete_by_digest(c, digest.as_bytes())?;
                Ok::<_, ServiceError>(row.map(|s| (s.id, s.oidc_id_token)))
            })
            .await?;
        match ended {
            Some((id, id_token)) => {
                self.evict(&[Eviction::Session(id.clone())]).await?;
                self.backchannel_logout(&id).await?;
                Ok(id_token)
            }
            None => Ok(None),
        }
    }

    pub async fn list_sessions(
        &self,
        user_id: i64,
        current: Option<&str>,
    ) -> Result<Vec<SessionInfo>, ServiceError> {
        let now = self.clock.now().as_secs();
        let idle = self.settings.session.idle_timeout_secs;
        let current = current.map(str::to_owned);
        self.db
            .run(move |c| {
                Ok::<_, ServiceError>(
                    Session::list_for_user(c, user_id)?
                        .into_iter()
                        .filter(|s| s.expires_at > now && s.last_seen_at + idle > now)
                        .map(|s| SessionInfo {
                            current: current.as_deref() == Some(s.id.as_str()),
                            id: s.id,
                            created_at: s.created_at,
                            last_seen_at: s.last_seen_at,
                            expires_at: s.expires_at,
                            user_agent: s.user_agent,
                            ip: s.ip,
                        })
                        .collect(),
                )
            })
            .await
    }

    pub async fn delete_session(&self, user_id: i64, id: &str) -> Result<(), ServiceError> {
        let ended = id.to_owned();
        let id = id.to_owned();
        let evicted = id.clone();
        let now = self.clock.now();
        self.revoking(
            self.db.write_tx(move |c| {
                if !Session::delete_for_user(c, &id, user_id)? {
                    return Err(ServiceError::NotFound);
                }
                audit::record(c, now, "session.ended", Some(user_id), None, Some(&id))?;
                Ok(())
            }),
            |_| vec![Eviction::Session(evicted)],
        )
        .await?;
        self.backchannel_logout(&ended).await
    }
}
