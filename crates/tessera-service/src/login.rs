//! Checking a username and password, the same way on every path (password grant, Basic, session login).

use tessera_core::account::Username;
use tessera_db::models::users::User;

use crate::{audit, ServiceError, Services};

#[derive(Debug, thiserror::Error)]
pub enum LoginFailure {
    /// Wrong password, unknown user or disabled user: one answer, one cost.
    #[error("invalid username or password")]
    BadCredentials,
    #[error("password login is disabled")]
    PasswordLoginDisabled,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl Services {
    /// Verifies a password login. Unknown users are checked against a dummy hash, so every failure costs
    /// one bcrypt and reads the same; failures are audited.
    pub async fn verify_login(
        &self,
        username: &str,
        password: &str,
        via: &str,
    ) -> Result<User, LoginFailure> {
        if !self.settings.auth.password_login {
            return Err(LoginFailure::PasswordLoginDisabled);
        }
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
    ) -> Result<crate::identity::Identity, LoginFailure> {
        let user = self.verify_login(username, password, "basic").await?;
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
        Ok(crate::identity::Identity::of_user(
            crate::identity::CredentialKind::Basic,
            &user,
            rights,
        ))
    }
}
