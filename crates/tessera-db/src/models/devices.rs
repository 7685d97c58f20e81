use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::devices;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = devices, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Device {
    pub id: String,
    pub user_id: i64,
    pub client_device_identifier: String,
    pub name: String,
    pub client: String,
    pub platform: Option<String>,
    pub client_version: Option<String>,
    pub created_at: i64,
    pub last_seen: Option<i64>,
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    pub hostname: Option<String>,
    /// RomM's `sync_mode`: `api`, `file_transfer` or `push_pull`.
    pub sync_mode: String,
    pub sync_enabled: bool,
    /// A JSON object's text, kept for RomM's clients.
    pub sync_config: Option<String>,
    pub updated_at: i64,
}

/// A partial update: `None` leaves a column alone, `Some(None)` clears a nullable one.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = devices)]
pub struct DeviceChanges {
    pub name: Option<String>,
    pub client: Option<String>,
    pub platform: Option<Option<String>>,
    pub client_version: Option<Option<String>>,
    pub ip_address: Option<Option<String>>,
    pub mac_address: Option<Option<String>>,
    pub hostname: Option<Option<String>>,
    pub sync_mode: Option<String>,
    pub sync_enabled: Option<bool>,
    pub sync_config: Option<Option<String>>,
    pub last_seen: Option<Option<i64>>,
    pub updated_at: Option<i64>,
}

impl Device {
    pub fn insert(conn: &mut DbConnection, row: &Device) -> Result<(), DbError> {
        diesel::insert_into(devices::table).values(row).execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<Device>, DbError> {
        Ok(devices::table
            .filter(devices::id.eq(key))
            .first(conn)
            .optional()?)
    }
}

impl Device {
    pub fn find_by_identifier(
        conn: &mut DbConnection,
        user_id: i64,
        ident: &str,
    ) -> Result<Option<Device>, DbError> {
        Ok(devices::table
            .filter(devices::user_id.eq(user_id))
            .filter(devices::client_device_identifier.eq(ident))
            .first(conn)
            .optional()?)
    }

    pub fn for_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Device>, DbError> {
        Ok(devices::table
            .filter(devices::user_id.eq(user_id))
            .order(devices::created_at.desc())
            .load(conn)?)
    }

    pub fn rename(conn: &mut DbConnection, id: &str, name: &str, now: i64) -> Result<(), DbError> {
        diesel::update(devices::table.find(id))
            .set((devices::name.eq(name), devices::updated_at.eq(now)))
            .execute(conn)?;
        Ok(())
    }

    pub fn apply(conn: &mut DbConnection, id: &str, changes: &DeviceChanges) -> Result<(), DbError> {
        diesel::update(devices::table.find(id))
            .set(changes)
            .execute(conn)?;
        Ok(())
    }

    pub fn count_for_user(conn: &mut DbConnection, user_id: i64) -> Result<i64, DbError> {
        Ok(devices::table
            .filter(devices::user_id.eq(user_id))
            .count()
            .get_result(conn)?)
    }

    /// RomM's fingerprint match: the MAC address first, else host name and platform together.
    pub fn find_by_fingerprint(
        conn: &mut DbConnection,
        user_id: i64,
        mac_address: Option<&str>,
        hostname: Option<&str>,
        platform: Option<&str>,
    ) -> Result<Option<Device>, DbError> {
        if let Some(mac) = mac_address {
            let found = devices::table
                .filter(devices::user_id.eq(user_id))
                .filter(devices::mac_address.eq(mac))
                .order(devices::created_at.asc())
                .first(conn)
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        let (Some(host), Some(platform)) = (hostname, platform) else {
            return Ok(None);
        };
        Ok(devices::table
            .filter(devices::user_id.eq(user_id))
            .filter(devices::hostname.eq(host))
            .filter(devices::platform.eq(platform))
            .order(devices::created_at.asc())
            .first(conn)
            .optional()?)
    }

    pub fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
        Ok(diesel::delete(devices::table.find(id)).execute(conn)? == 1)
    }

    /// Records that the device was seen, unless it was recorded after `not_after`.
    pub fn touch_seen(conn: &mut DbConnection, id: &str, now: i64, not_after: i64) -> Result<(), DbError> {
        diesel::update(devices::table.find(id))
            .filter(devices::last_seen.is_null().or(devices::last_seen.le(not_after)))
            .set(devices::last_seen.eq(now))
            .execute(conn)?;
        Ok(())
    }
}
