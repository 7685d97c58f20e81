use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::setup::UserView;
use tessera_proto::users::UserUpdateRequest;
use tessera_service::accounts::UserUpdate;

use crate::error::ApiError;
use crate::extract::user_form::read_user_update;
use crate::extract::Caller;
use crate::handlers::views::user_view;
use crate::AppState;

/// Edits a user (`users.write` in the credential; one's own account with `me.write`, as RomM allows). No
/// self-demotion or self-disable; the last enabled admin stays; only admins touch admins; nothing hands
/// over more than the credential holds. Takes JSON, or RomM's form (urlencoded, or multipart with an
/// `avatar` file: PNG, JPEG or WebP, at most 2 MiB, served at `avatar_path`).
#[utoipa::path(put, path = "/api/users/{id}", tag = "users", security(("oauth2" = ["users.write"])), params(("id" = i64, Path)),
    request_body(content(
        (UserUpdateRequest = "application/json"),
        (UserUpdateRequest = "application/x-www-form-urlencoded"),
        (UserUpdateRequest = "multipart/form-data"),
    )),
    responses((status = 200, body = UserView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let own = caller
        .0
        .as_ref()
        .and_then(|c| c.principal.as_ref())
        .is_some_and(|p| p.user_id == id);
    let actor = if !own {
        caller.require(&state, &["users.write"])?
    } else {
        caller.require(&state, &["me.write"])?
    };
    // Read after the credential is checked: an anonymous caller never gets a 2 MiB body read.
    let body = read_user_update(&http, payload).await?;
    let req: UserUpdateRequest = body.update;
    let user = state
        .services
        .update_user(
            actor,
            id,
            UserUpdate {
                username: req.username,
                email: req.email,
                password: req.password,
                role: req.role,
                permission_group_id: req.permission_group_id,
                enabled: req.enabled,
                email_verified: req.email_verified,
                ra_username: req.ra_username,
                ui_settings: req.ui_settings,
                avatar: body.avatar,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(user_view(&user)))
}
