//! `GET /account/devices` and its forms (issue 22): a person's approved devices with their platform,
//! client, last sighting and the scopes of their token; rename, and revoke (the token ends at once). The
//! same services as `/api/devices`.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::devices::DeviceEdit;
use tessera_service::identity::Identity;

use crate::error::ApiError;
use crate::AppState;

const PAGE: &str = "/account/devices";

struct DeviceRowView {
    id: String,
    name: String,
    platform: String,
    client: String,
    last_seen: String,
    scopes: String,
}

#[derive(Template)]
#[template(path = "account_devices.html")]
struct DevicesPage<'a> {
    csrf: &'a str,
    devices: Vec<DeviceRowView>,
    done: Option<&'a str>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    id: &Identity,
    csrf: &str,
    done: Option<&str>,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let p = crate::handlers::views::principal_of(id)?;
    let tokens = s.list_client_tokens(p.user_id).await?;
    let devices = s
        .list_devices(p.user_id)
        .await?
        .into_iter()
        .map(|d| {
            let scopes = tokens
                .iter()
                .filter(|t| t.device_id.as_deref() == Some(d.id.as_str()))
                .map(|t| {
                    crate::handlers::client_tokens::view(t, &s.catalog)
                        .scopes
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join("; ");
            DeviceRowView {
                platform: d.platform.unwrap_or_else(|| "unknown platform".into()),
                last_seen: d
                    .last_seen
                    .map_or_else(|| "never".into(), |t| UnixTime(t).to_rfc3339()),
                scopes: if scopes.is_empty() {
                    "no token".into()
                } else {
                    scopes
                },
                id: d.id,
                name: d.name,
                client: d.client,
            }
        })
        .collect();
    let status = super::status_of(error.as_ref());
    let html = DevicesPage {
        csrf,
        devices,
        done,
        error,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(status, html))
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match super::signed_in_or_login(&state, &req, Some(PAGE)).await {
        Ok((id, csrf)) => render(&state, &id, &csrf, None, None).await,
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Deserialize)]
pub struct DeviceForm {
    csrf_token: String,
    id: String,
    name: Option<String>,
}

pub async fn rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<DeviceForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let p = crate::handlers::views::principal_of(&id)?;
    let edit = DeviceEdit {
        name: Some(form.name.clone()),
        ..DeviceEdit::default()
    };
    match state.services.edit_device(p.user_id, &form.id, edit).await {
        Ok(_) => render(&state, &id, &csrf, Some("Renamed."), None).await,
        Err(e) => render(&state, &id, &csrf, None, Some(super::in_words(e)?)).await,
    }
}

pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<DeviceForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let p = crate::handlers::views::principal_of(&id)?;
    state.services.delete_device(p.user_id, &form.id).await?;
    render(
        &state,
        &id,
        &csrf,
        Some("Revoked: that device's token no longer works."),
        None,
    )
    .await
}
