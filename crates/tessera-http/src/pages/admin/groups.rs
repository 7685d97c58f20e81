//! `/admin/groups`: permission groups — grants as entities × actions, the default group, create, delete.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use tessera_service::ServiceError;

use super::require_admin;
use crate::error::ApiError;
use crate::AppState;

struct GrantCell {
    action: &'static str,
    granted: bool,
    own_only: bool,
    /// The scopes this one grant gives (with what every user holds), for the page's live preview.
    gives: String,
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
    /// Every scope in catalog order: the preview lists what a group gives in the same order as the server.
    catalog: String,
    /// What every user holds, whatever the group.
    base: String,
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
                            let one = tessera_core::rights::Grant {
                                entity: (*entity).to_owned(),
                                action: (*action).to_owned(),
                                own_only: false,
                            };
                            let gives =
                                tessera_core::rights::rights(&s.catalog, tessera_core::Role::User, &[one]);
                            GrantCell {
                                action,
                                granted: grant.is_some(),
                                own_only: grant.is_some_and(|x| x.own_only),
                                gives: s.catalog.to_text(gives),
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
    let status = crate::pages::status_of(error.as_ref());
    let html = GroupsPage {
        csrf,
        actions: &tessera_core::rights::ACTIONS,
        groups,
        done,
        error,
        catalog: s.catalog.to_text(s.catalog.all()),
        base: s.catalog.to_text(tessera_core::rights::rights(
            &s.catalog,
            tessera_core::Role::User,
            &[],
        )),
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(crate::pages::session_page(status, html))
}

/// `GET /admin/groups` (an admin, as `/api/permissions/groups`): grants as entities × actions.
pub async fn groups(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match crate::pages::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id, &["users.read"])?;
    render_groups(&state, &csrf, None, None).await
}

/// `POST /admin/groups/{create|save|make-default|delete}` (an admin holding `users.write`): the same
/// services as `/api/permissions/groups` and `/api/permissions/default-group`.
pub async fn group_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    action: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let pairs = crate::pages::form_pairs(&body);
    let token = crate::pages::form_field(&pairs, "csrf_token");
    let (id, csrf) = match crate::pages::signed_in_form(&state, &req, token, "/admin/groups").await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id, &["users.write"])?;
    let s = &state.services;
    let group = crate::pages::form_field(&pairs, "id").parse::<i64>();
    let result = match (action.as_str(), group) {
        ("create", _) => {
            let spec = tessera_service::permissions::GroupSpec {
                name: crate::pages::form_field(&pairs, "name").trim().to_owned(),
                description: None,
                grants: grants_of(&pairs),
            };
            s.create_group(spec, &id)
                .await
                .map(|_| "Created: choose what it gives below, then move people into it.")
        }
        ("save", Ok(group)) => {
            let description = s
                .list_groups()
                .await?
                .into_iter()
                .find(|g| g.group.id == group)
                .and_then(|g| g.group.description);
            let spec = tessera_service::permissions::GroupSpec {
                name: crate::pages::form_field(&pairs, "name").to_owned(),
                description,
                grants: grants_of(&pairs),
            };
            s.update_group(group, spec, &id)
                .await
                .map(|_| "Saved: members' tokens follow at once.")
        }
        ("make-default", Ok(group)) => s
            .set_default_group(group, &id)
            .await
            .map(|()| "New users join it from now on."),
        ("delete", Ok(group)) => s
            .delete_group(group, &id.subject)
            .await
            .map(|()| "Deleted: its members keep only what their role and own overrides give."),
        _ => Err(ServiceError::NotFound),
    };
    match result {
        Ok(done) => render_groups(&state, &csrf, Some(done), None).await,
        Err(e) => render_groups(&state, &csrf, None, Some(crate::pages::in_words(e)?)).await,
    }
}

/// The grants ticked in a group form: `grant=<entity>:<action>`, with `own=<entity>:<action>` for own-only.
fn grants_of(pairs: &[(String, String)]) -> Vec<tessera_core::rights::Grant> {
    let own = crate::pages::form_values(pairs, "own");
    crate::pages::form_values(pairs, "grant")
        .iter()
        .filter_map(|v| {
            let (entity, action) = v.split_once(':')?;
            Some(tessera_core::rights::Grant {
                entity: entity.to_owned(),
                action: action.to_owned(),
                own_only: own.contains(v),
            })
        })
        .collect()
}
