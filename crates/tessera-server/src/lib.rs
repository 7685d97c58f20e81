//! The `tessera` binary's library half: configuration, startup and shutdown, shared with the testkit.

pub mod cli;
pub mod config;
pub mod doctor;
pub mod keyfile;
pub mod startup;
pub mod telemetry;

pub use startup::{build_services, spawn_server, spawn_server_on, RunningServer};
