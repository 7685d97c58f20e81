//! RFC 9457 problem documents for `/api`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Problem {
    /// `/problems/<code>`; `GET` it for a human explanation.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// `device_exists`: the caller's device that has the same fingerprint (RomM's clients read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// Every problem code Tessera answers with, and its short explanation (served at `/problems/<code>`).
pub const PROBLEM_CODES: &[(&str, &str, &str)] = &[
    (
        "bad_request",
        "Bad request",
        "The request could not be parsed: malformed JSON or form data, or a missing body.",
    ),
    (
        "validation",
        "Invalid fields",
        "The request was well-formed but some fields are invalid; `errors` lists them.",
    ),
    (
        "payload_too_large",
        "Payload too large",
        "JSON bodies are limited to 64 KiB and form bodies to 16 KiB.",
    ),
    (
        "unsupported_media_type",
        "Unsupported media type",
        "This endpoint takes application/json.",
    ),
    (
        "not_found",
        "Not found",
        "No such resource, or it is not visible to you.",
    ),
    (
        "method_not_allowed",
        "Method not allowed",
        "This path does not accept that HTTP method.",
    ),
    (
        "unauthorized",
        "Unauthorized",
        "No credential, or an invalid, expired or revoked one.",
    ),
    ("forbidden", "Forbidden", "Authenticated, but not allowed."),
    (
        "insufficient_scope",
        "Insufficient scope",
        "The credential lacks scopes; `required` and `missing` list them.",
    ),
    (
        "scope_excess",
        "Scope excess",
        "Creating, regenerating or pairing a credential (a client token, a device, an OAuth client, an admin invite) is minting: it may not reach beyond the calling credential's effective scopes. `missing` lists the excess; use a credential that holds them.",
    ),
    (
        "conflict",
        "Conflict",
        "The request conflicts with existing state.",
    ),
    (
        "setup_closed",
        "Setup closed",
        "An administrator already exists; first-admin setup is closed.",
    ),
    (
        "setup_disabled",
        "Setup disabled",
        "First-admin setup is disabled by configuration; use `tessera users create --admin`.",
    ),
    (
        "device_exists",
        "Device exists",
        "POST /api/devices with allow_existing false found one of your devices with the same MAC address, or host name \
         and platform; `device_id` names it. Send allow_duplicate true to register another.",
    ),
    (
        "token_limit",
        "Token limit reached",
        "A user holds at most 25 live client tokens; delete one first.",
    ),
    (
        "rate_limited",
        "Too many requests",
        "Slow down; `Retry-After` says when to try again.",
    ),
    (
        "gone",
        "Link used or expired",
        "Invite and password-reset links work once, and only for a limited time; ask for a new one.",
    ),
    (
        "csrf",
        "CSRF token missing or wrong",
        "A write authenticated by the session cookie needs `X-CSRF-Token` equal to the `tessera_csrf` cookie (or the form's token); a RomM deployment (`session.preset = \"romm\"`) reads `X-CSRFToken` and `romm_csrftoken`. Reload the page and try again.",
    ),
    (
        "second_factor_required",
        "Second factor required",
        "The password was right, and this account also has a second factor: send the authenticator's current code (or a recovery code) as `otp`. HTTP Basic cannot carry one: use a client token, a pair code or the device flow.",
    ),
    (
        "password_login_disabled",
        "Password login disabled",
        "This deployment signs people in through its upstream identity provider only.",
    ),
    (
        "header_too_large",
        "Header too large",
        "A credential header is limited to 8 KiB.",
    ),
    (
        "unavailable",
        "Service unavailable",
        "A dependency of Tessera is unavailable; try again shortly.",
    ),
    (
        "internal",
        "Internal error",
        "Something went wrong on the server. The request id identifies it in the log.",
    ),
];

pub fn problem_info(code: &str) -> Option<(&'static str, &'static str)> {
    PROBLEM_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, title, text)| (*title, *text))
}
