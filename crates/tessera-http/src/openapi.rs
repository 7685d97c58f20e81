//! `/openapi.json`: every JSON endpoint is listed here as it is built.

use utoipa::OpenApi;

use crate::handlers::{clients, oauth, ops, setup, wellknown};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera", description = "Identity sidecar: tokens, devices and scopes."),
    paths(
        ops::healthz::healthz,
        ops::readyz::readyz,
        ops::heartbeat::heartbeat,
        setup::status::status,
        setup::admin::admin,
        oauth::token::token,
        oauth::token::romm_token,
        oauth::introspect::introspect,
        oauth::revoke::revoke,
        oauth::userinfo::userinfo,
        wellknown::discovery::discovery,
        wellknown::discovery::authorization_server,
        wellknown::jwks::jwks,
        clients::list::list,
        clients::create::create,
        clients::get::get,
        clients::update::update,
        clients::delete::delete,
    ),
    tags(
        (name = "operations", description = "Health, readiness and service information"),
        (name = "setup", description = "First-admin setup"),
        (name = "oauth", description = "OAuth 2.0 token, introspection, revocation and userinfo endpoints"),
        (name = "discovery", description = "Authorization-server metadata and signing keys"),
        (name = "oauth-clients", description = "OAuth client administration"),
    )
)]
pub struct ApiDoc;
