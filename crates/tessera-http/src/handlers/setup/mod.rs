pub mod admin;
pub mod status;
