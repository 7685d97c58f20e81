//! `[security]`: bcrypt cost and the bounded pool it runs on; HTTP Basic for users with a second factor.

use serde::{Deserialize, Serialize};
use tessera_service::settings::SecuritySettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct SecurityFile {
    bcrypt_cost: Option<u32>,
    bcrypt_concurrency: Option<usize>,
    /// "refuse" (default) or "allow".
    basic_with_second_factor: Option<String>,
    /// Role or permission-group names.
    require_second_factor: Option<Vec<String>>,
}

impl SecurityFile {
    pub(super) fn settings(self) -> Result<SecuritySettings, ConfigError> {
        let bcrypt_cost = self.bcrypt_cost.unwrap_or(12);
        if !(4..=31).contains(&bcrypt_cost) {
            return Err(err("security.bcrypt_cost", "must be between 4 and 31"));
        }
        let basic_with_second_factor_allowed = match self.basic_with_second_factor.as_deref() {
            None | Some("refuse") => false,
            Some("allow") => true,
            Some(_) => {
                return Err(err(
                    "security.basic_with_second_factor",
                    "must be \"refuse\" or \"allow\"",
                ))
            }
        };
        Ok(SecuritySettings {
            bcrypt_cost,
            bcrypt_concurrency: self.bcrypt_concurrency.unwrap_or(2).max(1),
            basic_with_second_factor_allowed,
            require_second_factor: self.require_second_factor.unwrap_or_default(),
        })
    }
}
