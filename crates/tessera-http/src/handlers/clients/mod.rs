//! `/api/oauth-clients`: an admin credential with `users.write`.

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use tessera_proto::oauth::OAuthClientRequest;
use tessera_service::oauth::clients::ClientSpec;
pub use tessera_service::wire::client_view as view;

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
