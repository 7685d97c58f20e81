//! The real `tessera` binary as a child process serving on a free port.

/// A `tessera serve` child process on a free port.
pub struct ServerProcess {
    process: std::process::Child,
    pub base: String,
}

impl ServerProcess {
    pub async fn start(
        bin: &std::path::Path,
        env: &[(String, String)],
        log: &std::path::Path,
    ) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut process = std::process::Command::new(bin)
            .arg("serve")
            .envs(env.iter().cloned())
            .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            )
            .spawn()
            .expect("tessera starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        // Waiting for a child process to listen is bounded (10 s), not a test of timing.
        for _ in 0..200 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                return ServerProcess { process, base };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = process.kill();
        let _ = process.wait();
        panic!(
            "tessera did not answer; its log: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// Whether the process is still running (a crash, such as a stack overflow's abort, ends it).
    pub fn alive(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }

    pub fn kill_9(mut self) {
        self.process.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        self.process.wait().expect("reaped");
    }
}

impl Drop for ServerProcess {
    /// A failing test must not leave a server behind: stopped by its PID either way.
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
