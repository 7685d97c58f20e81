//! Wire types: RFC-shaped requests and responses, problem documents. No actix, diesel or tokio.

use serde::Deserialize;

pub mod client_tokens;
pub mod devices;
pub mod oauth;
pub mod ops;
pub mod problem;
pub mod setup;
pub mod users;

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`, which clears it).
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
