//! `/admin/user/{id}`: one user's permission group and per-user overrides (grant or revoke single
//! entity × action pairs), with the rights they come to, as `GET|PUT /api/permissions/users/{id}`.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use tessera_core::rights::{Effect, Grant, ACTIONS, ENTITIES};
use tessera_service::permissions::UserPermissions;
use tessera_service::ServiceError;

use super::require_admin;
use crate::error::ApiError;
use crate::AppState;

struct OverrideCell {
    action: &'static str,
    /// "", "grant" or "revoke".
    effect: &'static str,
    own_only: bool,
}

struct OverrideRow {
    entity: &'static str,
    cells: Vec<OverrideCell>,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage<'a> {
    csrf: &'a str,
    user_id: i64,
    username: String,
    role: String,
    group: Option<i64>,
    group_choices: Vec<(i64, String)>,
    actions: &'static [&'static str],
    rows: Vec<OverrideRow>,
    effective: String,
    done: Option<&'a str>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    csrf: &str,
    user_id: i64,
    done: Option<&str>,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let user = s.get_user(user_id).await?;
    let current = s.user_permissions(user_id).await?;
    let group_choices = s
        .list_groups()
        .await?
        .into_iter()
        .map(|g| (g.group.id, g.group.name))
        .collect();
    let rows = ENTITIES
        .iter()
        .map(|entity| OverrideRow {
            entity,
            cells: ACTIONS
                .iter()
                .map(|action| {
                    let found = current
                        .overrides
                        .iter()
                        .find(|(g, _)| g.entity == *entity && g.action == *action);
                    OverrideCell {
                        action,
                        effect: match found {
                            Some((_, Effect::Grant)) => "grant",
                            Some((_, Effect::Revoke)) => "revoke",
                            None => "",
                        },
                        own_only: found.is_some_and(|(g, _)| g.own_only),
                    }
                })
                .collect(),
        })
        .collect();
    let effective = s.catalog.names(s.rights_of(user_id).await?).join(" ");
    let status = crate::pages::status_of(error.as_ref());
    let html = UserPage {
        csrf,
        user_id,
        username: user.username,
        role: user.role,
        group: current.permission_group_id,
        group_choices,
        actions: &ACTIONS,
        rows,
        effective,
        done,
        error,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(crate::pages::session_page(status, html))
}

/// `GET /admin/user/{id}` (an admin holding `users.read`).
pub async fn user(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match crate::pages::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id, &["users.read"])?;
    render(&state, &csrf, path.into_inner(), None, None).await
}

/// `POST /admin/user/{id}` (an admin holding `users.write`): group and overrides replaced together, the
/// same service as `PUT /api/permissions/users/{id}` (audited, within the admin's own rights, every
/// replica's caches told).
pub async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let user_id = path.into_inner();
    let pairs = crate::pages::form_pairs(&body);
    let token = crate::pages::form_field(&pairs, "csrf_token");
    let here = format!("/admin/user/{user_id}");
    let (id, csrf) = match crate::pages::signed_in_form(&state, &req, token, &here).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id, &["users.write"])?;
    let result = match permissions_of(&pairs) {
        Ok(p) => state.services.set_user_permissions(user_id, p, &id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            render(
                &state,
                &csrf,
                user_id,
                Some("Saved: their tokens follow at once."),
                None,
            )
            .await
        }
        Err(e) => render(&state, &csrf, user_id, None, Some(crate::pages::in_words(e)?)).await,
    }
}

/// The form: `permission_group_id` ("" for none), `effect:<entity>:<action>` = grant | revoke | "" and
/// `own` = `<entity>:<action>` for own-only. Unknown entities or actions are refused by the service.
fn permissions_of(pairs: &[(String, String)]) -> Result<UserPermissions, ServiceError> {
    let group = crate::pages::form_field(pairs, "permission_group_id").trim();
    let permission_group_id = match group {
        "" => None,
        g => Some(
            g.parse::<i64>()
                .map_err(|_| ServiceError::field("permission_group_id", "no such group"))?,
        ),
    };
    let own = crate::pages::form_values(pairs, "own");
    let mut overrides = Vec::new();
    for (key, value) in pairs {
        let Some(pair) = key.strip_prefix("effect:") else {
            continue;
        };
        let effect = match value.as_str() {
            "" => continue,
            "grant" => Effect::Grant,
            "revoke" => Effect::Revoke,
            _ => return Err(ServiceError::field("overrides", "an override grants or revokes")),
        };
        let Some((entity, action)) = pair.split_once(':') else {
            return Err(ServiceError::field("overrides", "names an entity and an action"));
        };
        let grant = Grant {
            entity: entity.to_owned(),
            action: action.to_owned(),
            own_only: own.iter().any(|o| o == pair),
        };
        overrides.push((grant, effect));
    }
    Ok(UserPermissions {
        permission_group_id,
        overrides,
    })
}
