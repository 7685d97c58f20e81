//! `GET /assets/passkeys.js`: the one script of the pages, compiled in (no CDN, CSP `script-src 'self'`).

use actix_web::http::header;
use actix_web::HttpResponse;

const PASSKEYS_JS: &str = include_str!("../../assets/passkeys.js");

pub async fn passkeys_js() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(PASSKEYS_JS)
}
