//! The one integration test binary: a module per capability. Add modules here, not new test files.

mod migrations;
mod ops;
mod setup;
mod store;
mod users_cli;
