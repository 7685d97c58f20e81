//! `GET /oauth/end_session`: RP-initiated logout. The decision is `Services::plan_end_session`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use tessera_service::oauth::authorize::AuthorizeError;
use tessera_service::oauth::end_session::{EndSession, EndSessionParams};

use crate::cookies::{logout_cookies, session_cookie};
use crate::error::ApiError;
use crate::AppState;

/// RP-initiated logout: with an `id_token_hint` of this browser's session it ends the session and returns
/// to a registered `post_logout_redirect_uri` (with `state`); otherwise the person is asked on `/login`.
#[utoipa::path(get, path = "/oauth/end_session", tag = "oauth",
    params(
        ("id_token_hint" = Option<String>, Query),
        ("post_logout_redirect_uri" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("client_id" = Option<String>, Query),
    ),
    responses(
        (status = 303, description = "to the app's registered post-logout URI, or to /login"),
        (status = 400, description = "a page: unknown hint or unregistered return address", content_type = "text/html"),
    ))]
pub async fn end_session(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut p = EndSessionParams::default();
    for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "id_token_hint" => p.id_token_hint = v,
            "post_logout_redirect_uri" => p.post_logout_redirect_uri = v,
            "state" => p.state = v,
            "client_id" => p.client_id = v,
            _ => {}
        }
    }
    let s = &state.services;
    let cookie = session_cookie(&req, &s.settings.session);
    let session = match cookie {
        Some(c) => s.resolve_session(c).await.ok(),
        None => None,
    };
    let plan = match s.plan_end_session(&p, session.as_ref()).await {
        Ok(plan) => plan,
        Err(AuthorizeError::Page(m)) => return super::authorize::error_page(&m),
        Err(AuthorizeError::Redirect { location, .. }) => return Ok(super::authorize::see_other(&location)),
        Err(AuthorizeError::Service(e)) => return Err(e.into()),
    };
    match plan {
        EndSession::End { target } => {
            if let Some(c) = cookie {
                s.end_session(c).await?;
            }
            let mut res = HttpResponse::SeeOther();
            for c in logout_cookies(&s.settings.session) {
                res.cookie(c);
            }
            Ok(res
                .insert_header((header::LOCATION, target.unwrap_or_else(|| "/login".into())))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish())
        }
        // The sign-in page shows a signed-in person a sign-out button (a form with the session's CSRF token).
        EndSession::Confirm => Ok(super::authorize::see_other("/login")),
        EndSession::AlreadyOut { target } => {
            Ok(super::authorize::see_other(target.as_deref().unwrap_or("/login")))
        }
    }
}
