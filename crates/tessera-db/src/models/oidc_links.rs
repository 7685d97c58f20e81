use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::oidc_links;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_links, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OidcLink {
    pub issuer: String,
    pub subject: String,
    pub user_id: i64,
    pub created_at: i64,
}

impl OidcLink {
    pub fn insert(conn: &mut DbConnection, row: &OidcLink) -> Result<(), DbError> {
        diesel::insert_into(oidc_links::table).values(row).execute(conn)?;
        Ok(())
    }

    pub fn find_for(
        conn: &mut DbConnection,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<OidcLink>, DbError> {
        Ok(oidc_links::table
            .filter(oidc_links::issuer.eq(issuer))
            .filter(oidc_links::subject.eq(subject))
            .first(conn)
            .optional()?)
    }

    pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<OidcLink>, DbError> {
        Ok(oidc_links::table
            .filter(oidc_links::subject.eq(key))
            .first(conn)
            .optional()?)
    }
}
