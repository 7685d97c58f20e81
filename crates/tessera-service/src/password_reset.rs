//! Forgotten passwords and email verification by mail link (API.md §7). Links are one-use secrets
//! stored as digests; they never go to the log. Without SMTP nothing is sent and operators hand out
//! links with `tessera users reset-link`.

use tessera_core::account::{check_password, Username};
use tessera_core::token_format::TokenDigest;
use tessera_db::models::password_resets::PasswordReset;
use tessera_db::models::users::{User, UserChanges};

use crate::cache::Eviction;
use crate::identity::Identity;
use crate::ratelimit::LimitedAction;
use crate::{audit, ServiceError, Services};

/// Reset links live ten minutes.
pub const RESET_TTL_SECS: i64 = 600;
/// Verification links live a day.
pub const VERIFY_TTL_SECS: i64 = 24 * 3600;

const RESET_GONE: &str = "this reset link was used, has expired or does not exist";

impl Services {
    /// `POST /api/forgot-password`: the same answer and the same work for every username. The
    /// budget is per username, known or not, so a 429 reveals nothing either; the mail goes out in
    /// the background, so its time does not show. A second budget per client IP bounds what one address
    /// can make Tessera mail and store, whatever names it tries.
    pub async fn forgot_password(&self, username: &str, ip: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.limits
            .charge(LimitedAction::ForgotPasswordIp, ip, now)
            .await?;
        let key = username.trim().to_ascii_lowercase();
        self.limits
            .charge(LimitedAction::ForgotPassword, &key, now)
            .await?;
        let Ok(name) = Username::parse(username) else {
            return Ok(());
        };
        let user = self
            .db
            .run(move |c| Ok::<_, ServiceError>(User::find_by_username(c, name.as_str())?))
            .await?;
        let Some(user) = user.filter(|u| u.enabled) else {
            return Ok(());
        };
        let Some(email) = user.email.clone() else {
            return Ok(());
        };
        if !self.mailer.enabled() {
            tracing::info!(target: "tessera::security", user_id = user.id, "password reset asked for, but no SMTP is configured");
            return Ok(());
        }
        // Issuing the link (a write) and mailing it happen after the answer, so a known user's
        // request takes no longer than an unknown one's.
        let this = self.clone();
        tokio::spawn(async move {
            let user_id = user.id;
            let sent = async {
                let url = this.issue_reset_link(user_id).await?;
                let body = format!(
                    "Someone (hopefully you) asked to reset the password of {}.\n\nOpen this link within 10 minutes to choose a new one:\n{url}\n\nIf it was not you, ignore this mail; your password stays as it is.\n",
                    user.username
                );
                this.mailer
                    .send(&email, "Reset your Tessera password", body)
                    .await
            };
            if let Err(e) = sent.await {
                tracing::warn!(user_id, error = %e, "the password-reset mail could not be sent");
            }
        });
        Ok(())
    }

    /// A reset link made by someone for another person (the admin pages): whoever holds it can take the
    /// account over, so it is minting — only an admin makes one for an admin, and the person's rights must
    /// lie within the maker's credential. Audited with who made it.
    pub async fn issue_reset_link_as(&self, actor: &Identity, user_id: i64) -> Result<String, ServiceError> {
        let target = self.get_user(user_id).await?;
        if target.role == tessera_core::Role::Admin.as_str() && !actor.is_admin() {
            return Err(ServiceError::Forbidden(
                "only an admin can make a reset link for an admin".into(),
            ));
        }
        let catalog = self.catalog.clone();
        let rights = self
            .db
            .run(move |c| Ok::<_, ServiceError>(crate::identity::user_rights(c, &catalog, &target)?))
            .await?;
        ServiceError::unless_within(&self.catalog, rights, actor.scopes)?;
        let url = self.issue_reset_link(user_id).await?;
        let (now, who) = (self.clock.now(), actor.subject.to_string());
        self.db
            .run(move |c| {
                audit::record(
                    c,
                    now,
                    "password_reset.link_made",
                    Some(user_id),
                    Some(&who),
                    None,
                )
            })
            .await?;
        Ok(url)
    }

    /// A fresh one-use reset link for a user (also `tessera users reset-link`).
    pub async fn issue_reset_link(&self, user_id: i64) -> Result<String, ServiceError> {
        let token = tessera_crypto::random::hex_secret(32);
        let now = self.clock.now();
        let row = PasswordReset {
            digest: TokenDigest::of(&token).as_bytes().to_vec(),
            user_id,
            created_at: now.as_secs(),
            expires_at: now.as_secs() + RESET_TTL_SECS,
            used_at: None,
        };
        self.db
            .write_tx(move |c| {
                PasswordReset::insert(c, &row)?;
                audit::record(c, now, "password_reset.issued", Some(user_id), None, None)?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        Ok(format!(
            "{}/reset-password?token={token}",
            self.settings.server.public_url
        ))
    }

    /// `POST /api/reset-password`: one use, ten minutes; ends every session and revokes every token of
    /// the user, client tokens included.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<(), ServiceError> {
        check_password(new_password).map_err(|e| ServiceError::account_rule("new_password", &e))?;
        let digest = TokenDigest::of(token.trim()).as_bytes().to_vec();
        let lookup = digest.clone();
        let now = self.clock.now();
        let live = self
            .db
            .run(move |c| Ok::<_, ServiceError>(PasswordReset::find(c, &lookup)?))
            .await?
            .is_some_and(|r| r.used_at.is_none() && r.expires_at > now.as_secs());
        if !live {
            return Err(ServiceError::Gone(RESET_GONE.into()));
        }
        let hash = self.hasher.hash(new_password).await?;
        let sid_until = self.sid_until();
        self.revoking(
            self.db.write_tx(move |c| {
                let user_id = PasswordReset::consume(c, &digest, now.as_secs())?
                    .ok_or_else(|| ServiceError::Gone(RESET_GONE.into()))?;
                let changes = UserChanges {
                    password_hash: Some(Some(hash)),
                    updated_at: Some(now.as_secs()),
                    ..UserChanges::default()
                };
                User::update(c, user_id, &changes)?.ok_or(ServiceError::NotFound)?;
                crate::accounts::revoke_everything(c, user_id, None, true, now.as_secs(), sid_until)?;
                audit::record(
                    c,
                    now,
                    "user.password_reset",
                    Some(user_id),
                    Some("reset-link"),
                    None,
                )?;
                Ok(user_id)
            }),
            |user_id| vec![Eviction::User(*user_id)],
        )
        .await
        .map(|_| ())
    }

    /// Mails the caller a link that confirms their email address. 409 without an address or SMTP.
    pub async fn send_email_verification(&self, me: &Identity) -> Result<(), ServiceError> {
        let p = me
            .principal
            .as_ref()
            .ok_or_else(|| ServiceError::Forbidden("this credential does not belong to a user".into()))?;
        let email = p
            .email
            .clone()
            .ok_or_else(|| ServiceError::Conflict("set an email address first".into()))?;
        if !self.mailer.enabled() {
            return Err(ServiceError::Conflict(
                "no mail server is configured; an admin can mark the address verified".into(),
            ));
        }
        let token = tessera_crypto::random::hex_secret(32);
        let now = self.clock.now();
        let key = format!("verify:{}", hex::encode(TokenDigest::of(&token).as_bytes()));
        let value = format!("{}\n{email}", p.user_id);
        self.store
            .set(
                &key,
                value.as_bytes(),
                now.plus(std::time::Duration::from_secs(VERIFY_TTL_SECS as u64)),
                now,
            )
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        let url = format!("{}/verify-email?token={token}", self.settings.server.public_url);
        let body = format!(
            "Confirm that {email} is the address of {} on Tessera by opening this link within a day:\n{url}\n",
            p.username
        );
        self.mailer
            .send(&email, "Confirm your email address", body)
            .await?;
        Ok(())
    }

    /// Follows a verification link: the address is verified if it is still the user's.
    pub async fn confirm_email(&self, token: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let key = format!("verify:{}", hex::encode(TokenDigest::of(token.trim()).as_bytes()));
        let value = self
            .store
            .take(&key, now)
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?
            .ok_or_else(|| ServiceError::Gone("this link was used, has expired or does not exist".into()))?;
        let text = String::from_utf8(value).map_err(|_| ServiceError::NotFound)?;
        let (id, email) = text.split_once('\n').ok_or(ServiceError::NotFound)?;
        let user_id: i64 = id.parse().map_err(|_| ServiceError::NotFound)?;
        let email = email.to_owned();
        self.db
            .write_tx(move |c| {
                let user = User::find(c, user_id)?.ok_or(ServiceError::NotFound)?;
                if user.email.as_deref() != Some(email.as_str()) {
                    return Err(ServiceError::Gone(
                        "the address changed since this link was sent".into(),
                    ));
                }
                let changes = UserChanges {
                    email_verified: Some(true),
                    updated_at: Some(now.as_secs()),
                    ..UserChanges::default()
                };
                User::update(c, user_id, &changes)?;
                audit::record(
                    c,
                    now,
                    "user.email_verified",
                    Some(user_id),
                    Some("mail-link"),
                    None,
                )?;
                Ok(())
            })
            .await
    }
}
