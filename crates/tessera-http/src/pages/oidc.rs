//! `GET /login/oidc` and `GET /login/oidc/callback`: upstream sign-in (API.md §8). The flow's `state`
//! is bound to the browser with a cookie; every refusal is a page that says what happened, never a 5xx
//! for something the browser or the provider sent.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tessera_service::oidc::OidcError;

use super::account::message_page;
use super::login::safe_rd;
use crate::error::ApiError;
use crate::AppState;

const STATE_COOKIE: &str = "tessera_oidc";
const TITLE: &str = "Sign-in failed";

#[derive(Deserialize)]
pub struct StartQuery {
    rd: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn state_cookie(state: &AppState, value: String, max_age_secs: i64) -> Cookie<'static> {
    let mut c = Cookie::build(STATE_COOKIE, value)
        .path("/login/oidc")
        .http_only(true)
        .secure(state.services.settings.session.cookie_secure)
        // Lax: the provider sends the browser back with a top-level GET, which Lax cookies accompany.
        .same_site(SameSite::Lax)
        .finish();
    c.set_max_age(actix_web::cookie::time::Duration::seconds(max_age_secs));
    c
}

fn failure(state: &AppState, e: OidcError) -> Result<HttpResponse, ApiError> {
    let status = match &e {
        OidcError::NotConfigured => StatusCode::NOT_FOUND,
        OidcError::StateMismatch | OidcError::Provider(_) => StatusCode::BAD_REQUEST,
        OidcError::Refused(_) => StatusCode::FORBIDDEN,
        OidcError::Service(_) => {
            return match e {
                OidcError::Service(inner) => Err(inner.into()),
                _ => unreachable!("matched above"),
            }
        }
    };
    tracing::info!(target: "tessera::security", reason = %e, "upstream sign-in refused");
    let mut res = message_page(state, TITLE, Some(&e.to_string()), status)?;
    res.add_cookie(&state_cookie(state, String::new(), 0))
        .map_err(|e| ApiError::internal(&e))?;
    Ok(res)
}

/// Starts upstream sign-in: a redirect to the provider (PKCE, state, nonce).
#[utoipa::path(get, path = "/login/oidc", tag = "pages", params(("rd" = Option<String>, Query, description = "where to return afterwards")),
    responses((status = 303, description = "to the identity provider"), (status = 404, description = "upstream sign-in is not configured", content_type = "text/html")))]
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<StartQuery>,
) -> Result<HttpResponse, ApiError> {
    let rd = safe_rd(&state, q.rd.as_deref())?;
    let ip = crate::client_ip::client_ip(&req, &state.services.settings.server.trusted_proxies);
    match state.services.start_oidc(rd, &ip).await {
        Ok(started) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, started.url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(state_cookie(&state, started.state, 600))
            .finish()),
        Err(e) => failure(&state, e),
    }
}

/// The provider's redirect back: signs in and sets the session cookies.
#[utoipa::path(get, path = "/login/oidc/callback", tag = "pages",
    params(("code" = Option<String>, Query), ("state" = Option<String>, Query), ("error" = Option<String>, Query), ("error_description" = Option<String>, Query)),
    responses((status = 303, description = "signed in; to the return URL"), (status = 400, description = "state mismatch or the provider refused", content_type = "text/html"), (status = 403, description = "no account for this identity", content_type = "text/html"), (status = 404, description = "upstream sign-in is not configured", content_type = "text/html")))]
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<CallbackQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(err) = &q.error {
        let text = q.error_description.as_deref().unwrap_or(err);
        return failure(&state, OidcError::Provider(text.to_owned()));
    }
    let (Some(code), Some(flow_state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return failure(&state, OidcError::StateMismatch);
    };
    let browser = req.cookie(STATE_COOKIE);
    let signed_in = match state
        .services
        .finish_oidc(code, flow_state, browser.as_ref().map(|c| c.value()))
        .await
    {
        Ok(s) => s,
        Err(e) => return failure(&state, e),
    };
    // The upstream provider vouches for the password, not for Tessera's second factor: asked here too.
    let pending = tessera_service::second_factor::PendingSignIn {
        user_id: signed_in.user.id,
        rd: signed_in.rd,
        oidc_id_token: Some(signed_in.id_token),
        enrol: false,
    };
    let mut res = crate::pages::login::after_first_factor(&state, &req, pending).await?;
    res.add_cookie(&state_cookie(&state, String::new(), 0))
        .map_err(|e| ApiError::internal(&e))?;
    Ok(res)
}
