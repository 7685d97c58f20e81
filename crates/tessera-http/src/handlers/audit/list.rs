use actix_web::{web, HttpResponse};
use tessera_core::UnixTime;
use tessera_proto::ops::{AuditEventView, AuditQuery};
use tessera_proto::problem::Problem;
use tessera_service::audit::AuditFilter;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// Security events, newest first (`logs.read`): logins and failures, lockouts, refresh reuse,
/// revocations, admin changes.
#[utoipa::path(get, path = "/api/audit", tag = "audit", security(("oauth2" = ["logs.read"])), params(AuditQuery),
    responses((status = 200, body = [AuditEventView]), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["logs.read"])?;
    let q = query.into_inner();
    let filter = AuditFilter {
        before: q.before,
        ..AuditFilter::parse(q.since.as_deref(), q.kind.as_deref(), q.user_id, q.limit)?
    };
    let events = state.services.audit_events(filter).await?;
    let views: Vec<AuditEventView> = events
        .into_iter()
        .map(|e| AuditEventView {
            id: e.id,
            at: UnixTime(e.at).to_rfc3339(),
            kind: e.kind,
            user_id: e.user_id,
            actor: e.actor,
            ip: e.ip,
            detail: e.detail,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}
