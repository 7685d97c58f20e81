//! `/api/client-tokens*` (API.md §7).

pub mod admin;
pub mod create;
pub mod delete;
pub mod list;
pub mod pair;
pub mod regenerate;

pub use tessera_service::wire::{created, token_view as view};
