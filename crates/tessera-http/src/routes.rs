use actix_web::web;

use crate::error::{form_error, json_error, method_not_allowed, not_found, query_error};
use crate::handlers::{
    audit, auth, client_tokens, clients, device, devices, oauth, ops, permissions, setup, users, wellknown,
};

/// JSON bodies up to 64 KiB, forms up to 16 KiB (API.md §1).
pub const JSON_LIMIT: usize = 64 * 1024;
pub const FORM_LIMIT: usize = 16 * 1024;

/// Registers every route; the caller adds `AppState` and the middleware.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(JSON_LIMIT)
            .error_handler(json_error),
    )
    .app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(form_error),
    )
    // A backstop for any raw-body extractor; handlers that read their own body use extract::body.
    .app_data(web::PayloadConfig::new(JSON_LIMIT))
    .app_data(web::QueryConfig::default().error_handler(query_error))
    // A malformed id in a path names nothing: 404, as problem+json.
    .app_data(web::PathConfig::default().error_handler(|_, _| crate::error::ApiError::not_found().into()))
    // The hot path first: actix tries resources in order, so the two endpoints that carry most of the
    // traffic must not be matched against every other pattern before them (seen in a perf profile).
    // Forward-auth takes any method: proxies forward the original one, and nginx sends a body length
    // without a body.
    .service(
        web::resource("/auth/forward")
            .name("/auth/forward")
            .route(web::route().to(crate::handlers::forward::forward)),
    )
    .service(resource("/oauth/introspect").route(web::post().to(oauth::introspect::introspect)))
    .service(resource("/healthz").route(web::get().to(ops::healthz::healthz)))
    .service(resource("/readyz").route(web::get().to(ops::readyz::readyz)))
    .service(resource("/metrics").route(web::get().to(ops::metrics::metrics)))
    .service(resource("/openapi.json").route(web::get().to(ops::openapi_json::openapi_json)))
    .service(resource("/problems/{code}").route(web::get().to(ops::problems::problem)))
    .service(resource("/api/audit").route(web::get().to(audit::list::list)))
    .service(resource("/api/heartbeat").route(web::get().to(ops::heartbeat::heartbeat)))
    .service(resource("/api/setup/status").route(web::get().to(setup::status::status)))
    .service(resource("/api/setup/admin").route(web::post().to(setup::admin::admin)))
    .service(resource("/oauth/token").route(web::post().to(oauth::token::token)))
    .service(resource("/api/token").route(web::post().to(oauth::token::romm_token)))
    .service(
        resource("/oauth/authorize")
            .route(web::get().to(crate::pages::authorize::authorize))
            .route(web::post().to(crate::pages::authorize::consent)),
    )
    .service(resource("/account/apps").route(web::get().to(crate::pages::account_apps::page)))
    .service(resource("/account/apps/revoke").route(web::post().to(crate::pages::account_apps::revoke)))
    .service(resource("/account/passkeys").route(web::get().to(crate::pages::account_passkeys::page)))
    .service(
        resource("/account/passkeys/rename").route(web::post().to(crate::pages::account_passkeys::rename)),
    )
    .service(
        resource("/account/passkeys/delete").route(web::post().to(crate::pages::account_passkeys::delete)),
    )
    .service(resource("/assets/passkeys.js").route(web::get().to(crate::pages::assets::passkeys_js)))
    .service(resource("/oauth/end_session").route(web::get().to(crate::pages::end_session::end_session)))
    .service(resource("/oauth/revoke").route(web::post().to(oauth::revoke::revoke)))
    .service(
        resource("/oauth/userinfo")
            .route(web::get().to(oauth::userinfo::userinfo))
            .route(web::post().to(oauth::userinfo::userinfo)),
    )
    .service(
        resource("/.well-known/openid-configuration").route(web::get().to(wellknown::discovery::discovery)),
    )
    .service(
        resource("/.well-known/oauth-authorization-server")
            .route(web::get().to(wellknown::discovery::discovery)),
    )
    .service(resource("/.well-known/jwks.json").route(web::get().to(wellknown::jwks::jwks)))
    .service(
        resource("/api/oauth-clients")
            .route(web::get().to(clients::list::list))
            .route(web::post().to(clients::create::create)),
    )
    .service(
        resource("/api/oauth-clients/{client_id}")
            .route(web::get().to(clients::get::get))
            .route(web::put().to(clients::update::update))
            .route(web::delete().to(clients::delete::delete)),
    )
    .service(resource("/api/login").route(web::post().to(auth::login::login_basic)))
    .service(resource("/api/auth/login").route(web::post().to(auth::login::login_json)))
    .service(resource("/api/logout").route(web::post().to(auth::logout::logout)))
    .service(resource("/api/auth/logout").route(web::post().to(auth::logout::auth_logout)))
    .service(resource("/api/sessions").route(web::get().to(auth::sessions::list)))
    .service(resource("/api/sessions/{id}").route(web::delete().to(auth::sessions::delete)))
    .service(resource("/api/users/invite-link").route(web::post().to(users::invite::invite_link)))
    .service(resource("/api/users/register").route(web::post().to(users::invite::register)))
    .service(
        resource("/api/users/me/totp")
            .route(web::post().to(users::second_factor::begin))
            .route(web::delete().to(users::second_factor::remove)),
    )
    .service(resource("/api/users/me/totp/confirm").route(web::post().to(users::second_factor::confirm)))
    .service(resource("/api/users/me/passkeys/options").route(web::post().to(users::passkeys::options)))
    .service(
        resource("/api/users/me/passkeys")
            .route(web::get().to(users::passkeys::list))
            .route(web::post().to(users::passkeys::register)),
    )
    .service(
        resource("/api/users/me/passkeys/{id}")
            .route(web::patch().to(users::passkeys::rename))
            .route(web::delete().to(users::passkeys::delete)),
    )
    .service(resource("/api/users/{id}/second-factor").route(web::delete().to(users::second_factor::reset)))
    .service(resource("/api/users/me/consents").route(web::get().to(users::consents::list)))
    .service(resource("/api/users/me/consents/{client_id}").route(web::delete().to(users::consents::revoke)))
    .service(resource("/api/users/me/verify-email").route(web::post().to(auth::reset::verify_email)))
    .service(resource("/api/forgot-password").route(web::post().to(auth::reset::forgot_password)))
    .service(resource("/api/reset-password").route(web::post().to(auth::reset::reset_password)))
    .service(
        resource("/api/users/me")
            .route(web::get().to(users::me::get))
            .route(web::put().to(users::me::put)),
    )
    .service(
        resource("/api/users")
            .route(web::get().to(users::list::list))
            .route(web::post().to(users::create::create)),
    )
    .service(resource("/api/users/identifiers").route(web::get().to(users::list::identifiers)))
    .service(resource("/api/users/{id}/avatar").route(web::get().to(users::avatar::get)))
    .service(
        resource("/api/users/{id}")
            .route(web::get().to(users::get::get))
            .route(web::put().to(users::update::update))
            .route(web::delete().to(users::delete::delete)),
    )
    .service(resource("/api/permissions/catalog").route(web::get().to(permissions::catalog::catalog)))
    .service(resource("/api/permissions/me").route(web::get().to(permissions::me::me)))
    .service(
        resource("/api/permissions/groups")
            .route(web::get().to(permissions::groups::list))
            .route(web::post().to(permissions::groups::create)),
    )
    .service(
        resource("/api/permissions/groups/{id}")
            .route(web::put().to(permissions::groups::update))
            .route(web::delete().to(permissions::groups::delete)),
    )
    .service(
        resource("/api/permissions/default-group").route(web::put().to(permissions::groups::set_default)),
    )
    .service(
        resource("/api/permissions/users/{user_id}")
            .route(web::get().to(permissions::users::get))
            .route(web::put().to(permissions::users::put)),
    )
    .service(resource("/api/access/check").route(web::post().to(permissions::access_check::check)))
    .service(
        resource("/login")
            .route(web::get().to(crate::pages::login::page))
            .route(web::post().to(crate::pages::login::submit)),
    )
    .service(resource("/login/code").route(web::post().to(crate::pages::login::submit_code)))
    .service(resource("/login/enrol").route(web::post().to(crate::pages::login::submit_enrol)))
    .service(resource("/login/passkey/options").route(web::post().to(crate::pages::login::passkey_options)))
    .service(resource("/login/passkey").route(web::post().to(crate::pages::login::submit_passkey)))
    .service(resource("/logout").route(web::post().to(crate::pages::login::logout)))
    .service(resource("/login/oidc").route(web::get().to(crate::pages::oidc::start)))
    // RomM's web app starts its OIDC sign-in here.
    .service(resource("/api/login/openid").route(web::get().to(crate::pages::oidc::start)))
    .service(resource("/login/oidc/callback").route(web::get().to(crate::pages::oidc::callback)))
    .service(
        resource("/register")
            .route(web::get().to(crate::pages::account::register_page))
            .route(web::post().to(crate::pages::account::register_submit)),
    )
    .service(
        resource("/reset-password")
            .route(web::get().to(crate::pages::account::reset_page))
            .route(web::post().to(crate::pages::account::reset_submit)),
    )
    .service(resource("/verify-email").route(web::get().to(crate::pages::account::verify_email)))
    .service(
        resource("/setup")
            .route(web::get().to(crate::pages::account::setup_page))
            .route(web::post().to(crate::pages::account::setup_submit)),
    )
    .service(
        resource("/api/client-tokens")
            .route(web::get().to(client_tokens::list::list))
            .route(web::post().to(client_tokens::create::create)),
    )
    .service(resource("/api/client-tokens/all").route(web::get().to(client_tokens::admin::all)))
    .service(resource("/api/client-tokens/exchange").route(web::post().to(client_tokens::pair::exchange)))
    .service(
        resource("/api/client-tokens/pair/{code}/status").route(web::get().to(client_tokens::pair::status)),
    )
    .service(resource("/api/client-tokens/{id}").route(web::delete().to(client_tokens::delete::delete)))
    .service(
        resource("/api/client-tokens/{id}/regenerate")
            .route(web::put().to(client_tokens::regenerate::regenerate)),
    )
    .service(resource("/api/client-tokens/{id}/pair").route(web::post().to(client_tokens::pair::create)))
    .service(resource("/api/client-tokens/{id}/admin").route(web::delete().to(client_tokens::admin::delete)))
    .service(resource("/oauth/device_authorization").route(web::post().to(device::authorize::authorize)))
    .service(resource("/api/auth/device/init").route(web::post().to(device::romm::init)))
    .service(resource("/api/auth/device/pending/{user_code}").route(web::get().to(device::romm::pending)))
    .service(resource("/api/auth/device/approve").route(web::post().to(device::romm::approve)))
    .service(resource("/api/auth/device/deny").route(web::post().to(device::romm::deny)))
    .service(resource("/api/auth/device/token").route(web::post().to(device::romm::token)))
    .service(
        resource("/api/devices")
            .route(web::get().to(devices::list))
            .route(web::post().to(devices::create)),
    )
    .service(
        resource("/api/devices/{id}")
            .route(web::get().to(devices::get))
            .route(web::put().to(devices::update))
            .route(web::delete().to(devices::delete)),
    )
    .service(
        resource("/device")
            .route(web::get().to(crate::pages::device::page))
            .route(web::post().to(crate::pages::device::submit)),
    )
    .service(resource("/pair/device").route(web::get().to(crate::pages::device::page)))
    .service(resource("/device/qr.svg").route(web::get().to(crate::pages::device::qr)))
    .default_service(web::to(not_found));
}

/// A resource named by its own pattern: the metrics middleware reads the name without allocating
/// (`match_pattern` builds a String per request).
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path)
        .name(path)
        .default_service(web::to(method_not_allowed))
}
