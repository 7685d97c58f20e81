//! `[scopes]`: the scope catalog (RomM's twenty when unset).

use serde::{Deserialize, Serialize};
use tessera_core::scope::CatalogEntry;
use tessera_core::ScopeCatalog;
use tessera_service::settings::ScopeSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ScopesFile {
    catalog: Option<Vec<CatalogEntry>>,
}

impl ScopesFile {
    /// The catalog the other sections' scope names are checked against.
    pub(super) fn catalog(&self) -> Result<ScopeCatalog, ConfigError> {
        match &self.catalog {
            Some(entries) => ScopeCatalog::new(entries).map_err(|e| err("scopes.catalog", e.to_string())),
            None => Ok(ScopeCatalog::romm_default()),
        }
    }

    pub(super) fn settings(self) -> ScopeSettings {
        ScopeSettings {
            catalog: self.catalog,
        }
    }
}
