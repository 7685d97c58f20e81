//! Checking a username and password, the same way on every path (password grant, Basic, session login).

use tessera_core::account::Username;
use tessera_db::models::users::User;

use crate::ratelimit::LimitedAction;
use crate::{audit, ServiceError, Services};

#[derive(Debug, thiserror::Error)]
pub enum LoginFailure {
    /// Wrong password, unknown user or disabled user: one answer, one cost.
    #[error("invalid username or password")]
    BadCredentials,
    #[error("password login is disabled")]
    PasswordLoginDisabled,
    /// The password was right; the user has a second factor and none was given.
    #[error("a second factor is required: send the authenticator's code (or a recovery code)")]
    SecondFactorRequired,
    /// The password was right; the code was wrong, used already, or not an unused recovery code.
    #[error("invalid username, password or code")]
    BadSecondFactor,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// What a sign-in path brings for the second factor.
#[derive(Clone, Copy, Debug)]
pub enum SecondFactor<'a> {
    /// The code the client sent, if any: required when the user has a factor.
    Code(Option<&'a str>),
    /// HTTP Basic with `security.basic_with_second_factor = "allow"`: the password alone.
    Waived,
    /// A page that asks for the code in a second step (`Services::park_sign_in`); it must not start a
    /// session for a user with a factor before `finish_sign_in`.
    Later,
}

impl Services {
    /// Verifies a password login, on every path under one budget: an attempt is charged against
    /// `login_ip` (per client IP) and `login_user` (per IP and username) *before* the password is checked
    /// and refunded when it succeeds, so parallel guesses cannot overrun the budget. Unknown users are
    /// checked against a dummy hash, so every failure costs one bcrypt and reads the same; failures are
    /// audited.
    pub async fn verify_login(
        &self,
        username: &str,
        password: &str,
        second_factor: SecondFactor<'_>,
        via: &str,
        client_ip: &str,
    ) -> Result<User, LoginFailure> {
        if !self.settings.auth.password_login {
            return Err(LoginFailure::PasswordLoginDisabled);
        }
        let now = self.clock.now();
        let user_key = format!("{client_ip}|{}", username.to_ascii_lowercase());
        if let Err(e) = self.limits.charge(LimitedAction::LoginIp, client_ip, now).await {
            let _ = self.audit_lockout(LimitedAction::LoginIp, client_ip, via).await;
            return Err(e.into());
        }
        if let Err(e) = self.limits.charge(LimitedAction::LoginUser, &user_key, now).await {
            self.limits.refund(LimitedAction::LoginIp, client_ip, now).await;
            if self.audit_lockout(LimitedAction::LoginUser, &user_key, via).await {
                self.drop_cached_credentials_of(username).await;
            }
            return Err(e.into());
        }
        let mut result = self.check_password_login(username, password, via).await;
        // The second factor, asked on every path once the password is right (issue 21).
        if let (Ok(user), SecondFactor::Code(code)) = (&result, second_factor) {
            if let Err(e) = self.check_second_factor(user, code).await {
                result = Err(e);
            }
        }
        // A user who must have a factor and has none enrols on the sign-in page first; every other path
        // is refused until then (`security.require_second_factor`).
        if let (Ok(user), SecondFactor::Code(_) | SecondFactor::Waived) = (&result, second_factor) {
            match self.enrolment_missing(user).await {
                Ok(false) => {}
                Ok(true) => result = Err(LoginFailure::SecondFactorRequired),
                Err(e) => result = Err(e.into()),
            }
        }
        // Only a wrong guess spends the budget (a wrong code is one): a success, a missing code or a fault
        // of ours (database down) is refunded.
        if !matches!(
            result,
            Err(LoginFailure::BadCredentials | LoginFailure::BadSecondFactor)
        ) {
            self.limits.refund(LimitedAction::LoginIp, client_ip, now).await;
            self.limits.refund(LimitedAction::LoginUser, &user_key, now).await;
        }
        result
    }

    /// A lockout is a security event; it is audited once per budget period and subject, so a flood of
    /// refused guesses cannot flood the audit table. The subject (IP, username) goes to the row's detail.
    /// True for the first refusal of the period.
    async fn audit_lockout(&self, action: LimitedAction, subject: &str, via: &str) -> bool {
        let now = self.clock.now();
        let period = self.limits.budget(action).period_secs;
        let marker = format!("lockout:{}:{subject}", action.key());
        let first = self
            .store
            .set_if_absent(
                &marker,
                b"1",
                now.plus(std::time::Duration::from_secs(period)),
                now,
            )
            .await
            .unwrap_or(true);
        if !first {
            return false;
        }
        let detail = format!("{} {subject} via {via}", action.key());
        let result = self
            .db
            .run(move |c| audit::record(c, now, "login.locked", None, None, Some(&detail)))
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "the lockout could not be audited");
        }
        true
    }

    /// A locked-out account keeps no cached Basic credential, here or on any replica: every credential of
    /// the user is re-checked on its next use (tokens come back from the database, Basic pays its bcrypt,
    /// and from the locked-out address is refused by the budget). Once per lockout period: entries are
    /// keyed by client address, so the locked-out address cannot make a new one, and a flood of refused
    /// guesses never reaches the database.
    async fn drop_cached_credentials_of(&self, username: &str) {
        let Ok(name) = Username::parse(username) else {
            return;
        };
        let found = self
            .db
            .run(move |c| Ok::<_, ServiceError>(User::find_by_username(c, name.as_str())?))
            .await;
        if let Ok(Some(u)) = found {
            if let Err(e) = self.evict(&[crate::cache::Eviction::User(u.id)]).await {
                tracing::warn!(error = %e, "cached credentials of a locked-out user not dropped everywhere");
            }
        }
    }

    async fn check_password_login(
        &self,
        username: &str,
        password: &str,
        via: &str,
    ) -> Result<User, LoginFailure> {
        let user = match Username::parse(username) {
            Ok(name) => {
                self.db
                    .run(move |c| Ok::<_, ServiceError>(User::find_by_username(c, name.as_str())?))
                    .await?
            }
            Err(_) => None,
        };
        let ok = self
            .hasher
            .verify(password, user.as_ref().and_then(|u| u.password_hash.as_deref()))
            .await
            .map_err(ServiceError::from)?;
        match user {
            Some(u) if ok && u.enabled => Ok(u),
            other => {
                let uid = other.map(|u| u.id);
                let now = self.clock.now();
                let via = via.to_owned();
                self.db
                    .run(move |c| audit::record(c, now, "login.failed", uid, None, Some(&via)))
                    .await
                    .map_err(ServiceError::from)?;
                Err(LoginFailure::BadCredentials)
            }
        }
    }
}

impl Services {
    /// `Authorization: Basic` on an API request: a full-rights credential of its user.
    pub async fn resolve_basic(
        &self,
        username: &str,
        password: &str,
        client_ip: &str,
    ) -> Result<crate::identity::Identity, LoginFailure> {
        self.verify_basic(username, password, client_ip)
            .await
            .map(|(id, _)| id)
    }

    /// A verified Basic credential and its user's generation (a password change moves it).
    pub(crate) async fn verify_basic(
        &self,
        username: &str,
        password: &str,
        client_ip: &str,
    ) -> Result<(crate::identity::Identity, i64), LoginFailure> {
        // Basic cannot carry a code: refused for a user with a second factor unless the operator allows it.
        let factor = if self.settings.security.basic_with_second_factor_allowed {
            SecondFactor::Waived
        } else {
            SecondFactor::Code(None)
        };
        let user = self
            .verify_login(username, password, factor, "basic", client_ip)
            .await?;
        let catalog = self.catalog.clone();
        let u = user.clone();
        let now = self.clock.now().as_secs();
        let rights = self
            .db
            .run(move |c| {
                crate::identity::touch_active_throttled(c, &u, now)?;
                Ok::<_, ServiceError>(crate::identity::user_rights(c, &catalog, &u)?)
            })
            .await?;
        let id = crate::identity::Identity::of_user(crate::identity::CredentialKind::Basic, &user, rights);
        Ok((id, user.generation))
    }
}
