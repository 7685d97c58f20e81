//! `/admin/settings`: store and database health, the signing keys (rotate), the effective configuration.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;

use super::require_admin;
use crate::error::ApiError;
use crate::AppState;

struct KeyView {
    kid: String,
    alg: String,
    age: String,
    state: String,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage<'a> {
    csrf: &'a str,
    database_ok: bool,
    store_ok: bool,
    listener_ok: bool,
    keys: Vec<KeyView>,
    config: String,
    done: Option<&'a str>,
}

/// An age in words: days, else hours, else minutes.
fn age(secs: i64) -> String {
    match secs.max(0) {
        s if s >= 86_400 => format!("{} days", s / 86_400),
        s if s >= 3_600 => format!("{} hours", s / 3_600),
        s => format!("{} minutes", s / 60),
    }
}

async fn render_settings(state: &AppState, csrf: &str, done: Option<&str>) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let health = s.readiness().await;
    let now = s.clock.now().as_secs();
    let keys = s
        .keys
        .list()
        .await?
        .into_iter()
        .map(|k| KeyView {
            age: age(now - k.created_at),
            state: match (k.retired_at, k.verify_until) {
                (None, _) => "current".to_owned(),
                (Some(_), Some(until)) if until > now => {
                    format!("retired, verifies until {}", UnixTime(until).to_rfc3339())
                }
                _ => "retired".to_owned(),
            },
            kid: k.kid,
            alg: k.alg,
        })
        .collect();
    // The settings serialise with their secrets redacted (`tessera_service::settings::redact`): the view
    // is derived from the configuration itself, so it cannot drift from it.
    let config = serde_json::to_string_pretty(s.settings.as_ref()).map_err(|e| ApiError::internal(&e))?;
    let html = SettingsPage {
        csrf,
        database_ok: health.database_ok,
        store_ok: health.store_ok,
        listener_ok: health.listener_ok,
        keys,
        config,
        done,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(crate::pages::session_page(StatusCode::OK, html))
}

/// `GET /admin/settings` (an admin): health, signing keys and the effective configuration.
pub async fn settings(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match crate::pages::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id, &["users.read"])?;
    render_settings(&state, &csrf, None).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// `POST /admin/settings/rotate-key` (an admin).
pub async fn rotate_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<CsrfForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) =
        match crate::pages::signed_in_form(&state, &req, &form.csrf_token, "/admin/settings").await? {
            Ok(v) => v,
            Err(redirect) => return Ok(redirect),
        };
    require_admin(&state, &id, &["users.read"])?;
    state.services.rotate_signing_key(&id).await?;
    render_settings(
        &state,
        &csrf,
        Some("Rotated: new tokens are signed with the new key."),
    )
    .await
}
