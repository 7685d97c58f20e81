//! The one integration test binary: a module per capability. Add modules here, not new test files.

mod migrations;
mod oauth;
mod ops;
mod setup;
mod store;
mod users_cli;
