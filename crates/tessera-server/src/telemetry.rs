use tessera_service::settings::{LogFormat, LogSettings};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: pretty by default, JSON with `log.format = "json"`. Logs go to stderr.
pub fn init(log: &LogSettings) {
    use tessera_http::request::WithRequest;
    use tracing_subscriber::fmt::format;
    use tracing_subscriber::fmt::format::JsonFields;
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal: log collectors and files get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    // Lines written while serving a request carry its id, trace context, method and path.
    let _ = match log.format {
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(WithRequest::new(format().json(), true))
            .try_init(),
        LogFormat::Pretty => builder
            .event_format(WithRequest::new(format().with_ansi(ansi), false))
            .try_init(),
    };
}
