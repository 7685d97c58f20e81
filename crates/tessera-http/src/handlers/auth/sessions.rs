use actix_web::{web, HttpResponse};
use tessera_core::UnixTime;
use tessera_proto::problem::Problem;
use tessera_proto::users::SessionView;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

/// My live sessions, newest first (`me.read`).
#[utoipa::path(get, path = "/api/sessions", tag = "sessions", security(("oauth2" = ["me.read"])),
    responses((status = 200, body = [SessionView]), (status = 401, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    let p = principal_of(id)?;
    let rows = state
        .services
        .list_sessions(p.user_id, id.session_id.as_deref())
        .await?;
    let t = |s: i64| UnixTime(s).to_rfc3339();
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|s| SessionView {
                id: s.id,
                created_at: t(s.created_at),
                last_seen_at: t(s.last_seen_at),
                expires_at: t(s.expires_at),
                user_agent: s.user_agent,
                ip: s.ip,
                current: s.current,
            })
            .collect::<Vec<_>>(),
    ))
}

/// Ends one of my sessions (`me.write`); another user's session is a 404.
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "sessions", security(("oauth2" = ["me.write"])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let p = principal_of(id)?;
    state.services.delete_session(p.user_id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
