//! The user API's rules (API.md §7): who may create, edit, demote, disable or delete whom.

use tessera_core::account::{check_password, Username};
use tessera_core::Role;
use tessera_db::models::client_tokens::ClientToken;
use tessera_db::models::permission_groups::PermissionGroup;
use tessera_db::models::refresh::RefreshFamily;
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;
use tessera_db::models::sessions::Session;
use tessera_db::models::user_avatars::UserAvatar;
use tessera_db::models::users::{User, UserChanges};
use tessera_db::DbConnection;

use crate::cache::Eviction;
use crate::identity::Identity;
use crate::users::{check_email, insert_checked, NewAccount};
use crate::{audit, ServiceError, Services};

/// `PUT /api/users/me`.
#[derive(Clone, Default)]
pub struct MeUpdate {
    pub email: Option<String>,
    pub current_password: Option<String>,
    pub new_password: Option<String>,
    pub revoke_client_tokens: bool,
}

/// `PUT /api/users/{id}`: absent fields stay as they are.
#[derive(Clone, Default)]
pub struct UserUpdate {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub role: Option<String>,
    pub permission_group_id: Option<Option<i64>>,
    pub enabled: Option<bool>,
    pub email_verified: Option<bool>,
    /// RomM's RetroAchievements name ("" clears it).
    pub ra_username: Option<String>,
    /// RomM's web-app settings: a JSON object, or its text as RomM's form sends it.
    pub ui_settings: Option<serde_json::Value>,
    /// RomM's avatar upload: the file's bytes, checked by content.
    pub avatar: Option<Vec<u8>>,
}

/// The most `ui_settings` text kept per user.
pub const MAX_UI_SETTINGS_BYTES: usize = 16 * 1024;

/// RomM's `ui_settings`: a JSON object (given as one, or as its text), stored as compact text.
fn check_ui_settings(v: &serde_json::Value) -> Result<String, ServiceError> {
    crate::json_field::object_text("ui_settings", v, MAX_UI_SETTINGS_BYTES)
}

/// RomM's `ra_username`: at most 255 characters; an empty one clears it.
fn check_ra_username(v: &str) -> Result<Option<String>, ServiceError> {
    let v = v.trim();
    if v.len() > 255 || v.chars().any(char::is_control) {
        return Err(ServiceError::field(
            "ra_username",
            "at most 255 printable characters",
        ));
    }
    Ok((!v.is_empty()).then(|| v.to_owned()))
}

/// `POST /api/users`.
#[derive(Clone)]
pub struct UserCreate {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub role: Option<String>,
    pub permission_group_id: Option<i64>,
    pub enabled: Option<bool>,
}

fn forbidden(why: &str) -> ServiceError {
    ServiceError::Forbidden(why.to_owned())
}

fn parse_role(text: &str) -> Result<Role, ServiceError> {
    text.parse()
        .map_err(|e: tessera_core::role::UnknownRole| ServiceError::field("role", e.to_string()))
}

/// Kills every credential of a user except the given session: access tokens (generation), refresh
/// families (and their access tokens by `sid`), sessions, and client tokens when asked.
pub(crate) fn revoke_everything(
    c: &mut DbConnection,
    user_id: i64,
    keep_session: Option<&str>,
    client_tokens: bool,
    now: i64,
    sid_until: i64,
) -> Result<(), ServiceError> {
    User::bump_generation(c, user_id)?;
    for family in RefreshFamily::revoke_all_for_user(c, user_id, now)? {
        RevokedAccessToken::revoke(c, &format!("sid:{family}"), "sid", sid_until)?;
    }
    Session::delete_all_for_user(c, user_id, keep_session)?;
    if client_tokens {
        ClientToken::delete_all_for_user(c, user_id)?;
    }
    Ok(())
}

fn ensure_not_last_admin(c: &mut DbConnection, target: &User) -> Result<(), ServiceError> {
    if target.role == Role::Admin.as_str() && target.enabled && User::count_enabled_admins(c)? <= 1 {
        return Err(ServiceError::Conflict(
            "the last enabled admin cannot be demoted, disabled or deleted".into(),
        ));
    }
    Ok(())
}

impl Services {
    pub(crate) fn sid_until(&self) -> i64 {
        self.clock.now().as_secs() + self.settings.jwt.access_ttl_secs + self.settings.jwt.leeway_secs
    }

    pub async fn get_user(&self, id: i64) -> Result<User, ServiceError> {
        self.db
            .run(move |c| User::find(c, id)?.ok_or(ServiceError::NotFound))
            .await
    }

    /// Ends every session of a person and the OAuth tokens made from them, on every replica (an admin's
    /// "sign them out everywhere"; their client API tokens stay). Only an admin does it to an admin.
    pub async fn end_all_sessions_of(&self, actor: &Identity, user_id: i64) -> Result<(), ServiceError> {
        let target = self.get_user(user_id).await?;
        if target.role == Role::Admin.as_str() && !actor.is_admin() {
            return Err(forbidden("only an admin can sign an admin out"));
        }
        let (now, sid_until, who) = (self.clock.now(), self.sid_until(), actor.subject.to_string());
        self.revoking(
            self.db.write_tx(move |c| {
                revoke_everything(c, user_id, None, false, now.as_secs(), sid_until)?;
                audit::record(c, now, "user.sessions_ended", Some(user_id), Some(&who), None)?;
                Ok::<_, ServiceError>(())
            }),
            |_| vec![Eviction::User(user_id)],
        )
        .await
    }

    pub async fn update_me(&self, me: &Identity, req: MeUpdate) -> Result<User, ServiceError> {
        let p = me
            .principal
            .as_ref()
            .ok_or_else(|| forbidden("this credential has no user"))?;
        let user = self.get_user(p.user_id).await?;
        if req.email.is_none() && req.new_password.is_none() {
            return Ok(user);
        }
        let Some(current) = req.current_password.as_deref() else {
            return Err(ServiceError::field(
                "current_password",
                "required to change email or password",
            ));
        };
        // Wrong guesses spend the login budget: a stolen token must not walk through passwords here.
        self.check_current_password(&user, current, "me").await?;
        let email = match &req.email {
            Some(e) => Some(check_email(Some(e))?),
            None => None,
        };
        let hash = match &req.new_password {
            Some(pw) => {
                check_password(pw).map_err(|e| ServiceError::account_rule("new_password", &e))?;
                Some(self.hasher.hash(pw).await?)
            }
            None => None,
        };
        let now = self.clock.now();
        let keep = me.session_id.clone();
        let sid_until = self.sid_until();
        let id = user.id;
        let revoke_tokens = req.revoke_client_tokens;
        self.revoking(
            self.db.write_tx(move |c| {
                let changes = UserChanges {
                    email_verified: email.as_ref().map(|_| false),
                    email,
                    password_hash: hash.clone().map(Some),
                    updated_at: Some(now.as_secs()),
                    ..UserChanges::default()
                };
                let user = User::update(c, id, &changes)?.ok_or(ServiceError::NotFound)?;
                if hash.is_some() {
                    revoke_everything(c, id, keep.as_deref(), revoke_tokens, now.as_secs(), sid_until)?;
                    audit::record(c, now, "user.password_changed", Some(id), Some("self"), None)?;
                }
                User::find(c, user.id)?.ok_or(ServiceError::NotFound)
            }),
            |_| vec![Eviction::User(id)],
        )
        .await
    }

    /// Only an admin credential creates admins; group must exist; the new account's rights lie within the
    /// creating credential's effective scopes (an admin's narrow token cannot mint an admin).
    pub async fn create_user_api(&self, actor: &Identity, req: UserCreate) -> Result<User, ServiceError> {
        let role = match req.role.as_deref() {
            Some(r) => parse_role(r)?,
            None => Role::User,
        };
        if role == Role::Admin && !actor.is_admin() {
            return Err(forbidden("only an admin can create an admin"));
        }
        let checked = self
            .check_account(&NewAccount {
                username: req.username,
                password: req.password,
                email: req.email,
                role,
            })
            .await?;
        let now = self.clock.now();
        let actor_name = actor.subject.clone();
        let (group, enabled) = (req.permission_group_id, req.enabled.unwrap_or(true));
        let (catalog, ceiling) = (self.catalog.clone(), actor.scopes);
        self.db
            .write_tx(move |c| {
                if let Some(g) = group {
                    PermissionGroup::find(c, g)?
                        .ok_or_else(|| ServiceError::field("permission_group_id", "no such group"))?;
                }
                let user = insert_checked(c, &checked, now.as_secs())?;
                let changes = UserChanges {
                    permission_group_id: group.map(Some),
                    enabled: (!enabled).then_some(false),
                    ..UserChanges::default()
                };
                let user = if group.is_some() || !enabled {
                    User::update(c, user.id, &changes)?.unwrap_or(user)
                } else {
                    user
                };
                // The creator knows the password: the account's rights are minted by this call.
                ServiceError::unless_within(
                    &catalog,
                    crate::identity::user_rights(c, &catalog, &user)?,
                    ceiling,
                )?;
                audit::record(c, now, "user.created", Some(user.id), Some(&actor_name), None)?;
                Ok(user)
            })
            .await
    }

    /// Edits another user (or oneself) under API.md §7's rules.
    pub async fn update_user(
        &self,
        actor: &Identity,
        id: i64,
        mut req: UserUpdate,
    ) -> Result<User, ServiceError> {
        let target = self.get_user(id).await?;
        let self_edit = actor.principal.as_ref().is_some_and(|p| p.user_id == id);
        let new_role = req.role.as_deref().map(parse_role).transpose()?;
        if self_edit && new_role.is_some_and(|r| r.as_str() != target.role) {
            return Err(forbidden("no one can change their own role"));
        }
        if self_edit && req.enabled == Some(false) {
            return Err(forbidden("no one can disable themselves"));
        }
        let touches_admin = target.role == Role::Admin.as_str() || new_role == Some(Role::Admin);
        if touches_admin && !actor.is_admin() {
            return Err(forbidden(
                "only an admin can edit an admin or give the admin role",
            ));
        }
        let username = req
            .username
            .as_deref()
            .map(|u| Username::parse(u).map_err(|e| ServiceError::account_rule("username", &e)))
            .transpose()?;
        let email = req.email.as_deref().map(|e| check_email(Some(e))).transpose()?;
        let ra_username = req.ra_username.as_deref().map(check_ra_username).transpose()?;
        let ui_settings = req.ui_settings.as_ref().map(check_ui_settings).transpose()?;
        let avatar = req.avatar.take().map(crate::avatars::check).transpose()?;
        let hash = match &req.password {
            Some(pw) => {
                check_password(pw).map_err(|e| ServiceError::account_rule("password", &e))?;
                Some(self.hasher.hash(pw).await?)
            }
            None => None,
        };
        let now = self.clock.now();
        let sid_until = self.sid_until();
        let actor_name = actor.subject.clone();
        // A new password or address hands the whole account over; a role or group hands its rights over.
        let takeover = hash.is_some() || email.is_some();
        let (catalog, ceiling) = (self.catalog.clone(), actor.scopes);
        self.revoking(
            self.db.write_tx(move |c| {
                let before = crate::identity::user_rights(c, &catalog, &target)?;
                let demoted = new_role == Some(Role::User) && target.role == Role::Admin.as_str();
                if demoted || req.enabled == Some(false) {
                    ensure_not_last_admin(c, &target)?;
                }
                if let Some(Some(g)) = req.permission_group_id {
                    PermissionGroup::find(c, g)?
                        .ok_or_else(|| ServiceError::field("permission_group_id", "no such group"))?;
                }
                // A demoted admin without a group joins the default group, as a new user would.
                let group = match req.permission_group_id {
                    None if demoted && target.permission_group_id.is_none() => {
                        PermissionGroup::find_default(c)?.map(|g| Some(g.id))
                    }
                    other => other,
                };
                let changes = UserChanges {
                    username: username.map(Username::into_string),
                    password_hash: hash.clone().map(Some),
                    role: new_role.map(|r| r.as_str().to_owned()),
                    permission_group_id: group,
                    enabled: req.enabled,
                    // A new address is unverified unless the admin vouches for it in the same request.
                    email_verified: req.email_verified.or(email.as_ref().map(|_| false)),
                    email,
                    updated_at: Some(now.as_secs()),
                    avatar_path: avatar
                        .as_ref()
                        .map(|_| crate::avatars::avatar_path(id, now.as_secs())),
                    ra_username,
                    ui_settings: ui_settings.map(Some),
                };
                let user = User::update(c, id, &changes)
                    .map_err(|e| {
                        if e.is_unique_violation() {
                            ServiceError::Conflict("username is taken".into())
                        } else {
                            e.into()
                        }
                    })?
                    .ok_or(ServiceError::NotFound)?;
                if let Some(a) = avatar {
                    UserAvatar::replace(
                        c,
                        &UserAvatar {
                            user_id: id,
                            content_type: a.content_type.to_owned(),
                            image: a.image,
                            updated_at: now.as_secs(),
                        },
                    )?;
                }
                let after = crate::identity::user_rights(c, &catalog, &user)?;
                let handed = if takeover { after } else { after.minus(before) };
                // Refused inside the transaction, so the change rolls back.
                ServiceError::unless_within(&catalog, handed, ceiling)?;
                if hash.is_some() || req.enabled == Some(false) {
                    revoke_everything(c, id, None, false, now.as_secs(), sid_until)?;
                }
                audit::record(c, now, "user.updated", Some(id), Some(&actor_name), None)?;
                User::find(c, user.id)?.ok_or(ServiceError::NotFound)
            }),
            |_| vec![Eviction::User(id)],
        )
        .await
    }

    pub async fn delete_user(&self, actor: &Identity, id: i64) -> Result<(), ServiceError> {
        let target = self.get_user(id).await?;
        if actor.principal.as_ref().is_some_and(|p| p.user_id == id) {
            return Err(forbidden("no one can delete themselves"));
        }
        if target.role == Role::Admin.as_str() && !actor.is_admin() {
            return Err(forbidden("only an admin can delete an admin"));
        }
        let now = self.clock.now();
        let actor_name = actor.subject.clone();
        self.revoking(
            self.db.write_tx(move |c| {
                ensure_not_last_admin(c, &target)?;
                User::delete(c, id)?;
                audit::record(c, now, "user.deleted", Some(id), Some(&actor_name), None)?;
                Ok(())
            }),
            |_| vec![Eviction::User(id)],
        )
        .await
    }
}
