use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::{group_grants, permission_groups};

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = permission_groups, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PermissionGroup {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub is_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = permission_groups)]
pub struct NewPermissionGroup<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub is_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = group_grants, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct GroupGrant {
    pub group_id: i64,
    pub entity: String,
    pub action: String,
    pub own_only: bool,
}

impl PermissionGroup {
    pub fn insert(conn: &mut DbConnection, new: &NewPermissionGroup<'_>) -> Result<PermissionGroup, DbError> {
        Ok(diesel::insert_into(permission_groups::table)
            .values(new)
            .returning(permission_groups::all_columns)
            .get_result(conn)?)
    }

    pub fn find_by_name(conn: &mut DbConnection, name: &str) -> Result<Option<PermissionGroup>, DbError> {
        Ok(permission_groups::table
            .filter(permission_groups::name.eq(name))
            .first(conn)
            .optional()?)
    }

    pub fn find_default(conn: &mut DbConnection) -> Result<Option<PermissionGroup>, DbError> {
        Ok(permission_groups::table
            .filter(permission_groups::is_default.eq(true))
            .first(conn)
            .optional()?)
    }

    pub fn grants(conn: &mut DbConnection, group: i64) -> Result<Vec<GroupGrant>, DbError> {
        Ok(group_grants::table
            .filter(group_grants::group_id.eq(group))
            .load(conn)?)
    }

    pub fn add_grants(conn: &mut DbConnection, grants: &[GroupGrant]) -> Result<(), DbError> {
        // Batch inserts do not compile through the MultiConnection enum; groups hold a handful of grants.
        for g in grants {
            diesel::insert_into(group_grants::table).values(g).execute(conn)?;
        }
        Ok(())
    }
}

impl PermissionGroup {
    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<PermissionGroup>, DbError> {
        Ok(permission_groups::table.find(id).first(conn).optional()?)
    }
}

#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = permission_groups)]
pub struct PermissionGroupChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub updated_at: Option<i64>,
}

impl PermissionGroup {
    pub fn list(conn: &mut DbConnection) -> Result<Vec<PermissionGroup>, DbError> {
        Ok(permission_groups::table
            .order(permission_groups::id.asc())
            .load(conn)?)
    }

    pub fn update(
        conn: &mut DbConnection,
        id: i64,
        changes: &PermissionGroupChanges,
    ) -> Result<Option<PermissionGroup>, DbError> {
        Ok(diesel::update(permission_groups::table.find(id))
            .set(changes)
            .returning(permission_groups::all_columns)
            .get_result(conn)
            .optional()?)
    }

    pub fn replace_grants(conn: &mut DbConnection, group: i64, grants: &[GroupGrant]) -> Result<(), DbError> {
        diesel::delete(group_grants::table.filter(group_grants::group_id.eq(group))).execute(conn)?;
        Self::add_grants(conn, grants)
    }

    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<bool, DbError> {
        Ok(diesel::delete(permission_groups::table.find(id)).execute(conn)? == 1)
    }

    /// Makes `id` the one default group.
    pub fn set_default(conn: &mut DbConnection, id: i64) -> Result<bool, DbError> {
        diesel::update(permission_groups::table)
            .set(permission_groups::is_default.eq(false))
            .execute(conn)?;
        Ok(diesel::update(permission_groups::table.find(id))
            .set(permission_groups::is_default.eq(true))
            .execute(conn)?
            == 1)
    }
}
