//! `/api/devices`: my devices (`devices.read` / `devices.write`).

use actix_web::{web, HttpResponse};
use tessera_core::UnixTime;
use tessera_db::models::devices::Device;
use tessera_proto::devices::{DeviceUpdateRequest, DeviceView};
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

fn view(d: &Device) -> DeviceView {
    DeviceView {
        id: d.id.clone(),
        user_id: d.user_id,
        client_device_identifier: d.client_device_identifier.clone(),
        name: d.name.clone(),
        client: d.client.clone(),
        platform: d.platform.clone(),
        client_version: d.client_version.clone(),
        created_at: UnixTime(d.created_at).to_rfc3339(),
        last_seen: d.last_seen.map(|t| UnixTime(t).to_rfc3339()),
    }
}

#[utoipa::path(get, path = "/api/devices", tag = "devices", security(("oauth2" = ["devices.read"])),
    responses((status = 200, body = [DeviceView]), (status = 401, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["devices.read"])?;
    let rows = state.services.list_devices(principal_of(id)?.user_id).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

#[utoipa::path(get, path = "/api/devices/{id}", tag = "devices", security(("oauth2" = ["devices.read"])), params(("id" = String, Path)),
    responses((status = 200, body = DeviceView), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["devices.read"])?;
    let d = state
        .services
        .get_device(principal_of(id)?.user_id, &path)
        .await?;
    Ok(HttpResponse::Ok().json(view(&d)))
}

/// Renames a device.
#[utoipa::path(put, path = "/api/devices/{id}", tag = "devices", security(("oauth2" = ["devices.write"])), params(("id" = String, Path)), request_body = DeviceUpdateRequest,
    responses((status = 200, body = DeviceView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    web::Json(body): web::Json<DeviceUpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["devices.write"])?;
    let d = state
        .services
        .rename_device(principal_of(id)?.user_id, &path, &body.name)
        .await?;
    Ok(HttpResponse::Ok().json(view(&d)))
}

/// Deletes a device and revokes every token bound to it.
#[utoipa::path(delete, path = "/api/devices/{id}", tag = "devices", security(("oauth2" = ["devices.write"])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["devices.write"])?;
    state
        .services
        .delete_device(principal_of(id)?.user_id, &path)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
