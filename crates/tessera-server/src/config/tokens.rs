//! `[tokens]`: the prefix of client and refresh tokens.

use serde::{Deserialize, Serialize};
use tessera_service::settings::TokenSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct TokensFile {
    prefix: Option<String>,
}

impl TokensFile {
    pub(super) fn settings(self) -> Result<TokenSettings, ConfigError> {
        let prefix = self.prefix.unwrap_or_else(|| "tsr".to_owned());
        tessera_core::token_format::validate_prefix(&prefix)
            .map_err(|e| err("tokens.prefix", e.to_string()))?;
        Ok(TokenSettings { prefix })
    }
}
