use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::oauth_clients;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_clients, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OAuthClient {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub confidential: bool,
    pub secret_digest: Option<Vec<u8>>,
    pub grant_types: String,
    pub scopes: String,
    pub can_introspect: bool,
    pub builtin: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Space-separated, each matched exactly (issue 20).
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub backchannel_logout_uri: Option<String>,
    pub skip_consent: bool,
    pub logo_uri: Option<String>,
    /// Refresh tokens from the code grant without `offline_access` (a trusted first-party app).
    pub refresh_without_offline_access: bool,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = oauth_clients)]
pub struct NewOAuthClient<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub confidential: bool,
    pub secret_digest: Option<&'a [u8]>,
    pub grant_types: &'a str,
    pub scopes: &'a str,
    pub can_introspect: bool,
    pub builtin: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub redirect_uris: &'a str,
    pub post_logout_redirect_uris: &'a str,
    pub backchannel_logout_uri: Option<&'a str>,
    pub skip_consent: bool,
    pub logo_uri: Option<&'a str>,
    pub refresh_without_offline_access: bool,
}

impl OAuthClient {
    /// The registered redirect URIs.
    pub fn redirect_uri_list(&self) -> impl Iterator<Item = &str> {
        self.redirect_uris.split(' ').filter(|u| !u.is_empty())
    }

    pub fn post_logout_redirect_uri_list(&self) -> impl Iterator<Item = &str> {
        self.post_logout_redirect_uris
            .split(' ')
            .filter(|u| !u.is_empty())
    }

    pub fn insert(conn: &mut DbConnection, new: &NewOAuthClient<'_>) -> Result<OAuthClient, DbError> {
        Ok(diesel::insert_into(oauth_clients::table)
            .values(new)
            .returning(oauth_clients::all_columns)
            .get_result(conn)?)
    }

    pub fn find_by_client_id(
        conn: &mut DbConnection,
        client_id: &str,
    ) -> Result<Option<OAuthClient>, DbError> {
        Ok(oauth_clients::table
            .filter(oauth_clients::client_id.eq(client_id))
            .first(conn)
            .optional()?)
    }
}

#[derive(Clone, Debug, AsChangeset)]
#[diesel(table_name = oauth_clients, treat_none_as_null = true)]
pub struct OAuthClientChanges<'a> {
    pub name: &'a str,
    pub grant_types: &'a str,
    pub scopes: &'a str,
    pub can_introspect: bool,
    pub updated_at: i64,
    pub redirect_uris: &'a str,
    pub post_logout_redirect_uris: &'a str,
    pub backchannel_logout_uri: Option<&'a str>,
    pub skip_consent: bool,
    pub logo_uri: Option<&'a str>,
    pub refresh_without_offline_access: bool,
}

impl OAuthClient {
    pub fn list(conn: &mut DbConnection) -> Result<Vec<OAuthClient>, DbError> {
        Ok(oauth_clients::table.order(oauth_clients::id.asc()).load(conn)?)
    }

    pub fn update(
        conn: &mut DbConnection,
        client_id: &str,
        changes: &OAuthClientChanges<'_>,
    ) -> Result<Option<OAuthClient>, DbError> {
        Ok(
            diesel::update(oauth_clients::table.filter(oauth_clients::client_id.eq(client_id)))
                .set(changes)
                .returning(oauth_clients::all_columns)
                .get_result(conn)
                .optional()?,
        )
    }

    pub fn delete(conn: &mut DbConnection, client_id: &str) -> Result<bool, DbError> {
        let n = diesel::delete(oauth_clients::table.filter(oauth_clients::client_id.eq(client_id)))
            .filter(oauth_clients::builtin.eq(false))
            .execute(conn)?;
        Ok(n == 1)
    }
}
