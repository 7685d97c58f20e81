//! Invite links and registration (API.md §7): an invite is a one-use link for one role; registering
//! consumes it atomically, and only after the new account passed validation.

use tessera_core::token_format::TokenDigest;
use tessera_core::Role;
use tessera_db::models::invites::Invite;

use crate::identity::Identity;
use crate::ratelimit::LimitedAction;
use crate::users::{insert_checked, NewAccount};
use crate::{audit, ServiceError, Services};

pub const DEFAULT_INVITE_SECS: i64 = 7 * 24 * 3600;
pub const MAX_INVITE_SECS: i64 = 30 * 24 * 3600;

#[derive(Clone, Debug)]
pub struct CreatedInvite {
    /// Shown once; only its digest is stored.
    pub token: String,
    pub url: String,
    pub expires_at: i64,
}

/// What a person registering sends.
#[derive(Clone, Debug)]
pub struct Registration {
    pub token: String,
    pub username: String,
    pub email: Option<String>,
    pub password: String,
}

const INVITE_GONE: &str = "this invite link was used, has expired or does not exist";

impl Services {
    /// Creates an invite for `role` (an admin invite needs an admin); the caller checked `users.write`.
    pub async fn create_invite(
        &self,
        inviter: &Identity,
        role: Option<&str>,
        expires_in: Option<i64>,
    ) -> Result<CreatedInvite, ServiceError> {
        let role = match role {
            None => Role::User,
            Some(r) => r.parse::<Role>().ok().ok_or_else(|| {
                ServiceError::field("role", "one of user, admin (viewer and editor mean user)")
            })?,
        };
        let inviter_role = inviter.principal.as_ref().map(|p| p.role);
        if role == Role::Admin && inviter_role != Some(Role::Admin) {
            return Err(ServiceError::Forbidden(
                "only an admin can invite an admin".into(),
            ));
        }
        // An admin invite mints an account with every scope: the inviting credential must hold them all
        // (an admin's narrow token is not the admin).
        if role == Role::Admin {
            ServiceError::unless_within(&self.catalog, self.catalog.all(), inviter.scopes)?;
        } else {
            // A user invite mints an account with the default group's rights: the inviter must hold them
            // (a manager whose group is narrower than the default one cannot hand out more than they have).
            let catalog = self.catalog.clone();
            let given = self
                .db
                .run(move |c| Ok::<_, ServiceError>(crate::identity::new_user_rights(c, &catalog)?))
                .await?;
            ServiceError::unless_within(&self.catalog, given, inviter.scopes)?;
        }
        let secs = expires_in.unwrap_or(DEFAULT_INVITE_SECS);
        if !(60..=MAX_INVITE_SECS).contains(&secs) {
            return Err(ServiceError::field(
                "expires_in",
                format!("seconds between 60 and {MAX_INVITE_SECS} (30 days)"),
            ));
        }
        let subject = inviter.subject.clone();
        let now = self.clock.now();
        self.limits.charge(LimitedAction::Invite, &subject, now).await?;
        let token = tessera_crypto::random::hex_secret(32);
        let row = Invite {
            digest: TokenDigest::of(&token).as_bytes().to_vec(),
            role: role.as_str().to_owned(),
            created_by: inviter.principal.as_ref().map(|p| p.user_id),
            created_at: now.as_secs(),
            expires_at: now.as_secs() + secs,
            used_at: None,
            used_by: None,
        };
        let expires_at = row.expires_at;
        let by = row.created_by;
        self.db
            .write_tx(move |c| {
                Invite::insert(c, &row)?;
                audit::record(c, now, "invite.created", by, Some(&subject), Some(role.as_str()))?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        Ok(CreatedInvite {
            url: format!("{}/register?token={token}", self.settings.server.public_url),
            token,
            expires_at,
        })
    }

    /// Registers with an invite. Every attempt is charged to the client IP's `register` budget; a bad
    /// invite answers the same whatever the username, and a taken username leaves the invite unused.
    pub async fn register(
        &self,
        reg: Registration,
        client_ip: &str,
    ) -> Result<tessera_db::models::users::User, ServiceError> {
        let now = self.clock.now();
        self.limits
            .charge(LimitedAction::Register, client_ip, now)
            .await?;
        let digest = TokenDigest::of(reg.token.trim()).as_bytes().to_vec();
        // The invite decides the role; look it up before hashing so a dead link costs no bcrypt.
        let lookup = digest.clone();
        let invite = self
            .db
            .run(move |c| Ok::<_, ServiceError>(Invite::find(c, &lookup)?))
            .await?
            .filter(|i| i.used_at.is_none() && i.expires_at > now.as_secs())
            .ok_or_else(|| ServiceError::Gone(INVITE_GONE.into()))?;
        let role = invite.role.parse::<Role>().unwrap_or(Role::User);
        let checked = self
            .check_account(&NewAccount {
                username: reg.username,
                password: reg.password,
                email: reg.email,
                role,
            })
            .await?;
        self.db
            .write_tx(move |c| {
                let user = insert_checked(c, &checked, now.as_secs())?;
                // Consumed in the same transaction as the insert: a taken username rolls both back,
                // and of two racing registrations only one update matches the unused row.
                if !Invite::consume(c, &digest, now.as_secs(), user.id)? {
                    return Err(ServiceError::Gone(INVITE_GONE.into()));
                }
                audit::record(
                    c,
                    now,
                    "user.registered",
                    Some(user.id),
                    Some("invite"),
                    Some(role.as_str()),
                )?;
                Ok(user)
            })
            .await
    }
}
