//! `GET /account/passkeys`, `POST /account/passkeys/rename` and `/delete`: a person's passkeys. Adding
//! one runs in the page's script against `/api/users/me/passkeys` (WebAuthn needs the browser's API);
//! renaming and deleting are plain forms with the session's CSRF token. The same services as the API.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::identity::Identity;

use crate::error::ApiError;
use crate::AppState;

const PAGE: &str = "/account/passkeys";

struct PasskeyRowView {
    id: String,
    name: String,
    created: String,
    last_used: Option<String>,
}

#[derive(Template)]
#[template(path = "account_passkeys.html")]
struct PasskeysPage<'a> {
    csrf: &'a str,
    username: &'a str,
    passkeys: Vec<PasskeyRowView>,
    done: Option<&'a str>,
    available: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    added: Option<String>,
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    csrf_token: String,
    id: String,
    name: Option<String>,
}

async fn render(
    state: &AppState,
    id: &Identity,
    csrf: &str,
    done: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let p = crate::handlers::views::principal_of(id)?;
    let passkeys = s
        .list_passkeys(id)
        .await?
        .into_iter()
        .map(|k| PasskeyRowView {
            id: k.id,
            name: k.name,
            created: UnixTime(k.created_at).to_rfc3339(),
            last_used: k.last_used_at.map(|t| UnixTime(t).to_rfc3339()),
        })
        .collect();
    let html = PasskeysPage {
        csrf,
        username: &p.username,
        passkeys,
        done,
        available: s.passkeys_available(),
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(StatusCode::OK, html))
}

pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    match super::signed_in_or_login(&state, &req, Some(PAGE)).await {
        Ok((id, csrf)) => {
            let done = q.added.is_some().then_some("Added. You can sign in with it now.");
            render(&state, &id, &csrf, done).await
        }
        Err(redirect) => Ok(redirect),
    }
}

pub async fn rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<PasskeyForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let name = form.name.as_deref().unwrap_or("");
    state.services.rename_passkey(&id, &form.id, name).await?;
    render(&state, &id, &csrf, Some("Renamed.")).await
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<PasskeyForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    state.services.delete_passkey(&id, &form.id).await?;
    render(
        &state,
        &id,
        &csrf,
        Some("Deleted. That passkey no longer signs you in."),
    )
    .await
}
