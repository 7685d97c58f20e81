pub mod introspect;
pub mod revoke;
pub mod token;
pub mod userinfo;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};

/// Token responses must not be cached (RFC 6749 §5.1).
pub fn no_store(mut b: HttpResponseBuilder) -> HttpResponseBuilder {
    b.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
    b
}

/// A 200 with a JSON body that must not be cached, made directly rather than through the builder: an
/// introspection answer is on the hot path, and the builder converts and checks each header again
/// (and `ContentType::json()` formats its MIME type into a fresh value every time).
pub fn json_no_store(body: Vec<u8>) -> HttpResponse {
    let mut res = HttpResponse::with_body(StatusCode::OK, body).map_into_boxed_body();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}
