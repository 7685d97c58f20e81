//! The one place that reads credentials off a request: raw header values and the session cookie, nothing
//! decided. `tessera_service::authn` owns what they mean and in which order they count.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use tessera_service::authn::Presented;

use crate::cookies::session_cookie;
use crate::AppState;

pub fn presented<'a>(req: &'a HttpRequest, state: &AppState) -> Presented<'a> {
    let h = req.headers();
    let services = &state.services;
    let authorization = h.get(AUTHORIZATION).map(|v| v.as_bytes());
    // The client address matters only for Basic (its login budget); not worked out for anything else.
    let client_ip = authorization
        .map(<[u8]>::trim_ascii_start)
        .filter(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case(b"basic "))
        .map(|_| crate::client_ip::client_ip(req, &services.settings.server.trusted_proxies));
    let configured = |name: &Option<actix_web::http::header::HeaderName>| {
        name.as_ref().and_then(|n| h.get(n)).map(|v| v.as_bytes())
    };
    Presented {
        api_key: configured(&state.headers.api_key),
        authorization,
        service_key: configured(&state.headers.service_key),
        session: session_cookie(req, &services.settings.session),
        client_ip,
    }
}
