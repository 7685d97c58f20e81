use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};

use crate::AppState;

/// The public signing keys: the current one and earlier ones until their last token has expired.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery", responses((status = 200, description = "RFC 7517 JWK set")))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let s = &state.services;
    // Short cache: a rotated key must reach verifiers well before it signs their tokens' successors.
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .content_type("application/jwk-set+json")
        .body(s.keys.jwks(s.clock.now()).to_string())
}
