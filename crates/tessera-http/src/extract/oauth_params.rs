//! OAuth endpoint parameters from `application/x-www-form-urlencoded` (RFC 6749) or JSON.
//! A parameter given twice is `invalid_request` (RFC 6749 §3.1).

use std::collections::HashMap;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest};
use futures::StreamExt;
use serde_json::Value;

use crate::error::OAuthError;
use crate::routes::{FORM_LIMIT, JSON_LIMIT};

#[derive(Default)]
pub struct OAuthParams(HashMap<String, String>);

impl std::fmt::Debug for OAuthParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values carry passwords and tokens: names only.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl OAuthParams {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    pub fn require(&self, name: &str) -> Result<String, OAuthError> {
        self.0
            .get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is required")))
    }

    /// Reads and parses the body, bounded by the limits of API.md §1.
    pub async fn read(req: &HttpRequest, mut payload: web::Payload) -> Result<Self, OAuthError> {
        let ctype = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let json = match ctype.as_deref() {
            Some("application/x-www-form-urlencoded") => false,
            Some("application/json") => true,
            None => false,
            Some(other) => {
                return Err(OAuthError::new(
                    "invalid_request",
                    format!(
                        "unsupported content type {other:?}: send application/x-www-form-urlencoded or JSON"
                    ),
                ))
            }
        };
        let limit = if json { JSON_LIMIT } else { FORM_LIMIT };
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|_| OAuthError::new("invalid_request", "the request body could not be read"))?;
            if body.len() + chunk.len() > limit {
                let mut e = OAuthError::new(
                    "invalid_request",
                    format!("the body exceeds {} KiB", limit / 1024),
                );
                e.status = actix_web::http::StatusCode::PAYLOAD_TOO_LARGE;
                return Err(e);
            }
            body.extend_from_slice(&chunk);
        }
        let pairs: Vec<(String, String)> = if body.is_empty() {
            Vec::new()
        } else if json {
            json_pairs(&body)?
        } else {
            serde_urlencoded::from_bytes(&body)
                .map_err(|_| OAuthError::new("invalid_request", "malformed form body"))?
        };
        let mut map = HashMap::new();
        for (k, v) in pairs {
            if map.insert(k.clone(), v).is_some() {
                return Err(OAuthError::new(
                    "invalid_request",
                    format!("parameter {k} is repeated"),
                ));
            }
        }
        Ok(Self(map))
    }
}

fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| OAuthError::new("invalid_request", "malformed JSON body"))?;
    let Value::Object(map) = value else {
        return Err(OAuthError::new(
            "invalid_request",
            "the JSON body must be an object",
        ));
    };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            // RomM's clients send scopes as a list; the RFC form is space-separated.
            Value::Array(items) if k == "scope" => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    OAuthError::new("invalid_request", "scope must be a string or a list of strings")
                })?
                .join(" "),
            _ => {
                return Err(OAuthError::new(
                    "invalid_request",
                    format!("parameter {k} must be a string"),
                ))
            }
        };
        out.push((k, text));
    }
    Ok(out)
}
