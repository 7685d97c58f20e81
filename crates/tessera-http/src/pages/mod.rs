//! Server-rendered pages: compiled askama templates; the only assets are our own stylesheet and passkeys
//! script (`/assets/`).

pub mod account;
pub mod account_apps;
pub mod account_devices;
pub mod account_home;
pub mod account_passkeys;
pub mod account_tokens;
pub mod admin;
pub mod assets;
pub mod authorize;
pub mod device;
pub mod end_session;
pub mod errors;
pub mod login;
pub mod oidc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tessera_service::identity::Identity;

use crate::cookies::session_cookie;

/// The signed-in session and its CSRF token, if any.
pub(crate) async fn signed_in(state: &crate::AppState, req: &HttpRequest) -> Option<(Identity, String)> {
    let s = &state.services;
    let c = session_cookie(req, &s.settings.session)?;
    let id = s.resolve_session(c).await.ok()?;
    Some((id, s.csrf_token(c)))
}

/// The signed-in session and its CSRF token, or a redirect through `/login` back to `page` (a form's
/// action is not a page to come back to), or else to this request's URL.
pub(crate) async fn signed_in_or_login(
    state: &crate::AppState,
    req: &HttpRequest,
    page: Option<&str>,
) -> Result<(Identity, String), HttpResponse> {
    if let Some(v) = signed_in(state, req).await {
        return Ok(v);
    }
    let here = page.unwrap_or_else(|| req.uri().path_and_query().map_or("/", |p| p.as_str()));
    let rd: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Err(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/login?rd={rd}")))
        .finish())
}

/// A scope in words, for the consent page and the token picker.
pub(crate) fn describe_scope(name: &str) -> String {
    match name {
        "openid" => "Know who you are (your account id)".to_owned(),
        "profile" => "See your username".to_owned(),
        "email" => "See your email address".to_owned(),
        "groups" => "See your role and permission group".to_owned(),
        "offline_access" => "Stay signed in when you are away (a refresh token)".to_owned(),
        "me.read" => "See your profile (me.read)".to_owned(),
        "me.write" => "Change your profile (me.write)".to_owned(),
        other => match other.split_once('.') {
            Some((what, "read")) => format!("See {what} ({other})"),
            Some((what, "write")) => format!("Change {what} ({other})"),
            _ => other.to_owned(),
        },
    }
}

/// A form's fields in order, for forms whose fields repeat (one per ticked box), which typed forms cannot
/// read. The body is bounded by the form payload limit.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `name` ("" when absent).
pub(crate) fn form_field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Every value of `name`.
pub(crate) fn form_values(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// A refusal a person can act on, in words, for the page that was posted (shown with 422); any other
/// failure is the error page. The one mapping of service errors to page messages.
pub(crate) fn in_words(e: tessera_service::ServiceError) -> Result<String, crate::error::ApiError> {
    use tessera_service::ServiceError;
    match e {
        ServiceError::Validation(fields) => Ok(fields
            .iter()
            .map(|f| format!("{}: {}", f.field.replace('_', " "), f.message))
            .collect::<Vec<_>>()
            .join("; ")),
        ServiceError::Conflict(m) | ServiceError::Forbidden(m) => Ok(m),
        ServiceError::ScopeExcess { excess } => Ok(format!(
            "that needs rights you do not hold: {}",
            excess.join(", ")
        )),
        ServiceError::TokenLimit(n) => Ok(format!(
            "you have {n} tokens, the most there can be: delete one first"
        )),
        other => Err(other.into()),
    }
}

/// 422 when the page shows a refusal, else 200.
pub(crate) fn status_of(error: Option<&String>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// A signed-in person's form post: the session, and the session's CSRF token in the form's field (403
/// otherwise); without a session, a redirect through `/login` back to `page`.
pub(crate) async fn signed_in_form(
    state: &crate::AppState,
    req: &HttpRequest,
    csrf_token: &str,
    page: &str,
) -> Result<Result<(Identity, String), HttpResponse>, crate::error::ApiError> {
    let (id, csrf) = match signed_in_or_login(state, req, Some(page)).await {
        Ok(v) => v,
        Err(redirect) => return Ok(Err(redirect)),
    };
    if !tessera_crypto::ct_eq(csrf_token.as_bytes(), csrf.as_bytes()) {
        return Err(crate::error::ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form expired; reload the page",
        ));
    }
    Ok(Ok((id, csrf)))
}

/// A page for a signed-in person (its forms carry the session's CSRF token): the strict headers of every
/// page; scripts and fetches only from Tessera itself (the passkeys script).
pub(crate) fn session_page(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "content-security-policy",
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header(("x-frame-options", "DENY"))
        .content_type(ContentType::html())
        .body(html)
}

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
                "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'{}; frame-ancestors 'none'",
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
