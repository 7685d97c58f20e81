//! The session and CSRF cookies (API.md §7–8).

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use tessera_service::settings::SessionSettings;

/// The value of the request's session cookie, under this deployment's name (`session.cookie_name`): the
/// first of that name in its `Cookie` headers, as sent. Read by hand rather than through actix's cookie
/// jar, which parses and percent-decodes every cookie of the request into owned copies (about 7 % of a
/// cached forward-auth answer's instructions); a session id is plain hex, so it never needs decoding,
/// and an encoded one is simply not a session.
pub fn session_cookie<'a>(req: &'a actix_web::HttpRequest, s: &SessionSettings) -> Option<&'a str> {
    cookie_value(req.headers(), &s.cookie_name)
}

/// The first cookie named `name` in the `Cookie` headers (RFC 6265 §5.4: `name=value` pairs split by `;`).
fn cookie_value<'a>(headers: &'a actix_web::http::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|h| h.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k.trim_ascii() == name).then(|| v.trim_ascii())
        })
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

#[cfg(test)]
mod tests {
    use super::cookie_value;
    use actix_web::http::header::{HeaderMap, HeaderValue, COOKIE};

    #[test]
    fn the_first_cookie_of_the_name_is_read_as_sent() {
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; tessera_session_x=no;  tessera_session = abc ;"),
        );
        h.append(COOKIE, HeaderValue::from_static("tessera_session=later"));
        assert_eq!(cookie_value(&h, "tessera_session"), Some("abc"));
        assert_eq!(cookie_value(&h, "theme"), Some("dark"));
        assert_eq!(cookie_value(&h, "missing"), None);
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("garbage; tessera_session=%61b%20c"),
        );
        assert_eq!(
            cookie_value(&h, "tessera_session"),
            Some("%61b%20c"),
            "never decoded"
        );
    }
}
