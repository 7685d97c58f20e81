//! `GET /account`: a signed-in person's own page (issue 22) — email, password, second factors, sessions
//! and connected apps — and its forms (`/account/email`, `/account/password`, `/account/sessions/end`,
//! `/account/sessions/end-others`), each with the session's CSRF token. The same services as the API
//! (`PUT /api/users/me`, `/api/sessions`), so the rules are the API's.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::accounts::MeUpdate;
use tessera_service::identity::Identity;

use crate::error::ApiError;
use crate::AppState;

const PAGE: &str = "/account";

struct SessionRow {
    id: String,
    ip: String,
    user_agent: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account_home.html")]
struct AccountHome<'a> {
    csrf: &'a str,
    username: String,
    role: String,
    email: Option<String>,
    email_verified: bool,
    totp: bool,
    recovery_codes_left: i64,
    passkeys: i64,
    sessions: Vec<SessionRow>,
    apps: usize,
    done: Option<&'a str>,
    error: Option<String>,
}

/// The page, with what just happened (`done`) or what was refused (`error`, in words).
async fn render(
    state: &AppState,
    id: &Identity,
    csrf: &str,
    done: Option<&str>,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let p = crate::handlers::views::principal_of(id)?;
    let user = s.get_user(p.user_id).await?;
    let factors = s.second_factor_status(p.user_id).await?;
    let t = |secs: i64| UnixTime(secs).to_rfc3339();
    let sessions = s
        .list_sessions(p.user_id, id.session_id.as_deref())
        .await?
        .into_iter()
        .map(|x| SessionRow {
            id: x.id,
            ip: x.ip.unwrap_or_else(|| "unknown address".into()),
            user_agent: x.user_agent.unwrap_or_default(),
            last_seen: t(x.last_seen_at),
            current: x.current,
        })
        .collect();
    let status = super::status_of(error.as_ref());
    let html = AccountHome {
        csrf,
        username: user.username,
        role: user.role,
        email: user.email,
        email_verified: user.email_verified,
        totp: factors.totp,
        recovery_codes_left: factors.recovery_codes_left,
        passkeys: factors.passkeys,
        sessions,
        apps: s.list_consents(p.user_id).await?.len(),
        done,
        error,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(status, html))
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match super::signed_in_or_login(&state, &req, Some(PAGE)).await {
        Ok((id, csrf)) => render(&state, &id, &csrf, None, None).await,
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
}

pub async fn password(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<PasswordForm>,
) -> Result<HttpResponse, ApiError> {
    let change = MeUpdate {
        email: None,
        current_password: Some(form.current_password),
        new_password: Some(form.new_password),
        revoke_client_tokens: false,
    };
    let done = "Password changed. Your other sessions ended.";
    apply(&state, &req, &form.csrf_token, change, done).await
}

#[derive(Deserialize)]
pub struct EmailForm {
    csrf_token: String,
    current_password: String,
    email: String,
}

pub async fn email(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<EmailForm>,
) -> Result<HttpResponse, ApiError> {
    let change = MeUpdate {
        email: Some(form.email),
        current_password: Some(form.current_password),
        new_password: None,
        revoke_client_tokens: false,
    };
    let done = "Email changed. It shows as not verified until you confirm it.";
    apply(&state, &req, &form.csrf_token, change, done).await
}

/// A change of one's own account through `update_me`, as `PUT /api/users/me` makes it.
async fn apply(
    state: &AppState,
    req: &HttpRequest,
    csrf_token: &str,
    change: MeUpdate,
    done: &str,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(state, req, csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    match state.services.update_me(&id, change).await {
        Ok(_) => render(state, &id, &csrf, Some(done), None).await,
        Err(e) => render(state, &id, &csrf, None, Some(super::in_words(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// `POST /account/verify-email`: mails the address a confirmation link (`POST /api/users/me/verify-email`).
pub async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<CsrfForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    match state.services.send_email_verification(&id).await {
        Ok(()) => {
            render(
                &state,
                &id,
                &csrf,
                Some("Sent: open the link in the mail to confirm the address."),
                None,
            )
            .await
        }
        Err(e) => render(&state, &id, &csrf, None, Some(super::in_words(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct EndForm {
    csrf_token: String,
    id: Option<String>,
}

pub async fn end_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<EndForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let p = crate::handlers::views::principal_of(&id)?;
    let target = form.id.as_deref().unwrap_or_default();
    if id.session_id.as_deref() == Some(target) {
        return render(
            &state,
            &id,
            &csrf,
            None,
            Some("That is this session: use Sign out.".into()),
        )
        .await;
    }
    state.services.delete_session(p.user_id, target).await?;
    render(&state, &id, &csrf, Some("Session ended."), None).await
}

pub async fn end_others(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<EndForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let p = crate::handlers::views::principal_of(&id)?;
    let s = &state.services;
    for other in s
        .list_sessions(p.user_id, id.session_id.as_deref())
        .await?
        .into_iter()
        .filter(|x| !x.current)
    {
        s.delete_session(p.user_id, &other.id).await?;
    }
    render(&state, &id, &csrf, Some("Your other sessions ended."), None).await
}
