//! OAuth endpoint parameters from `application/x-www-form-urlencoded` (RFC 6749) or JSON.
//! A parameter given twice is `invalid_request` (RFC 6749 §3.1).

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest};
use futures::StreamExt;
use serde_json::Value;

use crate::error::OAuthError;
use crate::routes::{FORM_LIMIT, JSON_LIMIT};

const MAX_PARAMS: usize = 64;

/// A handful of pairs at most: a vector searched in order is cheaper than hashing on the hot
/// introspection path.
#[derive(Default)]
pub struct OAuthParams(Vec<(String, String)>);

impl std::fmt::Debug for OAuthParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values carry passwords and tokens: names only.
        f.debug_set().entries(self.0.iter().map(|(k, _)| k)).finish()
    }
}

impl OAuthParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// An owned copy, for request structs the service takes by value.
    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is required")))
    }

    /// Reads and parses the body, bounded by the limits of API.md §1.
    pub async fn read(req: &HttpRequest, payload: web::Payload) -> Result<Self, OAuthError> {
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
        // A body trickled in byte by byte must not hold a worker: it has the request timeout to arrive.
        let timeout_ms = req
            .app_data::<web::Data<crate::AppState>>()
            .map_or(5000, |s| s.services.settings.server.request_timeout_ms);
        let body = tokio::time::timeout(
            std::time::Duration::from_millis(timeout_ms),
            read_body(payload, limit),
        )
        .await
        .map_err(|_| {
            let mut e = OAuthError::new("invalid_request", "the request body arrived too slowly");
            e.status = actix_web::http::StatusCode::REQUEST_TIMEOUT;
            e
        })??;
        Self::parse(json, &body)
    }

    /// Parses a complete body (form or JSON): the pure part of `read`, fuzzed in `fuzz/`.
    pub fn parse(json: bool, body: &[u8]) -> Result<Self, OAuthError> {
        let pairs: Vec<(String, String)> = if body.is_empty() {
            Vec::new()
        } else if json {
            json_pairs(body)?
        } else {
            form_pairs(body)?
        };
        // No OAuth request has more than a dozen parameters; the cap also bounds the duplicate check.
        if pairs.len() > MAX_PARAMS {
            return Err(OAuthError::new(
                "invalid_request",
                format!("more than {MAX_PARAMS} parameters"),
            ));
        }
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(earlier, _)| earlier == k) {
                return Err(OAuthError::new(
                    "invalid_request",
                    format!("parameter {k} is repeated"),
                ));
            }
        }
        Ok(Self(pairs))
    }
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, OAuthError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| OAuthError::new("invalid_request", "the request body could not be read"))?;
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
    Ok(body)
}

/// `application/x-www-form-urlencoded` pairs. A value without escapes (a token, say) is taken as it
/// is: the byte-by-byte decoder was a tenth of the introspection profile (BENCHMARKS.md).
fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let mut out = Vec::new();
    // memchr rather than byte-by-byte splits: a token is most of the body and is scanned three times.
    let mut rest = body;
    let parts = std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'&', rest).unwrap_or(rest.len());
        let part = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        Some(part)
    });
    for part in parts.filter(|p| !p.is_empty()) {
        if out.len() == MAX_PARAMS {
            return Err(OAuthError::new(
                "invalid_request",
                format!("more than {MAX_PARAMS} parameters"),
            ));
        }
        let (name, value) = match memchr::memchr(b'=', part) {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        out.push((form_decode(name)?, form_decode(value)?));
    }
    Ok(out)
}

fn form_decode(raw: &[u8]) -> Result<String, OAuthError> {
    let malformed = || OAuthError::new("invalid_request", "malformed form body (not UTF-8)");
    if memchr::memchr2(b'%', b'+', raw).is_none() {
        return std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| malformed());
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            // An escape that is not two hex digits stays as it is, as browsers and the WHATWG
            // URL standard do.
            b'%' => match (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    bytes.push(h << 4 | l);
                    i += 2;
                }
                _ => bytes.push(b'%'),
            },
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| malformed())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(body: &str) -> Vec<(String, String)> {
        form_pairs(body.as_bytes()).unwrap()
    }

    #[test]
    fn form_bodies_decode_like_serde_urlencoded() {
        for body in [
            "token=abc.def-ghi_jkl&token_type_hint=access_token",
            "username=ada%40example.org&password=correct+horse%20battery",
            "a=%zz&b=%4&c=%&d=100%25&e",
            "&&x=1&&y=%E2%9C%93&",
            "",
        ] {
            let ours = pairs(body);
            let theirs: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap();
            assert_eq!(ours, theirs, "{body}");
        }
    }

    #[test]
    fn invalid_utf8_and_too_many_parameters_are_refused() {
        assert!(form_pairs(b"a=%FF").is_err());
        assert!(form_pairs(b"a=\xff").is_err());
        let many = vec!["a=1"; MAX_PARAMS + 1].join("&");
        assert!(form_pairs(many.as_bytes()).is_err());
    }
}
