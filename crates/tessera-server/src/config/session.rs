//! `[session]`: cookie lifetimes, domain and the cookie and CSRF names (with RomM's preset).

use serde::{Deserialize, Serialize};
use tessera_service::settings::SessionSettings;

use super::{err, positive, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct SessionFile {
    idle_timeout_secs: Option<i64>,
    absolute_lifetime_secs: Option<i64>,
    cookie_domain: Option<String>,
    /// tessera | romm: the cookie and CSRF header names a web app expects, all at once.
    preset: Option<tessera_service::settings::SessionPreset>,
    /// Overrides the preset's session cookie name (`__Host-` needs HTTPS and no cookie_domain).
    cookie_name: Option<String>,
    /// Overrides the preset's CSRF cookie name.
    csrf_cookie_name: Option<String>,
    /// Overrides the preset's accepted CSRF header names.
    csrf_header_names: Option<Vec<String>>,
}

impl SessionFile {
    pub(super) fn settings(&self, public_url: &str) -> Result<SessionSettings, ConfigError> {
        let session = SessionSettings {
            idle_timeout_secs: positive("session.idle_timeout_secs", self.idle_timeout_secs, 2 * 86_400)?,
            absolute_lifetime_secs: positive(
                "session.absolute_lifetime_secs",
                self.absolute_lifetime_secs,
                14 * 86_400,
            )?,
            cookie_domain: self.cookie_domain.clone().filter(|d| !d.is_empty()),
            cookie_secure: public_url.starts_with("https://"),
            cookie_name: String::new(),
            csrf_cookie_name: String::new(),
            csrf_header_names: Vec::new(),
        };
        session_names(session, self)
    }
}

/// The cookie and CSRF header names: the preset's, each overridable, checked as RFC 6265 tokens.
fn session_names(mut s: SessionSettings, f: &SessionFile) -> Result<SessionSettings, ConfigError> {
    let (session, csrf, headers) = f.preset.unwrap_or_default().names();
    let token = |key: &str, v: &str| -> Result<String, ConfigError> {
        let ok = !v.is_empty()
            && v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if ok {
            Ok(v.to_owned())
        } else {
            Err(err(key, format!("{v:?} is not a cookie or header name")))
        }
    };
    s.cookie_name = token("session.cookie_name", f.cookie_name.as_deref().unwrap_or(session))?;
    s.csrf_cookie_name = token(
        "session.csrf_cookie_name",
        f.csrf_cookie_name.as_deref().unwrap_or(csrf),
    )?;
    s.csrf_header_names = match &f.csrf_header_names {
        Some(list) if list.is_empty() => {
            return Err(err("session.csrf_header_names", "name at least one header"))
        }
        Some(list) => list
            .iter()
            .map(|h| token("session.csrf_header_names", h).map(|h| h.to_ascii_lowercase()))
            .collect::<Result<_, _>>()?,
        None => headers.iter().map(|h| (*h).to_owned()).collect(),
    };
    if s.cookie_name == s.csrf_cookie_name {
        return Err(err(
            "session.csrf_cookie_name",
            "must differ from the session cookie's name",
        ));
    }
    // Browsers drop a `__Host-` cookie that is not Secure, or that names a Domain.
    if s.cookie_name.starts_with("__Host-") && (!s.cookie_secure || s.cookie_domain.is_some()) {
        return Err(err(
            "session.cookie_name",
            "a __Host- cookie needs an https public_url and no session.cookie_domain",
        ));
    }
    Ok(s)
}
