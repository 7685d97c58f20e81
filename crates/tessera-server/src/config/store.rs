//! `[store]`: short-lived state in memory (one replica) or Redis (several).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_service::settings::StoreSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct StoreFile {
    /// memory:// (default, one replica) or redis://….
    url: Option<String>,
    /// Namespace for every key and channel (default "tessera:").
    key_prefix: Option<String>,
}

impl StoreFile {
    pub(super) fn settings(self) -> Result<StoreSettings, ConfigError> {
        let url = self.url.unwrap_or_else(|| "memory://".to_owned());
        if !(url == "memory://" || url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(err("store.url", "expected memory:// or redis://host:port"));
        }
        Ok(StoreSettings {
            url: SecretString::from(url),
            key_prefix: self.key_prefix.unwrap_or_else(|| "tessera:".to_owned()),
        })
    }
}
