//! Credential resolution (API.md §1): the first credential *present* decides; a present but invalid one is
//! a 401, never a fall-through to the next.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use tessera_service::identity::{AuthFailure, Identity};
use tessera_service::login::LoginFailure;

use crate::cookies::session_cookie;

use crate::error::ApiError;
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

/// Resolves the request's credential in API.md §1's order: None when none is present; a present but
/// invalid one is an error (401), never a fall-through.
pub async fn resolve_credential(req: &HttpRequest) -> Result<Option<Identity>, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(&"AppState missing"))?;
    let services = &state.services;
    // 1-2. Authorization: Bearer, then Basic.
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| unauthorized("malformed Authorization header"))?;
        let (scheme, credential) = text.split_once(' ').unwrap_or((text, ""));
        let credential = credential.trim();
        if credential.len() > tessera_crypto::jwt::MAX_TOKEN_LEN {
            return Err(ApiError::new(
                actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "header_too_large",
                "the credential exceeds 8 KiB",
            ));
        }
        if credential.is_empty() {
            return Err(unauthorized("malformed Authorization header"));
        }
        let resolved = if scheme.eq_ignore_ascii_case("bearer") {
            services.resolve_bearer(credential).await
        } else if scheme.eq_ignore_ascii_case("basic") {
            let (user, password) =
                decode_basic(credential).ok_or_else(|| unauthorized("malformed Basic credentials"))?;
            let ip = crate::client_ip::client_ip(req, &services.settings.server.trusted_proxies);
            services
                .resolve_basic(&user, &password, &ip)
                .await
                .map_err(|e| match e {
                    LoginFailure::Service(e) => AuthFailure::Service(e),
                    LoginFailure::BadCredentials | LoginFailure::PasswordLoginDisabled => {
                        AuthFailure::Invalid
                    }
                })
        } else {
            return Err(unauthorized("unsupported authorization scheme"));
        };
        return match resolved {
            Ok(id) => Ok(Some(id)),
            Err(AuthFailure::Invalid) => Err(unauthorized("invalid, expired or revoked credential")),
            Err(AuthFailure::Service(e)) => Err(e.into()),
        };
    }
    // 3. The service key.
    if let Some(value) = req
        .headers()
        .get(services.settings.auth.service_key_header.as_str())
    {
        let key = value.to_str().unwrap_or("");
        return services
            .service_key_identity(key)
            .map(Some)
            .ok_or_else(|| unauthorized("invalid service key"));
    }
    // 4. The session cookie.
    if let Some(cookie) = session_cookie(req, &services.settings.session) {
        return match services.resolve_session(cookie.value()).await {
            Ok(id) => Ok(Some(id)),
            Err(AuthFailure::Invalid) => Err(unauthorized("the session has ended; sign in again")),
            Err(AuthFailure::Service(e)) => Err(e.into()),
        };
    }
    // 5. Nothing: the kiosk identity in kiosk mode (the anonymous admin under `--no-auth`).
    Ok(services.anonymous_identity())
}

/// `user:password` from a Basic credential (RFC 7617, UTF-8).
pub fn decode_basic(b64: &str) -> Option<(String, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(resolve(req.clone()))
    }
}
