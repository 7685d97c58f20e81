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

    pub fn rename(conn: &mut DbConnection, id: &str, name: &str) -> Result<(), DbError> {
        diesel::update(devices::table.find(id))
            .set(devices::name.eq(name))
            .execute(conn)?;
        Ok(())
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
