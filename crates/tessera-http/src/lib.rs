//! The actix-web edge: routes, one file per handler, middleware, and the one error mapping.

pub mod client_ip;
pub mod cookies;
pub mod csrf;
mod endpoint;
pub mod error;
pub mod extract;
pub mod guard;
pub mod handlers;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod request;
mod routes;
pub mod state;

pub use routes::configure;
pub use state::AppState;
