//! `PUT /api/users/{id}` bodies: Tessera's JSON, and the form RomM's web app and romm-comm send (urlencoded, or
//! multipart with an `avatar` file). Form fields follow RomM's `UserForm`: an empty field is not given, unknown
//! fields (RomM's `netplayid`) are ignored.

use actix_multipart::Multipart;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use futures::StreamExt;
use tessera_proto::users::UserUpdateRequest;
use tessera_service::avatars::MAX_AVATAR_BYTES;

use crate::error::ApiError;
use crate::extract::body::read_limited;
use crate::routes::JSON_LIMIT;

/// A text field of RomM's form: at most this long (`ui_settings` is the largest, bounded at 16 KiB itself).
const MAX_FORM_FIELD_BYTES: usize = JSON_LIMIT;
/// The most parts a multipart form may carry; RomM's has nine.
const MAX_FORM_PARTS: usize = 32;

/// The update a body asks for, and an uploaded avatar's bytes (checked by content later, in the service).
pub struct UserUpdateBody {
    pub update: UserUpdateRequest,
    pub avatar: Option<Vec<u8>>,
}

fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", detail)
}

fn too_large(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        what.to_owned(),
    )
}

/// Reads the body by its content type; anything but JSON, urlencoded or multipart is a 415.
pub async fn read_user_update(req: &HttpRequest, payload: web::Payload) -> Result<UserUpdateBody, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    match essence {
        "application/json" => {
            let body = read_limited(req, payload, JSON_LIMIT).await?;
            let update = serde_json::from_slice(&body).map_err(|e| {
                if e.is_data() {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        format!("invalid field: {e}"),
                    )
                } else {
                    bad_request(format!("malformed JSON: {e}"))
                }
            })?;
            Ok(UserUpdateBody { update, avatar: None })
        }
        "application/x-www-form-urlencoded" => {
            let body = read_limited(req, payload, JSON_LIMIT).await?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| bad_request(format!("malformed form: {e}")))?;
            let mut form = RommForm::default();
            for (name, value) in pairs {
                form.set(&name, value)?;
            }
            form.into_body(None)
        }
        "multipart/form-data" => read_multipart(req, payload).await,
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected application/json, application/x-www-form-urlencoded or multipart/form-data",
        )),
    }
}

async fn read_multipart(req: &HttpRequest, payload: web::Payload) -> Result<UserUpdateBody, ApiError> {
    let mut parts = Multipart::new(req.headers(), payload);
    let mut form = RommForm::default();
    let mut avatar = None;
    let mut count = 0;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| bad_request(format!("malformed multipart body: {e}")))?;
        count += 1;
        if count > MAX_FORM_PARTS {
            return Err(bad_request(format!("at most {MAX_FORM_PARTS} form fields")));
        }
        let name = part.name().unwrap_or("").to_owned();
        let is_file = part
            .content_disposition()
            .is_some_and(|d| d.get_filename().is_some());
        let limit = if name == "avatar" {
            MAX_AVATAR_BYTES
        } else {
            MAX_FORM_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| bad_request(format!("malformed multipart body: {e}")))?;
            if bytes.len() + chunk.len() > limit {
                return Err(too_large(if name == "avatar" {
                    "the avatar exceeds 2 MiB"
                } else {
                    "a form field exceeds 64 KiB"
                }));
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "avatar" {
            // RomM applies an avatar only when a file was chosen; an empty part is "no new avatar".
            if is_file && !bytes.is_empty() {
                if avatar.is_some() {
                    return Err(bad_request("one avatar per request"));
                }
                avatar = Some(bytes);
            }
            continue;
        }
        let value =
            String::from_utf8(bytes).map_err(|_| bad_request(format!("field {name} is not UTF-8")))?;
        form.set(&name, value)?;
    }
    form.into_body(avatar)
}

/// RomM's `UserForm` fields as text.
#[derive(Default)]
struct RommForm {
    update: UserUpdateRequest,
}

impl RommForm {
    fn set(&mut self, name: &str, value: String) -> Result<(), ApiError> {
        if value.is_empty() {
            return Ok(());
        }
        let u = &mut self.update;
        match name {
            "username" => u.username = Some(value),
            "password" => u.password = Some(value),
            "email" => u.email = Some(value),
            "role" => u.role = Some(value),
            "enabled" => u.enabled = Some(form_bool("enabled", &value)?),
            "ra_username" => u.ra_username = Some(value),
            "ui_settings" => u.ui_settings = Some(serde_json::Value::String(value)),
            _ => {}
        }
        Ok(())
    }

    fn into_body(self, avatar: Option<Vec<u8>>) -> Result<UserUpdateBody, ApiError> {
        Ok(UserUpdateBody {
            update: self.update,
            avatar,
        })
    }
}

/// A boolean form field as RomM (pydantic) reads one.
fn form_bool(field: &str, v: &str) -> Result<bool, ApiError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" | "t" | "y" => Ok(true),
        "false" | "0" | "off" | "no" | "f" | "n" => Ok(false),
        _ => Err(ApiError::validation(vec![tessera_proto::problem::FieldError {
            field: field.to_owned(),
            message: "must be true or false".to_owned(),
        }])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romms_form_reads_like_romm() {
        let mut f = RommForm::default();
        f.set("username", String::new()).unwrap();
        f.set("enabled", "false".into()).unwrap();
        f.set("netplayid", "x".into()).unwrap();
        f.set("ui_settings", "{\"a\":1}".into()).unwrap();
        assert!(f.update.username.is_none(), "empty is not given");
        assert_eq!(f.update.enabled, Some(false));
        assert_eq!(
            f.update.ui_settings,
            Some(serde_json::Value::String("{\"a\":1}".into()))
        );
        assert!(f.set("enabled", "maybe".into()).is_err());
    }
}
