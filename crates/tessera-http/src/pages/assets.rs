//! `GET /assets/pages.js` and `GET /assets/tessera.css`: the pages' one script and one stylesheet,
//! compiled in (no CDN; CSP `script-src 'self'`, `style-src 'self'`).

use actix_web::http::header;
use actix_web::HttpResponse;

const PAGES_JS: &str = include_str!("../../assets/pages.js");
const STYLESHEET: &str = include_str!("../../assets/tessera.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(STYLESHEET)
}

pub async fn pages_js() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(PAGES_JS)
}
