//! Rows every installation starts with: the default permission group "Member".
//! Idempotent and safe when replicas start together (a unique name decides).

use tessera_db::models::oauth_clients::{NewOAuthClient, OAuthClient};
use tessera_db::models::permission_groups::{GroupGrant, NewPermissionGroup, PermissionGroup};

use crate::oauth::{CLI_CLIENT_ID, GRANT_DEVICE_CODE, GRANT_PASSWORD, GRANT_REFRESH};

use crate::{ServiceError, Services};

/// RomM's former "viewer": read on most entities, write on assets, devices and collections.
const MEMBER_GRANTS: &[(&str, &str)] = &[
    ("platforms", "read"),
    ("roms", "read"),
    ("collections", "read"),
    ("firmware", "read"),
    ("assets", "read"),
    ("devices", "read"),
    ("assets", "write"),
    ("devices", "write"),
    ("collections", "write"),
];

impl Services {
    pub async fn bootstrap(&self) -> Result<(), ServiceError> {
        self.seed_default_group().await?;
        self.seed_cli_client().await
    }

    /// The built-in public client `tessera-cli`, for password and device grants without a registered client.
    async fn seed_cli_client(&self) -> Result<(), ServiceError> {
        let now = self.clock.now().as_secs();
        let scopes = self.catalog.to_text(self.catalog.all());
        self.db
            .write_tx(move |conn| {
                if OAuthClient::find_by_client_id(conn, CLI_CLIENT_ID)?.is_some() {
                    return Ok(());
                }
                let grants = [GRANT_PASSWORD, GRANT_REFRESH, GRANT_DEVICE_CODE].join(" ");
                match OAuthClient::insert(
                    conn,
                    &NewOAuthClient {
                        client_id: CLI_CLIENT_ID,
                        name: "Tessera CLI and RomM clients",
                        confidential: false,
                        secret_digest: None,
                        grant_types: &grants,
                        scopes: &scopes,
                        can_introspect: false,
                        builtin: true,
                        created_at: now,
                        updated_at: now,
                        redirect_uris: "",
                        post_logout_redirect_uris: "",
                        backchannel_logout_uri: None,
                        skip_consent: false,
                        logo_uri: None,
                        refresh_without_offline_access: false,
                    },
                ) {
                    Ok(_) => Ok(()),
                    Err(e) if e.is_unique_violation() => Ok(()),
                    Err(e) => Err(e.into()),
                }
            })
            .await
    }

    async fn seed_default_group(&self) -> Result<(), ServiceError> {
        let now = self.clock.now().as_secs();
        self.db
            .write_tx(move |conn| {
                if PermissionGroup::find_default(conn)?.is_some() {
                    return Ok(());
                }
                let group = match PermissionGroup::insert(
                    conn,
                    &NewPermissionGroup {
                        name: "Member",
                        description: Some("Default group for new users"),
                        is_default: true,
                        created_at: now,
                        updated_at: now,
                    },
                ) {
                    Ok(g) => g,
                    // Another replica seeded it first.
                    Err(e) if e.is_unique_violation() => return Ok(()),
                    Err(e) => return Err(e.into()),
                };
                let grants: Vec<GroupGrant> = MEMBER_GRANTS
                    .iter()
                    .map(|(entity, action)| GroupGrant {
                        group_id: group.id,
                        entity: (*entity).to_owned(),
                        action: (*action).to_owned(),
                        own_only: false,
                    })
                    .collect();
                PermissionGroup::add_grants(conn, &grants)?;
                Ok::<_, ServiceError>(())
            })
            .await
    }
}
