//! The testkit: a real Tessera on 127.0.0.1:0 with a manual clock, its own database (a SQLite file or a
//! fresh PostgreSQL schema) and its own Redis key prefix, so tests run in parallel.
//!
//! Locally a missing PostgreSQL or Redis makes those cases say so loudly and not run; with CI=true they fail.

pub mod browser;
pub mod clients;
pub mod forward;
pub mod gate;
pub mod logs;
pub mod oauth;
pub mod oidc;
pub mod ports;
pub mod process;
pub mod proxies;
pub mod services;
pub mod smtp;

use std::net::SocketAddr;
use std::sync::Arc;

use tessera_core::{ManualClock, UnixTime};
use tessera_server::RunningServer;
use tessera_service::Services;

pub use gate::TcpGate;
pub use services::{postgres_url, redis_url, require_python_modules, PgSchema};

/// 2026-11-26T09:00:00Z: tests start here and move the clock by hand.
pub const T0: UnixTime = UnixTime(1_795_683_600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Memory,
    Redis,
}

/// How to build a `TestApp`: backends and extra `TESSERA_…` settings.
#[derive(Clone, Debug)]
pub struct TestAppBuilder {
    db: DbKind,
    store: StoreKind,
    env: Vec<(String, String)>,
    database_url: Option<String>,
    store_url: Option<String>,
    config_toml: Option<String>,
    join: Option<Replica>,
    no_auth: bool,
    port: Option<u16>,
}

/// What a second replica shares with the first: database, store, keys.
#[derive(Clone, Debug)]
pub struct Replica {
    database_url: String,
    store_url: String,
    prefix: String,
    kek: String,
    service_key: String,
    /// Replicas sit behind one proxy: one public URL, one token issuer.
    public_url: String,
}

impl TestAppBuilder {
    pub fn new(db: DbKind) -> Self {
        Self {
            db,
            store: StoreKind::Memory,
            env: Vec::new(),
            database_url: None,
            store_url: None,
            config_toml: None,
            join: None,
            no_auth: false,
            port: None,
        }
    }

    /// Listens on this port (a replica restarting where the proxy expects it) instead of a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// As `tessera serve --no-auth`.
    pub fn no_auth(mut self) -> Self {
        self.no_auth = true;
        self
    }

    pub fn store(mut self, store: StoreKind) -> Self {
        self.store = store;
        self
    }

    /// Adds a `TESSERA_…` variable, as an operator would set it.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Overrides the database URL's host and port (e.g. through a `TcpGate`); the schema stays per test.
    pub fn database_via(mut self, addr: SocketAddr) -> Self {
        self.database_url = Some(format!("postgres://postgres@{addr}/test"));
        self
    }

    /// Another replica of `app`: the same database, store, key-encryption key and service key.
    pub fn replica_of(mut self, app: &TestApp) -> Self {
        self.join = Some(app.replica.clone());
        self
    }

    /// A TOML config file (forward-auth rules live only there).
    pub fn config(mut self, toml: &str) -> Self {
        self.config_toml = Some(toml.to_owned());
        self
    }

    pub fn store_url(mut self, url: &str) -> Self {
        self.store_url = Some(url.to_owned());
        self
    }

    /// Builds and starts the app, or returns None (after saying why) when a local service is missing.
    pub async fn try_spawn(self) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut pg = None;
        let db_url = match self.db {
            DbKind::Sqlite => format!("sqlite://{}", dir.path().join("tessera.db").display()),
            DbKind::Postgres => {
                let base = match self.database_url.clone() {
                    Some(u) => u,
                    None => postgres_url()?,
                };
                let schema = PgSchema::create()?;
                let url = schema.url_with_base(&base);
                pg = Some(schema);
                url
            }
        };
        let mut prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        let store_url = match (self.store_url.clone(), self.store) {
            (Some(u), _) => u,
            (None, StoreKind::Memory) => "memory://".to_owned(),
            (None, StoreKind::Redis) => redis_url()?,
        };
        // Bind first, so the default public_url (the token issuer) names the real port.
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port.unwrap_or(0))).expect("bind");
        let listen = listener.local_addr().expect("addr");
        let (db_url, store_url) = match &self.join {
            Some(j) => {
                prefix = j.prefix.clone();
                (
                    j.database_url.clone(),
                    self.store_url.clone().unwrap_or_else(|| j.store_url.clone()),
                )
            }
            None => (db_url, store_url),
        };
        let (shared_db, shared_store) = (db_url.clone(), store_url.clone());
        let mut env = vec![("TESSERA_LISTEN".to_owned(), listen.to_string())];
        if let Some(j) = &self.join {
            env.push(("TESSERA_JWT__KEY_ENCRYPTION_KEY".to_owned(), j.kek.clone()));
            env.push(("TESSERA_AUTH__SERVICE_KEY".to_owned(), j.service_key.clone()));
            env.push(("TESSERA_PUBLIC_URL".to_owned(), j.public_url.clone()));
        }
        env.extend([
            ("TESSERA_DATA_DIR".to_owned(), dir.path().display().to_string()),
            ("TESSERA_DATABASE_URL".to_owned(), db_url),
            ("TESSERA_STORE_URL".to_owned(), store_url),
            ("TESSERA_STORE__KEY_PREFIX".to_owned(), prefix.clone()),
            ("TESSERA_SECURITY__BCRYPT_COST".to_owned(), "4".to_owned()),
            ("TESSERA_SERVER__WORKERS".to_owned(), "2".to_owned()),
            ("TESSERA_SERVER__SHUTDOWN_TIMEOUT_SECS".to_owned(), "5".to_owned()),
            (
                "TESSERA_DATABASE__CONNECT_TIMEOUT_SECS".to_owned(),
                "2".to_owned(),
            ),
            ("TESSERA_LOG__LEVEL".to_owned(), log_level()),
        ]);
        env.extend(self.env);
        let file = self.config_toml.as_ref().map(|t| {
            let p = dir.path().join("tessera.toml");
            std::fs::write(&p, t).expect("config file");
            p
        });
        let settings = tessera_server::config::load(file.as_deref(), &env).expect("test settings");
        let settings =
            tessera_server::cli::with_no_auth(settings, self.no_auth).expect("--no-auth on loopback");
        if std::env::var_os("TEST_LOG").is_some() {
            tessera_server::telemetry::init(&settings.log);
        }
        logs::capture();
        let clock = Arc::new(ManualClock::new(T0));
        let services = tessera_server::build_services(settings, clock.clone())
            .await
            .expect("services start");
        let server = tessera_server::spawn_server_on(services.clone(), listener).expect("server starts");
        // What a replica must share: read back the keys this instance generated or was given.
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).map(|s| s.trim().to_owned());
        let replica = match &self.join {
            Some(j) => j.clone(),
            None => Replica {
                database_url: shared_db,
                store_url: shared_store,
                prefix: prefix.clone(),
                kek: services
                    .settings
                    .jwt
                    .key_encryption_key
                    .as_ref()
                    .map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned())
                    .unwrap_or_else(|| read("jwt-kek").expect("generated key-encryption key")),
                service_key: services
                    .settings
                    .auth
                    .service_key
                    .as_ref()
                    .map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned())
                    .unwrap_or_else(|| read("service-key").expect("generated service key")),
                public_url: services.settings.server.public_url.clone(),
            },
        };
        let addr = server.addr;
        Some(TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            clock,
            services,
            store_prefix: prefix,
            replica,
            server: Some(server),
            _pg: pg,
            _dir: dir,
        })
    }
}

fn log_level() -> String {
    if std::env::var_os("TEST_LOG").is_some() {
        "debug".into()
    } else {
        "warn".into()
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub services: Services,
    pub store_prefix: String,
    replica: Replica,
    server: Option<RunningServer>,
    _pg: Option<PgSchema>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// SQLite or PostgreSQL with the memory store; None when the backend is missing locally.
    pub async fn try_spawn(db: DbKind) -> Option<TestApp> {
        TestAppBuilder::new(db).try_spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.stop_server().await;
    }

    /// Stops the server gracefully but keeps its database and store (a replica restarting in place).
    pub async fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            // Not awaited: the test is over; stop accepting and let the runtime end the workers.
            drop(s.handle.stop(false));
        }
    }
}

/// Runs each test body on SQLite and on PostgreSQL (a `sqlite` and a `postgres` case per test).
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let $app = $crate::TestApp::try_spawn($crate::DbKind::Sqlite).await.expect("sqlite app");
                    $body
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some($app) = $crate::TestApp::try_spawn($crate::DbKind::Postgres).await else { return };
                    $body
                }
            }
        )*
    };
}

/// For tests written as `async fn name(db: DbKind)`: emits a `sqlite` and a `postgres` case for each.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::DbKind::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::DbKind::Postgres).await
                }
            }
        )*
    };
}

impl TestApp {
    /// What SIGTERM does first: readiness turns off while requests drain.
    pub fn begin_shutdown(&self) {
        if let Some(s) = &self.server {
            s.state.begin_shutdown();
        }
    }
}

/// Like `both_backends!`, with each body also run on the memory and the Redis store (four cases per test).
#[macro_export]
macro_rules! all_backends_and_stores {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                $crate::backend_store_case!(sqlite_memory, Sqlite, Memory, $app, $body);
                $crate::backend_store_case!(sqlite_redis, Sqlite, Redis, $app, $body);
                $crate::backend_store_case!(postgres_memory, Postgres, Memory, $app, $body);
                $crate::backend_store_case!(postgres_redis, Postgres, Redis, $app, $body);
            }
        )*
    };
}

/// One case of `all_backends_and_stores!`.
#[doc(hidden)]
#[macro_export]
macro_rules! backend_store_case {
    ($case:ident, $db:ident, $store:ident, $app:ident, $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let Some($app) = $crate::TestAppBuilder::new($crate::DbKind::$db)
                .store($crate::StoreKind::$store)
                .try_spawn()
                .await
            else {
                return;
            };
            $body
        }
    };
}

/// For tests written as `async fn name(db: DbKind, store: StoreKind)`: one case per database and store.
#[macro_export]
macro_rules! on_all_backends_and_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::{DbKind, StoreKind};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite_memory() {
                    super::$name(DbKind::Sqlite, StoreKind::Memory).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite_redis() {
                    super::$name(DbKind::Sqlite, StoreKind::Redis).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_memory() {
                    super::$name(DbKind::Postgres, StoreKind::Memory).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_redis() {
                    super::$name(DbKind::Postgres, StoreKind::Redis).await
                }
            }
        )*
    };
}

/// Waits (bounded) until `cond` holds; returns how long it took. For what is asynchronous by nature
/// (replication, a breaker's next probe, a listener resubscribing): measured, not assumed.
pub async fn within<F: std::future::Future<Output = bool>>(
    limit: std::time::Duration,
    mut cond: impl FnMut() -> F,
) -> Option<std::time::Duration> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if cond().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    None
}

/// An app whose database is PostgreSQL reached through `gate`, with more `TESSERA_…` settings.
pub async fn behind_postgres_gate(env: &[(&str, &str)]) -> Option<(TcpGate, TestApp)> {
    postgres_url()?;
    let gate = TcpGate::start("127.0.0.1:5432".parse().unwrap()).await;
    let mut builder = TestAppBuilder::new(DbKind::Postgres).database_via(gate.addr);
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    Some((gate, builder.try_spawn().await.expect("app")))
}

/// An app on SQLite whose store is Redis reached through `gate`.
pub async fn behind_redis_gate(config: Option<&str>) -> Option<(TcpGate, TestApp)> {
    let url = redis_url()?;
    let target: std::net::SocketAddr = url.trim_start_matches("redis://").parse().unwrap();
    let gate = TcpGate::start(target).await;
    let mut builder = TestAppBuilder::new(DbKind::Sqlite)
        .store(StoreKind::Redis)
        .store_url(&format!("redis://{}", gate.addr));
    if let Some(c) = config {
        builder = builder.config(c);
    }
    Some((gate, builder.try_spawn().await.expect("app")))
}

/// Two replicas behind one (imagined) proxy: A on PostgreSQL and Redis, B joined to A's database, store
/// and keys. None when PostgreSQL or Redis is missing (a failure with CI=true).
pub async fn replica_pair() -> Option<(TestApp, TestApp)> {
    postgres_url()?;
    redis_url()?;
    let a = TestAppBuilder::new(DbKind::Postgres)
        .store(StoreKind::Redis)
        .try_spawn()
        .await?;
    let b = TestAppBuilder::new(DbKind::Postgres)
        .replica_of(&a)
        .try_spawn()
        .await?;
    Some((a, b))
}

/// Runs the real binary with `env` and `stdin`; returns success and what it printed (stdout, then stderr).
pub fn run_tessera(env: &[(String, String)], args: &[&str], stdin: &str) -> (bool, String) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let bin = tessera_bin().expect("the tessera binary");
    let mut child = Command::new(bin)
        .args(args)
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tessera starts");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("tessera runs");
    let mut text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        // A signal (no exit code) is a crash, not a refusal: say which.
        text.push_str(&format!("[{}]", out.status));
    }
    (out.status.success(), text)
}

/// The `tessera` binary built by `make test` (or `TESSERA_BIN`); in CI it must exist.
pub fn tessera_bin() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("TESSERA_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/tessera"));
    if path.exists() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "{} is required with CI=true (make test builds it)",
        path.display()
    );
    eprintln!(
        "NOT RUN: {} is missing (cargo build -p tessera-server --bin tessera)",
        path.display()
    );
    None
}

/// A database for a `tessera` child process: a SQLite file in `dir`, or a fresh PostgreSQL schema kept
/// alive by the returned guard. None (said loudly, or a failure in CI) when PostgreSQL is unreachable.
pub fn child_database(db: DbKind, dir: &std::path::Path) -> Option<(String, Option<PgSchema>)> {
    match db {
        DbKind::Sqlite => Some((format!("sqlite://{}/tessera.db", dir.display()), None)),
        DbKind::Postgres => {
            let schema = PgSchema::create()?;
            Some((schema.url(), Some(schema)))
        }
    }
}

/// The environment of a `tessera` child process on `child_database`'s URL, with its data dir in `dir`
/// and only errors logged.
pub fn child_env(dir: &std::path::Path, database_url: String) -> Vec<(String, String)> {
    vec![
        ("TESSERA_DATA_DIR".into(), dir.display().to_string()),
        ("TESSERA_DATABASE_URL".into(), database_url),
        ("TESSERA_LOG__LEVEL".into(), "error".into()),
    ]
}
