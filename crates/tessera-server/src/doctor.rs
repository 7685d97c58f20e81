//! `tessera doctor`: checks what a deployment needs (configuration, database, migrations, store, signing
//! keys, clock, public URL) without changing anything, prints a table, and fails when a check fails.

use std::time::Duration;

use secrecy::ExposeSecret;
use tessera_core::{Clock, SystemClock};
use tessera_db::models::signing_keys::SigningKey;
use tessera_db::{migrate, Db, DbOptions};
use tessera_service::Settings;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

fn check(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
    }
}

/// Clocks further apart than this break token expiry across replicas.
const MAX_SKEW_SECS: i64 = 5;

pub async fn run(settings: &Settings) -> Vec<Check> {
    let mut out = vec![check("config", Status::Ok, "loaded and valid")];
    out.push(public_url(&settings.server.public_url));
    let db = Db::new(
        settings.database.url.expose_secret(),
        DbOptions {
            pool_size: 1,
            connect_timeout: Duration::from_secs(settings.database.connect_timeout_secs),
            ..DbOptions::default()
        },
    );
    let db = match db {
        Ok(db)
            if db
                .ping(Duration::from_secs(settings.database.connect_timeout_secs))
                .await =>
        {
            out.push(check(
                "database",
                Status::Ok,
                format!("{} reachable", db.backend().name()),
            ));
            Some(db)
        }
        Ok(_) => {
            out.push(check("database", Status::Fail, "unreachable"));
            None
        }
        Err(e) => {
            out.push(check("database", Status::Fail, e.to_string()));
            None
        }
    };
    if let Some(db) = &db {
        let pending = db.run(migrate::pending_names).await;
        let migrated = matches!(&pending, Ok(p) if p.is_empty());
        out.push(match pending {
            Ok(p) if p.is_empty() => check("migrations", Status::Ok, "up to date"),
            Ok(p) => check(
                "migrations",
                Status::Fail,
                format!("{} pending ({}): run `tessera migrate`", p.len(), p.join(", ")),
            ),
            Err(e) => check("migrations", Status::Fail, e.to_string()),
        });
        out.push(clock(db).await);
        if migrated {
            out.push(keys(db, settings).await);
        } else {
            out.push(check(
                "keys",
                Status::Warn,
                "not checked until migrations are applied",
            ));
        }
    }
    out.push(store(settings).await);
    out
}

fn public_url(url: &str) -> Check {
    let host = tessera_service::forward_auth::url_host(url).unwrap_or("");
    let loopback = host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    if url.ends_with('/') {
        check(
            "public_url",
            Status::Fail,
            format!("{url}: no trailing slash (issuers compare byte for byte)"),
        )
    } else if url.starts_with("https://") || loopback {
        check("public_url", Status::Ok, url)
    } else {
        check(
            "public_url",
            Status::Warn,
            format!("{url}: not https; cookies and tokens cross the network in the clear"),
        )
    }
}

async fn clock(db: &Db) -> Check {
    match db.run(migrate::database_now).await {
        Ok(theirs) => {
            let skew = SystemClock.now().as_secs() - theirs;
            if skew.abs() <= MAX_SKEW_SECS {
                check("clock", Status::Ok, format!("{skew:+} s against the database"))
            } else {
                check(
                    "clock",
                    Status::Fail,
                    format!("{skew:+} s against the database (more than {MAX_SKEW_SECS} s): fix NTP"),
                )
            }
        }
        Err(e) => check("clock", Status::Fail, e.to_string()),
    }
}

async fn keys(db: &Db, settings: &Settings) -> Check {
    let kek_text = match &settings.jwt.key_encryption_key {
        Some(k) => k.expose_secret().to_owned(),
        None => match std::fs::read_to_string(settings.server.data_dir.join("jwt-kek")) {
            Ok(t) => t.trim().to_owned(),
            Err(_) => {
                return check(
                    "keys",
                    Status::Warn,
                    "no key-encryption key yet (made at first start)",
                )
            }
        },
    };
    let Ok(kek) = crate::config::parse_kek(&kek_text) else {
        return check(
            "keys",
            Status::Fail,
            "jwt.key_encryption_key is not 64 hex digits",
        );
    };
    let now = SystemClock.now().as_secs();
    match db.run(move |c| SigningKey::live(c, now)).await {
        Ok(rows) if rows.is_empty() => {
            check("keys", Status::Warn, "no signing key yet (made at first start)")
        }
        Ok(rows) => {
            let unreadable = rows
                .iter()
                .filter(|k| tessera_crypto::jwt::open(&kek, &k.private_encrypted).is_err())
                .count();
            if unreadable == 0 {
                check(
                    "keys",
                    Status::Ok,
                    format!("{} live signing key(s), all readable", rows.len()),
                )
            } else {
                check(
                    "keys",
                    Status::Fail,
                    format!(
                        "{unreadable} of {} keys cannot be opened with this key-encryption key",
                        rows.len()
                    ),
                )
            }
        }
        Err(e) => check("keys", Status::Fail, e.to_string()),
    }
}

async fn store(settings: &Settings) -> Check {
    match tessera_store::open(settings.store.url.expose_secret(), &settings.store.key_prefix) {
        Ok(store) => match tokio::time::timeout(Duration::from_secs(5), store.ping()).await {
            Ok(Ok(())) => check("store", Status::Ok, store.kind()),
            Ok(Err(e)) => check("store", Status::Fail, e.to_string()),
            Err(_) => check("store", Status::Fail, "no answer within 5 s"),
        },
        Err(e) => check("store", Status::Fail, e.to_string()),
    }
}

/// The table `tessera doctor` prints.
pub fn table(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let status = match c.status {
            Status::Ok => "ok",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        out.push_str(&format!("{:<12} {:<5} {}\n", c.name, status, c.detail));
    }
    out
}
