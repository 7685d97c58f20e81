//! `/admin` (issue 22): users, permission groups, OAuth clients, the audit log and the settings at a
//! glance. `users.read` to look and `users.write` to change (the audit log needs `logs.read`), checked on
//! the session's effective scopes like the API's; every change goes through the same services as the
//! API, audited there. One module per page.

mod audit;
mod clients;
mod groups;
mod settings;
mod user_rights;
mod users;

pub use audit::audit;
pub use clients::{client_action, clients};
pub use groups::{group_action, groups};
pub use settings::{rotate_key, settings};
pub use user_rights::{save as save_user_rights, user as user_rights};
pub use users::{invite, user_action, users};

use tessera_service::identity::Identity;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// The session holds `scopes` (effective, after the owner's rights), or 403 as the API answers.
fn require(state: &AppState, id: &Identity, scopes: &[&str]) -> Result<(), ApiError> {
    Caller(Some(id.clone())).require(state, scopes).map(|_| ())
}

/// An admin whose session holds `scopes`, or 403 as the API answers.
fn require_admin(state: &AppState, id: &Identity, scopes: &[&str]) -> Result<(), ApiError> {
    Caller(Some(id.clone())).require_admin(state, scopes).map(|_| ())
}
