//! `/api/users/me/consents`: the apps I allowed to sign me in; revoking one makes the next sign-in ask again.

use actix_web::{web, HttpResponse};
use tessera_core::UnixTime;
use tessera_proto::oauth::ConsentView;
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

/// The apps I consented to (`me.read`).
#[utoipa::path(get, path = "/api/users/me/consents", tag = "users", security(("oauth2" = ["me.read"])),
    responses((status = 200, body = Vec<ConsentView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    let p = principal_of(id)?;
    let rows = state.services.list_consents(p.user_id).await?;
    let views: Vec<ConsentView> = rows
        .into_iter()
        .map(|(c, name)| ConsentView {
            client_id: c.client_id,
            client_name: name,
            scopes: c
                .scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at: UnixTime(c.created_at).to_rfc3339(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Withdraws my consent for one app (`me.write`): its next sign-in asks again.
#[utoipa::path(delete, path = "/api/users/me/consents/{client_id}", tag = "users", security(("oauth2" = ["me.write"])),
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let p = principal_of(id)?;
    state.services.revoke_consent(p.user_id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
