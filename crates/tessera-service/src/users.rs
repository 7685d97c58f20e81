//! Creating and managing local users (the CLI now; the admin API in the accounts issue).

use tessera_core::account::{check_password, Username};
use tessera_core::Role;
use tessera_db::dialect;
use tessera_db::models::permission_groups::PermissionGroup;
use tessera_db::models::users::{NewUser, User};
use tessera_db::DbConnection;

use crate::cache::Eviction;
use crate::{audit, ServiceError, Services};

/// What a new user is made of, before validation.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub role: Role,
}

/// Checked input: a normalised username and a bcrypt hash.
pub(crate) struct CheckedAccount {
    pub username: Username,
    pub password_hash: String,
    pub email: Option<String>,
    pub role: Role,
}

pub(crate) fn check_email(email: Option<&str>) -> Result<Option<String>, ServiceError> {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e)
            if e.len() <= 255
                && e.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.')) =>
        {
            Ok(Some(e.to_owned()))
        }
        Some(_) => Err(ServiceError::field("email", "must be an email address")),
    }
}

impl Services {
    /// Validates every field (all errors at once) and hashes the password on the bounded pool.
    pub(crate) async fn check_account(&self, new: &NewAccount) -> Result<CheckedAccount, ServiceError> {
        let mut errors = Vec::new();
        let username = Username::parse(&new.username).map_err(|e| errors.push(("username", e.to_string())));
        let _ = check_password(&new.password).map_err(|e| errors.push(("password", e.to_string())));
        let email = check_email(new.email.as_deref())
            .map_err(|_| errors.push(("email", "must be an email address".into())));
        match (username, email) {
            (Ok(username), Ok(email)) if errors.is_empty() => Ok(CheckedAccount {
                username,
                password_hash: self.hasher.hash(&new.password).await?,
                email,
                role: new.role,
            }),
            _ => Err(ServiceError::Validation(
                errors
                    .into_iter()
                    .map(|(field, message)| tessera_proto::problem::FieldError {
                        field: field.to_owned(),
                        message,
                    })
                    .collect(),
            )),
        }
    }

    /// Creates a user (CLI `users create`). An admin made this way also closes first-admin setup.
    pub async fn create_user(&self, new: NewAccount) -> Result<User, ServiceError> {
        let checked = self.check_account(&new).await?;
        let now = self.clock.now();
        self.db
            .write_tx(move |conn| {
                let user = insert_checked(conn, &checked, now.as_secs())?;
                if user.role == Role::Admin.as_str() {
                    dialect::insert_setup_row_if_absent(conn, Some(user.id), now.as_secs())?;
                }
                audit::record(conn, now, "user.created", Some(user.id), Some("cli"), None)?;
                Ok(user)
            })
            .await
    }

    pub async fn list_users(&self) -> Result<Vec<User>, ServiceError> {
        self.db.run(|conn| Ok(User::list(conn)?)).await
    }

    pub async fn find_user_by_name(&self, username: &str) -> Result<User, ServiceError> {
        let name = Username::parse(username).map_err(|_| ServiceError::NotFound)?;
        self.db
            .run(move |conn| User::find_by_username(conn, name.as_str())?.ok_or(ServiceError::NotFound))
            .await
    }

    /// Sets a new password (operator CLI); every earlier session and token of the user except client
    /// tokens stops working.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<(), ServiceError> {
        check_password(password).map_err(|e| ServiceError::account_rule("password", &e))?;
        let user = self.find_user_by_name(username).await?;
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let sid_until = self.sid_until();
        let user_id = user.id;
        self.revoking(
            self.db.write_tx(move |conn| {
                let changes = tessera_db::models::users::UserChanges {
                    password_hash: Some(Some(hash)),
                    updated_at: Some(now.as_secs()),
                    ..Default::default()
                };
                User::update(conn, user.id, &changes)?;
                // The same revocations as a password change through the API: sessions, refresh families
                // and (by sid) their access tokens; client tokens survive.
                crate::accounts::revoke_everything(conn, user.id, None, false, now.as_secs(), sid_until)?;
                audit::record(conn, now, "user.password_set", Some(user.id), Some("cli"), None)?;
                Ok(())
            }),
            |_| vec![Eviction::User(user_id)],
        )
        .await
    }

    pub async fn set_user_enabled(&self, username: &str, enabled: bool) -> Result<(), ServiceError> {
        let user = self.find_user_by_name(username).await?;
        let now = self.clock.now();
        let user_id = user.id;
        self.revoking(
            self.db.write_tx(move |conn| {
                if !enabled
                    && user.role == Role::Admin.as_str()
                    && user.enabled
                    && User::count_enabled_admins(conn)? <= 1
                {
                    return Err(ServiceError::Conflict(
                        "the last enabled admin cannot be disabled".into(),
                    ));
                }
                User::set_enabled(conn, user.id, enabled, now.as_secs())?;
                let kind = if enabled { "user.enabled" } else { "user.disabled" };
                audit::record(conn, now, kind, Some(user.id), Some("cli"), None)?;
                Ok(())
            }),
            |_| vec![Eviction::User(user_id)],
        )
        .await
    }
}

/// Inserts a checked account; a taken username is a conflict, not a fault.
pub(crate) fn insert_checked(
    conn: &mut DbConnection,
    a: &CheckedAccount,
    now: i64,
) -> Result<User, ServiceError> {
    let group = match a.role {
        Role::Admin => None,
        Role::User => PermissionGroup::find_default(conn)?.map(|g| g.id),
    };
    User::insert(
        conn,
        &NewUser {
            username: a.username.as_str(),
            email: a.email.as_deref(),
            password_hash: Some(&a.password_hash),
            role: a.role.as_str(),
            permission_group_id: group,
            enabled: true,
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(|e| {
        if e.is_unique_violation() {
            ServiceError::Conflict(format!("username {:?} is taken", a.username.as_str()))
        } else {
            e.into()
        }
    })
}
