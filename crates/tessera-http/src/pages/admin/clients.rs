//! `/admin/clients`: OAuth clients — create (secret shown once), edit, delete.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use tessera_service::ServiceError;

use super::require_admin;
use crate::error::ApiError;
use crate::AppState;

struct ClientView {
    client_id: String,
    name: String,
    grant_types: String,
    scopes: String,
    confidential: bool,
    can_introspect: bool,
    builtin: bool,
    /// One per line in the edit form, as the create form takes them.
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
    logo_uri: String,
    skip_consent: bool,
    refresh_without_offline_access: bool,
}

impl ClientView {
    fn has_grant(&self, grant: &str) -> bool {
        self.grant_types.split_whitespace().any(|g| g == grant)
    }
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
            redirect_uris: c.redirect_uris.split_whitespace().collect::<Vec<_>>().join("\n"),
            post_logout_redirect_uris: c
                .post_logout_redirect_uris
                .split_whitespace()
                .collect::<Vec<_>>()
                .join("\n"),
            backchannel_logout_uri: c.backchannel_logout_uri.unwrap_or_default(),
            logo_uri: c.logo_uri.unwrap_or_default(),
            skip_consent: c.skip_consent,
            refresh_without_offline_access: c.refresh_without_offline_access,
        })
        .collect();
    let status = crate::pages::status_of(error.as_ref());
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
    Ok(crate::pages::session_page(status, html))
}

/// `GET /admin/clients` (an admin holding `users.write`, as `/api/clients`).
pub async fn clients(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (id, csrf) = match crate::pages::signed_in_or_login(&state, &req, None).await {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id, &["users.write"])?;
    render_clients(&state, &csrf, None, None, None).await
}

/// `POST /admin/clients/{create|update|delete}`: the same services and rules as `/api/clients` (the client's
/// scopes within the admin's; a confidential client's secret shown once).
pub async fn client_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    action: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let pairs = crate::pages::form_pairs(&body);
    let token = crate::pages::form_field(&pairs, "csrf_token");
    let (id, csrf) = match crate::pages::signed_in_form(&state, &req, token, "/admin/clients").await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    require_admin(&state, &id, &["users.write"])?;
    let s = &state.services;
    let field = |n: &str| crate::pages::form_field(&pairs, n).trim().to_owned();
    let result = match action.as_str() {
        "create" => s
            .create_client(spec_of(&pairs), &id.subject, id.scopes)
            .await
            .map(|c| ("Created.", c.client_secret)),
        "update" => s
            .update_client(&field("client_id"), spec_of(&pairs), &id.subject, id.scopes)
            .await
            .map(|_| ("Saved.", None)),
        "delete" => s
            .delete_client(&field("client_id"), &id.subject)
            .await
            .map(|()| ("Deleted: its tokens no longer work.", None)),
        _ => Err(ServiceError::NotFound),
    };
    match result {
        Ok((done, secret)) => render_clients(&state, &csrf, Some(done), None, secret).await,
        Err(e) => render_clients(&state, &csrf, None, Some(crate::pages::in_words(e)?), None).await,
    }
}

/// A client as the create and edit forms describe it (an edit keeps the client's id, kind and secret).
fn spec_of(pairs: &[(String, String)]) -> tessera_service::oauth::clients::ClientSpec {
    let field = |n: &str| crate::pages::form_field(pairs, n).trim().to_owned();
    let list = |n: &str| field(n).split_whitespace().map(str::to_owned).collect();
    let optional = |n: &str| Some(field(n)).filter(|v| !v.is_empty());
    let ticked = |n: &str| !field(n).is_empty();
    tessera_service::oauth::clients::ClientSpec {
        client_id: optional("client_id"),
        name: field("name"),
        confidential: ticked("confidential"),
        grant_types: crate::pages::form_values(pairs, "grant_type"),
        scopes: list("scopes"),
        can_introspect: ticked("can_introspect"),
        sign_in: tessera_service::oauth::clients::SignInSettings {
            redirect_uris: list("redirect_uris"),
            post_logout_redirect_uris: list("post_logout_redirect_uris"),
            backchannel_logout_uri: optional("backchannel_logout_uri"),
            skip_consent: ticked("skip_consent"),
            logo_uri: optional("logo_uri"),
            refresh_without_offline_access: ticked("refresh_without_offline_access"),
        },
    }
}
