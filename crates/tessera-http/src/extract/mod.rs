//! Request extractors: the caller's credential, OAuth parameters and client authentication.

pub mod body;
pub mod caller;
pub mod client_auth;
pub mod oauth_params;
pub mod presented;
pub mod user_form;

pub use caller::Caller;
pub use oauth_params::OAuthParams;
