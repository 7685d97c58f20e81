use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::{AccessCheckRequest, AccessCheckResponse};
use tessera_service::permissions::Subject;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// May this user (or the owner of this token) do `action` on `entity` (owned by `owner_id`)? Applies
/// role, group, overrides and `own_only`; for a token, also its scopes. The service key or `users.read`.
#[utoipa::path(post, path = "/api/access/check", tag = "permissions", security(("oauth2" = ["users.read"])), request_body = AccessCheckRequest,
    responses((status = 200, body = AccessCheckResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn check(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<AccessCheckRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["users.read"])?;
    let subject = match (req.user_id, req.token) {
        (Some(id), None) => Subject::User(id),
        (None, Some(t)) => Subject::Token(t),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "give exactly one of user_id or token",
            ))
        }
    };
    let d = state
        .services
        .access_check(subject, &req.entity, &req.action, req.owner_id)
        .await?;
    Ok(HttpResponse::Ok().json(AccessCheckResponse {
        allowed: d.allowed,
        reason: d.reason,
    }))
}
