use actix_web::{web, HttpResponse};
use tessera_proto::oauth::UserInfo;
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// The signed-in user (`me.read`).
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oauth", security(("oauth2" = ["me.read"])),
    responses((status = 200, body = UserInfo), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn userinfo(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    let p = id.principal.clone().ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "forbidden",
            "this credential does not belong to a user",
        )
    })?;
    let groups = state.services.group_names(&p).await?;
    Ok(HttpResponse::Ok().json(UserInfo {
        sub: p.user_id.to_string(),
        preferred_username: p.username.clone(),
        email: p.email.clone(),
        email_verified: p.email_verified,
        role: p.role.as_str().to_owned(),
        groups,
    }))
}
