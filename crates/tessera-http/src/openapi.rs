//! `/openapi.json`: every JSON endpoint is listed here as it is built.

use utoipa::OpenApi;

use crate::handlers::{ops, setup};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera", description = "Identity sidecar: tokens, devices and scopes."),
    paths(
        ops::healthz::healthz,
        ops::readyz::readyz,
        ops::heartbeat::heartbeat,
        setup::status::status,
        setup::admin::admin,
    ),
    tags(
        (name = "operations", description = "Health, readiness and service information"),
        (name = "setup", description = "First-admin setup"),
    )
)]
pub struct ApiDoc;
