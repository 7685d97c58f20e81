//! Rows every installation starts with: the default permission group "Member".
//! Idempotent and safe when replicas start together (a unique name decides).

use tessera_db::models::permission_groups::{GroupGrant, NewPermissionGroup, PermissionGroup};

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
