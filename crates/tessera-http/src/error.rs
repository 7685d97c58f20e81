//! The one place where errors become HTTP: RFC 9457 problems for `/api`, RFC 6749 JSON for OAuth.
//! A 5xx body is opaque apart from its request id; the cause goes to the log.

use actix_web::error::{JsonPayloadError, QueryPayloadError, UrlencodedError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use tessera_proto::oauth::OAuthErrorBody;
use tessera_proto::problem::{problem_info, FieldError, Problem};
use tessera_service::oauth::OAuthFailure;
use tessera_service::ServiceError;

use crate::request::current_request_id;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An `/api` error, rendered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Rarely present, so boxed: keeps `Result<_, ApiError>` small on the hot path.
    pub extra: Box<ProblemExtra>,
}

#[derive(Debug, Default)]
pub struct ProblemExtra {
    pub required: Option<Vec<String>>,
    pub missing: Option<Vec<String>>,
    pub errors: Option<Vec<FieldError>>,
    pub device_id: Option<String>,
    /// Seconds for `Retry-After` on a 429.
    pub retry_after: Option<i64>,
    /// The status RomM's `/api/token` answers with instead, where API.md §9 says it differs.
    pub romm_status: Option<StatusCode>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            extra: Box::default(),
        }
    }

    /// A 403 naming the scopes a request needs and the ones its credential lacks.
    pub fn insufficient_scope(
        detail: impl Into<String>,
        required: Option<Vec<String>>,
        missing: Vec<String>,
    ) -> Self {
        let mut e = Self::new(StatusCode::FORBIDDEN, "insufficient_scope", detail);
        e.extra.required = required;
        e.extra.missing = Some(missing);
        e
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail);
        e.extra.errors = Some(errors);
        e
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// A fault of ours: logged with its cause, answered with nothing but the request id.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(request.id = %current_request_id(), error = %cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(request.id = %current_request_id(), error = %cause, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "a dependency is unavailable; try again",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let title = problem_info(self.code).map_or("Error", |(t, _)| t);
        let body = Problem {
            kind: format!("/problems/{}", self.code),
            title: title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            request_id: current_request_id(),
            required: self.extra.required.clone(),
            missing: self.extra.missing.clone(),
            errors: self.extra.errors.clone(),
            device_id: self.extra.device_id.clone(),
        };
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera\""),
            ));
        }
        if let Some(secs) = self.extra.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.max(1).to_string()));
        }
        res.content_type(PROBLEM_JSON).json(body)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Validation(errors) => ApiError::validation(errors),
            ServiceError::SetupClosed => ApiError::new(StatusCode::CONFLICT, "setup_closed", e.to_string()),
            ServiceError::SetupDisabled => {
                ApiError::new(StatusCode::FORBIDDEN, "setup_disabled", e.to_string())
            }
            ServiceError::Conflict(detail) => ApiError::new(StatusCode::CONFLICT, "conflict", detail),
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::DeviceExists { ref device_id } => {
                let mut api = ApiError::new(StatusCode::CONFLICT, "device_exists", e.to_string());
                api.extra.device_id = Some(device_id.clone());
                api
            }
            ServiceError::Gone(detail) => ApiError::new(StatusCode::GONE, "gone", detail),
            ServiceError::Forbidden(detail) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail),
            ServiceError::TokenLimit(_) => ApiError::new(StatusCode::CONFLICT, "token_limit", e.to_string()),
            ServiceError::RateLimited { retry_after_secs } => {
                let mut api = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string());
                api.extra.retry_after = Some(retry_after_secs);
                api
            }
            ServiceError::ScopeExcess { ref excess } => {
                let mut api = ApiError::insufficient_scope(e.to_string(), None, excess.clone());
                api.code = "scope_excess";
                api
            }
            ServiceError::Unavailable(_) => ApiError::unavailable(&e),
            ServiceError::Db(ref db) if db.is_unavailable() => ApiError::unavailable(&e),
            ServiceError::Db(_) | ServiceError::Password(_) | ServiceError::Unexpected(_) => {
                ApiError::internal(&e)
            }
        }
    }
}

impl From<tessera_service::login::LoginFailure> for ApiError {
    fn from(e: tessera_service::login::LoginFailure) -> Self {
        use tessera_service::login::LoginFailure;
        match e {
            LoginFailure::BadCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "invalid username or password",
            ),
            LoginFailure::PasswordLoginDisabled => ApiError::new(
                StatusCode::FORBIDDEN,
                "password_login_disabled",
                "password login is disabled",
            ),
            LoginFailure::SecondFactorRequired => {
                ApiError::new(StatusCode::UNAUTHORIZED, "second_factor_required", e.to_string())
            }
            LoginFailure::BadSecondFactor => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "invalid username, password or code",
            ),
            LoginFailure::Service(e) => e.into(),
        }
    }
}

impl From<tessera_service::authn::AuthnError> for ApiError {
    fn from(e: tessera_service::authn::AuthnError) -> Self {
        use tessera_service::authn::AuthnError;
        match e {
            AuthnError::Unauthorized(detail) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
            }
            AuthnError::SecondFactorRequired => {
                ApiError::new(StatusCode::UNAUTHORIZED, "second_factor_required", e.to_string())
            }
            AuthnError::TooLarge => ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "header_too_large",
                e.to_string(),
            ),
            AuthnError::Service(e) => e.into(),
        }
    }
}

/// An OAuth endpoint error (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7662).
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: Option<String>,
    /// RomM's clients read `detail`: the description on `/api/token`, the code on `/api/auth/device/*`.
    pub detail: Option<String>,
    /// Seconds for `Retry-After` on a 429.
    pub retry_after: Option<i64>,
    /// The status RomM's `/api/token` answers with instead, where API.md §9 says it differs.
    pub romm_status: Option<StatusCode>,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            error,
            description: Some(description.into()),
            detail: None,
            retry_after: None,
            romm_status: None,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.error)
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\""),
            ));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.max(1).to_string()));
        }
        res.json(OAuthErrorBody {
            error: self.error.to_owned(),
            error_description: self.description.clone(),
            detail: self.detail.clone(),
        })
    }
}

impl From<OAuthFailure> for OAuthError {
    fn from(f: OAuthFailure) -> Self {
        match f {
            OAuthFailure::Service(e) => {
                let api = ApiError::from(e);
                if api.status == StatusCode::TOO_MANY_REQUESTS {
                    let mut o = OAuthError::new("invalid_request", api.detail);
                    o.status = StatusCode::TOO_MANY_REQUESTS;
                    o.retry_after = api.extra.retry_after;
                    return o;
                }
                let code = if api.status == StatusCode::SERVICE_UNAVAILABLE {
                    "temporarily_unavailable"
                } else {
                    "server_error"
                };
                OAuthError::new(code, api.detail)
            }
            OAuthFailure::PasswordLoginDisabled => {
                let mut o = OAuthError::new(f.code(), f.to_string());
                o.romm_status = Some(StatusCode::FORBIDDEN);
                o
            }
            // RomM answers 401 for a bad password or refresh token on its `/api/token`.
            OAuthFailure::InvalidGrant(_) => {
                let mut o = OAuthError::new(f.code(), f.to_string());
                o.romm_status = Some(StatusCode::UNAUTHORIZED);
                o
            }
            other => OAuthError::new(other.code(), other.to_string()),
        }
    }
}

impl From<ServiceError> for OAuthError {
    fn from(e: ServiceError) -> Self {
        OAuthFailure::Service(e).into()
    }
}

/// Paths whose errors are OAuth-shaped JSON rather than problem documents.
pub fn is_oauth_path(path: &str) -> bool {
    path.starts_with("/oauth/") || path == "/api/token" || path.starts_with("/api/auth/device/token")
}

/// Actix's JSON extractor errors: bad syntax 400, wrong types 422, too large 413, wrong type 415.
pub fn json_error(err: JsonPayloadError, req: &HttpRequest) -> actix_web::Error {
    let (status, code, detail) = match &err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the JSON body exceeds 64 KiB".to_owned(),
        ),
        JsonPayloadError::ContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json".to_owned(),
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("invalid field: {e}"),
        ),
        JsonPayloadError::Deserialize(e) => (
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("malformed JSON: {e}"),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read".to_owned(),
        ),
    };
    extractor_error(req, status, code, detail)
}

/// Actix's form extractor errors, mapped the same way.
pub fn form_error(err: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let (status, code, detail) = match &err {
        UrlencodedError::Overflow { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the form body exceeds 16 KiB".to_owned(),
        ),
        UrlencodedError::ContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected application/x-www-form-urlencoded".to_owned(),
        ),
        UrlencodedError::Parse(e) => (
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("malformed form: {e}"),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read".to_owned(),
        ),
    };
    extractor_error(req, status, code, detail)
}

/// A query string of the wrong shape (`?limit=ten`): 422 naming the problem, never actix's plain 400.
pub fn query_error(err: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    extractor_error(
        req,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        format!("invalid query parameter: {err}"),
    )
}

fn extractor_error(
    req: &HttpRequest,
    status: StatusCode,
    code: &'static str,
    detail: String,
) -> actix_web::Error {
    if is_oauth_path(req.path()) {
        let mut e = OAuthError::new("invalid_request", detail);
        e.status = if status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        e.into()
    } else if status == StatusCode::UNPROCESSABLE_ENTITY {
        ApiError::validation(vec![FieldError {
            field: "body".to_owned(),
            message: detail,
        }])
        .into()
    } else {
        ApiError::new(status, code, detail).into()
    }
}

/// The fallback for unknown routes: problem+json under `/api`, plain JSON elsewhere.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if is_oauth_path(req.path()) {
        let mut e = OAuthError::new("invalid_request", "unknown endpoint");
        e.status = StatusCode::NOT_FOUND;
        return Ok(e.error_response());
    }
    Err(ApiError::not_found())
}

/// The problem a resource answers to a method it does not take (the endpoint adds `Allow`).
pub fn method_not_allowed_error() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this path",
    )
}
