//! `[log]`: format and tracing filter.

use serde::{Deserialize, Serialize};
use tessera_service::settings::{LogFormat, LogSettings};

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct LogFile {
    format: Option<LogFormat>,
    /// A tracing filter, e.g. "info" or "tessera=debug,info".
    level: Option<String>,
}

impl LogFile {
    pub(super) fn settings(self) -> Result<LogSettings, ConfigError> {
        let level = self.level.unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&level).map_err(|e| err("log.level", e.to_string()))?;
        Ok(LogSettings {
            format: self.format.unwrap_or(LogFormat::Pretty),
            level,
        })
    }
}
