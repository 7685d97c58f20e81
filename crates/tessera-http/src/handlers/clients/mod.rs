//! `/api/oauth-clients`: an admin credential with `users.write`.

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use tessera_core::UnixTime;
use tessera_db::models::oauth_clients::OAuthClient;
use tessera_proto::oauth::{OAuthClientRequest, OAuthClientView};
use tessera_service::oauth::clients::ClientSpec;

pub fn view(row: &OAuthClient, secret: Option<String>) -> OAuthClientView {
    let split = |s: &str| {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    OAuthClientView {
        id: row.id,
        client_id: row.client_id.clone(),
        name: row.name.clone(),
        confidential: row.confidential,
        grant_types: split(&row.grant_types),
        scopes: split(&row.scopes),
        can_introspect: row.can_introspect,
        builtin: row.builtin,
        created_at: UnixTime(row.created_at).to_rfc3339(),
        updated_at: UnixTime(row.updated_at).to_rfc3339(),
        client_secret: secret,
    }
}

pub fn spec(req: OAuthClientRequest) -> ClientSpec {
    ClientSpec {
        client_id: req.client_id,
        name: req.name,
        confidential: req.confidential,
        grant_types: req.grant_types,
        scopes: req.scopes,
        can_introspect: req.can_introspect,
    }
}
