use clap::Parser;
use tessera_server::cli::{self, Cli};
use tessera_server::{config, telemetry};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let env: Vec<(String, String)> = std::env::vars().collect();
    let path = config::config_path(cli.config.clone(), &env);
    let settings = match config::load(path.as_deref(), &env) {
        Ok(s) => s,
        Err(e) => {
            // One line naming the key; nothing else has started yet.
            eprintln!("tessera: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let connect_timeout = std::time::Duration::from_secs(settings.database.connect_timeout_secs);
    let result = cli::run(cli, settings).await;
    // Whatever the command, no database connection may be mid-handshake when the process exits.
    tessera_db::settle(connect_timeout).await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
