//! `GET /account/apps` and `POST /account/apps/revoke`: the apps a person allowed to sign them in, and
//! withdrawing one. The same services as `/api/users/me/consents`; the form carries the session's CSRF token.

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::identity::Identity;

use crate::cookies::session_cookie;
use crate::error::ApiError;
use crate::AppState;

struct AppView {
    client_id: String,
    name: String,
    scopes: String,
    since: String,
}

#[derive(Template)]
#[template(path = "account_apps.html")]
struct AppsPage<'a> {
    csrf: &'a str,
    username: &'a str,
    apps: Vec<AppView>,
    done: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf_token: String,
    client_id: String,
}

/// The signed-in session and its CSRF token, or a redirect through `/login` back here.
async fn session(state: &AppState, req: &HttpRequest) -> Result<(Identity, String), HttpResponse> {
    let s = &state.services;
    if let Some(c) = session_cookie(req, &s.settings.session) {
        if let Ok(id) = s.resolve_session(c.value()).await {
            return Ok((id, s.csrf_token(c.value())));
        }
    }
    Err(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login?rd=%2Faccount%2Fapps"))
        .finish())
}

async fn render(
    state: &AppState,
    id: &Identity,
    csrf: &str,
    done: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let p = crate::handlers::views::principal_of(id)?;
    let apps = state
        .services
        .list_consents(p.user_id)
        .await?
        .into_iter()
        .map(|(c, name)| AppView {
            name: name.unwrap_or_else(|| "(an app since removed)".into()),
            since: UnixTime(c.created_at).to_rfc3339(),
            scopes: c.scopes,
            client_id: c.client_id,
        })
        .collect();
    let html = AppsPage {
        csrf,
        username: &p.username,
        apps,
        done,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header(("x-frame-options", "DENY"))
        .content_type(ContentType::html())
        .body(html))
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match session(&state, &req).await {
        Ok((id, csrf)) => render(&state, &id, &csrf, None).await,
        Err(redirect) => Ok(redirect),
    }
}

pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<RevokeForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match session(&state, &req).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    if !tessera_crypto::ct_eq(form.csrf_token.as_bytes(), csrf.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form expired; reload the page",
        ));
    }
    let p = crate::handlers::views::principal_of(&id)?;
    state.services.revoke_consent(p.user_id, &form.client_id).await?;
    render(
        &state,
        &id,
        &csrf,
        Some("Removed. That app will ask again next time."),
    )
    .await
}
