//! `GET /oauth/authorize` (an app sends the browser here to sign in) and `POST /oauth/authorize` (the
//! consent page's answer). Parse → one service call → redirect or page; the rules live in
//! `tessera_service::oauth::authorize`. Works without JavaScript; the consent form carries the session's
//! CSRF token.

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use tessera_service::identity::Identity;
use tessera_service::oauth::authorize::{AuthorizeError, AuthorizeParams, AuthorizeRequest, Decision};

use crate::error::ApiError;
use crate::AppState;

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    csrf: &'a str,
    client_name: &'a str,
    logo_uri: Option<&'a str>,
    username: &'a str,
    return_host: &'a str,
    scopes: Vec<String>,
    params: Vec<(&'static str, String)>,
    error: Option<&'a str>,
}

/// The origin a redirect URI belongs to, for the page's `form-action`: Chromium applies `form-action` to
/// the redirects that follow a form post, so the consent answer may only go to Tessera and that app.
fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// `form_to`: the app's redirect URI; `logo`: its registered logo, the one image from elsewhere.
fn page(body: String, status: StatusCode, form_to: Option<&str>, logo: Option<&str>) -> HttpResponse {
    let extra = form_to.and_then(origin_of).unwrap_or_default();
    let img = logo.and_then(origin_of).unwrap_or_else(|| "'none'".to_owned());
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "content-security-policy",
            format!("default-src 'none'; style-src 'self'; img-src {img}; form-action 'self' {extra}; frame-ancestors 'none'"),
        ))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header(("referrer-policy", "no-referrer"))
        .content_type(ContentType::html())
        .body(body)
}

pub(crate) fn error_page(message: &str) -> Result<HttpResponse, ApiError> {
    let html = ConsentPage {
        csrf: "",
        client_name: "",
        logo_uri: None,
        username: "",
        return_host: "",
        scopes: Vec::new(),
        params: Vec::new(),
        error: Some(message),
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(page(html, StatusCode::BAD_REQUEST, None, None))
}

pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("referrer-policy", "no-referrer"))
        .finish()
}

fn answer(result: Result<HttpResponse, AuthorizeError>) -> Result<HttpResponse, ApiError> {
    match result {
        Ok(r) => Ok(r),
        Err(AuthorizeError::Page(m)) => error_page(&m),
        Err(AuthorizeError::Redirect { location, .. }) => Ok(see_other(&location)),
        Err(AuthorizeError::Service(tessera_service::ServiceError::RateLimited { retry_after_secs })) => {
            let mut res = error_page(&format!(
                "Too many sign-in requests from your network. Wait {retry_after_secs} seconds, then try again."
            ))?;
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs.max(1)),
            );
            Ok(res)
        }
        Err(AuthorizeError::Service(e)) => Err(e.into()),
    }
}

fn params_from(pairs: url::form_urlencoded::Parse<'_>) -> (AuthorizeParams, Option<String>, Option<String>) {
    let mut p = AuthorizeParams::default();
    let (mut csrf, mut action) = (None, None);
    for (k, v) in pairs {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "client_id" => p.client_id = v,
            "redirect_uri" => p.redirect_uri = v,
            "response_type" => p.response_type = v,
            "response_mode" => p.response_mode = v,
            "scope" => p.scope = v,
            "state" => p.state = v,
            "nonce" => p.nonce = v,
            "code_challenge" => p.code_challenge = v,
            "code_challenge_method" => p.code_challenge_method = v,
            "prompt" => p.prompt = v,
            "max_age" => p.max_age = v,
            "login_hint" => p.login_hint = v,
            "auth_after" => p.auth_after = v,
            "csrf_token" => csrf = v,
            "action" => action = v,
            _ => {}
        }
    }
    (p, csrf, action)
}

fn client_ip(state: &AppState, req: &HttpRequest) -> String {
    crate::client_ip::client_ip(req, &state.services.settings.server.trusted_proxies)
}

/// `/login` with this request as the return address; `again` asks for the password even when signed in.
fn to_login(state: &AppState, req: &AuthorizeRequest, again: bool) -> HttpResponse {
    let s = &state.services;
    let mut params = req.to_params(s);
    if again {
        params.retain(|(k, _)| *k != "auth_after");
        params.push(("auth_after", s.clock.now().as_secs().to_string()));
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let rd = format!("/oauth/authorize?{query}");
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("rd", &rd);
    if again {
        login.append_pair("reauth", "1");
    }
    if let Some(h) = &req.login_hint {
        login.append_pair("login_hint", h);
    }
    see_other(&format!("/login?{}", login.finish()))
}

fn consent_page(
    state: &AppState,
    req: &AuthorizeRequest,
    id: &Identity,
    csrf: &str,
    scopes: &[String],
) -> Result<HttpResponse, ApiError> {
    let username = id.principal.as_ref().map_or("", |p| p.username.as_str());
    let host = url::Url::parse(&req.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let html = ConsentPage {
        csrf,
        client_name: &req.client.name,
        logo_uri: req.client.logo_uri.as_deref(),
        username,
        return_host: &host,
        scopes: scopes.iter().map(|s| super::describe_scope(s)).collect(),
        params: req.to_params(&state.services),
        error: None,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(page(
        html,
        StatusCode::OK,
        Some(&req.redirect_uri),
        req.client.logo_uri.as_deref(),
    ))
}

/// OpenID Connect authorization endpoint (`response_type=code`, PKCE S256): a browser arrives here from an
/// app, signs in and consents, and returns to the app's registered redirect URI with `code`, `state` and
/// `iss` (or `error`). Errors about the client or redirect URI are a page, never a redirect.
#[utoipa::path(get, path = "/oauth/authorize", tag = "oauth",
    params(
        ("response_type" = String, Query, description = "code"),
        ("client_id" = String, Query),
        ("redirect_uri" = String, Query, description = "exactly one of the client's registered URIs"),
        ("scope" = Option<String>, Query, description = "openid profile email groups offline_access and Tessera scopes"),
        ("state" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("code_challenge" = Option<String>, Query, description = "required of public clients"),
        ("code_challenge_method" = Option<String>, Query, description = "S256"),
        ("prompt" = Option<String>, Query, description = "none, login or consent"),
        ("max_age" = Option<i64>, Query),
        ("login_hint" = Option<String>, Query),
    ),
    responses(
        (status = 303, description = "to the app with code or error, or to /login"),
        (status = 200, description = "the consent page", content_type = "text/html"),
        (status = 400, description = "a page: unknown client or unregistered redirect URI", content_type = "text/html"),
    ))]
pub async fn authorize(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (mut params, _, _) = params_from(url::form_urlencoded::parse(req.query_string().as_bytes()));
    params.client_ip = Some(client_ip(&state, &req));
    let s = &state.services;
    let checked = match s.check_authorize(&params).await {
        Ok(c) => c,
        Err(e) => return answer(Err(e)),
    };
    let signed_in = super::signed_in(&state, &req).await;
    match s
        .authorize_decision(&checked, signed_in.as_ref().map(|(i, _)| i))
        .await
    {
        Ok(Decision::SignIn { again }) => Ok(to_login(&state, &checked, again)),
        Ok(Decision::Redirect(location)) => Ok(see_other(&location)),
        Ok(Decision::Consent { scopes }) => match signed_in {
            Some((id, csrf)) => consent_page(&state, &checked, &id, &csrf, &scopes),
            None => Ok(to_login(&state, &checked, false)),
        },
        Err(e) => answer(Err(e)),
    }
}

/// The consent form's answer (`csrf_token`, `action=approve|deny` and the authorization parameters).
#[utoipa::path(post, path = "/oauth/authorize", tag = "oauth",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "to the app with code, or error=access_denied"),
        (status = 400, description = "a page: expired form or bad request", content_type = "text/html"),
    ))]
pub async fn consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = crate::extract::body::read_limited(&req, payload, crate::routes::FORM_LIMIT).await?;
    let (mut params, csrf, action) = params_from(url::form_urlencoded::parse(&body));
    params.client_ip = Some(client_ip(&state, &req));
    let s = &state.services;
    let result = async {
        let checked = s.check_authorize(&params).await?;
        let Some((id, expected)) = super::signed_in(&state, &req).await else {
            return Ok(to_login(&state, &checked, false));
        };
        if !tessera_crypto::ct_eq(csrf.unwrap_or_default().as_bytes(), expected.as_bytes()) {
            return Err(AuthorizeError::Page(
                "The form expired or did not come from this site. Start the sign-in again from the application.".into(),
            ));
        }
        let approve = action.as_deref() == Some("approve");
        s.answer_consent(&checked, &id, approve)
            .await
            .map(|location| see_other(&location))
    }
    .await;
    answer(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_as_words() {
        assert_eq!(crate::pages::describe_scope("roms.read"), "See roms (roms.read)");
        assert_eq!(crate::pages::describe_scope("email"), "See your email address");
    }

    #[test]
    fn form_action_names_only_the_redirect_origin() {
        assert_eq!(
            origin_of("https://app.example:8443/cb?x=1").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(origin_of("not a url"), None);
    }
}
