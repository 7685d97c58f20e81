//! Client authentication on OAuth endpoints: the raw credentials off the request; the service reads them.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use tessera_service::oauth::PresentedClient;

use super::OAuthParams;
use crate::AppState;

/// The `Authorization` header, the form's client fields and the client's address, nothing decoded.
pub fn presented_client<'a>(
    state: &AppState,
    req: &'a HttpRequest,
    params: &'a OAuthParams,
) -> PresentedClient<'a> {
    PresentedClient {
        authorization: req.headers().get(AUTHORIZATION).map(|v| v.as_bytes()),
        client_id: params.get("client_id"),
        client_secret: params.get("client_secret"),
        address: crate::client_ip::client_addr(req, &state.services.settings.server.trusted_proxies),
    }
}
