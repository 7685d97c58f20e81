//! CSRF: an unsafe request that carries the session cookie must carry the session's CSRF token, checked
//! *before* credential resolution, so adding a Bearer or Basic header does not exempt it.

use actix_web::dev::ServiceRequest;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};

use crate::cookies::csrf_header;
use crate::error::ApiError;
use crate::AppState;

/// Signing in again must work with a stale cookie; `/login` checks its own form token and `/logout` (an
/// HTML form, which cannot send headers) and `/device` check the session's token in their form field.
/// Forward-auth checks no CSRF token: the main app keeps its own (API.md §5). The account pages
/// (`/register`, `/reset-password`, `/setup`) check their own form token, like `/login`; the JSON
/// endpoints for the same actions take no cookie credential, so a stale cookie must not block them.
/// `/oauth/authorize` (the consent answer) checks the session's token in its form field, like `/device`;
/// `/login/code`, `/login/enrol` and `/login/passkey` (a sign-in's second step or passkey) check the sign-in
/// form's token; `/login/passkey/options` only hands out a challenge (budgeted per address). Every form under `/account/` is a signed-in person's and checks the session's token in its form field
/// (`pages::signed_in_form`), so the prefix is exempt from the header check.
const EXEMPT: [&str; 17] = [
    "/login/passkey",
    "/login/passkey/options",
    "/login/code",
    "/login/enrol",
    "/oauth/authorize",
    "/api/login",
    "/api/auth/login",
    "/login",
    "/logout",
    "/device",
    "/auth/forward",
    "/register",
    "/reset-password",
    "/setup",
    "/api/users/register",
    "/api/forgot-password",
    "/api/reset-password",
];

const ACCOUNT_FORMS: &str = "/account/";
/// The admin pages' forms check the session's token in their field the same way.
const ADMIN_FORMS: &str = "/admin/";

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Whether the header check can apply at all: safe methods and exempt paths (most of the hot path) pay a
/// comparison here, never a cookie parse.
pub fn applies(req: &ServiceRequest) -> bool {
    let path = req.path();
    !(is_safe(req.method())
        || EXEMPT.contains(&path)
        || path.starts_with(ACCOUNT_FORMS)
        || path.starts_with(ADMIN_FORMS))
}

/// The refusal of an unsafe request whose session cookie comes without the session's CSRF token in a
/// header, or `None` when it may go on (no session cookie, or the right token). Called by
/// [`crate::guard`] when [`applies`] says so.
pub fn refusal(req: &ServiceRequest) -> Option<HttpResponse> {
    // No cookie header, no session cookie: nothing to parse (an API client's POST).
    if !req.headers().contains_key(actix_web::http::header::COOKIE) {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    let session = &state.services.settings.session;
    // The same reading of the cookie as authentication's, so the token is checked against the session
    // that the request will act as.
    let cookie = crate::cookies::session_cookie(req.request(), session)?;
    let ok = csrf_header(req.headers(), session).is_some_and(|t| state.services.csrf_matches(cookie, t));
    (!ok).then(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "missing or wrong CSRF token header for this session",
        )
        .error_response()
    })
}

/// Login CSRF: a cross-site page must not sign a victim's browser in (to the attacker's account). Browsers
/// say where a request comes from: `Sec-Fetch-Site` (only `same-origin`, or `none` for one the user
/// started, may sign in), else `Origin` (Tessera's public origin or the request's own). Clients that send
/// neither are not browsers (scripts, apps, RomM's launchers) and keep working.
pub fn refuse_cross_site(state: &AppState, req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "cross-site sign-in refused: sign in from this site's own pages",
        )
    };
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site") {
        return match site.to_str() {
            Ok("same-origin" | "none") => Ok(()),
            _ => Err(refused()),
        };
    }
    let Some(origin) = h.get(actix_web::http::header::ORIGIN) else {
        return Ok(());
    };
    let Ok(origin) = url::Url::parse(origin.to_str().unwrap_or("null")) else {
        return Err(refused()); // "null": a sandboxed or privacy-redirected page
    };
    let public = url::Url::parse(&state.services.settings.server.public_url).map(|u| u.origin());
    // The page's own host: the Host header, which a cross-site page cannot choose.
    let authority = match (origin.host_str(), origin.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    let own_host = h
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| host.eq_ignore_ascii_case(&authority));
    if public.is_ok_and(|p| p == origin.origin()) || own_host {
        Ok(())
    } else {
        Err(refused())
    }
}
