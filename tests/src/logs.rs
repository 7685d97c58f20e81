//! The whole suite's server logs, and every panic that did not come from test code, go to
//! `target/test-logs/`; `scripts/check-test-logs.sh` (run by `make test`) fails when any panic is there.

use std::io::Write;
use std::sync::{Arc, Mutex, Once};

static CAPTURE: Once = Once::new();

/// The folder the suite's logs go to.
pub fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-logs")
}

/// A panic is the server's unless it happened on a test's own thread (libtest names them after the
/// test path, `module::test`) or at a line of test code (assertions in tasks a test spawned).
pub fn is_server_panic(thread: &str, file: &str) -> bool {
    let test_thread = thread.contains("::");
    let test_code =
        file.starts_with("tests/") || file.contains("/tests/src/") || file.contains("/tests/integration/");
    !test_thread && !test_code
}

/// Installs the log writer and the panic hook once per test process.
pub fn capture() {
    CAPTURE.call_once(|| {
        let dir = dir();
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let path = dir.join(format!("suite-{}.log", std::process::id()));
        let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(&path) else {
            return;
        };
        let file = Arc::new(Mutex::new(file));
        if std::env::var_os("TEST_LOG").is_none() {
            let writer = file.clone();
            let _ = tracing_subscriber::fmt()
                // Warnings and up, with the request (its ids and trace context) they were written in.
                .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
                .with_ansi(false)
                .event_format(tessera_http::request::WithRequest::new(
                    tracing_subscriber::fmt::format().with_ansi(false),
                    false,
                ))
                .with_writer(move || SharedFile(writer.clone()))
                .try_init();
        }
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("unnamed");
            let (file_name, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
            if is_server_panic(name, file_name) {
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                if let Ok(mut f) = file.lock() {
                    let _ = writeln!(f, "thread '{name}' panicked at {file_name}:{line}: {payload}");
                }
            }
            default(info);
        }));
    });
}

struct SharedFile(Arc<Mutex<std::fs::File>>);

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("log file lock"))?
            .write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("log file lock"))?
            .flush()
    }
}

#[cfg(test)]
mod tests {
    use super::is_server_panic;

    #[test]
    fn only_panics_outside_test_code_count() {
        assert!(is_server_panic(
            "actix-rt|system:0|arbiter:1",
            "crates/tessera-http/src/handlers/forward.rs"
        ));
        assert!(is_server_panic(
            "tokio-runtime-worker",
            "/root/.cargo/registry/src/x/diesel/src/lib.rs"
        ));
        assert!(!is_server_panic(
            "hardening::every_failed_login::sqlite",
            "crates/tessera-service/src/login.rs"
        ));
        assert!(!is_server_panic(
            "tokio-runtime-worker",
            "tests/integration/faults.rs"
        ));
    }
}
