//! The service key the main app presents (API.md §9). Only its digest is kept in memory.

use tessera_core::token_format::TokenDigest;

#[derive(Clone)]
pub struct ServiceKey {
    digest: TokenDigest,
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceKey(..)")
    }
}

/// Values that are surely a template left unedited, never a real key.
const PLACEHOLDERS: &[&str] = &[
    "null",
    "undefined",
    "changeme",
    "change-me",
    "none",
    "secret",
    "password",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ServiceKeyError {
    #[error("the service key is empty or a placeholder")]
    Placeholder,
    #[error("the service key must be at least 32 characters")]
    TooShort,
}

impl ServiceKey {
    pub fn new(secret: &str) -> Result<Self, ServiceKeyError> {
        let s = secret.trim();
        if s.is_empty() || PLACEHOLDERS.contains(&s.to_ascii_lowercase().as_str()) {
            return Err(ServiceKeyError::Placeholder);
        }
        if s.len() < 32 {
            return Err(ServiceKeyError::TooShort);
        }
        Ok(Self {
            digest: TokenDigest::of(s),
        })
    }

    /// Constant-time comparison of digests.
    pub fn matches(&self, presented: &str) -> bool {
        tessera_crypto::ct_eq(
            TokenDigest::of(presented.trim()).as_bytes(),
            self.digest.as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_refused_and_keys_match() {
        assert_eq!(ServiceKey::new("  ").unwrap_err(), ServiceKeyError::Placeholder);
        assert_eq!(
            ServiceKey::new("changeme").unwrap_err(),
            ServiceKeyError::Placeholder
        );
        assert_eq!(ServiceKey::new("short").unwrap_err(), ServiceKeyError::TooShort);
        let k = ServiceKey::new(&"ab".repeat(32)).unwrap();
        assert!(k.matches(&"ab".repeat(32)));
        assert!(!k.matches(&"ab".repeat(31)));
        assert_eq!(format!("{k:?}"), "ServiceKey(..)");
    }
}
