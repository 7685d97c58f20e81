//! The one integration test binary: a module per capability. Add modules here, not new test files.

mod accounts;
mod browser;
mod client_tokens;
mod device_flow;
mod e2e_oauth_library;
mod faults;
mod forward_auth;
mod hardening;
mod lifecycle;
mod login_limits;
mod migrations;
mod modes;
mod oauth;
mod oidc_login;
mod operations;
mod ops;
mod proxies;
mod real_clients;
mod replicas;
mod review;
mod romm_compat;
mod romm_contracts;
mod sessions;
mod setup;
mod store;
mod users_cli;
