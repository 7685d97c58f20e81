//! `/api/users/me/passkeys`: register (options, then the authenticator's answer), list, rename, delete.
//! The rules live in `tessera_service::passkeys`; the sign-in ceremonies are the `/login` page's.

use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::{
    PasskeyCeremonyView, PasskeyOptionsRequest, PasskeyRegisterRequest, PasskeyRenameRequest, PasskeyView,
};
use tessera_service::passkeys::PasskeyInfo;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

fn view(p: PasskeyInfo) -> PasskeyView {
    PasskeyView {
        id: p.id,
        name: p.name,
        created_at: p.created_at,
        last_used_at: p.last_used_at,
    }
}

/// Starts registering a passkey (`me.write`, with `current_password`): the options for
/// `navigator.credentials.create()`. A discoverable credential with user verification is asked for.
#[utoipa::path(post, path = "/api/users/me/passkeys/options", tag = "users", security(("oauth2" = ["me.write"])),
    request_body = PasskeyOptionsRequest,
    responses((status = 200, body = PasskeyCeremonyView), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn options(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<PasskeyOptionsRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let c = state
        .services
        .begin_passkey_registration(id, &req.current_password)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(PasskeyCeremonyView {
            challenge_id: c.challenge_id,
            options: c.options,
        }))
}

/// Finishes a registration with the authenticator's answer (`me.write`).
#[utoipa::path(post, path = "/api/users/me/passkeys", tag = "users", security(("oauth2" = ["me.write"])),
    request_body = PasskeyRegisterRequest,
    responses((status = 201, body = PasskeyView), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<PasskeyRegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let credential = serde_json::to_string(&req.credential).map_err(|e| ApiError::internal(&e))?;
    let p = state
        .services
        .finish_passkey_registration(id, &req.challenge_id, &credential, &req.name)
        .await?;
    Ok(HttpResponse::Created().json(view(p)))
}

/// The caller's passkeys (`me.read`).
#[utoipa::path(get, path = "/api/users/me/passkeys", tag = "users", security(("oauth2" = ["me.read"])),
    responses((status = 200, body = [PasskeyView]), (status = 401, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    let list: Vec<PasskeyView> = state
        .services
        .list_passkeys(id)
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// Renames one of the caller's passkeys (`me.write`).
#[utoipa::path(patch, path = "/api/users/me/passkeys/{id}", tag = "users", security(("oauth2" = ["me.write"])),
    params(("id" = String, Path)), request_body = PasskeyRenameRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn rename(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    web::Json(req): web::Json<PasskeyRenameRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    state.services.rename_passkey(id, &path, &req.name).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes one of the caller's passkeys (`me.write`).
#[utoipa::path(delete, path = "/api/users/me/passkeys/{id}", tag = "users", security(("oauth2" = ["me.write"])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    state.services.delete_passkey(id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
