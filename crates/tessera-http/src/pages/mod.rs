//! Server-rendered pages: compiled askama templates, no external assets.

pub mod account;
pub mod account_apps;
pub mod authorize;
pub mod device;
pub mod end_session;
pub mod login;
pub mod oidc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// A page with a form token: the token goes into a SameSite=Strict cookie the form must match, and
/// every page gets the same strict headers (no caching, no framing, no outside resources, no Referer).
pub(crate) fn form_page(
    state: &crate::AppState,
    status: StatusCode,
    cookie_name: &'static str,
    form_token: &str,
    html: String,
) -> HttpResponse {
    form_page_to(state, status, cookie_name, form_token, html, None)
}

/// `form_page` whose form may also end at `redirect_origin`: Chromium applies `form-action` to the
/// redirects after a post, and signing in for an app ends with a redirect to that app.
pub(crate) fn form_page_to(
    state: &crate::AppState,
    status: StatusCode,
    cookie_name: &'static str,
    form_token: &str,
    html: String,
    redirect_origin: Option<&str>,
) -> HttpResponse {
    let mut cookie = Cookie::build(cookie_name, form_token.to_owned())
        .path("/")
        .http_only(true)
        .secure(state.services.settings.session.cookie_secure)
        .same_site(SameSite::Strict)
        .finish();
    cookie.set_max_age(actix_web::cookie::time::Duration::minutes(30));
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "content-security-policy",
            format!(
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}; frame-ancestors 'none'",
                redirect_origin.map(|o| format!(" {o}")).unwrap_or_default()
            ),
        ))
        .insert_header(("x-frame-options", "DENY"))
        // Tokens in page URLs (invites, reset links) must not leak to other sites.
        .insert_header(("referrer-policy", "no-referrer"))
        .cookie(cookie)
        .content_type(ContentType::html())
        .body(html)
}
