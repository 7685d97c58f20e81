//! Request metrics: the edge middleware records every answer by route pattern (bounded labels, never the raw
//! path), method and status, with its latency.

use actix_web::HttpRequest;
use tessera_service::metrics::Metrics;

/// Counts one answer under its route's pattern (called by [`crate::request::Edge`]).
pub fn record(metrics: &Metrics, req: &HttpRequest, status: u16, seconds: f64) {
    // Routes are named by their pattern (endpoint.rs), which costs nothing to read and stays where the
    // router keeps it; anything unnamed falls back to building the pattern, a string of this request's.
    let method = req.method().as_str();
    match req.match_name() {
        Some(name) => metrics.request(name, method, status, seconds),
        None => match req.match_pattern() {
            Some(pattern) => metrics.request_unnamed(&pattern, method, status, seconds),
            None => metrics.request("unmatched", method, status, seconds),
        },
    }
}
