use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::AppState;

/// Prometheus text format: requests and latency by route, cache hits, bcrypt queue, rate-limit
/// rejections, tokens by kind, active sessions, 5xx by kind. Unauthenticated, like `/healthz`: keep it
/// on the internal network (the proxy recipes do not route it).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.services.render_metrics().await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
