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
        users::consents::list,
        users::second_factor::begin,
        users::second_factor::confirm,
        users::second_factor::remove,
        users::second_factor::reset,
        users::passkeys::options,
        users::passkeys::register,
        users::passkeys::list,
        users::passkeys::rename,
        users::passkeys::delete,
        crate::pages::authorize::authorize,
        crate::pages::authorize::consent,
        crate::pages::end_session::end_session,
        users::consents::revoke,
        users::list::list,
        users::list::identifiers,
        users::create::create,
        users::get::get,
        users::avatar::get,
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
        devices::create,
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
    modifiers(&SecuritySchemes, &CredentialAlternatives),
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

/// The credential alternatives of API.md §1. Handlers name their scopes once, as an `oauth2` requirement
/// (`security(("oauth2" = [...]))`, the same list they pass to `Caller::require`); here each such
/// requirement becomes every credential that can carry them, and the operation gains its 401 and 403.
const SCOPED_SCHEMES: [&str; 5] = ["oauth2", "bearer", "basic", "session", "service_key"];

struct CredentialAlternatives;

impl utoipa::Modify for CredentialAlternatives {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityRequirement;
        for item in openapi.paths.paths.values_mut() {
            for op in operations(item) {
                problem_content_type(op);
                let Some(scopes) = oauth2_scopes(op) else { continue };
                op.security = Some(
                    SCOPED_SCHEMES
                        .iter()
                        .map(|scheme| {
                            // The service key acts with full rights; it carries no scopes of its own.
                            let needs: &[String] = if *scheme == "service_key" { &[] } else { &scopes };
                            SecurityRequirement::new(*scheme, needs.iter().map(String::as_str))
                        })
                        .collect(),
                );
                for (status, why) in [
                    ("401", "No credential, or one that is invalid, expired or revoked"),
                    (
                        "403",
                        "The credential's effective scopes lack `required` (listed in `missing`)",
                    ),
                ] {
                    if !op.responses.responses.contains_key(status) {
                        op.responses
                            .responses
                            .insert(status.to_owned(), problem_response(why).into());
                    }
                }
            }
        }
    }
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Problems are served as `application/problem+json` (RFC 9457); `body = Problem` in a handler's
/// annotation documents them as plain JSON, so the media type is corrected here, once.
fn problem_content_type(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::RefOr;
    for response in op.responses.responses.values_mut() {
        let RefOr::T(response) = response else { continue };
        let is_problem = response.content.get("application/json").is_some_and(
            |c| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")),
        );
        if is_problem {
            if let Some(content) = response.content.shift_remove("application/json") {
                response
                    .content
                    .insert("application/problem+json".to_owned(), content);
            }
        }
    }
}

/// The scopes of an operation's `oauth2` requirement, read back through serde (the requirement's fields are
/// private in utoipa).
fn oauth2_scopes(op: &utoipa::openapi::path::Operation) -> Option<Vec<String>> {
    let security = serde_json::to_value(op.security.as_ref()?).ok()?;
    let scopes = security.as_array()?.iter().find_map(|req| req.get("oauth2"))?;
    serde_json::from_value(scopes.clone()).ok()
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// The `oauth2` scheme as this deployment runs it: the password, client-credentials and refresh grants at
/// `/oauth/token`, with the configured scope catalog (so replaced catalogs are documented as they are).
pub fn with_oauth2_scheme(mut doc: utoipa::openapi::OpenApi, scopes: &[&str]) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Password, Scopes, SecurityScheme};
    let scopes = || Scopes::from_iter(scopes.iter().map(|s| (*s, *s)));
    let scheme = OAuth2::with_description(
        [
            Flow::Password(Password::with_refresh_url(
                "/oauth/token",
                scopes(),
                "/oauth/token",
            )),
            Flow::ClientCredentials(ClientCredentials::new("/oauth/token", scopes())),
        ],
        "Access tokens from /oauth/token (RomM: /api/token). Client API tokens and device tokens carry the \
         same scopes as Bearer credentials.",
    );
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme("oauth2", SecurityScheme::OAuth2(scheme));
    doc
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The scopes each handler documents (`security(("oauth2" = [...]))`) are the scopes it enforces
    /// (`caller.require…(&state, &[...])`): read off the handler sources, one operation at a time.
    #[test]
    fn documented_scopes_are_the_enforced_scopes() {
        let mut files = Vec::new();
        collect(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut checked = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let blocks: Vec<&str> = text.split("#[utoipa::path(").skip(1).collect();
            for block in blocks {
                let documented = between(block, "security((\"oauth2\" = ", ")");
                let enforced = between(block, "require(&state, &", ")")
                    .or_else(|| between(block, "require_admin(&state, &", ")"));
                assert_eq!(
                    documented,
                    enforced,
                    "{}: {}",
                    file.display(),
                    &block[..block.len().min(120)]
                );
                checked += usize::from(enforced.is_some());
            }
        }
        assert!(
            checked >= 40,
            "only {checked} scoped operations found: did the handlers move?"
        );
    }

    fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
        let from = text.find(start)? + start.len();
        text[from..].find(end).map(|len| &text[from..from + len])
    }

    fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("openapi.rs") {
                out.push(path);
            }
        }
    }
}
