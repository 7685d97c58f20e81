//! The connection enum, a pool manager that picks the backend by URL scheme, and the blocking runner.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::error::DbError;
use tessera_core::breaker::{Admission, Breaker};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite://") {
            Ok(Backend::Sqlite)
        } else {
            let scheme = url.split_once("://").map_or(url, |(s, _)| s);
            Err(DbError::UnsupportedUrl(scheme.to_owned()))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

#[derive(Clone, Debug)]
pub struct DbOptions {
    pub pool_size: u32,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Picks the variant by scheme and reports the real error (diesel's own manager tries both and drops them).
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
    options: DbOptions,
    /// A failed connection opens it at once (a refused connection is the first sign of an outage).
    breaker: Arc<Breaker>,
}

/// Connections of this process being established right now, possibly on r2d2's own threads for a caller
/// that has since been served by another connection: a checkout that waits in slices asks r2d2 again at
/// every slice, and each ask starts one more connection while the first is slow. Process-wide, because
/// what it guards is the process's exit (see `settle`), whichever pool started them.
static CONNECTING: AtomicUsize = AtomicUsize::new(0);

/// Counts one establishment for as long as it lives.
struct Connecting;

impl Connecting {
    fn start() -> Self {
        CONNECTING.fetch_add(1, Ordering::AcqRel);
        Self
    }
}

impl Drop for Connecting {
    fn drop(&mut self) {
        CONNECTING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How many connections this process is establishing right now.
fn connections_in_flight() -> usize {
    CONNECTING.load(Ordering::Acquire)
}

/// Waits (at most `limit`) until no connection of this process is being established. The binary calls
/// it once before it exits, whatever the command: a PostgreSQL connection in TLS setup while `exit` runs
/// OpenSSL's cleanup crashes the process (seen: SIGSEGV in `EVP_PKEY_asn1_find_str` under `PQconnectdb`,
/// after `tessera explain` and after `tessera migrate --dry-run` had printed their answers).
pub async fn settle(limit: Duration) {
    let _ = tokio::time::timeout(limit, async {
        while connections_in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// The database holds password hashes: it is created owner-only (0600) before SQLite opens it, and SQLite
/// gives its `-wal` and `-shm` files the database file's mode. Files of an older install are tightened.
fn owner_only_files(path: &str) -> Result<(), DbError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.starts_with(':') || path.contains("mode=memory") {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| DbError::Connect(format!("cannot create {path}: {e}")))?;
    for file in [path.to_owned(), format!("{path}-wal"), format!("{path}-shm")] {
        if let Ok(meta) = std::fs::metadata(&file) {
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| DbError::Connect(format!("cannot restrict {file}: {e}")))?;
            }
        }
    }
    Ok(())
}

impl Manager {
    fn sqlite_path(&self) -> &str {
        self.url.strip_prefix("sqlite://").unwrap_or(&self.url)
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        let _connecting = Connecting::start();
        let connected = self.establish();
        if matches!(connected, Err(DbError::Connect(_))) {
            trip(&self.breaker);
        }
        connected
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

impl Manager {
    fn establish(&self) -> Result<DbConnection, DbError> {
        match self.backend {
            Backend::Postgres => {
                let mut c =
                    PgConnection::establish(&self.url).map_err(|e| DbError::Connect(e.to_string()))?;
                c.batch_execute(&format!(
                    "SET statement_timeout = {}",
                    self.options.statement_timeout.as_millis()
                ))?;
                Ok(DbConnection::Postgres(c))
            }
            Backend::Sqlite => {
                owner_only_files(self.sqlite_path())?;
                let mut c = SqliteConnection::establish(self.sqlite_path())
                    .map_err(|e| DbError::Connect(e.to_string()))?;
                // WAL lets readers run beside the writer; busy_timeout makes writers queue instead of failing.
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON;",
                    self.options.busy_timeout.as_millis()
                ))?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }
}

/// The database handle: a bounded pool whose work runs on tokio's blocking threads.
#[derive(Clone, Debug)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    breaker: Arc<Breaker>,
    connect_timeout: Duration,
    /// How long a caller waits for its work at most: the checkout, then the statement timeout and a
    /// margin. A database that holds packets answers nothing and libpq has no read timeout: past this the
    /// caller is answered unavailable and the breaker opens (the blocked thread ends when the connection
    /// finally breaks).
    work_deadline: Duration,
}

/// How often a caller waiting for a connection looks whether another has meanwhile found the database
/// unreachable (then it gives up rather than wait out its own timeout).
const CHECKOUT_SLICE: Duration = Duration::from_millis(50);

impl Db {
    /// Builds the pool without connecting; the first query (or `migrate`) connects.
    pub fn new(url: &str, options: DbOptions) -> Result<Self, DbError> {
        let backend = Backend::from_url(url)?;
        let connect_timeout = options.connect_timeout;
        let work_deadline = connect_timeout + options.statement_timeout + Duration::from_secs(1);
        let pool_size = options.pool_size.max(1);
        let breaker = Arc::new(Breaker::new(work_deadline));
        let manager = Manager {
            url: url.to_owned(),
            backend,
            options,
            breaker: breaker.clone(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(0))
            .connection_timeout(connect_timeout)
            .build_unchecked(manager);
        Ok(Self {
            pool,
            backend,
            breaker,
            connect_timeout,
            work_deadline,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking pool (diesel is synchronous).
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let admission = self.breaker.admit();
        if admission == Admission::Refused {
            return Err(DbError::Unreachable.into());
        }
        let pool = self.pool.clone();
        let breaker = self.breaker.clone();
        let timeout = self.connect_timeout;
        let span = tracing::Span::current();
        let work = tokio::task::spawn_blocking(move || {
            let _g = span.enter();
            let mut conn = checkout(&pool, &breaker, admission, timeout)?;
            f(&mut conn)
        });
        match tokio::time::timeout(self.work_deadline, work).await {
            Ok(joined) => joined.map_err(DbError::from)?,
            Err(_) => {
                trip(&self.breaker);
                Err(DbError::Unreachable.into())
            }
        }
    }

    /// Whether the breaker is open (the database was found unreachable), and how many requests it refused.
    pub fn breaker_state(&self) -> (bool, u64) {
        (self.breaker.is_open(), self.breaker.refused())
    }

    /// A transaction that, on SQLite, starts IMMEDIATE so two writers queue instead of failing on upgrade.
    pub async fn write_tx<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.run(move |conn| crate::dialect::write_transaction(conn, f))
            .await
    }

    /// True when a connection can be had and answers, within `timeout`; false at once while the breaker
    /// is open (a readiness probe may be the breaker's probe, like any request).
    pub async fn ping(&self, timeout: Duration) -> bool {
        let admission = self.breaker.admit();
        if admission == Admission::Refused {
            return false;
        }
        let pool = self.pool.clone();
        let breaker = self.breaker.clone();
        tokio::task::spawn_blocking(move || {
            checkout(&pool, &breaker, admission, timeout)
                .map(|mut c| c.batch_execute("SELECT 1").is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }

    /// A connection outside the async runtime (CLI, migrations).
    pub fn get_blocking(&self) -> Result<r2d2::PooledConnection<Manager>, DbError> {
        Ok(self.pool.get()?)
    }
}

/// A connection within `timeout`, looked for in short slices: a caller that is not the breaker's probe
/// gives up as soon as the breaker opens. A connection had closes the breaker; a checkout that timed out
/// opens it (a database that holds packets is found by the timeout, not by a refusal).
fn checkout(
    pool: &r2d2::Pool<Manager>,
    breaker: &Breaker,
    admission: Admission,
    timeout: Duration,
) -> Result<r2d2::PooledConnection<Manager>, DbError> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match pool.get_timeout(left.min(CHECKOUT_SLICE).max(Duration::from_millis(1))) {
            Ok(c) => {
                if breaker.close() {
                    tracing::info!("database reachable again");
                }
                return Ok(c);
            }
            Err(e) => {
                if std::time::Instant::now() >= deadline {
                    trip(breaker);
                    return Err(e.into());
                }
                if admission != Admission::Probe && breaker.is_open() {
                    return Err(DbError::Unreachable);
                }
            }
        }
    }
}

fn trip(breaker: &Breaker) {
    if breaker.trip() {
        tracing::warn!(
            "database unreachable: answering 503 at once, one probe every {} ms",
            tessera_core::breaker::COOLDOWN.as_millis()
        );
    }
}
