use actix_web::{web, HttpRequest, HttpResponse};
use tessera_core::UnixTime;
use tessera_proto::problem::Problem;
use tessera_proto::setup::UserView;
use tessera_proto::users::{InviteLink, InviteLinkRequest, RegisterRequest};
use tessera_service::invites::Registration;

use crate::client_ip::client_ip;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::user_view;
use crate::AppState;

/// An invite link for one new account (`users.write`; an admin invite needs an admin).
#[utoipa::path(post, path = "/api/users/invite-link", tag = "users", security(("oauth2" = ["users.write"])), request_body = InviteLinkRequest,
    responses((status = 201, body = InviteLink), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn invite_link(
    state: web::Data<AppState>,
    caller: Caller,
    body: Option<web::Json<InviteLinkRequest>>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(&state, &["users.write"])?;
    let req = body.map(web::Json::into_inner).unwrap_or_default();
    let invite = state
        .services
        .create_invite(actor, req.role.as_deref(), req.expires_in)
        .await?;
    Ok(HttpResponse::Created().json(InviteLink {
        token: invite.token,
        url: invite.url,
        expires_at: UnixTime(invite.expires_at).to_rfc3339(),
    }))
}

/// Creates an account with an invite; the invite is consumed once, only when the account is valid.
#[utoipa::path(post, path = "/api/users/register", tag = "users", request_body = RegisterRequest,
    responses((status = 201, body = UserView), (status = 409, body = Problem), (status = 410, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Json(body): web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let ip = client_ip(&req, &s.settings.server.trusted_proxies);
    let user = s
        .register(
            Registration {
                token: body.token,
                username: body.username,
                email: body.email,
                password: body.password,
            },
            &ip,
        )
        .await?;
    Ok(HttpResponse::Created().json(user_view(&user)))
}
