pub mod clients;
pub mod oauth;
pub mod ops;
pub mod setup;
pub mod views;
pub mod wellknown;
