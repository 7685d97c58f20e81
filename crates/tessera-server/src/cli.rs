//! The command line: `tessera serve`, `migrate`, `users …`, `config show`.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use tessera_core::{Role, SystemClock, UnixTime};
use tessera_db::{migrate, Db, DbOptions};
use tessera_service::oauth::clients::{ClientSpec, SignInSettings};
use tessera_service::users::NewAccount;
use tessera_service::{Services, Settings};

use crate::{build_services, config, spawn_server};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Identity sidecar: tokens, devices and scopes"
)]
pub struct Cli {
    /// TOML configuration file (also TESSERA_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (SQLite and the memory store when unconfigured).
    Serve {
        /// Development only: every request is an anonymous admin. Refused unless listening on loopback.
        #[arg(long)]
        no_auth: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        /// Only list the migrations that would run.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check configuration, database, migrations, store, signing keys, clock and public URL; changes
    /// nothing, prints a table, exits non-zero when a check fails.
    Doctor,
    /// Manage local users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// OAuth clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Client API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Explain a credential (read from standard input, never from the command line) and, with --url,
    /// the forward-auth decision for a request.
    Explain {
        #[arg(long, default_value = "GET")]
        method: String,
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token for a user; the raw token is printed once.
    Create {
        /// The owner.
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// Scopes, within the owner's rights: --scope roms.read --scope me.read.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// 30d, 90d, 1y or never.
        #[arg(long, default_value = "never")]
        expires: String,
    },
    /// List a user's tokens (or everyone's without --user).
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke (delete) a token by id.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Start signing with a new key; earlier keys verify until their last token has expired.
    Rotate,
    /// List signing keys.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a client; a confidential client's secret is printed once.
    Create {
        name: String,
        #[arg(long)]
        client_id: Option<String>,
        /// Confidential (has a secret); public clients send only their id.
        #[arg(long)]
        confidential: bool,
        /// Grant types, e.g. --grant password --grant refresh_token.
        #[arg(long = "grant", required = true)]
        grants: Vec<String>,
        /// Allowed scopes, e.g. --scope roms.read.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// May call /oauth/introspect.
        #[arg(long)]
        introspect: bool,
        /// Where sign-in may return (authorization_code grant): --redirect-uri https://app.example/oauth/callback.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Receives back-channel logout tokens.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// A trusted first-party app: its users are not asked to consent.
        #[arg(long)]
        skip_consent: bool,
        /// Give refresh tokens from the code grant even without the offline_access scope.
        #[arg(long)]
        refresh_without_offline_access: bool,
    },
    /// List clients.
    List,
    /// Delete a client.
    Delete { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password is read from standard input, never from the command line.
    Create {
        username: String,
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        email: Option<String>,
    },
    /// List users.
    List,
    /// Set a user's password (read from standard input).
    SetPassword { username: String },
    /// Disable a user; their credentials stop working at once.
    Disable { username: String },
    /// Print a one-use password-reset link (10 minutes) for a user, for when no mail is configured.
    /// It goes to standard output only, never to the log.
    ResetLink { username: String },
    /// Remove a user's second factors (TOTP and its recovery codes), for the one who lost their phone.
    ResetSecondFactor { username: String },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Show,
    /// List every configuration key the file format knows.
    Keys,
}

fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{text}");
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs one command with loaded settings.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { no_auth } => serve(with_no_auth(settings, no_auth)?).await,
        Command::Migrate { dry_run: true } => {
            let db = Db::new(settings.database.url.expose_secret(), DbOptions::default())?;
            let pending = db.run(migrate::pending_names).await?;
            for name in &pending {
                out(&format!("would apply {name}"));
            }
            out(&format!("{} migration(s) pending", pending.len()));
            Ok(())
        }
        Command::Migrate { dry_run: false } => {
            let db = Db::new(settings.database.url.expose_secret(), DbOptions::default())?;
            let n = db.run(migrate::run_pending).await?;
            out(&format!("applied {n} migration(s)"));
            Ok(())
        }
        Command::Doctor => {
            let checks = crate::doctor::run(&settings).await;
            out(crate::doctor::table(&checks).trim_end());
            let failed = checks
                .iter()
                .filter(|c| c.status == crate::doctor::Status::Fail)
                .count();
            if failed > 0 {
                anyhow::bail!("doctor: {failed} check(s) failed");
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Keys) => {
            for k in config::key_paths() {
                out(&k);
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Show) => {
            out(config::redacted_view(&settings).trim_end());
            Ok(())
        }
        Command::Users(cmd) => on_services(settings, |s| users(cmd, s)).await,
        Command::Keys(cmd) => on_services(settings, |s| keys(cmd, s)).await,
        Command::Clients(cmd) => on_services(settings, |s| clients(cmd, s)).await,
        Command::Tokens(cmd) => on_services(settings, |s| tokens(cmd, s)).await,
        Command::Explain { method, url } => on_services(settings, |s| explain(method, url, s)).await,
    }
}

/// Runs an operator command on freshly built services, then waits for the writes it spawned off the
/// request path (a client token's `last_used_at`, say), whether the command succeeded or not: exiting
/// with one in flight loses it. (Connections still being established are waited for in `main`, after
/// every command.)
async fn on_services<F, Fut>(settings: Settings, command: F) -> anyhow::Result<()>
where
    F: FnOnce(Arc<Services>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let services = Arc::new(build_services(settings, Arc::new(SystemClock)).await?);
    let result = command(services.clone()).await;
    services.background.flush().await;
    result
}

async fn explain(method: String, url: Option<String>, services: Arc<Services>) -> anyhow::Result<()> {
    let credential = read_password()?;
    let text = services
        .explain(&credential, &method.to_ascii_uppercase(), url.as_deref())
        .await
        .map_err(describe)?;
    out(text.trim_end());
    Ok(())
}

async fn tokens(cmd: TokensCommand, services: Arc<Services>) -> anyhow::Result<()> {
    match cmd {
        TokensCommand::Create {
            user,
            name,
            scopes,
            expires,
        } => {
            let owner = services.identity_of_user(&user).await.map_err(describe)?;
            let created = services
                .create_client_token(&owner, &name, &scopes, Some(&expires))
                .await
                .map_err(describe)?;
            out(&format!("id: {}", created.row.id));
            out(&format!(
                "token: {}  (shown once; store it now)",
                created.raw.expose()
            ));
        }
        TokensCommand::List { user } => {
            let rows = match user {
                Some(u) => {
                    let owner = services.find_user_by_name(&u).await.map_err(describe)?;
                    services
                        .list_client_tokens(owner.id)
                        .await?
                        .into_iter()
                        .map(|t| (t, u.clone()))
                        .collect()
                }
                None => services.list_all_client_tokens().await?,
            };
            for (t, owner) in rows {
                let expires = t
                    .expires_at
                    .map_or_else(|| "never".to_owned(), |e| UnixTime(e).to_rfc3339());
                out(&format!(
                    "{}\t{}\t{}\t{}\texpires {}",
                    t.id, owner, t.name, t.scopes, expires
                ));
            }
        }
        TokensCommand::Revoke { id } => {
            services.delete_client_token(None, id).await.map_err(describe)?;
            out(&format!("revoked token {id}"));
        }
    }
    Ok(())
}

async fn keys(cmd: KeysCommand, services: Arc<Services>) -> anyhow::Result<()> {
    let ttl = services.settings.jwt.access_ttl_secs;
    let leeway = services.settings.jwt.leeway_secs;
    match cmd {
        KeysCommand::Rotate => {
            let kid = services.keys.rotate(services.clock.now(), ttl, leeway).await?;
            out(&format!(
                "new signing key {kid}; running servers switch within 30 s"
            ));
        }
        KeysCommand::List => {
            for k in services.keys.list().await? {
                let state = match (k.retired_at, k.verify_until) {
                    (None, _) => "current".to_owned(),
                    (Some(_), Some(until)) => {
                        format!("retired, verifies until {}", UnixTime(until).to_rfc3339())
                    }
                    (Some(_), None) => "retired".to_owned(),
                };
                out(&format!(
                    "{}\t{}\t{}\t{}",
                    k.kid,
                    k.alg,
                    UnixTime(k.created_at).to_rfc3339(),
                    state
                ));
            }
        }
    }
    Ok(())
}

async fn clients(cmd: ClientsCommand, services: Arc<Services>) -> anyhow::Result<()> {
    match cmd {
        ClientsCommand::Create {
            name,
            client_id,
            confidential,
            grants,
            scopes,
            introspect,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            skip_consent,
            refresh_without_offline_access,
        } => {
            let created = services
                .create_client(
                    ClientSpec {
                        client_id,
                        name,
                        confidential,
                        grant_types: grants,
                        scopes,
                        can_introspect: introspect,
                        sign_in: SignInSettings {
                            redirect_uris,
                            post_logout_redirect_uris,
                            backchannel_logout_uri,
                            skip_consent,
                            logo_uri: None,
                            refresh_without_offline_access,
                        },
                    },
                    "cli",
                    services.catalog.all(),
                )
                .await
                .map_err(describe)?;
            out(&format!("client_id: {}", created.row.client_id));
            if let Some(secret) = created.client_secret {
                out(&format!("client_secret: {secret}  (shown once; store it now)"));
            }
        }
        ClientsCommand::List => {
            for c in services.list_clients().await? {
                let kind = if c.confidential { "confidential" } else { "public" };
                out(&format!(
                    "{}\t{}\t{}\t{}\t{}",
                    c.client_id, kind, c.grant_types, c.scopes, c.name
                ));
            }
        }
        ClientsCommand::Delete { client_id } => {
            services
                .delete_client(&client_id, "cli")
                .await
                .map_err(describe)?;
            out(&format!("deleted {client_id}"));
        }
    }
    Ok(())
}

async fn users(cmd: UsersCommand, services: Arc<Services>) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Create {
            username,
            admin,
            email,
        } => {
            let password = read_password()?;
            let role = if admin { Role::Admin } else { Role::User };
            let user = services
                .create_user(NewAccount {
                    username,
                    password,
                    email,
                    role,
                })
                .await
                .map_err(describe)?;
            out(&format!(
                "created user {} (id {}, role {})",
                user.username, user.id, user.role
            ));
        }
        UsersCommand::List => {
            for u in services.list_users().await? {
                let state = if u.enabled { "enabled" } else { "disabled" };
                out(&format!("{}\t{}\t{}\t{}", u.id, u.username, u.role, state));
            }
        }
        UsersCommand::SetPassword { username } => {
            let password = read_password()?;
            services
                .set_password(&username, &password)
                .await
                .map_err(describe)?;
            out(&format!("password set for {username}"));
        }
        UsersCommand::ResetLink { username } => {
            let user = services.find_user_by_name(&username).await.map_err(describe)?;
            let url = services.issue_reset_link(user.id).await.map_err(describe)?;
            out(&url);
        }
        UsersCommand::ResetSecondFactor { username } => {
            let user = services.find_user_by_name(&username).await.map_err(describe)?;
            services
                .reset_second_factor(user.id, None)
                .await
                .map_err(describe)?;
            out(&format!(
                "second factors of {username} removed; they sign in with the password alone"
            ));
        }
        UsersCommand::Disable { username } => {
            services
                .set_user_enabled(&username, false)
                .await
                .map_err(describe)?;
            out(&format!("disabled {username}"));
        }
    }
    Ok(())
}

/// Turns validation errors into one readable line for the terminal.
fn describe(e: tessera_service::ServiceError) -> anyhow::Error {
    match e {
        tessera_service::ServiceError::Validation(errs) => anyhow::anyhow!(errs
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ")),
        other => other.into(),
    }
}

/// `--no-auth` turns every anonymous request into an admin: only ever on a loopback address.
pub fn with_no_auth(mut settings: Settings, no_auth: bool) -> anyhow::Result<Settings> {
    if no_auth {
        if !settings.server.listen.ip().is_loopback() {
            anyhow::bail!(
                "--no-auth: refused, server.listen is {} (only a loopback address may run without authentication)",
                settings.server.listen
            );
        }
        settings.auth.no_auth = true;
    }
    Ok(settings)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    if settings.auth.no_auth {
        tracing::warn!(
            "AUTHENTICATION IS OFF (--no-auth): every request is an anonymous admin. Development only."
        );
    }
    let services = build_services(settings, Arc::new(SystemClock)).await?;
    let server = spawn_server(services)?;
    tracing::info!(listen = %server.addr, public_url = %server.state.services.settings.server.public_url, "tessera is serving");
    wait_for_signal().await?;
    // Readiness turns off at once; with a shutdown delay the replica keeps serving meanwhile, so the
    // balancer (a Kubernetes Service) sees the 503 and stops sending new connections before the listener
    // closes. A second signal skips the wait.
    server.state.begin_shutdown();
    let delay = server.state.services.settings.server.shutdown_delay_secs;
    if delay > 0 {
        tracing::info!(delay_secs = delay, "shutting down: readiness off, still serving");
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(delay)) => {},
            r = wait_for_signal() => r?,
        }
    }
    tracing::info!("shutting down: draining requests");
    server.stop().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {},
        r = tokio::signal::ctrl_c() => r?,
    }
    Ok(())
}
