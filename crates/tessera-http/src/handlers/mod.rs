pub mod ops;
pub mod setup;
pub mod views;
