//! Error pages that speak to a person (issue 22): a refusal on a page (a missing scope, an expired form,
//! an unknown id) reaches a browser as a short HTML page — what happened, what to do — instead of the
//! problem document the API answers. Only page paths asked for HTML are touched; the API, OAuth,
//! forward-auth and discovery answers stay as their specifications say.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentType};
use actix_web::HttpResponse;
use askama::Template;

/// The paths of the pages (and their forms).
const PAGES: [&str; 7] = [
    "/account",
    "/admin",
    "/login",
    "/logout",
    "/device",
    "/register",
    "/reset-password",
];

#[derive(Template)]
#[template(path = "error_page.html")]
struct ErrorPage {
    title: String,
    detail: String,
    what_to_do: &'static str,
    request_id: Option<String>,
}

/// A page path (or one of its forms) asked for by a browser (`Accept: text/html`).
pub fn is_page(req: &ServiceRequest) -> bool {
    let path = req.path();
    PAGES
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

fn what_to_do(status: u16) -> &'static str {
    match status {
        401 => "Sign in, then try again.",
        403 => "Your account may not do this. Ask an administrator if you think it should; if a form expired, reload the page.",
        404 => "It may have been removed meanwhile. Go back and reload the page.",
        429 => "Too many tries in a short time. Wait a minute, then try again.",
        s if s >= 500 => "Something went wrong on our side. Try again shortly; the request id below identifies it in the log.",
        _ => "Go back, check what you entered and try again.",
    }
}

/// A page's answer as a person should see it: a problem document (an error) becomes the error page; any
/// other answer passes unchanged. Called by [`crate::guard`] for requests [`is_page`] recognises.
pub async fn as_page<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !problem || res.status().as_u16() < 400 {
        return Ok(res.map_into_boxed_body());
    }
    let status = res.status();
    let (req, res) = res.into_parts();
    // Problem documents are small; one that cannot be read is shown by its status alone.
    let body = actix_web::body::to_bytes_limited(res.into_body(), 64 * 1024)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let text = |k: &str| doc[k].as_str().map(str::to_owned);
    let page = ErrorPage {
        title: text("title").unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned()),
        detail: text("detail").unwrap_or_default(),
        what_to_do: what_to_do(status.as_u16()),
        request_id: text("request_id"),
    };
    let html = page
        .render()
        .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".into());
    let res = HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "content-security-policy",
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header(("x-frame-options", "DENY"))
        .content_type(ContentType::html())
        .body(html);
    Ok(ServiceResponse::new(req, res))
}
