//! `/openapi.json`: every JSON endpoint is listed here as it is built.

use utoipa::OpenApi;

use crate::handlers::{
    audit, auth, client_tokens, clients, device, devices, oauth, ops, permissions, setup, users, wellknown,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera", description = "Identity sidecar: tokens, devices and scopes."),
    paths(
        ops::healthz::healthz,
        ops::readyz::readyz,
        ops::heartbeat::heartbeat,
        ops::problems::problem,
        ops::metrics::metrics,
        audit::list::list,
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
        auth::login::login_basic,
        auth::login::login_json,
        auth::logout::logout,
        auth::logout::auth_logout,
        auth::sessions::list,
        auth::sessions::delete,
        users::me::get,
        users::me::put,
        users::list::list,
        users::create::create,
        users::get::get,
        users::update::update,
        users::delete::delete,
        users::invite::invite_link,
        users::invite::register,
        auth::reset::forgot_password,
        auth::reset::reset_password,
        auth::reset::verify_email,
        permissions::catalog::catalog,
        permissions::me::me,
        permissions::groups::list,
        permissions::groups::create,
        permissions::groups::update,
        permissions::groups::delete,
        permissions::groups::set_default,
        permissions::users::get,
        permissions::users::put,
        permissions::access_check::check,
        client_tokens::create::create,
        client_tokens::list::list,
        client_tokens::delete::delete,
        client_tokens::regenerate::regenerate,
        client_tokens::admin::all,
        client_tokens::admin::delete,
        client_tokens::pair::create,
        client_tokens::pair::status,
        client_tokens::pair::exchange,
        device::authorize::authorize,
        device::romm::init,
        device::romm::pending,
        device::romm::approve,
        device::romm::deny,
        device::romm::token,
        devices::list,
        devices::get,
        devices::update,
        devices::delete,
        crate::handlers::forward::forward,
        crate::pages::account::register_page,
        crate::pages::account::register_submit,
        crate::pages::account::reset_page,
        crate::pages::account::reset_submit,
        crate::pages::account::verify_email,
        crate::pages::account::setup_page,
        crate::pages::account::setup_submit,
        crate::pages::oidc::start,
        crate::pages::oidc::callback,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "operations", description = "Health, readiness and service information"),
        (name = "setup", description = "First-admin setup"),
        (name = "oauth", description = "OAuth 2.0 token, introspection, revocation and userinfo endpoints"),
        (name = "discovery", description = "Authorization-server metadata and signing keys"),
        (name = "oauth-clients", description = "OAuth client administration"),
        (name = "forward-auth", description = "The reverse proxy's question: may this request pass, and who is it?"),
        (name = "devices", description = "Device pairing (RomM's JSON) and device records"),
        (name = "client-tokens", description = "Long-lived API keys and pair codes"),
        (name = "sessions", description = "Browser sessions (cookie + CSRF token)"),
        (name = "users", description = "Me and user administration"),
        (name = "permissions", description = "Permission groups, overrides and access checks"),
        (name = "audit", description = "Security events"),
        (name = "pages", description = "Server-rendered pages of the account lifecycle and upstream sign-in (HTML)"),
    )
)]
pub struct ApiDoc;

/// Names the credentials of API.md §1, so each operation's `security` can refer to them.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or client token")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "service_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Tessera-Key"))),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("tessera_session"))),
        );
    }
}
