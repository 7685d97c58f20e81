use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// A user's avatar (`assets.read`, any user's, as RomM serves them next to community content). Served with
/// the type its bytes were checked as, `nosniff`, and a sandboxing CSP, so an upload can never run as a page.
#[utoipa::path(get, path = "/api/users/{id}/avatar", tag = "users", security(("oauth2" = ["assets.read"])), params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/*", description = "PNG, JPEG or WebP"), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["assets.read"])?;
    let avatar = state.services.avatar(path.into_inner()).await?;
    let mut res = HttpResponse::Ok();
    res.content_type(avatar.content_type.as_str())
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ))
        // The URL in avatar_path changes with each upload, so a client may keep what it fetched.
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=86400"),
        ));
    Ok(res.body(avatar.image))
}
