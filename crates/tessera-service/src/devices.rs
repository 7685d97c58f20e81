//! Device records: one per (user, client_device_identifier); deleting one revokes every token bound to it.

use tessera_db::models::client_tokens::ClientToken;
use tessera_db::models::devices::Device;
use tessera_db::models::refresh::RefreshFamily;
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;
use tessera_db::DbConnection;

use crate::cache::Eviction;
use crate::{audit, ServiceError, Services};

/// `last_seen` is written at most this often per device.
pub const LAST_SEEN_WRITE_SECS: i64 = 300;

/// Revokes every credential bound to a device: its client tokens, its refresh families and (by `sid`)
/// their access tokens.
pub(crate) fn revoke_device_tokens(
    c: &mut DbConnection,
    device_id: &str,
    now: i64,
    sid_until: i64,
) -> Result<(), ServiceError> {
    ClientToken::delete_for_device(c, device_id)?;
    for family in RefreshFamily::revoke_for_device(c, device_id, now)? {
        RevokedAccessToken::revoke(c, &format!("sid:{family}"), "sid", sid_until)?;
    }
    Ok(())
}

impl Services {
    pub async fn list_devices(&self, user_id: i64) -> Result<Vec<Device>, ServiceError> {
        self.db
            .run(move |c| Ok::<_, ServiceError>(Device::for_user(c, user_id)?))
            .await
    }

    /// One of the user's devices; another user's is a 404.
    pub async fn get_device(&self, user_id: i64, id: &str) -> Result<Device, ServiceError> {
        let id = id.to_owned();
        self.db
            .run(move |c| {
                Device::find(c, &id)?
                    .filter(|d| d.user_id == user_id)
                    .ok_or(ServiceError::NotFound)
            })
            .await
    }

    pub async fn rename_device(&self, user_id: i64, id: &str, name: &str) -> Result<Device, ServiceError> {
        let name = name.trim().to_owned();
        if name.is_empty() || name.len() > 255 {
            return Err(ServiceError::field("name", "must be 1-255 characters"));
        }
        let id = id.to_owned();
        self.db
            .write_tx(move |c| {
                Device::find(c, &id)?
                    .filter(|d| d.user_id == user_id)
                    .ok_or(ServiceError::NotFound)?;
                Device::rename(c, &id, &name)?;
                Device::find(c, &id)?.ok_or(ServiceError::NotFound)
            })
            .await
    }

    pub async fn delete_device(&self, user_id: i64, id: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let sid_until = now.as_secs() + self.settings.jwt.access_ttl_secs + self.settings.jwt.leeway_secs;
        let id = id.to_owned();
        let id_evict = id.clone();
        self.revoking(
            self.db.write_tx(move |c| {
                let d = Device::find(c, &id)?
                    .filter(|d| d.user_id == user_id)
                    .ok_or(ServiceError::NotFound)?;
                revoke_device_tokens(c, &id, now.as_secs(), sid_until)?;
                Device::delete(c, &id)?;
                audit::record(c, now, "device.deleted", Some(user_id), None, Some(&d.name))?;
                Ok(())
            }),
            |_| vec![Eviction::Device(id_evict)],
        )
        .await
    }

    /// Notes that a device-bound credential was used; debounced in memory, written off the request path.
    pub fn device_seen(&self, device_id: &str) {
        let now = self.clock.now().as_secs();
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen
                .get(device_id)
                .is_some_and(|t| now - t < LAST_SEEN_WRITE_SECS)
            {
                return;
            }
            if seen.len() > 100_000 {
                seen.clear();
            }
            seen.insert(device_id.to_owned(), now);
        }
        let db = self.db.clone();
        let id = device_id.to_owned();
        self.background.spawn(async move {
            if let Err(e) = db
                .run(move |c| Device::touch_seen(c, &id, now, now - LAST_SEEN_WRITE_SECS))
                .await
            {
                tracing::warn!(error = %e, "device last_seen not recorded");
            }
        });
    }
}
