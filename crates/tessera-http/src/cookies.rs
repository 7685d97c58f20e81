//! The session and CSRF cookies (API.md §7–8).

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use tessera_service::settings::SessionSettings;

/// The request's session cookie, under this deployment's name (`session.cookie_name`).
pub fn session_cookie(req: &actix_web::HttpRequest, s: &SessionSettings) -> Option<Cookie<'static>> {
    // Most hot-path requests (bearer tokens, Basic) carry no cookie: no parse, no request extension then.
    if !req.headers().contains_key(actix_web::http::header::COOKIE) {
        return None;
    }
    req.cookie(&s.cookie_name)
}

/// The CSRF token a request carries in any of the accepted headers (`session.csrf_header_names`).
pub fn csrf_header<'a>(
    headers: &'a actix_web::http::header::HeaderMap,
    s: &SessionSettings,
) -> Option<&'a str> {
    s.csrf_header_names
        .iter()
        .find_map(|name| headers.get(name.as_str()))
        .and_then(|v| v.to_str().ok())
}

fn base(name: &str, value: String, s: &SessionSettings, http_only: bool) -> Cookie<'static> {
    let mut c = Cookie::build(name.to_owned(), value)
        .path("/")
        .http_only(http_only)
        .secure(s.cookie_secure)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(d) = &s.cookie_domain {
        c.set_domain(d.clone());
    }
    c
}

/// The session cookie (HttpOnly) and the CSRF cookie (readable by the page's script).
pub fn login_cookies(
    secret: String,
    csrf: String,
    max_age_secs: i64,
    s: &SessionSettings,
) -> [Cookie<'static>; 2] {
    let mut session = base(&s.cookie_name, secret, s, true);
    let mut csrf = base(&s.csrf_cookie_name, csrf, s, false);
    for c in [&mut session, &mut csrf] {
        c.set_max_age(Duration::seconds(max_age_secs));
    }
    [session, csrf]
}

/// The CSRF cookie alone, for a session the browser already holds.
pub fn csrf_cookie(csrf: String, s: &SessionSettings) -> Cookie<'static> {
    base(&s.csrf_cookie_name, csrf, s, false)
}

/// Expired copies that make the browser forget both cookies.
pub fn logout_cookies(s: &SessionSettings) -> [Cookie<'static>; 2] {
    let mut session = base(&s.cookie_name, String::new(), s, true);
    let mut csrf = base(&s.csrf_cookie_name, String::new(), s, false);
    session.make_removal();
    csrf.make_removal();
    [session, csrf]
}
