//! The validated configuration every layer reads (loading and validation live in tessera-server).
//!
//! Every section serialises, so `tessera config show` is derived from these types and cannot drift from
//! them. Secrets are `SecretString`, which does not serialise: a secret field compiles only with one of
//! the [`redact`] writers, so no new secret can reach the view unredacted.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use tessera_core::scope::CatalogEntry;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub store: StoreSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub setup: SetupSettings,
    pub security: SecuritySettings,
    pub scopes: ScopeSettings,
    pub jwt: JwtSettings,
    pub oauth: OAuthSettings,
    pub tokens: TokenSettings,
    pub session: SessionSettings,
    pub cors: CorsSettings,
    pub device: DeviceSettings,
    pub forward_auth: ForwardAuthSettings,
    pub mail: MailSettings,
    /// Upstream OpenID Connect login; None when `oidc.issuer` is unset.
    pub oidc: Option<OidcSettings>,
    #[serde(serialize_with = "redact::budgets")]
    pub rate_limits: std::collections::HashMap<crate::ratelimit::LimitedAction, crate::ratelimit::Budget>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Exactly as clients see it, without a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    /// Seconds between SIGTERM and closing the listener, with `/readyz` answering 503 meanwhile.
    pub shutdown_delay_secs: u64,
    /// A client must send a request's head, and an OAuth body, within this time (slow-client guard).
    pub request_timeout_ms: u64,
    /// Peers whose X-Forwarded-* headers are believed (default: loopback only).
    #[serde(serialize_with = "redact::display_list")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct DatabaseSettings {
    #[serde(serialize_with = "redact::url")]
    pub url: SecretString,
    pub auto_migrate: bool,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub statement_timeout_ms: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct StoreSettings {
    #[serde(serialize_with = "redact::url")]
    pub url: SecretString,
    pub key_prefix: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct AuthSettings {
    pub password_login: bool,
    pub kiosk: bool,
    /// What the anonymous kiosk identity may do (read scopes only; default the 8 read scopes).
    pub kiosk_scopes: Vec<String>,
    /// `serve --no-auth` (development): every request is an anonymous admin. Never from config.
    pub no_auth: bool,
    /// Shared by replicas; when unset a key is generated into `<data_dir>/service-key`.
    #[serde(serialize_with = "redact::optional")]
    pub service_key: Option<SecretString>,
    pub service_key_header: String,
    /// A header that carries a client token for apps behind an authenticating proxy that owns
    /// `Authorization` (Cloudflare Access and the like); lowercase, off when None.
    pub api_key_header: Option<String>,
}

/// Upstream OIDC (API.md §8): authorization code + PKCE + state + nonce against `issuer`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OidcSettings {
    /// The issuer URL (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    #[serde(serialize_with = "redact::optional")]
    pub client_secret: Option<SecretString>,
    pub scopes: Vec<String>,
    /// Shown on the login page: "Sign in with <provider>".
    pub provider_name: String,
    pub username_claim: String,
    /// Unset: new accounts are `user` and roles are managed in Tessera.
    pub role_claim: Option<String>,
    pub admin_values: Vec<String>,
    pub user_values: Vec<String>,
    pub group_claim: Option<String>,
    /// Upstream group → Tessera permission group (by name); the first match wins.
    pub group_map: Vec<(String, String)>,
    pub allow_registration: bool,
    pub link_existing_by_email: bool,
}

/// Outgoing mail (password reset and email verification links). Without `smtp_host` nothing is sent.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MailSettings {
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_username: Option<String>,
    #[serde(serialize_with = "redact::optional")]
    pub smtp_password: Option<SecretString>,
    pub smtp_tls: SmtpTls,
    pub from: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: a relay on the same host or network only.
    None,
    #[default]
    Starttls,
    Tls,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SetupSettings {
    pub disabled: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SecuritySettings {
    pub bcrypt_cost: u32,
    pub bcrypt_concurrency: usize,
    /// HTTP Basic for a user with a second factor: refused (the default) or allowed with the password
    /// alone (`"allow"`), for apps that cannot do anything else.
    pub basic_with_second_factor_allowed: bool,
    /// Roles or permission-group names whose members must have a second factor: they enrol right after
    /// the password and get no session or token before.
    pub require_second_factor: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ScopeSettings {
    /// None: RomM's 20 scopes.
    pub catalog: Option<Vec<CatalogEntry>>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct JwtSettings {
    #[serde(serialize_with = "redact::algorithm")]
    pub algorithm: tessera_crypto::jwt::SigningAlg,
    /// The first entry is what verification expects; all are written into `aud`.
    pub audience: Vec<String>,
    pub access_ttl_secs: i64,
    pub leeway_secs: i64,
    /// 32 bytes, hex; when unset a key is generated into `<data_dir>/jwt-kek` (single instance only).
    #[serde(serialize_with = "redact::optional")]
    pub key_encryption_key: Option<SecretString>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct OAuthSettings {
    /// When false (as RomM), a token request without `client_id` acts as the built-in `tessera-cli`.
    pub require_client_id: bool,
    pub refresh_ttl_secs: i64,
    pub refresh_family_cap_secs: i64,
    /// Seconds after a rotation during which the rotated token, presented again by its client, rotates
    /// again instead of revoking the family (a lost response is not theft); 0 turns the grace off.
    pub refresh_reuse_grace_secs: i64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenSettings {
    /// Prefix of client and refresh tokens (`tsr_…`, `tsr_rt_…`); a contract with scanners: pick it once.
    pub prefix: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SessionSettings {
    pub idle_timeout_secs: i64,
    pub absolute_lifetime_secs: i64,
    /// e.g. `.example.com`, so the session set on Tessera's host reaches forward-auth for sibling hosts.
    pub cookie_domain: Option<String>,
    /// Derived from `public_url`: cookies are `Secure` behind HTTPS.
    pub cookie_secure: bool,
    /// The session cookie's name (`tessera_session`; RomM's preset `romm_session`).
    pub cookie_name: String,
    /// The cookie holding the CSRF token for the page's script (`tessera_csrf`; RomM: `romm_csrftoken`).
    pub csrf_cookie_name: String,
    /// Request headers that may carry the CSRF token, lowercase (`x-csrf-token`; RomM adds `x-csrftoken`).
    pub csrf_header_names: Vec<String>,
}

/// Cookie and CSRF names a deployment's web app expects (`session.preset`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionPreset {
    /// `tessera_session`, `tessera_csrf`, `X-CSRF-Token`.
    #[default]
    Tessera,
    /// RomM's web app: `romm_session`, `romm_csrftoken`, `X-CSRFToken` (and `X-CSRF-Token`).
    Romm,
}

impl SessionPreset {
    /// (session cookie, CSRF cookie, accepted CSRF headers).
    pub fn names(self) -> (&'static str, &'static str, &'static [&'static str]) {
        match self {
            SessionPreset::Tessera => ("tessera_session", "tessera_csrf", &["x-csrf-token"]),
            SessionPreset::Romm => ("romm_session", "romm_csrftoken", &["x-csrftoken", "x-csrf-token"]),
        }
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CorsSettings {
    /// Exact origins allowed to call with credentials; empty = CORS off.
    pub allowed_origins: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct DeviceSettings {
    /// Lifetime of device and user codes (RFC 8628 `expires_in`).
    pub code_ttl_secs: i64,
    /// Minimum seconds between polls (`interval`); `slow_down` adds 5.
    pub interval_secs: i64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ForwardAuthSettings {
    pub default_policy: crate::forward_auth::Policy,
    /// Which proxy's header family carries the original request.
    pub proxy: crate::forward_auth::ProxyFlavor,
    /// Hosts (any port) that a login `rd` may point to, besides public_url's.
    pub allowed_redirect_hosts: Vec<String>,
    pub rules: Vec<crate::forward_auth::RuleSpec>,
}

/// Writers for the fields that do not serialise as they are: secrets (redacted), and values shown as text.
pub mod redact {
    use secrecy::{ExposeSecret, SecretString};
    use serde::ser::{SerializeMap, Serializer};

    const REDACTED: &str = "REDACTED";

    /// A set secret is written as `REDACTED`, an unset one as nothing.
    pub fn optional<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(_) => s.serialize_some(REDACTED),
            None => s.serialize_none(),
        }
    }

    /// A connection URL with its password replaced; a URL that does not parse is withheld whole.
    pub fn url<S: Serializer>(v: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        let raw = v.expose_secret();
        match url::Url::parse(raw) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some(REDACTED));
                }
                s.serialize_str(u.as_str())
            }
            Err(_) => s.serialize_str(REDACTED),
        }
    }

    pub fn display_list<S: Serializer, T: std::fmt::Display>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(ToString::to_string))
    }

    pub fn algorithm<S: Serializer>(v: &tessera_crypto::jwt::SigningAlg, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.name())
    }

    /// Every limited action with its budget, the default where none is configured, by config key.
    pub fn budgets<S: Serializer>(
        v: &std::collections::HashMap<crate::ratelimit::LimitedAction, crate::ratelimit::Budget>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let all = crate::ratelimit::LimitedAction::ALL;
        let mut m = s.serialize_map(Some(all.len()))?;
        for a in all {
            m.serialize_entry(a.key(), &v.get(&a).copied().unwrap_or_else(|| a.default_budget()))?;
        }
        m.end()
    }
}
