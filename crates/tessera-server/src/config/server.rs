//! `[server]`: where Tessera listens, the URL clients use, its data dir, workers, timeouts, trusted proxies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tessera_service::settings::ServerSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ServerFile {
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
    /// Seconds to keep serving after SIGTERM with /readyz at 503, before draining (default 0).
    shutdown_delay_secs: Option<u64>,
    /// Milliseconds a client has to send a request's head, and an OAuth body (default 5000).
    request_timeout_ms: Option<u64>,
    /// Networks whose X-Forwarded-* headers are believed (default: loopback only).
    trusted_proxies: Option<Vec<String>>,
}

impl ServerFile {
    pub(super) fn settings(self) -> Result<ServerSettings, ConfigError> {
        let listen_text = self.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            err(
                "server.listen",
                format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;
        let public_url = validate_public_url(self.public_url.unwrap_or_else(|| format!("http://{listen}")))?;
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        check_writable_dir(&data_dir).map_err(|m| err("server.data_dir", m))?;
        Ok(ServerSettings {
            listen,
            public_url,
            data_dir,
            workers: self.workers.unwrap_or(0),
            shutdown_timeout_secs: self.shutdown_timeout_secs.unwrap_or(30),
            shutdown_delay_secs: match self.shutdown_delay_secs {
                None => 0,
                Some(n) if n <= 300 => n,
                Some(_) => return Err(err("server.shutdown_delay_secs", "must be at most 300")),
            },
            request_timeout_ms: self.request_timeout_ms.unwrap_or(5000).max(1),
            trusted_proxies: trusted_proxies(self.trusted_proxies)?,
        })
    }
}

fn trusted_proxies(given: Option<Vec<String>>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let list = given.unwrap_or_else(|| vec!["127.0.0.0/8".to_owned(), "::1/128".to_owned()]);
    list.iter()
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
        .collect()
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
