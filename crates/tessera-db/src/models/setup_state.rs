use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::setup_state;

/// The singleton row (id = 1) whose insert decides the one winner of first-admin setup.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = setup_state, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SetupState {
    pub id: i64,
    pub admin_user_id: Option<i64>,
    pub completed_at: i64,
}

impl SetupState {
    pub fn get(conn: &mut DbConnection) -> Result<Option<SetupState>, DbError> {
        Ok(setup_state::table.find(1_i64).first(conn).optional()?)
    }

    /// Claims setup: inserts the singleton. A second claim fails with a unique violation.
    pub fn claim(conn: &mut DbConnection, now: i64) -> Result<(), DbError> {
        diesel::insert_into(setup_state::table)
            .values(&SetupState {
                id: 1,
                admin_user_id: None,
                completed_at: now,
            })
            .execute(conn)?;
        Ok(())
    }

    pub fn set_admin(conn: &mut DbConnection, admin: i64) -> Result<(), DbError> {
        diesel::update(setup_state::table.find(1_i64))
            .set(setup_state::admin_user_id.eq(admin))
            .execute(conn)?;
        Ok(())
    }
}
