//! Loading configuration: defaults, then an optional TOML file, then `TESSERA_` variables.
//! Unknown keys stop the start; every error names the key it is about. One module per section holds that
//! section's file format, defaults and checks; this one merges the sources and puts the sections together.

mod auth;
mod cors;
mod database;
mod device;
mod forward_auth;
mod jwt;
mod log;
mod mail;
mod oauth;
mod oidc;
mod rate_limits;
mod scopes;
mod security;
mod server;
mod session;
mod setup;
mod store;
mod tokens;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tessera_service::settings::Settings;

pub use jwt::parse_kek;

/// A configuration problem, naming the key it is about.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

/// Messages are kept to one line: parser errors may carry line breaks.
fn err(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        message: message.into().split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct FileConfig {
    server: server::ServerFile,
    database: database::DatabaseFile,
    store: store::StoreFile,
    log: log::LogFile,
    auth: auth::AuthFile,
    setup: setup::SetupFile,
    security: security::SecurityFile,
    scopes: scopes::ScopesFile,
    jwt: jwt::JwtFile,
    oauth: oauth::OAuthFile,
    tokens: tokens::TokensFile,
    session: session::SessionFile,
    cors: cors::CorsFile,
    rate_limits: rate_limits::RateLimitsFile,
    device: device::DeviceFile,
    forward_auth: forward_auth::ForwardAuthFile,
    mail: mail::MailFile,
    oidc: oidc::OidcFile,
}

/// Environment names that stand for a nested key.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("TESSERA_LISTEN", "server.listen"),
    ("TESSERA_PUBLIC_URL", "server.public_url"),
    ("TESSERA_DATA_DIR", "server.data_dir"),
    ("TESSERA_DATABASE_URL", "database.url"),
    ("TESSERA_STORE_URL", "store.url"),
];

/// The config file to read: `--config`, else `TESSERA_CONFIG`.
pub fn config_path(cli: Option<PathBuf>, env: &[(String, String)]) -> Option<PathBuf> {
    cli.or_else(|| {
        env.iter()
            .find(|(k, _)| k == "TESSERA_CONFIG")
            .map(|(_, v)| PathBuf::from(v))
    })
}

/// Loads and validates settings from an optional file and the given environment.
pub fn load(file: Option<&Path>, env: &[(String, String)]) -> Result<Settings, ConfigError> {
    let mut table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| err("config", format!("cannot read {}: {e}", path.display())))?;
            toml::from_str::<toml::Table>(&text)
                .map_err(|e| err("config", format!("{}: {}", path.display(), e.message())))?
        }
        None => toml::Table::new(),
    };
    let mut from_env = Vec::new();
    for (name, value) in env {
        let Some(path) = env_key_path(name) else { continue };
        insert_path(&mut table, &path, parse_env_value(value)).map_err(|m| err(name, m))?;
        from_env.push((path, value.clone()));
    }
    let parsed = deserialize_with_string_retry(table, &from_env)?;
    validate(parsed)
}

/// `TESSERA_AUTH__KIOSK` → ["auth", "kiosk"]; short forms map to their key; others are not ours.
fn env_key_path(name: &str) -> Option<Vec<String>> {
    if let Some((_, key)) = SHORT_FORMS.iter().find(|(n, _)| *n == name) {
        return Some(key.split('.').map(str::to_owned).collect());
    }
    let rest = name.strip_prefix("TESSERA_")?;
    // Other TESSERA_* names (Kubernetes injects TESSERA_SERVICE_HOST and the like) are ignored.
    rest.contains("__")
        .then(|| rest.split("__").map(str::to_ascii_lowercase).collect())
}

/// Values are read as TOML literals (`true`, `42`, `["a", "b"]`), else taken as text.
fn parse_env_value(v: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {v}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(v.to_owned()))
}

fn insert_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("empty key".into());
    };
    let mut cur = table;
    for p in parents {
        let entry = cur
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("{p} is not a section"))?;
    }
    cur.insert(last.clone(), value);
    Ok(())
}

/// A variable like `TESSERA_AUTH__SERVICE_KEY=12345…` reads as a number; when its key wants text,
/// take it as text and try again.
fn deserialize_with_string_retry(
    mut table: toml::Table,
    from_env: &[(Vec<String>, String)],
) -> Result<FileConfig, ConfigError> {
    let mut retried: Vec<String> = Vec::new();
    loop {
        let e = match serde_path_to_error::deserialize(toml::Value::Table(table.clone())) {
            Ok(c) => return Ok(c),
            Err(e) => e,
        };
        let path = e.path().to_string();
        let retry = from_env.iter().find(|(p, raw)| {
            p.join(".") == path && parse_env_value(raw).as_str().is_none() && !retried.contains(&path)
        });
        match retry {
            Some((p, raw)) => {
                insert_path(&mut table, p, toml::Value::String(raw.clone())).map_err(|m| err(&path, m))?;
                retried.push(path);
            }
            None => {
                let key = if path == "." || path.is_empty() {
                    "config"
                } else {
                    &path
                };
                return Err(err(key, e.inner().to_string()));
            }
        }
    }
}

fn validate(f: FileConfig) -> Result<Settings, ConfigError> {
    let server = f.server.settings()?;
    let database = f.database.settings(&server.data_dir)?;
    let store = f.store.settings()?;
    let security = f.security.settings()?;
    let auth_catalog = f.scopes.catalog()?;
    let auth = f.auth.settings(&auth_catalog)?;
    let jwt = jwt::settings(f.jwt, &server.public_url)?;
    let oauth = f.oauth.settings()?;
    let tokens = f.tokens.settings()?;
    let session = f.session.settings(&server.public_url)?;
    let cors = f.cors.settings()?;
    let rate_limits = rate_limits::settings(&f.rate_limits)?;
    let mail = mail::settings(&f.mail, &server.public_url)?;
    let oidc = oidc::settings(&f.oidc)?;
    let forward_auth = forward_auth::settings(f.forward_auth, &auth_catalog)?;
    let log = f.log.settings()?;
    Ok(Settings {
        server,
        database,
        store,
        log,
        auth,
        setup: f.setup.settings(),
        mail,
        oidc,
        security,
        scopes: f.scopes.settings(),
        jwt,
        oauth,
        tokens,
        session,
        cors,
        rate_limits,
        forward_auth,
        device: f.device.settings()?,
    })
}

pub(super) fn positive(key: &str, v: Option<i64>, default: i64) -> Result<i64, ConfigError> {
    match v {
        None => Ok(default),
        Some(n) if n > 0 => Ok(n),
        Some(_) => Err(err(key, "must be a positive number of seconds")),
    }
}

/// `config show`: the effective settings, one `section.key = value` line each, derived by serialising
/// [`Settings`] itself, so a new setting appears without anyone remembering to add it here and a secret
/// is redacted by its type (see `tessera_service::settings::redact`).
pub fn redacted_view(s: &Settings) -> String {
    let mut out = String::new();
    let Ok(serde_json::Value::Object(sections)) = serde_json::to_value(s) else {
        return out;
    };
    for (section, value) in sections {
        match value {
            serde_json::Value::Object(keys) => {
                for (key, v) in keys {
                    out.push_str(&format!("{section}.{key} = {}\n", shown(&v)));
                }
            }
            serde_json::Value::Null => out.push_str(&format!("{section} = (unset)\n")),
            other => out.push_str(&format!("{section} = {}\n", shown(&other))),
        }
    }
    out
}

fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "(unset)".to_owned(),
        other => other.to_string(),
    }
}

/// Every configuration key (`section.key`), read off the file format itself, so documentation can be
/// checked against the code (`tessera config keys`, and a test against README's table).
pub fn key_paths() -> Vec<String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    if prefix.is_empty() {
                        walk(&path, child, out);
                    } else {
                        out.push(path);
                    }
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::to_value(FileConfig::default()) {
        walk("", &v, &mut out);
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)], dir: &Path) -> Vec<(String, String)> {
        let mut v: Vec<_> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        v.push(("TESSERA_DATA_DIR".into(), dir.display().to_string()));
        v
    }

    #[test]
    fn defaults_need_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = load(None, &env(&[], dir.path())).unwrap();
        assert_eq!(s.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.server.public_url, "http://127.0.0.1:8080");
        assert!(s.database.url.expose_secret().starts_with("sqlite://"));
        assert_eq!(s.store.url.expose_secret(), "memory://");
    }

    #[test]
    fn env_overrides_file_and_nests() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(
            &file,
            "[auth]\nkiosk = false\n[server]\npublic_url = \"https://id.example.com/\"\n",
        )
        .unwrap();
        let s = load(
            Some(&file),
            &env(
                &[
                    ("TESSERA_AUTH__KIOSK", "true"),
                    ("TESSERA_SERVICE_HOST", "10.0.0.1"),
                    ("TESSERA_AUTH__SERVICE_KEY", "12345678901234567890123456789012345"),
                ],
                dir.path(),
            ),
        )
        .unwrap();
        assert!(s.auth.kiosk);
        assert_eq!(s.server.public_url, "https://id.example.com");
        assert_eq!(
            s.auth.service_key.as_ref().map(|k| k.expose_secret().to_owned()),
            Some("12345678901234567890123456789012345".to_owned())
        );
    }

    #[test]
    fn errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(None, &env(&[("TESSERA_AUTH__KISOK", "true")], dir.path())).unwrap_err();
        assert!(e.to_string().contains("kisok"), "{e}");
        let e = load(None, &env(&[("TESSERA_DATABASE_URL", "mysql://x")], dir.path())).unwrap_err();
        assert_eq!(e.key, "database.url");
        let e = load(None, &env(&[("TESSERA_STORE_URL", "memcache://x")], dir.path())).unwrap_err();
        assert_eq!(e.key, "store.url");
        let e = load(None, &env(&[("TESSERA_LISTEN", "nowhere")], dir.path())).unwrap_err();
        assert_eq!(e.key, "server.listen");
        let e = load(
            None,
            &env(&[("TESSERA_AUTH__SERVICE_KEY", "changeme")], dir.path()),
        )
        .unwrap_err();
        assert_eq!(e.key, "auth.service_key");
        let e = load(None, &env(&[("TESSERA_LOG__FORMAT", "xml")], dir.path())).unwrap_err();
        assert_eq!(e.key, "log.format");
        let e = load(None, &env(&[("TESSERA_JWT__ALGORITHM", "none")], dir.path())).unwrap_err();
        assert_eq!(e.key, "jwt.algorithm");
        let e = load(
            None,
            &env(&[("TESSERA_JWT__KEY_ENCRYPTION_KEY", "abc")], dir.path()),
        )
        .unwrap_err();
        assert_eq!(e.key, "jwt.key_encryption_key");
        let e = load(None, &env(&[("TESSERA_TOKENS__PREFIX", "Bad_")], dir.path())).unwrap_err();
        assert_eq!(e.key, "tokens.prefix");
        let e = load(
            None,
            &env(&[("TESSERA_OAUTH__REFRESH_TTL_SECS", "-5")], dir.path()),
        )
        .unwrap_err();
        assert_eq!(e.key, "oauth.refresh_ttl_secs");
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:1\"\nport = 3\n").unwrap();
        let e = load(Some(&file), &env(&[], dir.path())).unwrap_err();
        assert_eq!(e.key, "server.port");
        assert!(e.message.contains("port"));
    }

    /// `config show` names every section of the file format and never prints a secret it was given.
    #[test]
    fn the_view_covers_every_section_and_redacts_every_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = [
            (
                "TESSERA_AUTH__SERVICE_KEY",
                "service-key-service-key-service-key-1",
            ),
            ("TESSERA_MAIL__SMTP_PASSWORD", "smtp-password-3f9a"),
            ("TESSERA_MAIL__SMTP_HOST", "mail.example.org"),
            ("TESSERA_OIDC__ISSUER", "https://sso.example.org"),
            ("TESSERA_OIDC__CLIENT_ID", "tessera"),
            ("TESSERA_OIDC__CLIENT_SECRET", "oidc-secret-77c1"),
            (
                "TESSERA_JWT__KEY_ENCRYPTION_KEY",
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            ),
            (
                "TESSERA_DATABASE_URL",
                "postgres://tessera:db-pass-91e0@db.example.org/tessera",
            ),
            (
                "TESSERA_STORE_URL",
                "redis://:redis-pass-5d2b@cache.example.org:6379",
            ),
        ];
        let s = load(None, &env(&secrets, dir.path())).unwrap();
        let view = redacted_view(&s);
        for secret in [
            "service-key-service-key",
            "smtp-password-3f9a",
            "oidc-secret-77c1",
            "00112233445566778899",
            "db-pass-91e0",
            "redis-pass-5d2b",
        ] {
            assert!(!view.contains(secret), "{secret} shown:\n{view}");
        }
        assert!(
            view.contains("postgres://tessera:REDACTED@db.example.org/tessera"),
            "{view}"
        );
        assert!(view.contains("oidc.client_secret = \"REDACTED\""), "{view}");
        // Every documented key's section shows up (rate limits with their defaults).
        for key in key_paths() {
            let section = key.split('.').next().unwrap();
            assert!(
                view.contains(&format!("\n{section}.")) || view.starts_with(&format!("{section}.")),
                "{section} missing:\n{view}"
            );
        }
        assert!(view.contains("rate_limits.login_user = {\"limit\":"), "{view}");
    }
}
