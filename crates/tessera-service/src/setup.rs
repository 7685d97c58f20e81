//! First-admin setup: exactly one caller wins, decided by inserting the singleton `setup_state` row.

use tessera_core::Role;
use tessera_db::models::setup_state::SetupState;
use tessera_db::models::users::User;

use crate::users::{insert_checked, NewAccount};
use crate::{audit, ServiceError, Services};

impl Services {
    pub async fn needs_setup(&self) -> Result<bool, ServiceError> {
        if self.settings.setup.disabled {
            return Ok(false);
        }
        self.db.run(|conn| Ok(SetupState::get(conn)?.is_none())).await
    }

    /// Creates the first admin. Racing calls: the singleton insert lets exactly one commit; the others
    /// get `SetupClosed` and create nothing.
    pub async fn create_first_admin(
        &self,
        username: String,
        password: String,
        email: Option<String>,
    ) -> Result<User, ServiceError> {
        if self.settings.setup.disabled {
            return Err(ServiceError::SetupDisabled);
        }
        // Refuse early without spending a bcrypt hash when setup is visibly closed.
        if !self.needs_setup().await? {
            return Err(ServiceError::SetupClosed);
        }
        let checked = self
            .check_account(&NewAccount {
                username,
                password,
                email,
                role: Role::Admin,
            })
            .await?;
        let now = self.clock.now();
        self.db
            .write_tx(move |conn| {
                SetupState::claim(conn, now.as_secs()).map_err(|e| {
                    if e.is_unique_violation() {
                        ServiceError::SetupClosed
                    } else {
                        e.into()
                    }
                })?;
                let user = insert_checked(conn, &checked, now.as_secs())?;
                SetupState::set_admin(conn, user.id)?;
                audit::record(
                    conn,
                    now,
                    "setup.admin_created",
                    Some(user.id),
                    Some("setup"),
                    None,
                )?;
                Ok(user)
            })
            .await
    }
}
