//! Request metrics: the edge middleware records every answer by route pattern (bounded labels, never the raw
//! path), method and status, with its latency.

use actix_web::HttpRequest;

use crate::AppState;

/// Counts one answer under its route's pattern (called by [`crate::request::edge`]).
pub fn record(state: &AppState, req: &HttpRequest, status: u16, seconds: f64) {
    // Routes are named by their pattern (routes.rs), which costs nothing to read; the few unnamed ones
    // (pages) fall back to building the pattern.
    let pattern;
    let route = match req.match_name() {
        Some(name) => name,
        None => {
            pattern = req.match_pattern();
            pattern.as_deref().unwrap_or("unmatched")
        }
    };
    state
        .services
        .metrics
        .request(route, req.method().as_str(), status, seconds);
}
