//! `/auth/forward` (API.md §5): may this request pass, and who is it? Called by Traefik `forwardAuth`,
//! Caddy `forward_auth` and nginx `auth_request`. Never reads a body.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use tessera_service::forward_auth::{
    canonical_host, choose_origin, redirect_host_allowed, CanonicalHost, Decision, OriginHeaders,
};
use tessera_service::identity::Identity;

use crate::error::ApiError;
use crate::extract::presented::presented;
use crate::AppState;

/// Header names parsed once: a name given as text is parsed again at every use, on the hottest path.
mod names {
    use actix_web::http::header::HeaderName;
    pub const X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");
    pub const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");
    pub const X_ORIGINAL_METHOD: HeaderName = HeaderName::from_static("x-original-method");
    pub const X_ORIGINAL_URI: HeaderName = HeaderName::from_static("x-original-uri");
    pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
    pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
    pub const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
    pub const X_AUTH_REASON: HeaderName = HeaderName::from_static("x-auth-reason");
    pub const X_AUTH_USER_ID: HeaderName = HeaderName::from_static("x-auth-user-id");
    pub const X_AUTH_USER: HeaderName = HeaderName::from_static("x-auth-user");
    pub const X_AUTH_ROLE: HeaderName = HeaderName::from_static("x-auth-role");
    pub const X_AUTH_SCOPES: HeaderName = HeaderName::from_static("x-auth-scopes");
    pub const X_AUTH_DEVICE_ID: HeaderName = HeaderName::from_static("x-auth-device-id");
    pub const X_AUTH_CREDENTIAL: HeaderName = HeaderName::from_static("x-auth-credential");
    pub const X_AUTH_REDIRECT: HeaderName = HeaderName::from_static("x-auth-redirect");
    pub const X_AUTH_REQUIRED_SCOPES: HeaderName = HeaderName::from_static("x-auth-required-scopes");
    pub const X_AUTH_MISSING_SCOPES: HeaderName = HeaderName::from_static("x-auth-missing-scopes");
}

/// The request the proxy is asking about.
struct Original {
    method: String,
    proto: String,
    host: CanonicalHost,
    uri: String,
    /// nginx (`X-Original-URI`) cannot follow a 302 from an auth subrequest.
    nginx: bool,
}

fn header(h: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A 400 naming why the proxy's question cannot be answered.
fn bad_request(reason: &str) -> HttpResponse {
    let mut b = HttpResponse::BadRequest();
    set(&mut b, names::X_AUTH_REASON, reason);
    b.finish()
}

/// The original request. The X-Forwarded-*/X-Original-* headers count only from a trusted proxy, and
/// only the family `forward_auth.proxy` names (API.md §5): the other family is the client's own. The error
/// is the `X-Auth-Reason` of a 400.
fn original(state: &AppState, req: &HttpRequest) -> Result<Original, &'static str> {
    let h = req.headers();
    let s = &state.services.settings;
    let trusted = req
        .peer_addr()
        .is_some_and(|p| s.server.trusted_proxies.iter().any(|n| n.contains(&p.ip())));
    let own_uri = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let canonical = |raw: &str| canonical_host(raw).map_err(|_| "bad_host");
    if !trusted {
        return Ok(Original {
            method: req.method().as_str().to_owned(),
            // Not connection_info(): it would read the client's own X-Forwarded-Proto.
            proto: if req.app_config().secure() {
                "https"
            } else {
                "http"
            }
            .to_owned(),
            host: canonical(header(h, header::HOST).unwrap_or(""))?,
            uri: own_uri.to_owned(),
            nginx: false,
        });
    }
    let origin = OriginHeaders {
        forwarded_method: header(h, names::X_FORWARDED_METHOD),
        forwarded_uri: header(h, names::X_FORWARDED_URI),
        original_method: header(h, names::X_ORIGINAL_METHOD),
        original_uri: header(h, names::X_ORIGINAL_URI),
    };
    let chosen = choose_origin(s.forward_auth.proxy, origin).map_err(|e| {
        tracing::warn!(target: "tessera::security", reason = %e, "forward-auth request with conflicting original-request headers");
        "bad_request"
    })?;
    let proto = header(h, names::X_FORWARDED_PROTO).unwrap_or("http").to_owned();
    let mut host = canonical(
        header(h, names::X_FORWARDED_HOST)
            .or(header(h, header::HOST))
            .unwrap_or(""),
    )?;
    // nginx's `$host` has no port; the snippet sends it in X-Forwarded-Port for the login redirect.
    if host.port.is_none() {
        let default = if proto == "https" { 443 } else { 80 };
        host.port = header(h, names::X_FORWARDED_PORT)
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|p| *p != default);
    }
    Ok(Original {
        method: chosen.method.unwrap_or(req.method().as_str()).to_owned(),
        proto,
        host,
        uri: chosen.uri.unwrap_or(own_uri).to_owned(),
        nginx: chosen.nginx,
    })
}

fn set(b: &mut HttpResponseBuilder, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        b.insert_header((name, v));
    }
}

fn identity_headers(state: &AppState, id: &Identity) -> HttpResponse {
    let mut b = HttpResponse::Ok();
    let (name, role) = match &id.principal {
        Some(p) => (p.username.as_str(), p.role.as_str()),
        None => (&*id.subject, "service"),
    };
    set(&mut b, names::X_AUTH_USER_ID, &id.subject);
    set(&mut b, names::X_AUTH_USER, name);
    set(&mut b, names::X_AUTH_ROLE, role);
    if let Some(v) = state.scope_headers.get(&state.services.catalog, id.scopes) {
        b.insert_header((names::X_AUTH_SCOPES, v));
    }
    if let Some(d) = &id.device_id {
        set(&mut b, names::X_AUTH_DEVICE_ID, d);
    }
    set(&mut b, names::X_AUTH_CREDENTIAL, id.kind.as_str());
    b.finish()
}

fn login_url(state: &AppState, o: &Original) -> String {
    let s = &state.services.settings;
    let base = &s.server.public_url;
    if !redirect_host_allowed(base, &s.forward_auth.allowed_redirect_hosts, &o.host.name) {
        return format!("{base}/login");
    }
    let target = format!("{}://{}{}", o.proto, o.host.authority(), o.uri);
    let rd: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    format!("{base}/login?rd={rd}")
}

fn respond(
    state: &AppState,
    req: &HttpRequest,
    o: &Original,
    decision: Decision,
    id: Option<&Identity>,
) -> HttpResponse {
    match decision {
        Decision::Bypass => HttpResponse::Ok().finish(),
        Decision::Allow => id.map_or_else(|| HttpResponse::Ok().finish(), |id| identity_headers(state, id)),
        Decision::Unauthenticated { login_redirect } => {
            let browser = header(req.headers(), header::ACCEPT).is_some_and(|a| a.contains("text/html"));
            if login_redirect && browser {
                let url = login_url(state, o);
                if !o.nginx {
                    return HttpResponse::Found()
                        .insert_header((header::LOCATION, url))
                        .finish();
                }
                let mut b = HttpResponse::Unauthorized();
                set(&mut b, names::X_AUTH_REDIRECT, &url);
                return b
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
                    .finish();
            }
            HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
                .finish()
        }
        Decision::Denied => HttpResponse::Forbidden()
            .insert_header((names::X_AUTH_REASON, "denied"))
            .finish(),
        Decision::BadPath => HttpResponse::Forbidden()
            .insert_header((names::X_AUTH_REASON, "bad_path"))
            .finish(),
        Decision::MissingScope { required, missing } => {
            let mut b = HttpResponse::Forbidden();
            set(&mut b, names::X_AUTH_REASON, "missing_scope");
            set(&mut b, names::X_AUTH_REQUIRED_SCOPES, &required.join(" "));
            set(&mut b, names::X_AUTH_MISSING_SCOPES, &missing.join(" "));
            b.finish()
        }
    }
}

/// Forward-auth decision: 200 with identity headers, 401 (or a login redirect), or 403 with a reason.
#[utoipa::path(get, path = "/auth/forward", tag = "forward-auth", responses(
    (status = 200, description = "allowed; identity in X-Auth-* headers"),
    (status = 302, description = "browser sent to the login page (Traefik, Caddy)"),
    (status = 400, description = "X-Auth-Reason: bad_host | bad_request (conflicting original-request headers)"),
    (status = 401, description = "no or invalid credential; X-Auth-Redirect for nginx"),
    (status = 403, description = "X-Auth-Reason: denied | missing_scope | bad_path")))]
pub async fn forward(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let o = match original(&state, &req) {
        Ok(o) => o,
        Err(reason) => return bad_request(reason),
    };
    let services = &state.services;
    match services
        .forward(&o.host.name, &o.uri, &o.method, || presented(&req, &state))
        .await
    {
        Ok((decision, identity)) => respond(&state, &req, &o, decision, identity.as_ref()),
        Err(e) => actix_web::ResponseError::error_response(&ApiError::from(e)),
    }
}
