//! Client API tokens (API.md §7): long-lived, scoped, named, hashed at rest, at most 25 live per user,
//! and pair codes that move one onto a device.

use tessera_core::token_format::{self, PlainToken, TokenKind};
use tessera_core::{ScopeSet, UnixTime};
use tessera_db::models::client_tokens::{ClientToken, NewClientToken};
use tessera_db::models::users::User;
use tessera_db::DbConnection;

use crate::cache::Eviction;
use crate::identity::{principal_of, user_rights, AuthFailure, CredentialKind, Identity};
use crate::ratelimit::LimitedAction;
use crate::{audit, ServiceError, Services};

pub const MAX_LIVE_TOKENS: i64 = 25;
/// `last_used_at` is written at most this often per token.
pub const LAST_USED_WRITE_SECS: i64 = 60;
pub const PAIR_CODE_TTL_SECS: i64 = 60;
/// Unambiguous characters: no 0/O, 1/I/L.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// The expiry choices of API.md §7.
pub fn parse_expiry(text: Option<&str>, now: UnixTime) -> Result<Option<i64>, ServiceError> {
    let days = match text {
        None | Some("never") => return Ok(None),
        Some("30d") => 30,
        Some("90d") => 90,
        Some("1y") => 365,
        Some(other) => {
            return Err(ServiceError::field(
                "expires_in",
                format!("{other:?} is not one of \"30d\", \"90d\", \"1y\", \"never\" or null"),
            ))
        }
    };
    Ok(Some(now.as_secs() + days * 86_400))
}

/// A token just created or regenerated; `raw` is shown once.
pub struct CreatedToken {
    pub row: ClientToken,
    pub raw: PlainToken,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken")
            .field("id", &self.row.id)
            .finish_non_exhaustive()
    }
}

/// Inserts a token under the 25-token limit. Bumping `token_seq` first serialises one user's creations
/// (a row lock on PostgreSQL, the write lock on SQLite), so the count that follows cannot be raced.
pub fn insert_within_limit(
    conn: &mut DbConnection,
    new: &NewClientToken<'_>,
    now: i64,
) -> Result<ClientToken, ServiceError> {
    User::bump_token_seq(conn, new.user_id)?;
    if ClientToken::count_live(conn, new.user_id, now)? >= MAX_LIVE_TOKENS {
        return Err(ServiceError::TokenLimit(MAX_LIVE_TOKENS));
    }
    Ok(ClientToken::insert(conn, new)?)
}

fn normalise_code(code: &str) -> Option<String> {
    let c: String = code
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    (c.len() == 8 && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

/// 8 random characters from the code alphabet.
pub fn random_code() -> String {
    let bytes = tessera_crypto::random::bytes::<8>();
    // 256 % 31 != 0 leaves a slight bias; reject the top values so every character is equally likely.
    let mut out = String::with_capacity(8);
    let mut pool = bytes.to_vec();
    while out.len() < 8 {
        if pool.is_empty() {
            pool = tessera_crypto::random::bytes::<8>().to_vec();
        }
        let b = pool.remove(0);
        if usize::from(b) < 248 {
            out.push(char::from(CODE_ALPHABET[usize::from(b) % CODE_ALPHABET.len()]));
        }
    }
    out
}

impl Services {
    fn new_client_secret(&self) -> Result<PlainToken, ServiceError> {
        tessera_crypto::random::token(TokenKind::Client, &self.settings.tokens.prefix)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("{e}")))
    }

    /// Scopes a caller may put on a new credential: normalised, and within the caller's own.
    pub fn scopes_within(&self, caller: &Identity, names: &[String]) -> Result<ScopeSet, ServiceError> {
        self.scopes_under(caller.scopes, names, "scopes")
    }

    /// Parses and normalises `names` (at least one, all known) and refuses any beyond `ceiling`,
    /// listing the excess: minting never widens.
    pub fn scopes_under(
        &self,
        ceiling: ScopeSet,
        names: &[String],
        field: &str,
    ) -> Result<ScopeSet, ServiceError> {
        if names.is_empty() {
            return Err(ServiceError::field(field, "name at least one scope"));
        }
        let asked = self
            .catalog
            .parse_names(names.iter().map(String::as_str))
            .map_err(|e| ServiceError::field(field, e.to_string()))?;
        let asked = self.catalog.normalize(asked);
        ServiceError::unless_within(&self.catalog, asked, ceiling)?;
        Ok(asked)
    }

    pub async fn create_client_token(
        &self,
        caller: &Identity,
        name: &str,
        scopes: &[String],
        expires_in: Option<&str>,
    ) -> Result<CreatedToken, ServiceError> {
        let created = self
            .create_client_token_inner(caller, name, scopes, expires_in)
            .await?;
        self.metrics.token("client", "issued");
        Ok(created)
    }

    async fn create_client_token_inner(
        &self,
        caller: &Identity,
        name: &str,
        scopes: &[String],
        expires_in: Option<&str>,
    ) -> Result<CreatedToken, ServiceError> {
        let user_id = caller
            .principal
            .as_ref()
            .ok_or_else(|| ServiceError::Forbidden("this credential has no user".into()))?
            .user_id;
        let name = name.trim().to_owned();
        if name.is_empty() || name.len() > 255 {
            return Err(ServiceError::field("name", "must be 1-255 characters"));
        }
        let now = self.clock.now();
        let expires_at = parse_expiry(expires_in, now)?;
        let scopes = self.scopes_within(caller, scopes)?;
        let scope_text = self.catalog.to_text(scopes);
        let raw = self.new_client_secret()?;
        let digest = raw.digest();
        let row = self
            .db
            .write_tx(move |c| {
                let row = insert_within_limit(
                    c,
                    &NewClientToken {
                        user_id,
                        name: &name,
                        digest: Some(digest.as_bytes()),
                        scopes: &scope_text,
                        expires_at,
                        device_id: None,
                        created_at: now.as_secs(),
                    },
                    now.as_secs(),
                )?;
                audit::record(
                    c,
                    now,
                    "client_token.created",
                    Some(user_id),
                    None,
                    Some(&row.name),
                )?;
                Ok::<_, ServiceError>(row)
            })
            .await?;
        Ok(CreatedToken { row, raw })
    }

    pub async fn list_client_tokens(&self, user_id: i64) -> Result<Vec<ClientToken>, ServiceError> {
        self.db
            .run(move |c| Ok::<_, ServiceError>(ClientToken::for_user(c, user_id)?))
            .await
    }

    /// Every token with its owner's name (admin).
    pub async fn list_all_client_tokens(&self) -> Result<Vec<(ClientToken, String)>, ServiceError> {
        self.db
            .run(|c| Ok::<_, ServiceError>(ClientToken::all_with_owner(c)?))
            .await
    }

    /// Deletes a token; `owner` None is an admin deleting anyone's. Another user's token is a 404.
    pub async fn delete_client_token(&self, owner: Option<i64>, id: i64) -> Result<(), ServiceError> {
        self.delete_client_token_inner(owner, id).await?;
        self.metrics.token("client", "revoked");
        Ok(())
    }

    async fn delete_client_token_inner(&self, owner: Option<i64>, id: i64) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.revoking(
            self.db.write_tx(move |c| {
                let row = ClientToken::find(c, id)?
                    .filter(|t| owner.is_none_or(|o| o == t.user_id))
                    .ok_or(ServiceError::NotFound)?;
                ClientToken::delete(c, id)?;
                audit::record(
                    c,
                    now,
                    "client_token.deleted",
                    Some(row.user_id),
                    None,
                    Some(&row.name),
                )?;
                Ok::<_, ServiceError>(())
            }),
            |_| vec![Eviction::ClientToken(id)],
        )
        .await
    }

    /// A new secret for the same token (same id, scopes, expiry); the old secret dies at once. Revealing a
    /// secret is minting: the token may not reach beyond the caller's effective scopes.
    pub async fn regenerate_client_token(
        &self,
        caller: &Identity,
        id: i64,
    ) -> Result<CreatedToken, ServiceError> {
        let row = self.own_token_within(caller, id).await?;
        self.regenerate_secret(row.user_id, row.id).await
    }

    /// The caller's own token `id`, refused (`scope_excess`, naming the excess) when its effective scopes
    /// (its own ∩ the owner's rights now) reach beyond the caller's: a device token with `me.write` must
    /// not take over its owner's admin token by regenerating or pairing it.
    async fn own_token_within(&self, caller: &Identity, id: i64) -> Result<ClientToken, ServiceError> {
        let owner = caller
            .principal
            .as_ref()
            .ok_or_else(|| ServiceError::Forbidden("this credential has no user".into()))?
            .user_id;
        let catalog = self.catalog.clone();
        let (row, reach) = self
            .db
            .run(move |c| {
                let row = ClientToken::find(c, id)?
                    .filter(|t| t.user_id == owner)
                    .ok_or(ServiceError::NotFound)?;
                let user = User::find(c, owner)?.ok_or(ServiceError::NotFound)?;
                let rights = user_rights(c, &catalog, &user)?;
                let reach = catalog.parse(&row.scopes).unwrap_or_default().and(rights);
                Ok::<_, ServiceError>((row, reach))
            })
            .await?;
        ServiceError::unless_within(&self.catalog, reach, caller.scopes)?;
        Ok(row)
    }

    async fn regenerate_secret(&self, owner: i64, id: i64) -> Result<CreatedToken, ServiceError> {
        let raw = self.new_client_secret()?;
        let digest = raw.digest();
        let now = self.clock.now();
        let row = self
            .revoking(
                self.db.write_tx(move |c| {
                    let row = ClientToken::find(c, id)?
                        .filter(|t| t.user_id == owner)
                        .ok_or(ServiceError::NotFound)?;
                    ClientToken::set_digest(c, id, digest.as_bytes())?;
                    audit::record(
                        c,
                        now,
                        "client_token.regenerated",
                        Some(owner),
                        None,
                        Some(&row.name),
                    )?;
                    ClientToken::find(c, id)?.ok_or(ServiceError::NotFound)
                }),
                |_| vec![Eviction::ClientToken(id)],
            )
            .await?;
        Ok(CreatedToken { row, raw })
    }

    /// Resolves `Authorization: Bearer <prefix>_…`. The shape and checksum are checked before any lookup.
    pub async fn resolve_client_token(&self, text: &str) -> Result<Identity, AuthFailure> {
        let token = token_format::parse(TokenKind::Client, &self.settings.tokens.prefix, text)
            .map_err(|_| AuthFailure::Invalid)?;
        let digest = token.digest();
        self.resolve_cached(CredentialKind::ClientToken, digest, || {
            self.load_client_token(digest)
        })
        .await
    }

    async fn load_client_token(
        &self,
        digest: tessera_core::token_format::TokenDigest,
    ) -> Result<(Identity, Option<i64>), AuthFailure> {
        let now = self.clock.now().as_secs();
        let catalog = self.catalog.clone();
        let (row, user, rights) = self
            .db
            .run(move |c| -> Result<_, AuthFailure> {
                let row = ClientToken::find_by_digest(c, digest.as_bytes())?.ok_or(AuthFailure::Invalid)?;
                if row.expires_at.is_some_and(|e| e <= now) {
                    return Err(AuthFailure::Invalid);
                }
                let user = User::find(c, row.user_id)?
                    .filter(|u| u.enabled)
                    .ok_or(AuthFailure::Invalid)?;
                let rights = user_rights(c, &catalog, &user)?;
                crate::identity::touch_active_throttled(c, &user, now)?;
                Ok((row, user, rights))
            })
            .await?;
        let scopes = self.catalog.parse(&row.scopes).unwrap_or_default();
        Ok((
            Identity {
                kind: CredentialKind::ClientToken,
                principal: Some(principal_of(&user)),
                subject: user.id.to_string().into(),
                client_id: None,
                device_id: row.device_id.as_deref().map(std::sync::Arc::from),
                scopes: scopes.and(rights),
                granted: scopes,
                expires_at: row.expires_at,
                issued_at: Some(row.created_at),
                token_id: Some(row.id.to_string().into()),
                can_introspect: false,
                session_id: None,
                family_id: None,
                cache_until: None,
                oidc_scopes: None,
            },
            None,
        ))
    }

    /// Records a client token's use at most once a minute, off the request path.
    pub(crate) fn client_token_used(&self, id: i64) {
        let now = self.clock.now().as_secs();
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let seen = &mut seen.client_tokens;
            if seen.get(&id).is_some_and(|t| now - t < LAST_USED_WRITE_SECS) {
                return;
            }
            if seen.len() > 100_000 {
                seen.clear();
            }
            seen.insert(id, now);
        }
        let db = self.db.clone();
        self.background.spawn(async move {
            let r = db
                .run(move |c| ClientToken::touch_used(c, id, now, now - LAST_USED_WRITE_SECS))
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "last_used_at not recorded");
            }
        });
    }

    /// Revokes a presented client token (RFC 7009 path); unknown tokens are fine.
    pub async fn revoke_client_token_text(&self, text: &str) -> Result<(), ServiceError> {
        let Ok(token) = token_format::parse(TokenKind::Client, &self.settings.tokens.prefix, text) else {
            return Ok(());
        };
        let digest = token.digest();
        let now = self.clock.now();
        self.revoking(
            self.db.write_tx(move |c| {
                let Some(row) = ClientToken::find_by_digest(c, digest.as_bytes())? else {
                    return Ok::<_, ServiceError>(None);
                };
                ClientToken::delete(c, row.id)?;
                audit::record(
                    c,
                    now,
                    "client_token.revoked",
                    Some(row.user_id),
                    None,
                    Some(&row.name),
                )?;
                Ok(Some(row.id))
            }),
            // Unknown tokens revoke nothing, so they evict nothing.
            |found| found.iter().map(|id| Eviction::ClientToken(*id)).collect(),
        )
        .await
        .map(|_| ())
    }

    /// A one-minute code that hands this token (with a fresh secret) to whoever presents it: minting, so
    /// bounded by the caller's effective scopes like regeneration.
    pub async fn create_pair_code(&self, caller: &Identity, id: i64) -> Result<String, ServiceError> {
        let row = self.own_token_within(caller, id).await?;
        let now = self.clock.now();
        let expires = UnixTime(now.as_secs() + PAIR_CODE_TTL_SECS);
        // A fresh code never collides with a live one: set-if-absent, retried.
        for _ in 0..8 {
            let code = random_code();
            let value = format!("{}:{}", row.user_id, row.id);
            let set = self
                .store
                .set_if_absent(&format!("pair:{code}"), value.as_bytes(), expires, now)
                .await
                .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
            if set {
                return Ok(code);
            }
        }
        Err(ServiceError::Unexpected(anyhow::anyhow!(
            "no free pair code after 8 tries"
        )))
    }

    /// Guessing pair codes is what the client address's `pair_exchange` budget limits: every lookup is
    /// charged and a found code refunded, so only misses count.
    async fn pair_code_guess<T>(
        &self,
        client_ip: &str,
        work: impl std::future::Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ServiceError> {
        self.limits
            .charge(LimitedAction::PairExchange, client_ip, self.clock.now())
            .await?;
        let out = work.await?;
        self.limits
            .refund(LimitedAction::PairExchange, client_ip, self.clock.now())
            .await;
        Ok(out)
    }

    /// Whether a pair code is still waiting to be exchanged (404 when not; charged as a guess).
    pub async fn pair_code_pending(&self, code: &str, client_ip: &str) -> Result<(), ServiceError> {
        self.pair_code_guess(client_ip, async {
            if self.pair_code_live(code).await? {
                Ok(())
            } else {
                Err(ServiceError::NotFound)
            }
        })
        .await
    }

    async fn pair_code_live(&self, code: &str) -> Result<bool, ServiceError> {
        let Some(code) = normalise_code(code) else {
            return Ok(false);
        };
        let v = self
            .store
            .get(&format!("pair:{code}"), self.clock.now())
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        Ok(v.is_some())
    }

    /// Takes the code atomically (one winner) and regenerates its token's secret for the new holder
    /// (charged as a guess).
    pub async fn exchange_pair_code(
        &self,
        code: &str,
        client_ip: &str,
    ) -> Result<CreatedToken, ServiceError> {
        self.pair_code_guess(client_ip, self.take_pair_code(code)).await
    }

    async fn take_pair_code(&self, code: &str) -> Result<CreatedToken, ServiceError> {
        let code = normalise_code(code).ok_or(ServiceError::NotFound)?;
        let taken = self
            .store
            .take(&format!("pair:{code}"), self.clock.now())
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?
            .ok_or(ServiceError::NotFound)?;
        let text = String::from_utf8(taken).map_err(|_| ServiceError::NotFound)?;
        let (owner, id) = text.split_once(':').ok_or(ServiceError::NotFound)?;
        let (owner, id) = (
            owner.parse().map_err(|_| ServiceError::NotFound)?,
            id.parse().map_err(|_| ServiceError::NotFound)?,
        );
        // The code was issued to a caller whose scopes covered the token when it asked.
        self.regenerate_secret(owner, id).await
    }

    /// The identity of a user with their full rights, for operator commands acting on their behalf.
    pub async fn identity_of_user(&self, username: &str) -> Result<Identity, ServiceError> {
        let user = self.find_user_by_name(username).await?;
        let rights = self.rights_of(user.id).await?;
        Ok(Identity::of_user(CredentialKind::Basic, &user, rights))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_and_normalise() {
        for _ in 0..100 {
            let c = random_code();
            assert_eq!(c.len(), 8);
            assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        }
        assert_eq!(normalise_code("abcd-efgh"), Some("ABCDEFGH".into()));
        assert_eq!(normalise_code("ABCD EFGH"), Some("ABCDEFGH".into()));
        assert_eq!(normalise_code("ABCDEFG0"), None, "0 is not in the alphabet");
        assert_eq!(normalise_code("ABC"), None);
    }

    #[test]
    fn expiry_choices() {
        let now = UnixTime(1_000);
        assert_eq!(parse_expiry(None, now).unwrap(), None);
        assert_eq!(parse_expiry(Some("never"), now).unwrap(), None);
        assert_eq!(parse_expiry(Some("30d"), now).unwrap(), Some(1_000 + 30 * 86_400));
        assert_eq!(parse_expiry(Some("1y"), now).unwrap(), Some(1_000 + 365 * 86_400));
        assert!(parse_expiry(Some("7d"), now).is_err());
    }
}
