//! Loading configuration: defaults, then an optional TOML file, then `TESSERA_` variables.
//! Unknown keys stop the start; every error names the key it is about.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tessera_core::scope::{CatalogEntry, ScopeCatalog};
use tessera_crypto::jwt::SigningAlg;
use tessera_service::forward_auth::{Policy, ProxyFlavor, RuleSet, RuleSpec};
use tessera_service::ratelimit::{Budget, LimitedAction};
use tessera_service::service_key::ServiceKey;
use tessera_service::settings::{
    AuthSettings, CorsSettings, DatabaseSettings, DeviceSettings, ForwardAuthSettings, JwtSettings,
    LogFormat, LogSettings, MailSettings, OAuthSettings, ScopeSettings, SecuritySettings, ServerSettings,
    SessionSettings, Settings, SetupSettings, StoreSettings, TokenSettings,
};

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
    server: ServerFile,
    database: DatabaseFile,
    store: StoreFile,
    log: LogFile,
    auth: AuthFile,
    setup: SetupFile,
    security: SecurityFile,
    scopes: ScopesFile,
    jwt: JwtFile,
    oauth: OAuthFile,
    tokens: TokensFile,
    session: SessionFile,
    cors: CorsFile,
    rate_limits: RateLimitsFile,
    device: DeviceFile,
    forward_auth: ForwardAuthFile,
    mail: MailFile,
    oidc: OidcFile,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct OidcFile {
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

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct MailFile {
    /// SMTP relay; unset: no mail is sent (operators use `tessera users reset-link`).
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    /// none | starttls | tls (default starttls).
    smtp_tls: Option<tessera_service::settings::SmtpTls>,
    /// The From address (default `tessera@<public host>`).
    from: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct ForwardAuthFile {
    /// Policy when no rule matches (default deny).
    default_policy: Option<Policy>,
    /// traefik | caddy | nginx | auto (default auto): which headers carry the original request.
    proxy: Option<ProxyFlavor>,
    allowed_redirect_hosts: Option<Vec<String>>,
    rules: Option<Vec<RuleSpec>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct DeviceFile {
    /// Lifetime of device and user codes (default 600).
    code_ttl_secs: Option<i64>,
    /// Minimum seconds between polls (default 5).
    interval_secs: Option<i64>,
}

/// `rate_limits.<action> = { limit = N, period_secs = S }`; unknown actions are refused.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct RateLimitsFile {
    login_user: Option<Budget>,
    login_ip: Option<Budget>,
    device_init: Option<Budget>,
    user_code: Option<Budget>,
    pair_exchange: Option<Budget>,
    forgot_password: Option<Budget>,
    forgot_password_ip: Option<Budget>,
    oidc_start: Option<Budget>,
    register: Option<Budget>,
    invite: Option<Budget>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct SessionFile {
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

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct CorsFile {
    allowed_origins: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct JwtFile {
    /// ES256 (default), EdDSA, RS256; HS256 only for apps that need a shared secret.
    algorithm: Option<String>,
    /// `aud` of access tokens (default: public_url); a list is allowed.
    audience: Option<Audience>,
    access_ttl_secs: Option<i64>,
    leeway_secs: Option<i64>,
    /// 64 hex digits; replicas must share it. Generated into the data dir when unset.
    key_encryption_key: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct OAuthFile {
    require_client_id: Option<bool>,
    refresh_ttl_secs: Option<i64>,
    refresh_family_cap_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct TokensFile {
    prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct ServerFile {
    /// Address to listen on (default 127.0.0.1:8080).
    listen: Option<String>,
    /// The URL clients use (default http://<listen>); the token issuer.
    public_url: Option<String>,
    /// Where SQLite, the service key and generated keys live (default ./data).
    data_dir: Option<PathBuf>,
    /// HTTP worker threads (default: one per core).
    workers: Option<usize>,
    /// Seconds to drain requests in flight after SIGTERM (default 30).
    shutdown_timeout_secs: Option<u64>,
    /// Milliseconds a client has to send a request's head, and an OAuth body (default 5000).
    request_timeout_ms: Option<u64>,
    /// Networks whose X-Forwarded-* headers are believed (default: loopback only).
    trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct DatabaseFile {
    /// sqlite://<path> or postgres://… (default sqlite://<data_dir>/tessera.db).
    url: Option<String>,
    /// Migrate PostgreSQL at start (SQLite always migrates); default true.
    auto_migrate: Option<bool>,
    pool_size: Option<u32>,
    connect_timeout_secs: Option<u64>,
    statement_timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct StoreFile {
    /// memory:// (default, one replica) or redis://….
    url: Option<String>,
    /// Namespace for every key and channel (default "tessera:").
    key_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct LogFile {
    format: Option<LogFormat>,
    /// A tracing filter, e.g. "info" or "tessera=debug,info".
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct AuthFile {
    password_login: Option<bool>,
    kiosk: Option<bool>,
    kiosk_scopes: Option<Vec<String>>,
    service_key: Option<String>,
    service_key_header: Option<String>,
    api_key_header: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct SetupFile {
    disabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct SecurityFile {
    bcrypt_cost: Option<u32>,
    bcrypt_concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct ScopesFile {
    catalog: Option<Vec<CatalogEntry>>,
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
    let listen_text = f.server.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        err(
            "server.listen",
            format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
        )
    })?;
    let public_url = validate_public_url(f.server.public_url.unwrap_or_else(|| format!("http://{listen}")))?;
    let data_dir = f.server.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
    check_writable_dir(&data_dir).map_err(|m| err("server.data_dir", m))?;

    let db_url = f
        .database
        .url
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tessera.db").display()));
    tessera_db::Backend::from_url(&db_url).map_err(|e| err("database.url", e.to_string()))?;

    let store_url = f.store.url.unwrap_or_else(|| "memory://".to_owned());
    if !(store_url == "memory://" || store_url.starts_with("redis://") || store_url.starts_with("rediss://"))
    {
        return Err(err("store.url", "expected memory:// or redis://host:port"));
    }

    let bcrypt_cost = f.security.bcrypt_cost.unwrap_or(12);
    if !(4..=31).contains(&bcrypt_cost) {
        return Err(err("security.bcrypt_cost", "must be between 4 and 31"));
    }
    let service_key = match f.auth.service_key {
        Some(k) => {
            ServiceKey::new(&k).map_err(|e| err("auth.service_key", e.to_string()))?;
            Some(SecretString::from(k))
        }
        None => None,
    };
    let header = f
        .auth
        .service_key_header
        .unwrap_or_else(|| "x-tessera-key".to_owned());
    if header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(err(
            "auth.service_key_header",
            "must be a header name of letters, digits and '-'",
        ));
    }
    let api_key_header = match f.auth.api_key_header {
        Some(h) => {
            let lower = h.to_ascii_lowercase();
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
                || lower == header.to_ascii_lowercase()
            {
                return Err(err(
                    "auth.api_key_header",
                    "must be a header name of letters, digits and '-', not Authorization, Cookie or the service key's",
                ));
            }
            Some(lower)
        }
        None => None,
    };
    if let Some(catalog) = &f.scopes.catalog {
        ScopeCatalog::new(catalog).map_err(|e| err("scopes.catalog", e.to_string()))?;
    }
    let jwt = validate_jwt(f.jwt, &public_url)?;
    let oauth = OAuthSettings {
        require_client_id: f.oauth.require_client_id.unwrap_or(false),
        refresh_ttl_secs: positive("oauth.refresh_ttl_secs", f.oauth.refresh_ttl_secs, 7 * 86_400)?,
        refresh_family_cap_secs: positive(
            "oauth.refresh_family_cap_secs",
            f.oauth.refresh_family_cap_secs,
            30 * 86_400,
        )?,
    };
    let prefix = f.tokens.prefix.unwrap_or_else(|| "tsr".to_owned());
    tessera_core::token_format::validate_prefix(&prefix).map_err(|e| err("tokens.prefix", e.to_string()))?;
    let session = SessionSettings {
        idle_timeout_secs: positive(
            "session.idle_timeout_secs",
            f.session.idle_timeout_secs,
            2 * 86_400,
        )?,
        absolute_lifetime_secs: positive(
            "session.absolute_lifetime_secs",
            f.session.absolute_lifetime_secs,
            14 * 86_400,
        )?,
        cookie_domain: f.session.cookie_domain.clone().filter(|d| !d.is_empty()),
        cookie_secure: public_url.starts_with("https://"),
        cookie_name: String::new(),
        csrf_cookie_name: String::new(),
        csrf_header_names: Vec::new(),
    };
    let session = session_names(session, &f.session)?;
    let allowed_origins = f.cors.allowed_origins.unwrap_or_default();
    if let Some(bad) = allowed_origins
        .iter()
        .find(|o| o.as_str() == "*" || url::Url::parse(o).is_err())
    {
        return Err(err(
            "cors.allowed_origins",
            format!("{bad:?}: list exact origins such as https://app.example.com (never \"*\")"),
        ));
    }
    let rate_limits = validate_rate_limits(&f.rate_limits)?;
    let kiosk_scopes = kiosk_scopes(f.auth.kiosk_scopes.clone(), f.scopes.catalog.as_deref())?;
    let mail = mail_settings(&f.mail, &public_url)?;
    let oidc = oidc_settings(&f.oidc)?;
    let forward_auth = forward_auth_settings(f.forward_auth, f.scopes.catalog.as_deref())?;
    let trusted_proxies = match f.server.trusted_proxies {
        None => vec![
            "127.0.0.0/8"
                .parse()
                .map_err(|_| err("server.trusted_proxies", "bad default"))?,
            "::1/128"
                .parse()
                .map_err(|_| err("server.trusted_proxies", "bad default"))?,
        ],
        Some(list) => list
            .iter()
            .map(|n| {
                n.parse::<ipnet::IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        err(
                            "server.trusted_proxies",
                            format!("{n:?} is not an address or network like 10.0.0.0/8"),
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let level = f.log.level.unwrap_or_else(|| "info".to_owned());
    tracing_subscriber::EnvFilter::try_new(&level).map_err(|e| err("log.level", e.to_string()))?;

    Ok(Settings {
        server: ServerSettings {
            listen,
            public_url,
            data_dir,
            workers: f.server.workers.unwrap_or(0),
            shutdown_timeout_secs: f.server.shutdown_timeout_secs.unwrap_or(30),
            request_timeout_ms: f.server.request_timeout_ms.unwrap_or(5000).max(1),
            trusted_proxies,
        },
        database: DatabaseSettings {
            url: SecretString::from(db_url),
            auto_migrate: f.database.auto_migrate.unwrap_or(true),
            pool_size: f.database.pool_size.unwrap_or(10).max(1),
            connect_timeout_secs: f.database.connect_timeout_secs.unwrap_or(5),
            statement_timeout_ms: f.database.statement_timeout_ms.unwrap_or(30_000),
        },
        store: StoreSettings {
            url: SecretString::from(store_url),
            key_prefix: f.store.key_prefix.unwrap_or_else(|| "tessera:".to_owned()),
        },
        log: LogSettings {
            format: f.log.format.unwrap_or(LogFormat::Pretty),
            level,
        },
        auth: AuthSettings {
            password_login: f.auth.password_login.unwrap_or(true),
            kiosk: f.auth.kiosk.unwrap_or(false),
            kiosk_scopes,
            no_auth: false,
            service_key,
            service_key_header: header.to_ascii_lowercase(),
            api_key_header,
        },
        setup: SetupSettings {
            disabled: f.setup.disabled.unwrap_or(false),
        },
        mail,
        oidc,
        security: SecuritySettings {
            bcrypt_cost,
            bcrypt_concurrency: f.security.bcrypt_concurrency.unwrap_or(2).max(1),
        },
        scopes: ScopeSettings {
            catalog: f.scopes.catalog,
        },
        jwt,
        oauth,
        tokens: TokenSettings { prefix },
        session,
        cors: CorsSettings { allowed_origins },
        rate_limits,
        forward_auth,
        device: DeviceSettings {
            code_ttl_secs: positive("device.code_ttl_secs", f.device.code_ttl_secs, 600)?,
            interval_secs: positive("device.interval_secs", f.device.interval_secs, 5)?,
        },
    })
}

fn validate_rate_limits(f: &RateLimitsFile) -> Result<HashMap<LimitedAction, Budget>, ConfigError> {
    let given = [
        (LimitedAction::LoginUser, f.login_user),
        (LimitedAction::LoginIp, f.login_ip),
        (LimitedAction::DeviceInit, f.device_init),
        (LimitedAction::UserCode, f.user_code),
        (LimitedAction::PairExchange, f.pair_exchange),
        (LimitedAction::ForgotPassword, f.forgot_password),
        (LimitedAction::ForgotPasswordIp, f.forgot_password_ip),
        (LimitedAction::OidcStart, f.oidc_start),
        (LimitedAction::Register, f.register),
        (LimitedAction::Invite, f.invite),
    ];
    let mut out = HashMap::new();
    for (action, budget) in given {
        if let Some(b) = budget {
            if b.limit == 0 || b.period_secs == 0 {
                return Err(err(
                    &format!("rate_limits.{}", action.key()),
                    "limit and period_secs must be positive",
                ));
            }
            out.insert(action, b);
        }
    }
    Ok(out)
}

fn forward_auth_settings(
    f: ForwardAuthFile,
    catalog: Option<&[CatalogEntry]>,
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
    let catalog = match catalog {
        Some(c) => ScopeCatalog::new(c).map_err(|e| err("scopes.catalog", e.to_string()))?,
        None => ScopeCatalog::romm_default(),
    };
    RuleSet::compile(&settings.rules, settings.default_policy, &catalog)
        .map_err(|e| err(&format!("forward_auth.rules[{}]", e.index), e.message))?;
    Ok(settings)
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

fn positive(key: &str, v: Option<i64>, default: i64) -> Result<i64, ConfigError> {
    match v {
        None => Ok(default),
        Some(n) if n > 0 => Ok(n),
        Some(_) => Err(err(key, "must be a positive number of seconds")),
    }
}

fn validate_jwt(f: JwtFile, public_url: &str) -> Result<JwtSettings, ConfigError> {
    let name = f.algorithm.unwrap_or_else(|| "ES256".to_owned());
    let algorithm = SigningAlg::parse(&name)
        .ok_or_else(|| err("jwt.algorithm", "expected ES256, EdDSA, RS256 or HS256"))?;
    let audience = match f.audience {
        None => vec![public_url.to_owned()],
        Some(Audience::One(a)) => vec![a],
        Some(Audience::Many(list)) => list,
    };
    if audience.is_empty() || audience.iter().any(|a| a.trim().is_empty()) {
        return Err(err("jwt.audience", "must name at least one non-empty audience"));
    }
    let leeway_secs = f.leeway_secs.unwrap_or(60);
    if !(0..=60).contains(&leeway_secs) {
        return Err(err("jwt.leeway_secs", "must be between 0 and 60"));
    }
    let key_encryption_key = match f.key_encryption_key {
        Some(k) => {
            parse_kek(&k).map_err(|m| err("jwt.key_encryption_key", m))?;
            Some(SecretString::from(k))
        }
        None => None,
    };
    Ok(JwtSettings {
        algorithm,
        audience,
        access_ttl_secs: positive("jwt.access_ttl_secs", f.access_ttl_secs, 1800)?,
        leeway_secs,
        key_encryption_key,
    })
}

/// A key-encryption key is 32 bytes written as 64 hex digits.
pub fn parse_kek(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text.trim()).map_err(|_| "must be 64 hex digits".to_owned())?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "must be 64 hex digits (32 bytes)".to_owned())
}

/// Clients compare the issuer byte for byte: no trailing slash, no query or fragment.
fn validate_public_url(raw: String) -> Result<String, ConfigError> {
    let url = url::Url::parse(&raw).map_err(|e| err("server.public_url", format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
        return Err(err(
            "server.public_url",
            "must be an http(s) URL without query or fragment",
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// Creates the data dir owner-only (0700): it holds the database, keys and the service key. An existing
/// dir keeps its mode (an operator may share it on purpose); `tessera doctor` and the log say so.
fn check_writable_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    } else if std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
        tracing::warn!(dir = %dir.display(), "the data dir is readable by other local users; chmod 700 it");
    }
    let probe = dir.join(".tessera-write-check");
    std::fs::write(&probe, b"ok").map_err(|e| format!("{} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// `config show`: the effective settings with secrets redacted.
pub fn redacted_view(s: &Settings) -> String {
    let redact_url = |u: &SecretString| -> String {
        let raw = u.expose_secret();
        match url::Url::parse(raw) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("REDACTED"));
                url.to_string()
            }
            _ => raw.to_owned(),
        }
    };
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k} = {v}\n"));
    line("server.listen", format!("{:?}", s.server.listen.to_string()));
    line("server.public_url", format!("{:?}", s.server.public_url));
    line(
        "server.data_dir",
        format!("{:?}", s.server.data_dir.display().to_string()),
    );
    line("server.workers", s.server.workers.to_string());
    line(
        "server.shutdown_timeout_secs",
        s.server.shutdown_timeout_secs.to_string(),
    );
    line(
        "server.request_timeout_ms",
        s.server.request_timeout_ms.to_string(),
    );
    line("database.url", format!("{:?}", redact_url(&s.database.url)));
    line("database.auto_migrate", s.database.auto_migrate.to_string());
    line("database.pool_size", s.database.pool_size.to_string());
    line("store.url", format!("{:?}", redact_url(&s.store.url)));
    line("store.key_prefix", format!("{:?}", s.store.key_prefix));
    line("log.format", format!("{:?}", s.log.format).to_lowercase());
    line("log.level", format!("{:?}", s.log.level));
    line("auth.password_login", s.auth.password_login.to_string());
    line("auth.kiosk", s.auth.kiosk.to_string());
    line("auth.kiosk_scopes", format!("{:?}", s.auth.kiosk_scopes));
    line("mail.smtp_host", format!("{:?}", s.mail.smtp_host));
    line("mail.smtp_port", s.mail.smtp_port.to_string());
    line("mail.smtp_username", format!("{:?}", s.mail.smtp_username));
    line(
        "mail.smtp_password",
        if s.mail.smtp_password.is_some() {
            "\"REDACTED\""
        } else {
            "(unset)"
        }
        .to_owned(),
    );
    line("mail.smtp_tls", format!("{:?}", s.mail.smtp_tls).to_lowercase());
    line("mail.from", format!("{:?}", s.mail.from));
    match &s.oidc {
        None => line("oidc.issuer", "(unset: upstream login off)".to_owned()),
        Some(o) => {
            line("oidc.issuer", format!("{:?}", o.issuer));
            line("oidc.client_id", format!("{:?}", o.client_id));
            line(
                "oidc.client_secret",
                if o.client_secret.is_some() {
                    "\"REDACTED\""
                } else {
                    "(unset)"
                }
                .to_owned(),
            );
            line("oidc.scopes", format!("{:?}", o.scopes));
            line("oidc.role_claim", format!("{:?}", o.role_claim));
            line("oidc.group_claim", format!("{:?}", o.group_claim));
            line("oidc.allow_registration", o.allow_registration.to_string());
            line(
                "oidc.link_existing_by_email",
                o.link_existing_by_email.to_string(),
            );
        }
    }
    line(
        "auth.service_key",
        if s.auth.service_key.is_some() {
            "\"REDACTED\""
        } else {
            "(generated into data_dir)"
        }
        .to_owned(),
    );
    line(
        "auth.service_key_header",
        format!("{:?}", s.auth.service_key_header),
    );
    line(
        "auth.api_key_header",
        s.auth
            .api_key_header
            .as_ref()
            .map_or_else(|| "(none)".to_owned(), |h| format!("{h:?}")),
    );
    line("setup.disabled", s.setup.disabled.to_string());
    line("security.bcrypt_cost", s.security.bcrypt_cost.to_string());
    line(
        "security.bcrypt_concurrency",
        s.security.bcrypt_concurrency.to_string(),
    );
    line("jwt.algorithm", format!("{:?}", s.jwt.algorithm.name()));
    line("jwt.audience", format!("{:?}", s.jwt.audience));
    line("jwt.access_ttl_secs", s.jwt.access_ttl_secs.to_string());
    line("jwt.leeway_secs", s.jwt.leeway_secs.to_string());
    let kek = if s.jwt.key_encryption_key.is_some() {
        "\"REDACTED\""
    } else {
        "(generated into data_dir)"
    };
    line("jwt.key_encryption_key", kek.to_owned());
    line("oauth.require_client_id", s.oauth.require_client_id.to_string());
    line("oauth.refresh_ttl_secs", s.oauth.refresh_ttl_secs.to_string());
    line(
        "oauth.refresh_family_cap_secs",
        s.oauth.refresh_family_cap_secs.to_string(),
    );
    line("tokens.prefix", format!("{:?}", s.tokens.prefix));
    line(
        "session.idle_timeout_secs",
        s.session.idle_timeout_secs.to_string(),
    );
    line(
        "session.absolute_lifetime_secs",
        s.session.absolute_lifetime_secs.to_string(),
    );
    line("session.cookie_domain", format!("{:?}", s.session.cookie_domain));
    line("cors.allowed_origins", format!("{:?}", s.cors.allowed_origins));
    line(
        "server.trusted_proxies",
        format!(
            "{:?}",
            s.server
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        ),
    );
    for a in LimitedAction::ALL {
        let b = s
            .rate_limits
            .get(&a)
            .copied()
            .unwrap_or_else(|| a.default_budget());
        line(
            &format!("rate_limits.{}", a.key()),
            format!("{{ limit = {}, period_secs = {} }}", b.limit, b.period_secs),
        );
    }
    out
}

/// Kiosk scopes must exist and be read scopes: the anonymous identity can never write.
fn kiosk_scopes(
    given: Option<Vec<String>>,
    catalog: Option<&[tessera_core::scope::CatalogEntry]>,
) -> Result<Vec<String>, ConfigError> {
    let catalog = match catalog {
        Some(entries) => {
            tessera_core::ScopeCatalog::new(entries).map_err(|e| err("scopes.catalog", e.to_string()))?
        }
        None => tessera_core::ScopeCatalog::romm_default(),
    };
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

fn mail_settings(f: &MailFile, public_url: &str) -> Result<MailSettings, ConfigError> {
    let host = f.smtp_host.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let tls = f.smtp_tls.unwrap_or_default();
    let from = match &f.from {
        Some(a) => a.trim().to_owned(),
        None => format!(
            "tessera@{}",
            tessera_service::forward_auth::url_host(public_url)
                .unwrap_or("localhost")
                .split(':')
                .next()
                .unwrap_or("localhost")
        ),
    };
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(err(
            "mail.from",
            "must be an email address, optionally with a name",
        ));
    }
    Ok(MailSettings {
        smtp_host: host.map(str::to_owned),
        smtp_port: f.smtp_port.unwrap_or(match tls {
            tessera_service::settings::SmtpTls::Tls => 465,
            tessera_service::settings::SmtpTls::Starttls => 587,
            tessera_service::settings::SmtpTls::None => 25,
        }),
        smtp_username: f.smtp_username.clone().filter(|u| !u.is_empty()),
        smtp_password: f
            .smtp_password
            .clone()
            .filter(|p| !p.is_empty())
            .map(SecretString::from),
        smtp_tls: tls,
        from,
    })
}

fn oidc_settings(f: &OidcFile) -> Result<Option<tessera_service::settings::OidcSettings>, ConfigError> {
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
}
