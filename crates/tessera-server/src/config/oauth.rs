//! `[oauth]`: client-id policy and refresh-token lifetimes.

use serde::{Deserialize, Serialize};
use tessera_service::settings::OAuthSettings;

use super::{err, positive, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct OAuthFile {
    require_client_id: Option<bool>,
    refresh_ttl_secs: Option<i64>,
    refresh_family_cap_secs: Option<i64>,
    /// Seconds a rotated refresh token may be presented again by its client (a lost response) before a
    /// reuse counts as theft (default 10; 0 turns the grace off).
    refresh_reuse_grace_secs: Option<i64>,
}

impl OAuthFile {
    pub(super) fn settings(self) -> Result<OAuthSettings, ConfigError> {
        Ok(OAuthSettings {
            require_client_id: self.require_client_id.unwrap_or(false),
            refresh_ttl_secs: positive("oauth.refresh_ttl_secs", self.refresh_ttl_secs, 7 * 86_400)?,
            refresh_family_cap_secs: positive(
                "oauth.refresh_family_cap_secs",
                self.refresh_family_cap_secs,
                30 * 86_400,
            )?,
            refresh_reuse_grace_secs: match self.refresh_reuse_grace_secs {
                None => 10,
                Some(n) if (0..=300).contains(&n) => n,
                Some(_) => return Err(err("oauth.refresh_reuse_grace_secs", "must be between 0 and 300")),
            },
        })
    }
}
