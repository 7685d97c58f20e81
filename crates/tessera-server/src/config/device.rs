//! `[device]`: device-code lifetime and poll interval.

use serde::{Deserialize, Serialize};
use tessera_service::settings::DeviceSettings;

use super::{positive, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct DeviceFile {
    /// Lifetime of device and user codes (default 600).
    code_ttl_secs: Option<i64>,
    /// Minimum seconds between polls (default 5).
    interval_secs: Option<i64>,
}

impl DeviceFile {
    pub(super) fn settings(self) -> Result<DeviceSettings, ConfigError> {
        Ok(DeviceSettings {
            code_ttl_secs: positive("device.code_ttl_secs", self.code_ttl_secs, 600)?,
            interval_secs: positive("device.interval_secs", self.interval_secs, 5)?,
        })
    }
}
