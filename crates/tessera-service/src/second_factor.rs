//! A second factor (issue 21): TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) with ten one-use recovery
//! codes. The secret is sealed with the key-encryption key; a code is accepted once (the newest accepted
//! step is kept, so a code seen by an eavesdropper is spent); wrong codes are charged to the login budget
//! by `verify_login`, which is where every password path asks for the factor.

use tessera_core::token_format::TokenDigest;
use tessera_db::models::passkeys::PasskeyRow;
use tessera_db::models::second_factor::{RecoveryCode, UserTotp};
use tessera_db::models::users::User;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::cache::Eviction;
use crate::identity::Identity;
use crate::login::LoginFailure;
use crate::{audit, ServiceError, Services};

const STEP_SECS: u64 = 30;
/// How long a sign-in waits for its code between the password and the second step.
const PENDING_SECS: i64 = 300;
const RECOVERY_CODES: usize = 10;
/// The issuer shown in authenticator apps.
const ISSUER: &str = "Tessera";

/// A new, unconfirmed enrolment: the secret (base32) and the `otpauth://` URI for a QR code.
#[derive(Clone)]
pub struct TotpEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrolment").finish_non_exhaustive()
    }
}

/// A sign-in whose password was right, waiting for the second factor (stored, keyed by a digest).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingSignIn {
    pub user_id: i64,
    /// Where the browser goes afterwards (already checked by the page).
    pub rd: String,
    /// An upstream sign-in's ID token, kept for RP-initiated logout.
    pub oidc_id_token: Option<String>,
    /// The user must enrol first (`security.require_second_factor`): the next step is enrolment.
    #[serde(default)]
    pub enrol: bool,
}

fn pending_key(token: &str) -> String {
    format!("mfa:{}", hex::encode(TokenDigest::of(token).as_bytes()))
}

/// What `/api/users/me` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecondFactorStatus {
    pub totp: bool,
    pub passkeys: i64,
    pub recovery_codes_left: i64,
}

impl SecondFactorStatus {
    /// Whether a password alone is no longer enough.
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECS, secret.to_vec())
}

/// The step (of `now`, one before or one after) whose code is `code`, compared in constant time.
fn matching_step(secret: &[u8], code: &str, now: u64) -> Option<i64> {
    let t = totp(secret);
    let current = now / STEP_SECS;
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| tessera_crypto::ct_eq(t.generate(step * STEP_SECS).as_bytes(), code.as_bytes()))
        .and_then(|s| i64::try_from(s).ok())
}

fn is_totp_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// A recovery code as printed: `xxxxx-xxxxx` of lowercase hex; compared without the dash and case.
fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn new_recovery_code() -> String {
    let hex = tessera_crypto::random::hex_secret(5);
    format!("{}-{}", &hex[..5], &hex[5..])
}

impl Services {
    pub async fn second_factor_status(&self, user_id: i64) -> Result<SecondFactorStatus, ServiceError> {
        self.db
            .run(move |c| {
                let totp = UserTotp::find(c, user_id)?.is_some_and(|t| t.confirmed_at.is_some());
                Ok(SecondFactorStatus {
                    totp,
                    passkeys: PasskeyRow::count_of_user(c, user_id)?,
                    recovery_codes_left: if totp {
                        RecoveryCode::unused_count(c, user_id)?
                    } else {
                        0
                    },
                })
            })
            .await
    }

    /// Starts a TOTP enrolment (the current password proves it is the owner at the keyboard).
    pub async fn begin_totp(
        &self,
        me: &Identity,
        current_password: &str,
    ) -> Result<TotpEnrolment, ServiceError> {
        let uid = crate::passkeys::owner_id(me)?;
        let user = self.get_user(uid).await?;
        self.check_current_password(&user, current_password, "totp")
            .await?;
        self.new_totp_secret(&user).await
    }

    /// The current password of a signed-in user adding a way to sign in. Wrong guesses spend the user's
    /// login budget, so a stolen token cannot walk through passwords here.
    pub(crate) async fn check_current_password(
        &self,
        user: &User,
        current_password: &str,
        purpose: &str,
    ) -> Result<(), ServiceError> {
        let budget = format!("#{}|{purpose}", user.id);
        let now = self.clock.now();
        self.limits
            .charge(crate::ratelimit::LimitedAction::LoginUser, &budget, now)
            .await?;
        if !self
            .hasher
            .verify(current_password, user.password_hash.as_deref())
            .await?
        {
            return Err(ServiceError::field("current_password", "does not match"));
        }
        self.limits
            .refund(crate::ratelimit::LimitedAction::LoginUser, &budget, now)
            .await;
        Ok(())
    }

    async fn new_totp_secret(&self, user: &User) -> Result<TotpEnrolment, ServiceError> {
        if self.second_factor_status(user.id).await?.totp {
            return Err(ServiceError::Conflict(
                "TOTP is already on; remove it first to enrol a new authenticator".into(),
            ));
        }
        let raw = tessera_crypto::random::bytes::<20>().to_vec();
        let Secret::Encoded(encoded) = Secret::Raw(raw).to_encoded() else {
            return Err(ServiceError::Unexpected(anyhow::anyhow!("base32 encoding")));
        };
        let sealed = self.keys.seal(&encoded)?;
        let now = self.clock.now().as_secs();
        let uid = user.id;
        self.db
            .write_tx(move |c| {
                UserTotp::replace(
                    c,
                    &UserTotp {
                        user_id: uid,
                        secret_sealed: sealed,
                        confirmed_at: None,
                        last_step: None,
                        created_at: now,
                    },
                )?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        let label: String =
            url::form_urlencoded::byte_serialize(format!("{ISSUER}:{}", user.username).as_bytes()).collect();
        let otpauth_uri = format!(
            "otpauth://totp/{label}?secret={encoded}&issuer={ISSUER}&algorithm=SHA1&digits=6&period={STEP_SECS}"
        );
        Ok(TotpEnrolment {
            secret: encoded,
            otpauth_uri,
        })
    }

    /// Confirms an enrolment with a first right code; returns the recovery codes, shown once.
    pub async fn confirm_totp(&self, me: &Identity, code: &str) -> Result<Vec<String>, ServiceError> {
        let uid = crate::passkeys::owner_id(me)?;
        self.confirm_totp_of(uid, code).await
    }

    async fn confirm_totp_of(&self, uid: i64, code: &str) -> Result<Vec<String>, ServiceError> {
        let row = self
            .db
            .run(move |c| Ok::<_, ServiceError>(UserTotp::find(c, uid)?))
            .await?
            .ok_or_else(|| ServiceError::field("code", "start an enrolment first"))?;
        if row.confirmed_at.is_some() {
            return Err(ServiceError::Conflict("TOTP is already on".into()));
        }
        let secret = self.totp_secret(&row)?;
        let now = self.clock.now();
        let step = (is_totp_code(code))
            .then(|| matching_step(&secret, code, now.as_secs().max(0).unsigned_abs()))
            .flatten()
            .ok_or_else(|| ServiceError::field("code", "is not the current code of the authenticator"))?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let digests: Vec<Vec<u8>> = codes
            .iter()
            .map(|c| TokenDigest::of(&normalise_recovery(c)).as_bytes().to_vec())
            .collect();
        self.db
            .write_tx(move |c| {
                if !UserTotp::accept_step(c, uid, step)? {
                    return Err(ServiceError::field(
                        "code",
                        "was used already; wait for the next one",
                    ));
                }
                UserTotp::confirm(c, uid, now.as_secs())?;
                RecoveryCode::replace_all(c, uid, &digests)?;
                audit::record(c, now, "second_factor.totp_enabled", Some(uid), None, None)?;
                Ok(())
            })
            .await?;
        self.metrics.second_factor("totp_enabled");
        // A Basic credential cached before the enrolment must not keep working without the factor.
        self.evict(&[Eviction::User(uid)]).await?;
        Ok(codes)
    }

    /// Turns TOTP off, proven with a current code or a recovery code.
    pub async fn remove_totp(&self, me: &Identity, code: &str) -> Result<(), ServiceError> {
        let uid = crate::passkeys::owner_id(me)?;
        let user = self.get_user(uid).await?;
        // Wrong codes spend the user's login budget, so a stolen token cannot walk through the code space.
        let budget = format!("#{}|remove-totp", user.id);
        let now = self.clock.now();
        self.limits
            .charge(crate::ratelimit::LimitedAction::LoginUser, &budget, now)
            .await?;
        match self.check_second_factor(&user, Some(code)).await {
            Ok(()) => {
                self.limits
                    .refund(crate::ratelimit::LimitedAction::LoginUser, &budget, now)
                    .await;
            }
            Err(LoginFailure::Service(e)) => return Err(e),
            Err(_) => {
                return Err(ServiceError::field(
                    "code",
                    "is neither a current code nor an unused recovery code",
                ))
            }
        }
        let uid = user.id;
        self.db
            .write_tx(move |c| {
                UserTotp::remove(c, uid)?;
                audit::record(
                    c,
                    now,
                    "second_factor.totp_removed",
                    Some(uid),
                    Some("self"),
                    None,
                )?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        self.metrics.second_factor("totp_removed");
        Ok(())
    }

    /// A reset of someone's second factors (a lost phone), audited with who did it: `actor` None is the
    /// operator's CLI; only an admin resets an admin's.
    pub async fn reset_second_factor(
        &self,
        user_id: i64,
        actor: Option<&Identity>,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let target = self.get_user(user_id).await?;
        if let Some(a) = actor {
            if target.role == tessera_core::Role::Admin.as_str() && !a.is_admin() {
                return Err(ServiceError::Forbidden(
                    "only an admin can reset an admin's second factor".into(),
                ));
            }
        }
        let actor = actor.map_or_else(
            || "cli".to_owned(),
            |a| {
                a.principal
                    .as_ref()
                    .map_or_else(|| a.subject.to_string(), |p| p.username.clone())
            },
        );
        self.db
            .write_tx(move |c| {
                UserTotp::remove(c, user_id)?;
                PasskeyRow::delete_all_of_user(c, user_id)?;
                audit::record(c, now, "second_factor.reset", Some(user_id), Some(&actor), None)?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        self.metrics.second_factor("reset");
        self.evict(&[Eviction::User(user_id)]).await
    }

    /// True when the user must have a factor (`security.require_second_factor`) and has none yet.
    pub async fn enrolment_missing(&self, user: &User) -> Result<bool, ServiceError> {
        if self.settings.security.require_second_factor.is_empty() {
            return Ok(false);
        }
        Ok(!self.second_factor_status(user.id).await?.any() && self.must_enrol(user).await?)
    }

    /// Whether `security.require_second_factor` names the user's role or permission group.
    pub async fn must_enrol(&self, user: &User) -> Result<bool, ServiceError> {
        let required = &self.settings.security.require_second_factor;
        if required.is_empty() {
            return Ok(false);
        }
        if required.iter().any(|r| r.eq_ignore_ascii_case(&user.role)) {
            return Ok(true);
        }
        let Some(group) = user.permission_group_id else {
            return Ok(false);
        };
        let name = self
            .db
            .run(move |c| {
                Ok::<_, ServiceError>(
                    tessera_db::models::permission_groups::PermissionGroup::find(c, group)?.map(|g| g.name),
                )
            })
            .await?;
        Ok(name.is_some_and(|n| required.contains(&n)))
    }

    /// The enrolment step of a parked sign-in: a new secret for the authenticator (no password again:
    /// it was just checked).
    pub async fn begin_parked_enrolment(&self, user_id: i64) -> Result<TotpEnrolment, ServiceError> {
        let user = self.get_user(user_id).await?;
        self.new_totp_secret(&user).await
    }

    /// `enrolment_missing` by id (for the pages, which see no database rows).
    pub async fn enrolment_missing_for(&self, user_id: i64) -> Result<bool, ServiceError> {
        if self.settings.security.require_second_factor.is_empty() {
            return Ok(false);
        }
        let user = self.get_user(user_id).await?;
        self.enrolment_missing(&user).await
    }

    /// Confirms a parked enrolment with its first code; returns the recovery codes and uses up the wait.
    pub async fn finish_parked_enrolment(
        &self,
        token: &str,
        code: &str,
        client_ip: &str,
    ) -> Result<(PendingSignIn, Vec<String>), LoginFailure> {
        let now = self.clock.now();
        let (key, pending) = self.parked(token).await?;
        if !pending.enrol {
            return Err(LoginFailure::BadCredentials);
        }
        let budget_key = format!("{client_ip}|#{}", pending.user_id);
        self.limits
            .charge(crate::ratelimit::LimitedAction::LoginUser, &budget_key, now)
            .await?;
        match self.confirm_totp_of(pending.user_id, code).await {
            Ok(codes) => {
                self.limits
                    .refund(crate::ratelimit::LimitedAction::LoginUser, &budget_key, now)
                    .await;
                self.use_up(&key).await?;
                Ok((pending, codes))
            }
            Err(ServiceError::Validation(_)) => Err(LoginFailure::BadSecondFactor),
            Err(e) => Err(e.into()),
        }
    }

    /// A parked sign-in and its store key; an unknown or expired wait reads as bad credentials.
    pub(crate) async fn parked(&self, token: &str) -> Result<(String, PendingSignIn), LoginFailure> {
        let key = pending_key(token);
        let raw = self
            .store
            .get(&key, self.clock.now())
            .await
            .map_err(|e| ServiceError::Unavailable(format!("store: {e}")))?
            .ok_or(LoginFailure::BadCredentials)?;
        let pending = serde_json::from_slice(&raw).map_err(|_| LoginFailure::BadCredentials)?;
        Ok((key, pending))
    }

    /// Ends a wait: exactly one caller wins, so one right code never starts two sessions.
    pub(crate) async fn use_up(&self, key: &str) -> Result<(), LoginFailure> {
        let taken = self
            .store
            .take(key, self.clock.now())
            .await
            .map_err(|e| ServiceError::Unavailable(format!("store: {e}")))?;
        taken.map(|_| ()).ok_or(LoginFailure::BadCredentials)
    }

    /// Parks a sign-in whose password (or upstream login) was right until its code arrives; returns the
    /// token for the browser's cookie.
    pub async fn park_sign_in(&self, pending: &PendingSignIn) -> Result<String, ServiceError> {
        let token = tessera_crypto::random::hex_secret(32);
        let now = self.clock.now();
        let value = serde_json::to_vec(pending).map_err(|e| ServiceError::Unexpected(e.into()))?;
        self.store
            .set(
                &pending_key(&token),
                &value,
                tessera_core::UnixTime(now.as_secs() + PENDING_SECS),
                now,
            )
            .await
            .map_err(|e| ServiceError::Unavailable(format!("store: {e}")))?;
        Ok(token)
    }

    /// The second step: a right code ends the wait (the parked sign-in is used up); a wrong one is
    /// charged to the login budget and the sign-in keeps waiting for another try.
    pub async fn finish_sign_in(
        &self,
        token: &str,
        code: &str,
        client_ip: &str,
    ) -> Result<PendingSignIn, LoginFailure> {
        let now = self.clock.now();
        let (key, pending) = self.parked(token).await?;
        let budget_key = format!("{client_ip}|#{}", pending.user_id);
        self.limits
            .charge(crate::ratelimit::LimitedAction::LoginIp, client_ip, now)
            .await?;
        if let Err(e) = self
            .limits
            .charge(crate::ratelimit::LimitedAction::LoginUser, &budget_key, now)
            .await
        {
            self.limits
                .refund(crate::ratelimit::LimitedAction::LoginIp, client_ip, now)
                .await;
            return Err(e.into());
        }
        let user = self.get_user(pending.user_id).await?;
        if !user.enabled {
            return Err(LoginFailure::BadCredentials);
        }
        self.check_second_factor(&user, Some(code)).await?;
        self.limits
            .refund(crate::ratelimit::LimitedAction::LoginIp, client_ip, now)
            .await;
        self.limits
            .refund(crate::ratelimit::LimitedAction::LoginUser, &budget_key, now)
            .await;
        // One use: a second right code cannot start a second session from the same wait.
        self.use_up(&key).await?;
        Ok(pending)
    }

    fn totp_secret(&self, row: &UserTotp) -> Result<Vec<u8>, ServiceError> {
        let encoded = self.keys.unseal(&row.secret_sealed)?;
        Secret::Encoded(encoded)
            .to_bytes()
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored TOTP secret: {e:?}")))
    }

    /// The second step of a sign-in: Ok when the user has no confirmed factor, or `given` is a current
    /// code (not used before) or an unused recovery code (used up now).
    pub(crate) async fn check_second_factor(
        &self,
        user: &User,
        given: Option<&str>,
    ) -> Result<(), LoginFailure> {
        let uid = user.id;
        let (row, passkeys) = self
            .db
            .run(move |c| {
                Ok::<_, ServiceError>((UserTotp::find(c, uid)?, PasskeyRow::count_of_user(c, uid)?))
            })
            .await?;
        let row = row.filter(|r| r.confirmed_at.is_some());
        if row.is_none() && passkeys == 0 {
            return Ok(());
        }
        // A passkey is asked by the sign-in page itself; here only a TOTP or recovery code can answer.
        let Some(code) = given.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(LoginFailure::SecondFactorRequired);
        };
        let now = self.clock.now();
        let accepted = if is_totp_code(code) {
            let step = match &row {
                Some(row) => {
                    matching_step(&self.totp_secret(row)?, code, now.as_secs().max(0).unsigned_abs())
                }
                None => None,
            };
            match step {
                Some(step) => {
                    self.db
                        .run(move |c| Ok::<_, ServiceError>(UserTotp::accept_step(c, uid, step)?))
                        .await?
                }
                None => false,
            }
        } else {
            let digest = TokenDigest::of(&normalise_recovery(code));
            let used = self
                .db
                .run(move |c| {
                    Ok::<_, ServiceError>(RecoveryCode::consume(c, uid, digest.as_bytes(), now.as_secs())?)
                })
                .await?;
            if used {
                self.db
                    .run(move |c| {
                        audit::record(c, now, "second_factor.recovery_code_used", Some(uid), None, None)
                    })
                    .await
                    .map_err(ServiceError::from)?;
            }
            used
        };
        if accepted {
            self.metrics.second_factor("accepted");
            Ok(())
        } else {
            self.metrics.second_factor("refused");
            self.db
                .run(move |c| audit::record(c, now, "second_factor.failed", Some(uid), None, None))
                .await
                .map_err(ServiceError::from)?;
            Err(LoginFailure::BadSecondFactor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors_at_six_digits() {
        // RFC 6238 Appendix B, seed "12345678901234567890", last six digits of the eight-digit values.
        let secret = b"12345678901234567890";
        assert_eq!(totp(secret).generate(59), "287082");
        assert_eq!(totp(secret).generate(1_111_111_109), "081804");
        assert_eq!(
            matching_step(secret, "287082", 59 + 30),
            Some(1),
            "one step of skew is accepted"
        );
        assert_eq!(
            matching_step(secret, "287082", 59 + 90),
            None,
            "two steps are not"
        );
    }

    #[test]
    fn recovery_codes_compare_without_dash_or_case() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(normalise_recovery(&c.to_uppercase()), c.replace('-', ""));
    }
}
