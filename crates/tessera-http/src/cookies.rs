//! The session and CSRF cookies (API.md §7–8).

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use tessera_service::settings::SessionSettings;

pub const SESSION_COOKIE: &str = "tessera_session";
pub const CSRF_COOKIE: &str = "tessera_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

fn base<'a>(name: &'a str, value: String, s: &SessionSettings, http_only: bool) -> Cookie<'a> {
    let mut c = Cookie::build(name, value)
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
    let mut session = base(SESSION_COOKIE, secret, s, true);
    let mut csrf = base(CSRF_COOKIE, csrf, s, false);
    for c in [&mut session, &mut csrf] {
        c.set_max_age(Duration::seconds(max_age_secs));
    }
    [session, csrf]
}

/// Expired copies that make the browser forget both cookies.
pub fn logout_cookies(s: &SessionSettings) -> [Cookie<'static>; 2] {
    let mut session = base(SESSION_COOKIE, String::new(), s, true);
    let mut csrf = base(CSRF_COOKIE, String::new(), s, false);
    session.make_removal();
    csrf.make_removal();
    [session, csrf]
}
