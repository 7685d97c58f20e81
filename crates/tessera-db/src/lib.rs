//! Diesel over PostgreSQL and SQLite in one binary, chosen at runtime by URL scheme.

pub mod connection;
pub mod dialect;
pub mod error;
pub mod migrate;
pub mod models;
pub mod schema;

pub use connection::{settle, Backend, Db, DbConnection, DbOptions};
/// diesel's error type, for layers that wrap it without depending on diesel.
pub use diesel::result as diesel_error;
pub use error::DbError;
