//! Client authentication on OAuth endpoints: `client_secret_basic`, `client_secret_post`, or public.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use base64::Engine;
use tessera_service::oauth::{ClientAuth, ClientAuthMethod};

use super::OAuthParams;
use crate::error::OAuthError;

fn invalid_client(detail: &str) -> OAuthError {
    OAuthError::new("invalid_client", detail)
}

/// RFC 6749 §2.3.1: the id and secret are form-encoded before base64.
fn form_decode(s: &str) -> Result<String, OAuthError> {
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| invalid_client("malformed Basic credentials"))
}

/// Reads the client's credentials; using two methods at once is refused (RFC 6749 §2.3).
pub fn client_auth(req: &HttpRequest, params: &OAuthParams) -> Result<ClientAuth, OAuthError> {
    let post_id = params.get("client_id").filter(|s| !s.is_empty());
    let post_secret = params.get("client_secret");
    let Some(header) = req.headers().get(AUTHORIZATION) else {
        let method = if post_secret.is_some() {
            ClientAuthMethod::Post
        } else {
            ClientAuthMethod::None
        };
        return Ok(ClientAuth {
            client_id: post_id,
            secret: post_secret,
            method,
        });
    };
    let text = header
        .to_str()
        .map_err(|_| invalid_client("malformed Authorization header"))?;
    let Some((scheme, rest)) = text.split_once(' ') else {
        return Err(invalid_client("malformed Authorization header"));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client("client authentication must use HTTP Basic"));
    }
    if post_secret.is_some() {
        return Err(OAuthError::new(
            "invalid_request",
            "use one client authentication method, not two",
        ));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| invalid_client("malformed Basic credentials"))?;
    let raw = String::from_utf8(raw).map_err(|_| invalid_client("malformed Basic credentials"))?;
    let (id, secret) = raw
        .split_once(':')
        .ok_or_else(|| invalid_client("malformed Basic credentials"))?;
    let (id, secret) = (form_decode(id)?, form_decode(secret)?);
    if post_id.as_deref().is_some_and(|p| p != id) {
        return Err(OAuthError::new(
            "invalid_request",
            "client_id differs from the Basic credentials",
        ));
    }
    Ok(ClientAuth {
        client_id: Some(id),
        secret: Some(secret),
        method: ClientAuthMethod::Basic,
    })
}
