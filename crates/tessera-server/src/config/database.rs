//! `[database]`: SQLite (default, in the data dir) or PostgreSQL, and the pool.

use std::path::Path;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_service::settings::DatabaseSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct DatabaseFile {
    /// sqlite://<path> or postgres://… (default sqlite://<data_dir>/tessera.db).
    url: Option<String>,
    /// Migrate PostgreSQL at start (SQLite always migrates); default true.
    auto_migrate: Option<bool>,
    pool_size: Option<u32>,
    connect_timeout_secs: Option<u64>,
    statement_timeout_ms: Option<u64>,
}

impl DatabaseFile {
    pub(super) fn settings(self, data_dir: &Path) -> Result<DatabaseSettings, ConfigError> {
        let url = self
            .url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tessera.db").display()));
        tessera_db::Backend::from_url(&url).map_err(|e| err("database.url", e.to_string()))?;
        Ok(DatabaseSettings {
            url: SecretString::from(url),
            auto_migrate: self.auto_migrate.unwrap_or(true),
            pool_size: self.pool_size.unwrap_or(10).max(1),
            connect_timeout_secs: self.connect_timeout_secs.unwrap_or(5),
            statement_timeout_ms: self.statement_timeout_ms.unwrap_or(30_000),
        })
    }
}
