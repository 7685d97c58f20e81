//! `[cors]`: exact origins allowed to call with credentials.

use serde::{Deserialize, Serialize};
use tessera_service::settings::CorsSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct CorsFile {
    allowed_origins: Option<Vec<String>>,
}

impl CorsFile {
    pub(super) fn settings(self) -> Result<CorsSettings, ConfigError> {
        let allowed_origins = self.allowed_origins.unwrap_or_default();
        if let Some(bad) = allowed_origins
            .iter()
            .find(|o| o.as_str() == "*" || url::Url::parse(o).is_err())
        {
            return Err(err(
                "cors.allowed_origins",
                format!("{bad:?}: list exact origins such as https://app.example.com (never \"*\")"),
            ));
        }
        Ok(CorsSettings { allowed_origins })
    }
}
