//! `/admin` (issue 22, first part): users — search, page, disable/enable, reset second factors — and the
//! audit log filtered by kind, user and time. `users.read` to look and `users.write` to change (the
//! audit log needs `logs.read`), checked on the session's effective scopes like the API's; every change
//! goes through the same services as `/api/users`, audited there.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::accounts::UserUpdate;
use tessera_service::audit::AuditFilter;
use tessera_service::identity::Identity;
use tessera_service::ServiceError;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

const PAGE: &str = "/admin";
const PER_PAGE: usize = 50;

/// The session holds `scopes` (effective, after the owner's rights), or 403 as the API answers.
fn require(state: &AppState, id: &Identity, scopes: &[&str]) -> Result<(), ApiError> {
    Caller(Some(id.clone())).require(state, scopes).map(|_| ())
}

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
    let groups: std::collections::HashMap<i64, String> = s
        .list_groups()
        .await?
        .into_iter()
        .map(|g| (g.group.id, g.group.name))
        .collect();
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
    let status = super::status_of(shown.error.as_ref());
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
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(status, html))
}

pub async fn users(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_or_login(&state, &req, None).await {
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
    id: i64,
    role: Option<String>,
}

/// `POST /admin/users/{action}`: disable, enable, role, end-sessions, reset-link or reset-second-factor
/// (`users.write`).
pub async fn user_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    action: web::Path<String>,
    web::Form(form): web::Form<UserForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
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
    let result = match action.as_str() {
        "role" => {
            let change = UserUpdate {
                role: form.role.clone(),
                ..UserUpdate::default()
            };
            s.update_user(&id, form.id, change)
                .await
                .map(|_| "Role changed: their rights follow at once.")
        }
        "end-sessions" => s
            .end_all_sessions_of(&id, form.id)
            .await
            .map(|()| "Signed out everywhere: their sessions and the tokens made from them ended."),
        "reset-link" => s.issue_reset_link_as(&id, form.id).await.map(|url| {
            reset_link = Some(url);
            "Reset link made."
        }),
        "disable" => s
            .update_user(&id, form.id, enabled(false))
            .await
            .map(|_| "Disabled: their sessions and tokens ended."),
        "enable" => s
            .update_user(&id, form.id, enabled(true))
            .await
            .map(|_| "Enabled."),
        "reset-second-factor" => s
            .reset_second_factor(form.id, Some(&id))
            .await
            .map(|()| "Second factors reset: they sign in with their password and can enrol again."),
        _ => Err(ServiceError::NotFound),
    };
    let (done, error) = match result {
        Ok(done) => (Some(done), None),
        Err(e) => (None, Some(super::in_words(e)?)),
    };
    let shown = Shown {
        done,
        error,
        reset_link,
        ..Shown::default()
    };
    render_users(&state, &id, &csrf, shown).await
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
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, PAGE).await? {
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
            error: Some(super::in_words(e)?),
            ..Shown::default()
        },
    };
    render_users(&state, &id, &csrf, shown).await
}

struct EventView {
    at: String,
    kind: String,
    user: String,
    actor: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    kind: String,
    user_id: String,
    since: String,
    limit: i64,
    events: Vec<EventView>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    kind: Option<String>,
    user_id: Option<String>,
    since: Option<String>,
}

pub async fn audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, _) = match super::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require(&state, &id, &["logs.read"])?;
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (kind, since, user_raw) = (clean(&q.kind), clean(&q.since), clean(&q.user_id));
    let user_id = user_raw
        .as_deref()
        .map(str::parse::<i64>)
        .transpose()
        .map_err(|_| ServiceError::field("user_id", "is not a number: user_id takes a user's numeric id"));
    let parsed = user_id.and_then(|u| AuditFilter::parse(since.as_deref(), kind.as_deref(), u, None));
    let (events, error) = match parsed {
        Ok(filter) => (state.services.audit_events(filter).await?, None),
        Err(e @ ServiceError::Validation(_)) => (Vec::new(), Some(super::in_words(e)?)),
        Err(e) => return Err(e.into()),
    };
    let status = super::status_of(error.as_ref());
    let html = AuditPage {
        kind: kind.unwrap_or_default(),
        user_id: user_raw.unwrap_or_default(),
        since: since.unwrap_or_default(),
        limit: AuditFilter::DEFAULT_LIMIT,
        events: events
            .into_iter()
            .map(|e| EventView {
                at: UnixTime(e.at).to_rfc3339(),
                kind: e.kind,
                user: e.user_id.map(|u| u.to_string()).unwrap_or_default(),
                actor: e.actor.unwrap_or_default(),
                detail: e.detail.unwrap_or_default(),
            })
            .collect(),
        error,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(status, html))
}

struct KeyView {
    kid: String,
    alg: String,
    age: String,
    state: String,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage<'a> {
    csrf: &'a str,
    database_ok: bool,
    store_ok: bool,
    listener_ok: bool,
    keys: Vec<KeyView>,
    config: String,
    done: Option<&'a str>,
}

/// An age in words: days, else hours, else minutes.
fn age(secs: i64) -> String {
    match secs.max(0) {
        s if s >= 86_400 => format!("{} days", s / 86_400),
        s if s >= 3_600 => format!("{} hours", s / 3_600),
        s => format!("{} minutes", s / 60),
    }
}

async fn render_settings(state: &AppState, csrf: &str, done: Option<&str>) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let health = s.readiness().await;
    let now = s.clock.now().as_secs();
    let keys = s
        .keys
        .list()
        .await?
        .into_iter()
        .map(|k| KeyView {
            age: age(now - k.created_at),
            state: match (k.retired_at, k.verify_until) {
                (None, _) => "current".to_owned(),
                (Some(_), Some(until)) if until > now => {
                    format!("retired, verifies until {}", UnixTime(until).to_rfc3339())
                }
                _ => "retired".to_owned(),
            },
            kid: k.kid,
            alg: k.alg,
        })
        .collect();
    // The settings serialise with their secrets redacted (`tessera_service::settings::redact`): the view
    // is derived from the configuration itself, so it cannot drift from it.
    let config = serde_json::to_string_pretty(s.settings.as_ref()).map_err(|e| ApiError::internal(&e))?;
    let html = SettingsPage {
        csrf,
        database_ok: health.database_ok,
        store_ok: health.store_ok,
        listener_ok: health.listener_ok,
        keys,
        config,
        done,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(StatusCode::OK, html))
}

fn require_admin(state: &AppState, id: &Identity) -> Result<(), ApiError> {
    Caller(Some(id.clone()))
        .require_admin(state, &["users.read"])
        .map(|_| ())
}

/// `GET /admin/settings` (an admin): health, signing keys and the effective configuration.
pub async fn settings(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id)?;
    render_settings(&state, &csrf, None).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// `POST /admin/settings/rotate-key` (an admin).
pub async fn rotate_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<CsrfForm>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_form(&state, &req, &form.csrf_token, "/admin/settings").await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id)?;
    state.services.rotate_signing_key(&id).await?;
    render_settings(
        &state,
        &csrf,
        Some("Rotated: new tokens are signed with the new key."),
    )
    .await
}

struct ClientView {
    client_id: String,
    name: String,
    grant_types: String,
    scopes: String,
    confidential: bool,
    can_introspect: bool,
    builtin: bool,
}

#[derive(Template)]
#[template(path = "admin_clients.html")]
struct ClientsPage<'a> {
    csrf: &'a str,
    clients: Vec<ClientView>,
    grant_types: &'static [&'static str],
    done: Option<&'a str>,
    error: Option<String>,
    secret: Option<String>,
}

async fn render_clients(
    state: &AppState,
    csrf: &str,
    done: Option<&str>,
    error: Option<String>,
    secret: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let clients = state
        .services
        .list_clients()
        .await?
        .into_iter()
        .map(|c| ClientView {
            client_id: c.client_id,
            name: c.name,
            grant_types: c.grant_types,
            scopes: c.scopes,
            confidential: c.confidential,
            can_introspect: c.can_introspect,
            builtin: c.builtin,
        })
        .collect();
    let status = super::status_of(error.as_ref());
    let html = ClientsPage {
        csrf,
        clients,
        grant_types: &tessera_service::oauth::GRANT_TYPES,
        done,
        error,
        secret,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(status, html))
}

/// `GET /admin/clients` (an admin holding `users.write`, as `/api/clients`).
pub async fn clients(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    Caller(Some(id.clone())).require_admin(&state, &["users.write"])?;
    render_clients(&state, &csrf, None, None, None).await
}

/// `POST /admin/clients/{create|delete}`: the same services and rules as `/api/clients` (the client's
/// scopes within the admin's; a confidential client's secret shown once).
pub async fn client_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    action: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let pairs = super::form_pairs(&body);
    let token = super::form_field(&pairs, "csrf_token");
    let (id, csrf) = match super::signed_in_form(&state, &req, token, "/admin/clients").await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    Caller(Some(id.clone())).require_admin(&state, &["users.write"])?;
    let s = &state.services;
    let field = |n: &str| super::form_field(&pairs, n).trim().to_owned();
    let result = match action.as_str() {
        "create" => {
            let spec = tessera_service::oauth::clients::ClientSpec {
                client_id: Some(field("client_id")).filter(|c| !c.is_empty()),
                name: field("name"),
                confidential: !field("confidential").is_empty(),
                grant_types: super::form_values(&pairs, "grant_type"),
                scopes: field("scopes").split_whitespace().map(str::to_owned).collect(),
                can_introspect: !field("can_introspect").is_empty(),
                sign_in: tessera_service::oauth::clients::SignInSettings {
                    redirect_uris: field("redirect_uris")
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                    ..Default::default()
                },
            };
            s.create_client(spec, &id.subject, id.scopes)
                .await
                .map(|c| ("Created.", c.client_secret))
        }
        "delete" => s
            .delete_client(&field("client_id"), &id.subject)
            .await
            .map(|()| ("Deleted: its tokens no longer work.", None)),
        _ => Err(ServiceError::NotFound),
    };
    match result {
        Ok((done, secret)) => render_clients(&state, &csrf, Some(done), None, secret).await,
        Err(e) => render_clients(&state, &csrf, None, Some(super::in_words(e)?), None).await,
    }
}

struct GrantCell {
    action: &'static str,
    granted: bool,
    own_only: bool,
}

struct GrantRow {
    entity: &'static str,
    cells: Vec<GrantCell>,
}

struct GroupEdit {
    id: i64,
    name: String,
    is_default: bool,
    effective: String,
    rows: Vec<GrantRow>,
}

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct GroupsPage<'a> {
    csrf: &'a str,
    actions: &'static [&'static str],
    groups: Vec<GroupEdit>,
    done: Option<&'a str>,
    error: Option<String>,
}

async fn render_groups(
    state: &AppState,
    csrf: &str,
    done: Option<&str>,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    use tessera_core::rights::{ACTIONS, ENTITIES};
    let s = &state.services;
    let groups = s
        .list_groups()
        .await?
        .into_iter()
        .map(|g| {
            let effective = tessera_core::rights::rights(&s.catalog, tessera_core::Role::User, &g.grants);
            let rows = ENTITIES
                .iter()
                .map(|entity| GrantRow {
                    entity,
                    cells: ACTIONS
                        .iter()
                        .map(|action| {
                            let grant = g
                                .grants
                                .iter()
                                .find(|x| x.entity == *entity && x.action == *action);
                            GrantCell {
                                action,
                                granted: grant.is_some(),
                                own_only: grant.is_some_and(|x| x.own_only),
                            }
                        })
                        .collect(),
                })
                .collect();
            GroupEdit {
                id: g.group.id,
                name: g.group.name,
                is_default: g.group.is_default,
                effective: s.catalog.names(effective).join(" "),
                rows,
            }
        })
        .collect();
    let status = super::status_of(error.as_ref());
    let html = GroupsPage {
        csrf,
        actions: &tessera_core::rights::ACTIONS,
        groups,
        done,
        error,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(status, html))
}

/// `GET /admin/groups` (an admin, as `/api/permissions/groups`): grants as entities × actions.
pub async fn groups(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match super::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    Caller(Some(id.clone())).require_admin(&state, &["users.read"])?;
    render_groups(&state, &csrf, None, None).await
}

/// `POST /admin/groups/{save|make-default}` (an admin holding `users.write`): the same services as
/// `PUT /api/permissions/groups/{id}` and `/api/permissions/default-group`.
pub async fn group_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    action: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let pairs = super::form_pairs(&body);
    let token = super::form_field(&pairs, "csrf_token");
    let (id, csrf) = match super::signed_in_form(&state, &req, token, "/admin/groups").await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    Caller(Some(id.clone())).require_admin(&state, &["users.write"])?;
    let s = &state.services;
    let Ok(group) = super::form_field(&pairs, "id").parse::<i64>() else {
        return render_groups(&state, &csrf, None, Some("no such group".into())).await;
    };
    let result = match action.as_str() {
        "save" => {
            let own = super::form_values(&pairs, "own");
            let grants = super::form_values(&pairs, "grant")
                .iter()
                .filter_map(|v| {
                    let (entity, action) = v.split_once(':')?;
                    Some(tessera_core::rights::Grant {
                        entity: entity.to_owned(),
                        action: action.to_owned(),
                        own_only: own.contains(v),
                    })
                })
                .collect();
            let description = s
                .list_groups()
                .await?
                .into_iter()
                .find(|g| g.group.id == group)
                .and_then(|g| g.group.description);
            let spec = tessera_service::permissions::GroupSpec {
                name: super::form_field(&pairs, "name").to_owned(),
                description,
                grants,
            };
            s.update_group(group, spec, &id)
                .await
                .map(|_| "Saved: members' tokens follow at once.")
        }
        "make-default" => s
            .set_default_group(group)
            .await
            .map(|()| "New users join it from now on."),
        _ => Err(ServiceError::NotFound),
    };
    match result {
        Ok(done) => render_groups(&state, &csrf, Some(done), None).await,
        Err(e) => render_groups(&state, &csrf, None, Some(super::in_words(e)?)).await,
    }
}
