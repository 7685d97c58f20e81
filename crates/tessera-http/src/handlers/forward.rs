//! `/auth/forward` (API.md §5): may this request pass, and who is it? Called by Traefik `forwardAuth`,
//! Caddy `forward_auth` and nginx `auth_request`. Never reads a body.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
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

/// The request the proxy is asking about, borrowed from the headers that describe it (nothing copied
/// per request).
struct Original<'r> {
    method: &'r str,
    proto: &'r str,
    host: CanonicalHost<'r>,
    uri: &'r str,
    /// nginx (`X-Original-URI`) cannot follow a 302 from an auth subrequest.
    nginx: bool,
}

fn header(h: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    text(h.get(name))
}

/// The first value of each header a trusted proxy describes the original request with, found in one pass
/// over the request's headers rather than one hashed lookup per name (seven of them on every answer).
#[derive(Default)]
struct ProxyHeaders<'r> {
    forwarded_method: Option<&'r HeaderValue>,
    forwarded_uri: Option<&'r HeaderValue>,
    original_method: Option<&'r HeaderValue>,
    original_uri: Option<&'r HeaderValue>,
    forwarded_proto: Option<&'r HeaderValue>,
    forwarded_host: Option<&'r HeaderValue>,
    forwarded_port: Option<&'r HeaderValue>,
    host: Option<&'r HeaderValue>,
}

impl<'r> ProxyHeaders<'r> {
    fn scan(h: &'r HeaderMap) -> Self {
        let mut seen = Self::default();
        for (name, value) in h.iter() {
            let slot = match name.as_str() {
                "host" => &mut seen.host,
                "x-forwarded-method" => &mut seen.forwarded_method,
                "x-forwarded-uri" => &mut seen.forwarded_uri,
                "x-original-method" => &mut seen.original_method,
                "x-original-uri" => &mut seen.original_uri,
                "x-forwarded-proto" => &mut seen.forwarded_proto,
                "x-forwarded-host" => &mut seen.forwarded_host,
                "x-forwarded-port" => &mut seen.forwarded_port,
                _ => continue,
            };
            // The first value counts, as `HeaderMap::get` would answer.
            slot.get_or_insert(value);
        }
        seen
    }
}

/// A header value as forward-auth reads it: text, trimmed, not empty.
fn text(v: Option<&HeaderValue>) -> Option<&str> {
    v.and_then(|v| v.to_str().ok())
        .map(str::trim_ascii)
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
fn original<'r>(state: &AppState, req: &'r HttpRequest) -> Result<Original<'r>, &'static str> {
    let h = req.headers();
    let s = &state.services.settings;
    let trusted = req
        .peer_addr()
        .is_some_and(|p| s.server.trusted_proxies.iter().any(|n| n.contains(&p.ip())));
    let own_uri = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let canonical = |raw: &'r str| canonical_host(raw).map_err(|_| "bad_host");
    if !trusted {
        return Ok(Original {
            method: req.method().as_str(),
            // Not connection_info(): it would read the client's own X-Forwarded-Proto.
            proto: if req.app_config().secure() {
                "https"
            } else {
                "http"
            },
            host: canonical(header(h, header::HOST).unwrap_or(""))?,
            uri: own_uri,
            nginx: false,
        });
    }
    let seen = ProxyHeaders::scan(h);
    let origin = OriginHeaders {
        forwarded_method: text(seen.forwarded_method),
        forwarded_uri: text(seen.forwarded_uri),
        original_method: text(seen.original_method),
        original_uri: text(seen.original_uri),
    };
    let chosen = choose_origin(s.forward_auth.proxy, origin).map_err(|e| {
        tracing::warn!(target: "tessera::security", reason = %e, "forward-auth request with conflicting original-request headers");
        "bad_request"
    })?;
    let proto = text(seen.forwarded_proto).unwrap_or("http");
    let mut host = canonical(text(seen.forwarded_host).or(text(seen.host)).unwrap_or(""))?;
    // nginx's `$host` has no port; the snippet sends it in X-Forwarded-Port for the login redirect.
    if host.port.is_none() {
        let default = if proto == "https" { 443 } else { 80 };
        host.port = text(seen.forwarded_port)
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|p| *p != default);
    }
    Ok(Original {
        method: chosen.method.unwrap_or(req.method().as_str()),
        proto,
        host,
        uri: chosen.uri.unwrap_or(own_uri),
        nginx: chosen.nginx,
    })
}

fn set(b: &mut HttpResponseBuilder, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        b.insert_header((name, v));
    }
}

/// `X-Auth-User-Id` and `X-Auth-User` for a (subject, name) pair, made once per worker thread and pair:
/// the same few users are answered over and over, and a header value made from text is an allocation, a
/// copy and a check every time (~4 % of a cached answer with the role and credential kind, now static).
/// Keyed by a hash of both texts and confirmed against them, so a collision is only a miss. Bounded: the
/// pairs come from identities that authenticated, and past `MAX` the map starts again.
fn user_headers(subject: &str, name: &str) -> Option<(HeaderValue, HeaderValue)> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::hash::BuildHasher;
    const MAX: usize = 1024;
    type Seed = foldhash::fast::RandomState;
    struct Entry {
        subject: Box<str>,
        name: Box<str>,
        values: (HeaderValue, HeaderValue),
    }
    thread_local! {
        static CACHE: RefCell<(Seed, HashMap<u64, Entry, Seed>)> = RefCell::default();
    }
    CACHE.with(|cell| {
        let (seed, map) = &mut *cell.borrow_mut();
        let key = seed.hash_one((subject, name));
        if let Some(e) = map
            .get(&key)
            .filter(|e| &*e.subject == subject && &*e.name == name)
        {
            return Some(e.values.clone());
        }
        let values = (
            HeaderValue::from_str(subject).ok()?,
            HeaderValue::from_str(name).ok()?,
        );
        if map.len() >= MAX {
            map.clear();
        }
        let entry = Entry {
            subject: subject.into(),
            name: name.into(),
            values: values.clone(),
        };
        map.insert(key, entry);
        Some(values)
    })
}

/// The allowed answer: the identity as headers. Written into the response's own header map rather than
/// through the builder (which converts and checks each pair and keeps an error slot): every header here
/// is already a `HeaderValue`, and this is the answer forward-auth gives most.
fn identity_headers(state: &AppState, id: &Identity) -> HttpResponse {
    let mut res = HttpResponse::new(StatusCode::OK);
    let h = res.headers_mut();
    let (name, role) = match &id.principal {
        Some(p) => (p.username.as_str(), p.role.as_str()),
        None => (&*id.subject, "service"),
    };
    let text = |s: &str| HeaderValue::from_str(s).ok();
    match user_headers(&id.subject, name) {
        Some((user_id, user)) => {
            h.insert(names::X_AUTH_USER_ID, user_id);
            h.insert(names::X_AUTH_USER, user);
        }
        None => {
            // Text a header cannot carry leaves its header out, as `set` does.
            if let Some(v) = text(&id.subject) {
                h.insert(names::X_AUTH_USER_ID, v);
            }
            if let Some(v) = text(name) {
                h.insert(names::X_AUTH_USER, v);
            }
        }
    }
    h.insert(names::X_AUTH_ROLE, HeaderValue::from_static(role));
    if let Some(v) = state.scope_headers.get(&state.services.catalog, id.scopes) {
        h.insert(names::X_AUTH_SCOPES, v);
    }
    if let Some(v) = id.device_id.as_deref().and_then(text) {
        h.insert(names::X_AUTH_DEVICE_ID, v);
    }
    h.insert(
        names::X_AUTH_CREDENTIAL,
        HeaderValue::from_static(id.kind.as_str()),
    );
    res
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
        .forward(&o.host.name, o.uri, o.method, || presented(&req, &state))
        .await
    {
        Ok((decision, identity)) => respond(&state, &req, &o, decision, identity.as_ref()),
        Err(e) => actix_web::ResponseError::error_response(&ApiError::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_pass_scan_reads_the_first_value_as_a_lookup_would() {
        let mut h = HeaderMap::new();
        let name = |n: &'static str| HeaderName::from_static(n);
        h.append(
            name("x-forwarded-host"),
            HeaderValue::from_static(" romm.example.com "),
        );
        h.append(
            name("x-forwarded-host"),
            HeaderValue::from_static("evil.example.com"),
        );
        h.append(name("x-forwarded-proto"), HeaderValue::from_static(""));
        h.append(name("x-forwarded-proto"), HeaderValue::from_static("https"));
        h.append(header::HOST, HeaderValue::from_static("tessera:8080"));
        h.append(name("x-original-uri"), HeaderValue::from_static("/a?b"));
        let seen = ProxyHeaders::scan(&h);
        assert_eq!(text(seen.forwarded_host), Some("romm.example.com"));
        assert_eq!(text(seen.forwarded_host), header(&h, "x-forwarded-host"));
        // An empty first value is no value, not a reason to read the second (as `get` answers).
        assert_eq!(text(seen.forwarded_proto), None);
        assert_eq!(text(seen.host), Some("tessera:8080"));
        assert_eq!(text(seen.original_uri), Some("/a?b"));
        assert_eq!(
            (seen.forwarded_uri, seen.forwarded_method, seen.forwarded_port),
            (None, None, None)
        );
    }

    #[test]
    fn user_header_values_are_made_once_and_match_their_text() {
        let (id, user) = user_headers("42", "ada").unwrap();
        assert_eq!((id.to_str().unwrap(), user.to_str().unwrap()), ("42", "ada"));
        // The same pair again is the stored value (the same bytes, not a copy); another pair is its own.
        let (again, _) = user_headers("42", "ada").unwrap();
        assert_eq!(again.as_bytes().as_ptr(), id.as_bytes().as_ptr());
        let (_, other) = user_headers("42", "bob").unwrap();
        assert_eq!(other.to_str().unwrap(), "bob");
        // Text a header cannot carry is no value, and the caller leaves the header out.
        assert!(user_headers("42", "a\nb").is_none());
    }
}
