//! Client authentication on OAuth endpoints: the raw credentials off the request; the service reads them.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use tessera_service::oauth::{ClientAuth, PresentedClient};

use super::OAuthParams;
use crate::error::OAuthError;

/// The `Authorization` header and the form's client fields, nothing decoded.
pub fn presented_client<'a>(req: &'a HttpRequest, params: &'a OAuthParams) -> PresentedClient<'a> {
    PresentedClient {
        authorization: req.headers().get(AUTHORIZATION).map(|v| v.as_bytes()),
        client_id: params.get("client_id"),
        client_secret: params.get("client_secret"),
    }
}

/// `client_secret_basic`, `client_secret_post` or a public client (see [`PresentedClient::read`]).
pub fn client_auth(req: &HttpRequest, params: &OAuthParams) -> Result<ClientAuth, OAuthError> {
    Ok(presented_client(req, params).read()?)
}
