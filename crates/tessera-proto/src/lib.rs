//! Wire types: RFC-shaped requests and responses, problem documents. No actix, diesel or tokio.

pub mod client_tokens;
pub mod devices;
pub mod oauth;
pub mod ops;
pub mod problem;
pub mod setup;
pub mod users;
