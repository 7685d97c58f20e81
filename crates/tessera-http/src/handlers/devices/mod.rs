//! `/api/devices`: my devices (`devices.read` / `devices.write`), in RomM's device schema.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tessera_core::UnixTime;
use tessera_proto::devices::{DeviceCreateRequest, DeviceCreateResponse, DeviceUpdateRequest, DeviceView};
use tessera_proto::problem::Problem;
use tessera_service::devices::{DeviceEdit, DeviceRegistration, Registered};
use tessera_service::wire::{device_view as view, nullable};

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

/// RomM's device registration: 201 with a new device, 200 with the caller's device of the same fingerprint
/// (MAC address, else host name and platform), 409 `device_exists` when `allow_existing` is false.
#[utoipa::path(post, path = "/api/devices", tag = "devices", security(("oauth2" = ["devices.write"])), request_body = DeviceCreateRequest,
    responses((status = 201, body = DeviceCreateResponse), (status = 200, body = DeviceCreateResponse),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(body): web::Json<DeviceCreateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["devices.write"])?;
    let registration = DeviceRegistration {
        name: body.name,
        platform: body.platform,
        client: body.client,
        client_version: body.client_version,
        ip_address: body.ip_address,
        mac_address: body.mac_address,
        hostname: body.hostname,
        sync_mode: body.sync_mode,
        sync_config: body.sync_config,
        allow_existing: body.allow_existing,
        allow_duplicate: body.allow_duplicate,
    };
    let (d, how) = state
        .services
        .register_device(principal_of(id)?.user_id, registration)
        .await?;
    let status = match how {
        Registered::Created => StatusCode::CREATED,
        Registered::Existing => StatusCode::OK,
    };
    Ok(HttpResponse::build(status).json(DeviceCreateResponse {
        device_id: d.id.clone(),
        name: nullable(&d.name),
        created_at: UnixTime(d.created_at).to_rfc3339(),
    }))
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

/// RomM's partial update: absent fields stay, `null` clears a nullable one.
#[utoipa::path(put, path = "/api/devices/{id}", tag = "devices", security(("oauth2" = ["devices.write"])), params(("id" = String, Path)), request_body = DeviceUpdateRequest,
    responses((status = 200, body = DeviceView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    web::Json(body): web::Json<DeviceUpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["devices.write"])?;
    let edit = DeviceEdit {
        name: body.name,
        platform: body.platform,
        client: body.client,
        client_version: body.client_version,
        ip_address: body.ip_address,
        mac_address: body.mac_address,
        hostname: body.hostname,
        sync_enabled: body.sync_enabled,
        sync_mode: body.sync_mode,
        sync_config: body.sync_config,
    };
    let d = state
        .services
        .edit_device(principal_of(id)?.user_id, &path, edit)
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
