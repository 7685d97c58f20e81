//! `/api/users`: me, and the admin API (API.md §7).

pub mod avatar;
pub mod consents;
pub mod create;
pub mod delete;
pub mod get;
pub mod invite;
pub mod list;
pub mod me;
pub mod passkeys;
pub mod second_factor;
pub mod update;
