//! `/auth/forward` (API.md §5): may this request pass, and who is it? Called by Traefik `forwardAuth`,
//! Caddy `forward_auth` and nginx `auth_request`. Never reads a body.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use tessera_service::forward_auth::{decide, redirect_host_allowed, Decision, Step};
use tessera_service::identity::Identity;

use crate::extract::caller::resolve_credential;
use crate::AppState;

/// The request the proxy is asking about.
struct Original {
    method: String,
    proto: String,
    host: String,
    uri: String,
    /// nginx (`X-Original-URI`) cannot follow a 302 from an auth subrequest.
    nginx: bool,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The X-Forwarded-*/X-Original-* headers count only from a trusted proxy.
fn original(state: &AppState, req: &HttpRequest) -> Original {
    let h = req.headers();
    let own_host = header(h, "host").unwrap_or("").to_owned();
    let trusted = req.peer_addr().is_some_and(|p| {
        state
            .services
            .settings
            .server
            .trusted_proxies
            .iter()
            .any(|n| n.contains(&p.ip()))
    });
    if !trusted {
        return Original {
            method: req.method().as_str().to_owned(),
            proto: req.connection_info().scheme().to_owned(),
            host: own_host,
            uri: req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned(),
            nginx: false,
        };
    }
    let nginx_uri = header(h, "x-original-uri");
    Original {
        method: header(h, "x-forwarded-method")
            .or(header(h, "x-original-method"))
            .unwrap_or(req.method().as_str())
            .to_owned(),
        proto: header(h, "x-forwarded-proto").unwrap_or("http").to_owned(),
        host: header(h, "x-forwarded-host").map_or(own_host, str::to_owned),
        uri: header(h, "x-forwarded-uri")
            .or(nginx_uri)
            .unwrap_or("/")
            .to_owned(),
        nginx: nginx_uri.is_some() && header(h, "x-forwarded-uri").is_none(),
    }
}

fn set(b: &mut HttpResponseBuilder, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        b.insert_header((name, v));
    }
}

fn identity_headers(state: &AppState, id: &Identity) -> HttpResponse {
    let mut b = HttpResponse::Ok();
    let (name, role) = match &id.principal {
        Some(p) => (p.username.clone(), p.role.as_str().to_owned()),
        None => (id.subject.clone(), "service".to_owned()),
    };
    set(&mut b, "x-auth-user-id", &id.subject);
    set(&mut b, "x-auth-user", &name);
    set(&mut b, "x-auth-role", &role);
    set(
        &mut b,
        "x-auth-scopes",
        &state.services.catalog.to_text(id.scopes),
    );
    if let Some(d) = &id.device_id {
        set(&mut b, "x-auth-device-id", d);
    }
    set(&mut b, "x-auth-credential", id.kind.as_str());
    b.finish()
}

fn login_url(state: &AppState, o: &Original) -> String {
    let s = &state.services.settings;
    let base = &s.server.public_url;
    let host_only = o
        .host
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(o.host.as_str(), |(h, _)| h);
    if !redirect_host_allowed(base, &s.forward_auth.allowed_redirect_hosts, host_only) {
        return format!("{base}/login");
    }
    let target = format!("{}://{}{}", o.proto, o.host, o.uri);
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
            let browser = header(req.headers(), "accept").is_some_and(|a| a.contains("text/html"));
            if login_redirect && browser {
                let url = login_url(state, o);
                if !o.nginx {
                    return HttpResponse::Found()
                        .insert_header((header::LOCATION, url))
                        .finish();
                }
                let mut b = HttpResponse::Unauthorized();
                set(&mut b, "x-auth-redirect", &url);
                return b
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
                    .finish();
            }
            HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
                .finish()
        }
        Decision::Denied => HttpResponse::Forbidden()
            .insert_header(("x-auth-reason", "denied"))
            .finish(),
        Decision::BadPath => HttpResponse::Forbidden()
            .insert_header(("x-auth-reason", "bad_path"))
            .finish(),
        Decision::MissingScope { required, missing } => {
            let mut b = HttpResponse::Forbidden();
            set(&mut b, "x-auth-reason", "missing_scope");
            set(&mut b, "x-auth-required-scopes", &required.join(" "));
            set(&mut b, "x-auth-missing-scopes", &missing.join(" "));
            b.finish()
        }
    }
}

/// Forward-auth decision: 200 with identity headers, 401 (or a login redirect), or 403 with a reason.
#[utoipa::path(get, path = "/auth/forward", tag = "forward-auth", responses(
    (status = 200, description = "allowed; identity in X-Auth-* headers"),
    (status = 302, description = "browser sent to the login page (Traefik, Caddy)"),
    (status = 401, description = "no or invalid credential; X-Auth-Redirect for nginx"),
    (status = 403, description = "X-Auth-Reason: denied | missing_scope | bad_path")))]
pub async fn forward(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let o = original(&state, &req);
    let rules = state.services.rules.clone();
    let (step, _) = rules.first_step(&o.host, &o.uri, &o.method);
    match step {
        Step::Done(d) => respond(&state, &req, &o, d, None),
        Step::NeedsIdentity { rule, policy } => {
            let identity = match resolve_credential(&req).await {
                Ok(id) => id,
                Err(e) if e.status == StatusCode::UNAUTHORIZED => None,
                Err(e) => return actix_web::ResponseError::error_response(&e),
            };
            let d = decide(&state.services.catalog, rule, policy, identity.as_ref());
            respond(&state, &req, &o, d, identity.as_ref())
        }
    }
}
