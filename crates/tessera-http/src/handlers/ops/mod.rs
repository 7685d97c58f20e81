pub mod healthz;
pub mod heartbeat;
pub mod metrics;
pub mod openapi_json;
pub mod problems;
pub mod readyz;
