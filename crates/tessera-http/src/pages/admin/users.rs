//! `/admin`: users — search, page, create, invite, disable/enable, role, reset links, sessions.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::accounts::UserUpdate;
use tessera_service::identity::Identity;
use tessera_service::ServiceError;

use super::require;
use crate::error::ApiError;
use crate::AppState;

const PAGE: &str = "/admin";
const PER_PAGE: usize = 50;

struct UserRowView {
    id: i64,
    username: String,
    email: Option<String>,
    role: String,
    group: String,
    enabled: bool,
    last_login: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage<'a> {
    csrf: &'a str,
    q: &'a str,
    users: Vec<UserRowView>,
    total: usize,
    shown: usize,
    page: usize,
    more: bool,
    can_write: bool,
    done: Option<&'a str>,
    error: Option<String>,
    invite: Option<String>,
    reset_link: Option<String>,
    roles: [&'static str; 2],
    /// (id, name) of every permission group, for the create form.
    group_choices: Vec<(i64, String)>,
}

#[derive(Deserialize)]
pub struct UsersQuery {
    q: Option<String>,
    page: Option<usize>,
}

#[derive(Default)]
struct Shown<'a> {
    q: &'a str,
    page: usize,
    done: Option<&'a str>,
    error: Option<String>,
    invite: Option<String>,
    reset_link: Option<String>,
}

async fn render_users(
    state: &AppState,
    id: &Identity,
    csrf: &str,
    shown: Shown<'_>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let needle = shown.q.trim().to_lowercase();
    let group_choices: Vec<(i64, String)> = s
        .list_groups()
        .await?
        .into_iter()
        .map(|g| (g.group.id, g.group.name))
        .collect();
    let groups: std::collections::HashMap<i64, String> = group_choices.iter().cloned().collect();
    let matching: Vec<_> = s
        .list_users()
        .await?
        .into_iter()
        .filter(|u| {
            needle.is_empty()
                || u.username.to_lowercase().contains(&needle)
                || u.email
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(&needle))
        })
        .collect();
    let total = matching.len();
    let page = shown.page.max(1);
    let users: Vec<UserRowView> = matching
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|u| UserRowView {
            group: u
                .permission_group_id
                .and_then(|g| groups.get(&g).cloned())
                .unwrap_or_else(|| "—".into()),
            last_login: u
                .last_login
                .map_or_else(|| "never".into(), |t| UnixTime(t).to_rfc3339()),
            id: u.id,
            username: u.username,
            email: u.email,
            role: u.role,
            enabled: u.enabled,
        })
        .collect();
    let count = users.len();
    let status = crate::pages::status_of(shown.error.as_ref());
    let html = UsersPage {
        csrf,
        q: shown.q,
        more: (page - 1) * PER_PAGE + count < total,
        users,
        total,
        shown: count,
        page,
        can_write: require(state, id, &["users.write"]).is_ok(),
        done: shown.done,
        error: shown.error,
        invite: shown.invite,
        reset_link: shown.reset_link,
        roles: ["user", "admin"],
        group_choices,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(crate::pages::session_page(status, html))
}

pub async fn users(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match crate::pages::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require(&state, &id, &["users.read"])?;
    let query: String = q.q.as_deref().unwrap_or("").chars().take(100).collect();
    let shown = Shown {
        q: &query,
        page: q.page.unwrap_or(1).min(100_000),
        ..Shown::default()
    };
    render_users(&state, &id, &csrf, shown).await
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf_token: String,
    /// The user acted on (every action but `create`).
    id: Option<i64>,
    role: Option<String>,
    /// `create` only.
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    permission_group_id: Option<String>,
}

/// `POST /admin/users/{action}`: create, disable, enable, role, end-sessions, reset-link or
/// reset-second-factor (`users.write`).
pub async fn user_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    action: web::Path<String>,
    web::Form(form): web::Form<UserForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match crate::pages::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require(&state, &id, &["users.write"])?;
    let s = &state.services;
    let enabled = |on: bool| UserUpdate {
        enabled: Some(on),
        ..UserUpdate::default()
    };
    let mut reset_link = None;
    let target = form.id.unwrap_or_default();
    let result = match action.as_str() {
        "create" => create(s, &id, &form).await,
        _ if form.id.is_none() => Err(ServiceError::NotFound),
        "role" => {
            let change = UserUpdate {
                role: form.role.clone(),
                ..UserUpdate::default()
            };
            s.update_user(&id, target, change)
                .await
                .map(|_| "Role changed: their rights follow at once.")
        }
        "end-sessions" => s
            .end_all_sessions_of(&id, target)
            .await
            .map(|()| "Signed out everywhere: their sessions and the tokens made from them ended."),
        "reset-link" => s.issue_reset_link_as(&id, target).await.map(|url| {
            reset_link = Some(url);
            "Reset link made."
        }),
        "disable" => s
            .update_user(&id, target, enabled(false))
            .await
            .map(|_| "Disabled: their sessions and tokens ended."),
        "enable" => s
            .update_user(&id, target, enabled(true))
            .await
            .map(|_| "Enabled."),
        "reset-second-factor" => s
            .reset_second_factor(target, Some(&id))
            .await
            .map(|()| "Second factors reset: they sign in with their password and can enrol again."),
        _ => Err(ServiceError::NotFound),
    };
    let (done, error) = match result {
        Ok(done) => (Some(done), None),
        Err(e) => (None, Some(crate::pages::in_words(e)?)),
    };
    let shown = Shown {
        done,
        error,
        reset_link,
        ..Shown::default()
    };
    render_users(&state, &id, &csrf, shown).await
}

/// A user made directly (the admin sets the first password), as `POST /api/users`: the same checks, the
/// new account's rights within the admin's.
async fn create(
    s: &tessera_service::Services,
    id: &Identity,
    form: &UserForm,
) -> Result<&'static str, ServiceError> {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let group = match text(&form.permission_group_id) {
        None => None,
        Some(g) => Some(
            g.parse::<i64>()
                .map_err(|_| ServiceError::field("permission_group_id", "no such group"))?,
        ),
    };
    let new = tessera_service::accounts::UserCreate {
        username: text(&form.username).unwrap_or_default(),
        password: form.password.clone().unwrap_or_default(),
        email: text(&form.email),
        role: text(&form.role),
        permission_group_id: group,
        enabled: Some(true),
    };
    s.create_user_api(id, new)
        .await
        .map(|_| "Created: tell them their username and password; they can change it under Your account.")
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf_token: String,
    role: Option<String>,
    expires_in: Option<i64>,
}

/// `POST /admin/invite`: a one-use invite link (`users.write`; an admin invite needs an admin), shown once.
pub async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<InviteForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match crate::pages::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require(&state, &id, &["users.write"])?;
    let shown = match state
        .services
        .create_invite(&id, form.role.as_deref(), form.expires_in)
        .await
    {
        Ok(invite) => Shown {
            done: Some("Invite link made."),
            invite: Some(invite.url),
            ..Shown::default()
        },
        Err(e) => Shown {
            error: Some(crate::pages::in_words(e)?),
            ..Shown::default()
        },
    };
    render_users(&state, &id, &csrf, shown).await
}
