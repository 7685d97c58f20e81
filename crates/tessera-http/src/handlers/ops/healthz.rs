use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use tessera_proto::ops::Health;

/// The body of every liveness answer: `Health { status: "ok" }` serialized once, since a balancer asks
/// many times a second. A unit test keeps it equal to the serialized type.
const OK_BODY: &str = r#"{"status":"ok"}"#;
/// A static header value: `ContentType::json()` formats a MIME type into a fresh value on every call.
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse<&'static str> {
    // The response itself rather than the builder: nothing here can fail, so the builder's error slot
    // and header conversion are pure cost.
    let mut res = HttpResponse::with_body(StatusCode::OK, OK_BODY);
    res.headers_mut().insert(CONTENT_TYPE, JSON);
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_static_body_is_the_serialized_health() {
        let health = tessera_proto::ops::Health { status: "ok".into() };
        assert_eq!(super::OK_BODY, serde_json::to_string(&health).unwrap());
    }
}
