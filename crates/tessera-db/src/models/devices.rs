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
