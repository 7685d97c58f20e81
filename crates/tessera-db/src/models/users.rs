use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::users;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub password_hash: Option<String>,
    pub role: String,
    pub permission_group_id: Option<i64>,
    pub enabled: bool,
    pub generation: i64,
    pub token_seq: i64,
    pub last_login: Option<i64>,
    pub last_active: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// RomM's `avatar_path` ("" when none).
    pub avatar_path: String,
    /// RomM's RetroAchievements user name, kept for its clients.
    pub ra_username: Option<String>,
    /// RomM's web-app settings: opaque JSON text, bounded by the API.
    pub ui_settings: Option<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub role: &'a str,
    pub permission_group_id: Option<i64>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> Result<User, DbError> {
        Ok(diesel::insert_into(users::table)
            .values(new)
            .returning(users::all_columns)
            .get_result(conn)?)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<User>, DbError> {
        Ok(users::table.find(id).first(conn).optional()?)
    }

    /// The account with exactly this email address, when exactly one has it (email is not unique).
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, DbError> {
        let matches: Vec<User> = users::table.filter(users::email.eq(email)).limit(2).load(conn)?;
        Ok(if matches.len() == 1 {
            matches.into_iter().next()
        } else {
            None
        })
    }

    pub fn find_by_username(conn: &mut DbConnection, username: &str) -> Result<Option<User>, DbError> {
        Ok(users::table
            .filter(users::username.eq(username))
            .first(conn)
            .optional()?)
    }

    pub fn list(conn: &mut DbConnection) -> Result<Vec<User>, DbError> {
        Ok(users::table.order(users::id.asc()).load(conn)?)
    }

    pub fn count_enabled_admins(conn: &mut DbConnection) -> Result<i64, DbError> {
        Ok(users::table
            .filter(users::role.eq("admin"))
            .filter(users::enabled.eq(true))
            .count()
            .get_result(conn)?)
    }

    /// Enables or disables; disabling bumps the generation so cached identities are refused.
    pub fn set_enabled(conn: &mut DbConnection, id: i64, enabled: bool, now: i64) -> Result<bool, DbError> {
        let n = diesel::update(users::table.find(id))
            .set((
                users::enabled.eq(enabled),
                users::generation.eq(users::generation + 1),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }
}

impl User {
    pub fn touch_login(conn: &mut DbConnection, id: i64, now: i64) -> Result<(), DbError> {
        diesel::update(users::table.find(id))
            .set((users::last_login.eq(now), users::last_active.eq(now)))
            .execute(conn)?;
        Ok(())
    }
}

#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<Option<String>>,
    pub password_hash: Option<Option<String>>,
    pub role: Option<String>,
    pub permission_group_id: Option<Option<i64>>,
    pub enabled: Option<bool>,
    pub email_verified: Option<bool>,
    pub updated_at: Option<i64>,
    pub avatar_path: Option<String>,
    pub ra_username: Option<Option<String>>,
    pub ui_settings: Option<Option<String>>,
}

impl User {
    pub fn update(conn: &mut DbConnection, id: i64, changes: &UserChanges) -> Result<Option<User>, DbError> {
        Ok(diesel::update(users::table.find(id))
            .set(changes)
            .returning(users::all_columns)
            .get_result(conn)
            .optional()?)
    }

    /// Makes every access token issued before now invalid (they carry the generation they were born under).
    pub fn bump_generation(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
        diesel::update(users::table.find(id))
            .set(users::generation.eq(users::generation + 1))
            .execute(conn)?;
        Ok(())
    }

    pub fn touch_active(conn: &mut DbConnection, id: i64, now: i64) -> Result<(), DbError> {
        diesel::update(users::table.find(id))
            .set(users::last_active.eq(now))
            .execute(conn)?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<bool, DbError> {
        Ok(diesel::delete(users::table.find(id)).execute(conn)? == 1)
    }
}

impl User {
    /// Serialises one user's token creations: the row lock (PostgreSQL) or write lock (SQLite) is held
    /// until the transaction ends.
    pub fn bump_token_seq(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
        diesel::update(users::table.find(id))
            .set(users::token_seq.eq(users::token_seq + 1))
            .execute(conn)?;
        Ok(())
    }
}
