//! `/admin/audit`: security events filtered by kind, user and time, newest first.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_core::UnixTime;
use tessera_service::audit::AuditFilter;
use tessera_service::ServiceError;

use super::require;
use crate::error::ApiError;
use crate::AppState;

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
    per_page: i64,
    events: Vec<EventView>,
    error: Option<String>,
    /// The query of the next (older) page, when there is one.
    older: Option<String>,
    /// Whether this is a later page (a link back to the newest then).
    paged: bool,
}

/// Events per page; one more is read to know whether an older page exists.
const PER_PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct AuditQuery {
    kind: Option<String>,
    user_id: Option<String>,
    since: Option<String>,
    /// Paging: only events older than this id (the last one of the page before).
    before: Option<i64>,
}

pub async fn audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, _) = match crate::pages::signed_in_or_login(&state, &req, None).await {
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
    let parsed =
        user_id.and_then(|u| AuditFilter::parse(since.as_deref(), kind.as_deref(), u, Some(PER_PAGE + 1)));
    let (mut events, error) = match parsed {
        Ok(filter) => {
            let filter = AuditFilter {
                before: q.before,
                ..filter
            };
            (state.services.audit_events(filter).await?, None)
        }
        Err(e @ ServiceError::Validation(_)) => (Vec::new(), Some(crate::pages::in_words(e)?)),
        Err(e) => return Err(e.into()),
    };
    let more = events.len() > PER_PAGE as usize;
    events.truncate(PER_PAGE as usize);
    let older = events.last().filter(|_| more).map(|last| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("kind", &kind), ("user_id", &user_raw), ("since", &since)] {
            if let Some(v) = v {
                query.append_pair(k, v);
            }
        }
        query.append_pair("before", &last.id.to_string());
        query.finish()
    });
    let status = crate::pages::status_of(error.as_ref());
    let html = AuditPage {
        older,
        paged: q.before.is_some(),
        kind: kind.unwrap_or_default(),
        user_id: user_raw.unwrap_or_default(),
        since: since.unwrap_or_default(),
        per_page: PER_PAGE,
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
    Ok(crate::pages::session_page(status, html))
}
