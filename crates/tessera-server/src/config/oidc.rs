//! `[oidc]`: upstream OpenID Connect login.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct OidcFile {
    /// Upstream issuer URL; unset: upstream login is off.
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Default ["openid", "email", "profile"].
    scopes: Option<Vec<String>>,
    provider_name: Option<String>,
    /// Default "preferred_username".
    username_claim: Option<String>,
    role_claim: Option<String>,
    /// Default ["admin"].
    admin_values: Option<Vec<String>>,
    /// Default ["user", "viewer", "editor"].
    user_values: Option<Vec<String>>,
    group_claim: Option<String>,
    /// Upstream group name → Tessera permission group name.
    group_map: Option<std::collections::BTreeMap<String, String>>,
    allow_registration: Option<bool>,
    link_existing_by_email: Option<bool>,
}

pub(super) fn settings(f: &OidcFile) -> Result<Option<tessera_service::settings::OidcSettings>, ConfigError> {
    let Some(issuer) = f.issuer.as_deref().map(str::trim).filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err(err("oidc.issuer", "must be an http(s) URL"));
    }
    let client_id = f
        .client_id
        .clone()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| err("oidc.client_id", "is required when oidc.issuer is set"))?;
    let strings = |v: &Option<Vec<String>>, default: &[&str]| {
        v.clone()
            .unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect())
    };
    let mut scopes = strings(&f.scopes, &["openid", "email", "profile"]);
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    Ok(Some(tessera_service::settings::OidcSettings {
        issuer: issuer.trim_end_matches('/').to_owned(),
        client_id,
        client_secret: f
            .client_secret
            .clone()
            .filter(|s| !s.is_empty())
            .map(SecretString::from),
        scopes,
        provider_name: f.provider_name.clone().unwrap_or_else(|| "single sign-on".into()),
        username_claim: f
            .username_claim
            .clone()
            .unwrap_or_else(|| "preferred_username".into()),
        role_claim: f.role_claim.clone().filter(|c| !c.is_empty()),
        admin_values: strings(&f.admin_values, &["admin"]),
        user_values: strings(&f.user_values, &["user", "viewer", "editor"]),
        group_claim: f.group_claim.clone().filter(|c| !c.is_empty()),
        group_map: f.group_map.clone().unwrap_or_default().into_iter().collect(),
        allow_registration: f.allow_registration.unwrap_or(false),
        link_existing_by_email: f.link_existing_by_email.unwrap_or(false),
    }))
}
