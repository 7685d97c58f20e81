//! Device records: one per (user, client_device_identifier), from the device flow or RomM's `POST /api/devices`;
//! deleting one revokes every token bound to it.

use tessera_core::ids::DeviceId;
use tessera_db::models::client_tokens::ClientToken;
use tessera_db::models::devices::{Device, DeviceChanges};
use tessera_db::models::refresh::RefreshFamily;
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;
use tessera_db::DbConnection;

use crate::cache::Eviction;
use crate::{audit, ServiceError, Services};

/// `last_seen` is written at most this often per device.
pub const LAST_SEEN_WRITE_SECS: i64 = 300;

/// The most devices one account keeps: registration is open to any `devices.write` credential.
pub const MAX_DEVICES_PER_USER: i64 = 100;

/// The most `sync_config` text kept per device.
pub const MAX_SYNC_CONFIG_BYTES: usize = 16 * 1024;

/// RomM's sync modes.
pub const SYNC_MODES: &[&str] = &["api", "file_transfer", "push_pull"];

/// RomM's `POST /api/devices`.
#[derive(Clone, Debug, Default)]
pub struct DeviceRegistration {
    pub name: Option<String>,
    pub platform: Option<String>,
    pub client: Option<String>,
    pub client_version: Option<String>,
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    pub hostname: Option<String>,
    pub sync_mode: Option<String>,
    pub sync_config: Option<serde_json::Value>,
    pub allow_existing: bool,
    pub allow_duplicate: bool,
}

/// RomM's `PUT /api/devices/{id}`: `None` leaves a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct DeviceEdit {
    pub name: Option<Option<String>>,
    pub platform: Option<Option<String>>,
    pub client: Option<Option<String>>,
    pub client_version: Option<Option<String>>,
    pub ip_address: Option<Option<String>>,
    pub mac_address: Option<Option<String>>,
    pub hostname: Option<Option<String>>,
    pub sync_enabled: Option<bool>,
    pub sync_mode: Option<String>,
    pub sync_config: Option<Option<serde_json::Value>>,
}

/// Whether `POST /api/devices` made a new record or found the caller's existing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    Created,
    Existing,
}

/// A text field of RomM's device schema: trimmed, at most `max` bytes (RomM's column widths), no control
/// characters; empty means absent.
fn device_text(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>, ServiceError> {
    let Some(v) = v.map(str::trim) else {
        return Ok(None);
    };
    if v.len() > max || v.chars().any(char::is_control) {
        return Err(ServiceError::field(
            field,
            format!("at most {max} printable characters"),
        ));
    }
    Ok((!v.is_empty()).then(|| v.to_owned()))
}

fn sync_mode(v: &str) -> Result<String, ServiceError> {
    SYNC_MODES
        .iter()
        .find(|m| **m == v)
        .map(|m| (*m).to_owned())
        .ok_or_else(|| ServiceError::field("sync_mode", "one of api, file_transfer, push_pull"))
}

fn sync_config(v: &serde_json::Value) -> Result<String, ServiceError> {
    crate::json_field::object_text("sync_config", v, MAX_SYNC_CONFIG_BYTES)
}

/// The checked columns of a registration or edit, shared so both apply RomM's widths the same way.
fn checked_changes(e: &DeviceEdit) -> Result<DeviceChanges, ServiceError> {
    let text = |field: &str, v: &Option<Option<String>>, max: usize| {
        v.as_ref()
            .map(|v| device_text(field, v.as_deref(), max))
            .transpose()
    };
    Ok(DeviceChanges {
        // Device-flow columns are NOT NULL: RomM's null name or client is kept as "" and shown as null.
        name: text("name", &e.name, 255)?.map(Option::unwrap_or_default),
        client: text("client", &e.client, 50)?.map(Option::unwrap_or_default),
        platform: text("platform", &e.platform, 50)?,
        client_version: text("client_version", &e.client_version, 50)?,
        ip_address: text("ip_address", &e.ip_address, 45)?,
        mac_address: text("mac_address", &e.mac_address, 17)?,
        hostname: text("hostname", &e.hostname, 255)?,
        sync_mode: e.sync_mode.as_deref().map(sync_mode).transpose()?,
        sync_enabled: e.sync_enabled,
        sync_config: e
            .sync_config
            .as_ref()
            .map(|v| v.as_ref().map(sync_config).transpose())
            .transpose()?,
        last_seen: None,
        updated_at: None,
    })
}

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

    /// RomM's `POST /api/devices`: a new record, or (unless `allow_duplicate`) the caller's device with the same
    /// fingerprint, which `allow_existing: false` turns into `DeviceExists`.
    pub async fn register_device(
        &self,
        user_id: i64,
        r: DeviceRegistration,
    ) -> Result<(Device, Registered), ServiceError> {
        let edit = DeviceEdit {
            name: Some(r.name),
            platform: Some(r.platform),
            client: Some(r.client),
            client_version: Some(r.client_version),
            ip_address: Some(r.ip_address),
            mac_address: Some(r.mac_address),
            hostname: Some(r.hostname),
            sync_enabled: None,
            sync_mode: r.sync_mode,
            sync_config: Some(r.sync_config),
        };
        let c = checked_changes(&edit)?;
        let allow_existing = r.allow_existing && !r.allow_duplicate;
        let now = self.clock.now().as_secs();
        self.db
            .write_tx(move |conn| {
                if !r.allow_duplicate {
                    let found = Device::find_by_fingerprint(
                        conn,
                        user_id,
                        c.mac_address.as_ref().and_then(Option::as_deref),
                        c.hostname.as_ref().and_then(Option::as_deref),
                        c.platform.as_ref().and_then(Option::as_deref),
                    )?;
                    if let Some(d) = found {
                        if !allow_existing {
                            return Err(ServiceError::DeviceExists { device_id: d.id });
                        }
                        let seen = DeviceChanges {
                            last_seen: Some(Some(now)),
                            ..DeviceChanges::default()
                        };
                        Device::apply(conn, &d.id, &seen)?;
                        let d = Device::find(conn, &d.id)?.ok_or(ServiceError::NotFound)?;
                        return Ok((d, Registered::Existing));
                    }
                }
                if Device::count_for_user(conn, user_id)? >= MAX_DEVICES_PER_USER {
                    return Err(ServiceError::Conflict(format!(
                        "at most {MAX_DEVICES_PER_USER} devices per user; delete one first"
                    )));
                }
                let id = DeviceId::generate().to_string();
                let d = Device {
                    id: id.clone(),
                    user_id,
                    client_device_identifier: id,
                    name: c.name.unwrap_or_default(),
                    client: c.client.unwrap_or_default(),
                    platform: c.platform.flatten(),
                    client_version: c.client_version.flatten(),
                    created_at: now,
                    last_seen: Some(now),
                    ip_address: c.ip_address.flatten(),
                    mac_address: c.mac_address.flatten(),
                    hostname: c.hostname.flatten(),
                    sync_mode: c.sync_mode.unwrap_or_else(|| "api".to_owned()),
                    sync_enabled: true,
                    sync_config: c.sync_config.flatten(),
                    updated_at: now,
                };
                Device::insert(conn, &d)?;
                audit::record(
                    conn,
                    tessera_core::UnixTime(now),
                    "device.registered",
                    Some(user_id),
                    None,
                    Some(&d.id),
                )?;
                Ok((d, Registered::Created))
            })
            .await
    }

    /// RomM's partial `PUT /api/devices/{id}` on one of the caller's devices.
    pub async fn edit_device(
        &self,
        user_id: i64,
        id: &str,
        edit: DeviceEdit,
    ) -> Result<Device, ServiceError> {
        let mut changes = checked_changes(&edit)?;
        if edit
            .name
            .as_ref()
            .is_some_and(|n| n.as_deref().is_some_and(|n| n.trim().is_empty()))
        {
            return Err(ServiceError::field(
                "name",
                "must not be blank; send null to clear it",
            ));
        }
        changes.updated_at = Some(self.clock.now().as_secs());
        let id = id.to_owned();
        self.db
            .write_tx(move |c| {
                Device::find(c, &id)?
                    .filter(|d| d.user_id == user_id)
                    .ok_or(ServiceError::NotFound)?;
                Device::apply(c, &id, &changes)?;
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
            let seen = &mut seen.devices;
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
