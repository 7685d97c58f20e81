//! `GET /account/apps` and `POST /account/apps/revoke`: the apps a person allowed to sign them in, and
//! withdrawing one. The same services as `/api/users/me/consents`; the form carries the session's CSRF token.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::identity::Identity;

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
    Ok(super::session_page(StatusCode::OK, html))
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match super::signed_in_or_login(&state, &req, Some("/account/apps")).await {
        Ok((id, csrf)) => render(&state, &id, &csrf, None).await,
        Err(redirect) => Ok(redirect),
    }
}

pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<RevokeForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, "/account/apps").await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
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
