//! `[auth]`: password login, kiosk mode, the service key and the API-key header.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_core::ScopeCatalog;
use tessera_service::service_key::ServiceKey;
use tessera_service::settings::AuthSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct AuthFile {
    password_login: Option<bool>,
    kiosk: Option<bool>,
    kiosk_scopes: Option<Vec<String>>,
    service_key: Option<String>,
    service_key_header: Option<String>,
    api_key_header: Option<String>,
}

impl AuthFile {
    pub(super) fn settings(self, catalog: &ScopeCatalog) -> Result<AuthSettings, ConfigError> {
        let service_key = match self.service_key {
            Some(k) => {
                ServiceKey::new(&k).map_err(|e| err("auth.service_key", e.to_string()))?;
                Some(SecretString::from(k))
            }
            None => None,
        };
        let header = self
            .service_key_header
            .unwrap_or_else(|| "x-tessera-key".to_owned())
            .to_ascii_lowercase();
        if header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(err(
                "auth.service_key_header",
                "must be a header name of letters, digits and '-'",
            ));
        }
        let api_key_header = match self.api_key_header {
            Some(h) => Some(api_key_header(&h, &header)?),
            None => None,
        };
        Ok(AuthSettings {
            password_login: self.password_login.unwrap_or(true),
            kiosk: self.kiosk.unwrap_or(false),
            kiosk_scopes: kiosk_scopes(self.kiosk_scopes, catalog)?,
            no_auth: false,
            service_key,
            service_key_header: header,
            api_key_header,
        })
    }
}

/// A header name that is none of the ones a request already means something by.
fn api_key_header(given: &str, service_key_header: &str) -> Result<String, ConfigError> {
    let lower = given.to_ascii_lowercase();
    let reserved = [
        "authorization",
        "cookie",
        "host",
        "content-type",
        "content-length",
    ];
    if lower.is_empty()
        || !lower.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        || reserved.contains(&lower.as_str())
        || lower == service_key_header
    {
        return Err(err(
            "auth.api_key_header",
            "must be a header name of letters, digits and '-', not Authorization, Cookie or the service key's",
        ));
    }
    Ok(lower)
}

/// Kiosk scopes must exist and be read scopes: the anonymous identity can never write.
fn kiosk_scopes(given: Option<Vec<String>>, catalog: &ScopeCatalog) -> Result<Vec<String>, ConfigError> {
    let scopes = given.unwrap_or_else(|| {
        catalog
            .names(catalog.all())
            .into_iter()
            .filter(|n| n.ends_with(".read") && !n.starts_with("users.") && !n.starts_with("logs."))
            .map(str::to_owned)
            .collect()
    });
    for s in &scopes {
        if catalog.get(s).is_none() {
            return Err(err("auth.kiosk_scopes", format!("unknown scope {s:?}")));
        }
        if !s.ends_with(".read") || s.starts_with("users.") || s.starts_with("logs.") {
            return Err(err(
                "auth.kiosk_scopes",
                format!("{s:?} is not a plain read scope"),
            ));
        }
    }
    Ok(scopes)
}
