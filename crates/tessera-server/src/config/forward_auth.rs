//! `[forward_auth]`: the default policy, the proxy's header family, redirect hosts and per-route rules.

use serde::{Deserialize, Serialize};
use tessera_core::ScopeCatalog;
use tessera_service::forward_auth::{Policy, ProxyFlavor, RuleSet, RuleSpec};
use tessera_service::settings::ForwardAuthSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ForwardAuthFile {
    /// Policy when no rule matches (default deny).
    default_policy: Option<Policy>,
    /// traefik | caddy | nginx | auto (default auto): which headers carry the original request.
    proxy: Option<ProxyFlavor>,
    allowed_redirect_hosts: Option<Vec<String>>,
    rules: Option<Vec<RuleSpec>>,
}

pub(super) fn settings(
    f: ForwardAuthFile,
    catalog: &ScopeCatalog,
) -> Result<ForwardAuthSettings, ConfigError> {
    let settings = ForwardAuthSettings {
        default_policy: f.default_policy.unwrap_or(Policy::Deny),
        proxy: f.proxy.unwrap_or_default(),
        allowed_redirect_hosts: f
            .allowed_redirect_hosts
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        rules: f.rules.unwrap_or_default(),
    };
    RuleSet::compile(&settings.rules, settings.default_policy, catalog)
        .map_err(|e| err(&format!("forward_auth.rules[{}]", e.index), e.message))?;
    Ok(settings)
}
