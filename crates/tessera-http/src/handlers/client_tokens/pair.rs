//! Pair codes: an 8-character, one-minute code moves a token onto a device without typing it.

use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::client_tokens::{ClientTokenCreate, ExchangeRequest, PairCode};
use tessera_proto::problem::Problem;
use tessera_service::client_tokens::PAIR_CODE_TTL_SECS;

use super::created;
use crate::client_ip::client_ip;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// A pair code for one of my tokens (`me.write`).
#[utoipa::path(post, path = "/api/client-tokens/{id}/pair", tag = "client-tokens", security(("oauth2" = ["me.write"])), params(("id" = i64, Path)),
    responses((status = 200, body = PairCode), (status = 404, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let code = state.services.create_pair_code(id, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(PairCode {
        code,
        expires_in: PAIR_CODE_TTL_SECS,
    }))
}

/// 204 while the code waits, 404 once used or expired (counts against `pair_exchange`).
#[utoipa::path(get, path = "/api/client-tokens/pair/{code}/status", tag = "client-tokens", params(("code" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let ip = client_ip(&req, &s.settings.server.trusted_proxies);
    s.pair_code_pending(&path, &ip).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Trades a code for its token, with a fresh secret shown once; of two racing exchanges one wins.
#[utoipa::path(post, path = "/api/client-tokens/exchange", tag = "client-tokens", request_body = ExchangeRequest,
    responses((status = 200, body = ClientTokenCreate), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn exchange(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Json(body): web::Json<ExchangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let ip = client_ip(&req, &s.settings.server.trusted_proxies);
    let c = s.exchange_pair_code(&body.code, &ip).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(created(c, &s.catalog)))
}
