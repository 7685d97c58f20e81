//! Building the services and running the HTTP server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use tessera_core::{Clock, ScopeCatalog};
use tessera_crypto::PasswordHasher;
use tessera_db::{migrate, Backend, Db, DbOptions};
use tessera_http::AppState;
use tessera_service::keys::Keys;
use tessera_service::ratelimit::RateLimiter;
use tessera_service::service_key::ServiceKey;
use tessera_service::{Services, Settings};

use crate::keyfile::read_or_create_hex_secret;

/// Opens the database (migrating as configured), the store and the key material.
pub async fn build_services(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Services> {
    let db = Db::new(
        settings.database.url.expose_secret(),
        DbOptions {
            pool_size: settings.database.pool_size,
            connect_timeout: Duration::from_secs(settings.database.connect_timeout_secs),
            statement_timeout: Duration::from_millis(settings.database.statement_timeout_ms),
            ..DbOptions::default()
        },
    )?;
    // SQLite always migrates (one process owns the file); PostgreSQL unless auto_migrate = false.
    let auto = db.backend() == Backend::Sqlite || settings.database.auto_migrate;
    db.run(move |conn| -> anyhow::Result<()> {
        if auto {
            let n = migrate::run_pending(conn)?;
            if n > 0 {
                tracing::info!(migrations.applied = n, "database migrated");
            }
        } else if migrate::has_pending(conn)? {
            anyhow::bail!("the database schema is behind this version: run `tessera migrate`");
        }
        Ok(())
    })
    .await
    .context("database")?;

    let store = tessera_store::open(settings.store.url.expose_secret(), &settings.store.key_prefix)?;
    let store_for_limits = store.clone();
    let settings_limits = settings.rate_limits.clone();
    let hasher = PasswordHasher::new(
        settings.security.bcrypt_cost,
        settings.security.bcrypt_concurrency,
    )?;
    let catalog = match &settings.scopes.catalog {
        Some(entries) => ScopeCatalog::new(entries)?,
        None => ScopeCatalog::romm_default(),
    };
    let rules = tessera_service::forward_auth::RuleSet::compile(
        &settings.forward_auth.rules,
        settings.forward_auth.default_policy,
        &catalog,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let key_text = match &settings.auth.service_key {
        Some(k) => k.expose_secret().to_owned(),
        None => read_or_create_hex_secret(&settings.server.data_dir.join("service-key"))
            .context("server.data_dir: cannot keep the service key")?,
    };
    let service_key = ServiceKey::new(&key_text).context("auth.service_key")?;
    let kek_text = match &settings.jwt.key_encryption_key {
        Some(k) => k.expose_secret().to_owned(),
        None => read_or_create_hex_secret(&settings.server.data_dir.join("jwt-kek"))
            .context("server.data_dir: cannot keep the key-encryption key")?,
    };
    let kek =
        crate::config::parse_kek(&kek_text).map_err(|m| anyhow::anyhow!("jwt.key_encryption_key: {m}"))?;
    let keys = Keys::open(db.clone(), kek, settings.jwt.algorithm, clock.now())
        .await
        .context("signing keys")?;
    let metrics = Arc::new(tessera_service::metrics::Metrics::new()?);
    let mailer = tessera_service::mail::Mailer::new(&settings.mail)?;
    if !mailer.enabled() {
        tracing::warn!(
            "no SMTP server configured (mail.smtp_host): password-reset and verification mails are not sent; \
             use `tessera users reset-link <username>`"
        );
    }
    let services = Services {
        settings: Arc::new(settings),
        db,
        store,
        hasher,
        clock,
        catalog: Arc::new(catalog),
        service_key,
        keys: Arc::new(keys),
        csrf_key: tessera_crypto::hmac_sha256(&kek, b"tessera csrf v1"),
        limits: Arc::new(RateLimiter::new(store_for_limits, &settings_limits).with_metrics(metrics.clone())),
        background: Arc::new(tessera_service::background::Background::default()),
        seen: Arc::default(),
        rules: Arc::new(rules),
        caches: Arc::default(),
        mailer: Arc::new(mailer),
        oidc: Arc::default(),
        metrics,
    };
    services.bootstrap().await?;
    services.spawn_eviction_listener();
    Ok(services)
}

/// A server bound and running; stop it with `stop`.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub handle: actix_web::dev::ServerHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Graceful stop: `/readyz` turns 503, requests in flight finish, then workers stop, pending
    /// background writes land (the binary then waits for connection setups, see `tessera_db::settle`).
    pub async fn stop(self) {
        self.state.begin_shutdown();
        self.handle.stop(true).await;
        let _ = self.task.await;
        let services = &self.state.services;
        services.background.flush().await;
    }
}

/// Binds `settings.server.listen` and serves until stopped.
pub fn spawn_server(services: Services) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(services.settings.server.listen)
        .with_context(|| format!("server.listen: cannot bind {}", services.settings.server.listen))?;
    spawn_server_on(services, listener)
}

/// Serves on a listener the caller bound (tests bind port 0 first, so `public_url` can name the port).
pub fn spawn_server_on(services: Services, listener: TcpListener) -> anyhow::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let workers = match services.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let shutdown_timeout = services.settings.server.shutdown_timeout_secs;
    let request_timeout_ms = services.settings.server.request_timeout_ms;
    let state = AppState::new(services);
    let data = web::Data::new(state.clone());
    let origins = cors_origins(&state.services.settings);
    let csrf_headers = state.services.settings.session.csrf_header_names.clone();
    let metrics = state.services.metrics.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            // The CSRF check and error pages for people, in one layer (its refusals on pages are pages).
            .wrap(tessera_http::guard::Guard)
            .wrap(middleware::Condition::new(
                !origins.is_empty(),
                cors(&origins, &csrf_headers),
            ))
            .wrap(tessera_http::request::Edge::new(metrics.clone()))
            .configure(tessera_http::configure)
    })
    .workers(workers)
    .shutdown_timeout(shutdown_timeout)
    // Slow clients (slowloris): the head must arrive in time, and idle keep-alive connections close.
    .client_request_timeout(std::time::Duration::from_millis(request_timeout_ms))
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .keep_alive(std::time::Duration::from_secs(30))
    // Signals are ours (see `serve`), so readiness can flip before the drain starts.
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    spawn_key_reloader(state.clone());
    Ok(RunningServer {
        addr,
        state,
        handle,
        task,
    })
}

/// Rereads signing keys every 30 s so a rotation made elsewhere (CLI, another replica) is picked up well
/// inside the verification leeway. Ends with the server.
fn spawn_key_reloader(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        tick.tick().await;
        while !state.is_shutting_down() {
            tick.tick().await;
            let s = &state.services;
            if let Err(e) = s.keys.reload(s.clock.now()).await {
                tracing::warn!(error = %e, "signing keys could not be reloaded");
            }
        }
    });
}

/// CORS is off unless origins are listed; then those origins (and Tessera's own) may call with
/// credentials. Never `*`: config validation refuses it.
fn cors_origins(settings: &tessera_service::Settings) -> Vec<String> {
    let mut origins = settings.cors.allowed_origins.clone();
    if !origins.is_empty() {
        if let Ok(u) = url::Url::parse(&settings.server.public_url) {
            origins.push(u.origin().ascii_serialization());
        }
    }
    origins
}

fn cors(origins: &[String], csrf_headers: &[String]) -> actix_cors::Cors {
    let headers = ["authorization", "content-type", "x-request-id"]
        .into_iter()
        .chain(csrf_headers.iter().map(String::as_str));
    let mut c = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers(headers)
        .supports_credentials()
        .max_age(600);
    for o in origins {
        c = c.allowed_origin(o.trim_end_matches('/'));
    }
    c
}
