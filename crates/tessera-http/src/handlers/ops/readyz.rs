use actix_web::{web, HttpResponse};
use tessera_proto::ops::Readiness;

use crate::AppState;

/// Readiness: 503 when the database is unreachable or the process is shutting down. The store and the
/// revocation listener are reported (`ok`/`degraded`, and the status `degraded`) but do not decide: the
/// replica still answers correctly without them, more slowly or with fewer flows.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let r = state.services.readiness().await;
    let shutting_down = state.is_shutting_down();
    let ready = r.database_ok && !shutting_down;
    let status = match (ready, r.store_ok && r.listener_ok) {
        (false, _) => "unavailable",
        (true, true) => "ok",
        (true, false) => "degraded",
    };
    let ok_or_degraded = |ok: bool| if ok { "ok" } else { "degraded" }.to_owned();
    let body = Readiness {
        status: status.into(),
        database: if r.database_ok { "ok" } else { "unavailable" }.into(),
        store: ok_or_degraded(r.store_ok),
        revocation_listener: ok_or_degraded(r.listener_ok),
        store_kind: state.services.store.kind().into(),
        shutting_down,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
