use actix_web::{web, HttpResponse};
use tessera_proto::oauth::UserInfo;
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// The signed-in user (`me.read`). For an access token from an OpenID sign-in, only the claims of its
/// OpenID scopes: `sub` always, `preferred_username`/`name` with `profile`, `email`/`email_verified` with
/// `email`, `groups`/`roles` with `groups` (OpenID Connect Core §5.4).
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
    if let Some(oidc) = id.oidc_scopes.as_deref() {
        let has = |s: &str| oidc.split(' ').any(|x| x == s);
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), p.user_id.to_string().into());
        if has("profile") {
            claims.insert("preferred_username".into(), p.username.clone().into());
            claims.insert("name".into(), p.username.clone().into());
        }
        if has("email") {
            if let Some(e) = &p.email {
                claims.insert("email".into(), e.clone().into());
                claims.insert("email_verified".into(), p.email_verified.into());
            }
        }
        if has("groups") {
            claims.insert("groups".into(), groups.into());
            claims.insert("roles".into(), vec![p.role.as_str().to_owned()].into());
        }
        return Ok(HttpResponse::Ok().json(claims));
    }
    Ok(HttpResponse::Ok().json(UserInfo {
        sub: p.user_id.to_string(),
        preferred_username: p.username.clone(),
        email: p.email.clone(),
        email_verified: p.email_verified,
        role: p.role.as_str().to_owned(),
        groups,
    }))
}
