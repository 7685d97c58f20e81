//! `/api/oauth-clients`: an admin credential with `users.write`.

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use tessera_proto::oauth::OAuthClientRequest;
use tessera_service::oauth::clients::{ClientSpec, SignInSettings};
pub use tessera_service::wire::client_view as view;

pub fn spec(req: OAuthClientRequest) -> ClientSpec {
    ClientSpec {
        client_id: req.client_id,
        name: req.name,
        confidential: req.confidential,
        grant_types: req.grant_types,
        scopes: req.scopes,
        can_introspect: req.can_introspect,
        sign_in: SignInSettings {
            redirect_uris: req.redirect_uris,
            post_logout_redirect_uris: req.post_logout_redirect_uris,
            backchannel_logout_uri: req.backchannel_logout_uri,
            skip_consent: req.skip_consent,
            logo_uri: req.logo_uri,
            refresh_without_offline_access: req.refresh_without_offline_access,
        },
    }
}
