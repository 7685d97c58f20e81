use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::{LoginRequest, LoginResponse};

use super::sign_in;
use crate::error::ApiError;
use crate::extract::body::read_limited;
use crate::routes::{FORM_LIMIT, JSON_LIMIT};
use crate::AppState;
use tessera_service::authn::decode_basic;

/// RomM's login: HTTP Basic credentials → session cookie.
#[utoipa::path(post, path = "/api/login", tag = "sessions", security(("basic" = [])),
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn login_basic(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    crate::csrf::refuse_cross_site(&state, &req)?;
    let creds = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .and_then(decode_basic)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send HTTP Basic credentials",
            )
        })?;
    sign_in(&state, &req, &creds.0, &creds.1, None).await
}

/// Login with `{username, password}` as JSON or a form → session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "sessions", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn login_json(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    crate::csrf::refuse_cross_site(&state, &req)?;
    let ctype = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let form = ctype.starts_with("application/x-www-form-urlencoded");
    let limit = if form { FORM_LIMIT } else { JSON_LIMIT };
    let body = read_limited(&req, payload, limit).await?;
    let parsed: LoginRequest = if form {
        serde_urlencoded::from_bytes(&body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                format!("invalid form: {e}"),
            )
        })?
    } else if ctype.starts_with("application/json") {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    format!("invalid field: {e}"),
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("malformed JSON: {e}"),
                )
            }
        })?
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send JSON or a form",
        ));
    };
    sign_in(
        &state,
        &req,
        &parsed.username,
        &parsed.password,
        parsed.otp.as_deref(),
    )
    .await
}
