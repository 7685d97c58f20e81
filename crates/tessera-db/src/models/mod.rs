//! One file per table: the row, a `New…` for inserts, and queries named for their job.

pub mod audit_events;
pub mod authorization_codes;
pub mod client_tokens;
pub mod devices;
pub mod invites;
pub mod oauth_clients;
pub mod oauth_consents;
pub mod oidc_links;
pub mod oidc_session_clients;
pub mod passkeys;
pub mod password_resets;
pub mod permission_groups;
pub mod refresh;
pub mod revoked_access_tokens;
pub mod second_factor;
pub mod sessions;
pub mod setup_state;
pub mod signing_keys;
pub mod user_avatars;
pub mod user_overrides;
pub mod users;
