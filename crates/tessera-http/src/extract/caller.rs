//! Credential resolution (API.md §1): the first credential *present* decides; a present but invalid one is
//! a 401, never a fall-through to the next.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use tessera_service::identity::Identity;

use crate::error::ApiError;
use crate::extract::presented::presented;
use crate::AppState;

/// The caller's identity, or None when the request carried no credential.
#[derive(Clone, Debug)]
pub struct Caller(pub Option<Identity>);

pub fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
}

impl Caller {
    /// Requires a credential holding every scope in `required` (effective scopes, after ∩ rights).
    pub fn require(&self, state: &AppState, required: &[&str]) -> Result<&Identity, ApiError> {
        let id = self
            .0
            .as_ref()
            .ok_or_else(|| unauthorized("a credential is required"))?;
        let catalog = &state.services.catalog;
        let missing: Vec<String> = required
            .iter()
            .filter(|name| catalog.get(name).is_none_or(|s| !id.scopes.covers(s)))
            .map(|s| (*s).to_owned())
            .collect();
        if missing.is_empty() {
            return Ok(id);
        }
        Err(ApiError::insufficient_scope(
            format!("missing scope(s): {}", missing.join(" ")),
            Some(required.iter().map(|s| (*s).to_owned()).collect()),
            missing,
        ))
    }

    /// Requires an admin user's credential that itself holds `required` (a role alone is not enough).
    pub fn require_admin(&self, state: &AppState, required: &[&str]) -> Result<&Identity, ApiError> {
        let id = self.require(state, required)?;
        if id.is_admin() {
            Ok(id)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "an administrator is required",
            ))
        }
    }
}

async fn resolve(req: HttpRequest) -> Result<Caller, ApiError> {
    resolve_credential(&req).await.map(Caller)
}

/// Who the request's credentials say the caller is (`tessera_service::authn` decides): None when none is
/// present; a present but invalid one is an error (401), never a fall-through.
pub async fn resolve_credential(req: &HttpRequest) -> Result<Option<Identity>, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(&"AppState missing"))?;
    Ok(state.services.authenticate(&presented(req, state)).await?)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(resolve(req.clone()))
    }
}
