use actix_web::{web, HttpResponse};
use tessera_proto::ops::Readiness;

use crate::AppState;

/// Readiness: 503 when the database is unreachable or the process is shutting down.
/// The store is reported (`ok`/`degraded`) but does not decide: short-lived state can degrade gracefully.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let r = state.services.readiness().await;
    let shutting_down = state.is_shutting_down();
    let ready = r.database_ok && !shutting_down;
    let body = Readiness {
        status: if ready { "ok" } else { "unavailable" }.into(),
        database: if r.database_ok { "ok" } else { "unavailable" }.into(),
        store: if r.store_ok { "ok" } else { "degraded" }.into(),
        store_kind: state.services.store.kind().into(),
        shutting_down,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
