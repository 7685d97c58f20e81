//! `[setup]`: whether first-admin setup may run.

use serde::{Deserialize, Serialize};
use tessera_service::settings::SetupSettings;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct SetupFile {
    disabled: Option<bool>,
}

impl SetupFile {
    pub(super) fn settings(self) -> SetupSettings {
        SetupSettings {
            disabled: self.disabled.unwrap_or(false),
        }
    }
}
