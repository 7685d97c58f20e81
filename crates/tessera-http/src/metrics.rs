//! Request metrics: one middleware records every answer by route pattern (bounded labels, never the raw
//! path), method and status, with its latency.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppState;

pub async fn record<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let req = res.request();
        // Routes are named by their pattern (routes.rs), which costs nothing to read; the few unnamed
        // ones (pages) fall back to building the pattern.
        let pattern;
        let route = match req.match_name() {
            Some(name) => name,
            None => {
                pattern = req.match_pattern();
                pattern.as_deref().unwrap_or("unmatched")
            }
        };
        state.services.metrics.request(
            route,
            method.as_str(),
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}
