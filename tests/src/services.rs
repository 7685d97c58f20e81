//! Reaching the real PostgreSQL and Redis, with per-test isolation.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Locally: say loudly that the case did not run. In CI: fail.
pub(crate) fn unavailable(what: &str, err: &str) {
    assert!(!in_ci(), "{what} is required with CI=true but unreachable: {err}");
    eprintln!("NOT RUN: {what} is unreachable ({err}); start it or set CI=true to make this a failure");
}

/// The PostgreSQL base URL (`TEST_DATABASE_URL` or the machine's default), if reachable.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_owned());
    match PgConnection::establish(&url) {
        Ok(_) => Some(url),
        Err(e) => {
            unavailable("PostgreSQL", &e.to_string());
            None
        }
    }
}

/// The Redis URL (`TEST_REDIS_URL` or the machine's default), if reachable.
pub fn redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS.to_owned());
    let ok = std::net::TcpStream::connect_timeout(
        &url.trim_start_matches("redis://")
            .parse()
            .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 6379))),
        std::time::Duration::from_secs(2),
    );
    match ok {
        Ok(_) => Some(url),
        Err(e) => {
            unavailable("Redis", &e.to_string());
            None
        }
    }
}

/// A fresh schema for one test, dropped when the test ends.
pub struct PgSchema {
    base: String,
    pub name: String,
}

impl PgSchema {
    pub fn create() -> Option<Self> {
        let base = postgres_url()?;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut c = PgConnection::establish(&base).expect("postgres connect");
        c.batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create schema");
        Some(Self { base, name })
    }

    /// The URL of this schema on `base`'s host (which may be a gate in front of the real server).
    pub fn url_with_base(&self, base: &str) -> String {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-csearch_path%3D{}", self.name)
    }

    pub fn url(&self) -> String {
        self.url_with_base(&self.base)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&self.base) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// True when `python3` can import every module; locally a missing one is reported, in CI it fails.
pub fn require_python_modules(modules: &[&str]) -> bool {
    let code = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let ok = std::process::Command::new("python3")
        .args(["-c", &code])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        unavailable(
            &format!("python3 with {}", modules.join(", ")),
            "not installed (pip install authlib requests aiosmtpd)",
        );
    }
    ok
}
