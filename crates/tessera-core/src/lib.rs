//! Tessera's domain vocabulary: ids, scopes, roles, time and credential formats.
//! No actix, no diesel: every rule here is testable on its own.

pub mod account;
pub mod breaker;
pub mod clock;
pub mod ids;
pub mod rights;
pub mod role;
pub mod scope;
pub mod token_format;

pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use role::Role;
pub use scope::{ScopeCatalog, ScopeError, ScopeSet};
