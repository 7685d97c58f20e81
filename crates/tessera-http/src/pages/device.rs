//! `GET|POST /device` (alias `/pair/device`): approve or deny a device with a signed-in session. Works
//! without JavaScript; the forms carry the session's CSRF token. `GET /device/qr.svg` draws the link.

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_service::device_flow::display_user_code;
use tessera_service::identity::Identity;
use tessera_service::ServiceError;

use crate::error::ApiError;
use crate::AppState;

struct ScopeChoice {
    name: String,
    allowed: bool,
}

struct PendingView {
    user_code: String,
    display_code: String,
    name: String,
    client: String,
    platform: Option<String>,
    scopes: Vec<ScopeChoice>,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    csrf: &'a str,
    pending: Option<PendingView>,
    error: Option<&'a str>,
    done: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeQuery {
    user_code: Option<String>,
}

fn html(page: &DevicePage<'_>, status: StatusCode) -> Result<HttpResponse, ApiError> {
    let body = page.render().map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("content-security-policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"))
        .insert_header(("x-frame-options", "DENY"))
        .content_type(ContentType::html())
        .body(body))
}

async fn pending_view(state: &AppState, id: &Identity, code: &str) -> Result<PendingView, ServiceError> {
    let s = &state.services;
    let p = s.pending_device(id, code).await?;
    Ok(PendingView {
        display_code: display_user_code(&p.user_code),
        user_code: p.user_code,
        name: p.info.name,
        client: p.info.client,
        platform: p.info.platform,
        scopes: s
            .catalog
            .names(p.requested)
            .into_iter()
            .map(|n| ScopeChoice {
                name: n.to_owned(),
                allowed: s.catalog.get(n).is_some_and(|b| p.allowed.covers(b)),
            })
            .collect(),
    })
}

pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<CodeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let Some(code) = q.user_code.as_deref().filter(|c| !c.trim().is_empty()) else {
        return html(
            &DevicePage {
                csrf: &csrf,
                pending: None,
                error: None,
                done: None,
            },
            StatusCode::OK,
        );
    };
    match pending_view(&state, &id, code).await {
        Ok(p) => html(
            &DevicePage {
                csrf: &csrf,
                pending: Some(p),
                error: None,
                done: None,
            },
            StatusCode::OK,
        ),
        Err(ServiceError::NotFound) => html(
            &DevicePage {
                csrf: &csrf,
                pending: None,
                error: Some("That code is unknown, used or expired. Check the device and try again."),
                done: None,
            },
            StatusCode::NOT_FOUND,
        ),
        Err(ServiceError::RateLimited { retry_after_secs }) => {
            let mut res = html(
                &DevicePage {
                    csrf: &csrf,
                    pending: None,
                    error: Some("Too many wrong codes. Wait a minute, then try again."),
                    done: None,
                },
                StatusCode::TOO_MANY_REQUESTS,
            )?;
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after_secs.max(1)),
            );
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// Approve or deny. The body is a form with repeated `scope` fields, so it is parsed by hand.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = crate::extract::body::read_limited(&req, payload, crate::routes::FORM_LIMIT).await?;
    let (id, csrf) = match super::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let mut scopes = Vec::new();
    let (mut token, mut code, mut action, mut name, mut expires) =
        (String::new(), String::new(), String::new(), None, None);
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "scope" => scopes.push(v.into_owned()),
            "csrf_token" => token = v.into_owned(),
            "user_code" => code = v.into_owned(),
            "action" => action = v.into_owned(),
            "device_name" => name = Some(v.into_owned()),
            "expires_in" => expires = Some(v.into_owned()),
            _ => {}
        }
    }
    if !tessera_crypto::ct_eq(token.as_bytes(), csrf.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form expired; reload the page",
        ));
    }
    let s = &state.services;
    let outcome = match action.as_str() {
        "deny" => s
            .deny_device(&id, &code)
            .await
            .map(|()| "The device was denied.".to_owned()),
        _ => {
            if !id.scopes.covers(s.catalog.get("me.write").unwrap_or_default()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    "approving needs me.write",
                ));
            }
            s.approve_device(&id, &code, &scopes, name.as_deref(), expires.as_deref())
                .await
                .map(|(_, n)| format!("“{n}” is connected. You can return to your device."))
        }
    };
    match outcome {
        Ok(msg) => html(
            &DevicePage {
                csrf: &csrf,
                pending: None,
                error: None,
                done: Some(msg),
            },
            StatusCode::OK,
        ),
        Err(ServiceError::NotFound) => html(
            &DevicePage {
                csrf: &csrf,
                pending: None,
                error: Some("That code is unknown, used or expired."),
                done: None,
            },
            StatusCode::NOT_FOUND,
        ),
        Err(
            e
            @ (ServiceError::Validation(_) | ServiceError::ScopeExcess { .. } | ServiceError::TokenLimit(_)),
        ) => {
            let msg = e.to_string();
            let pending = pending_view(&state, &id, &code).await.ok();
            html(
                &DevicePage {
                    csrf: &csrf,
                    pending,
                    error: Some(&msg),
                    done: None,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// An SVG QR code of `verification_uri_complete`, for launchers without a QR library.
pub async fn qr(state: web::Data<AppState>, q: web::Query<CodeQuery>) -> Result<HttpResponse, ApiError> {
    let code = q
        .user_code
        .as_deref()
        .and_then(tessera_service::device_flow::normalise_user_code)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "user_code must be 8 characters like ABCD-EFGH",
            )
        })?;
    let (_, complete) = crate::handlers::device::verification(&state, &code);
    let qr = qrcode::QrCode::new(complete.as_bytes()).map_err(|e| ApiError::internal(&e))?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("image/svg+xml")
        .body(svg))
}
