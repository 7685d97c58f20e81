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
        let port = crate::ports::free_port();
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

    /// Sends SIGTERM, as an orchestrator stopping the pod does.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM delivered");
    }

    /// Whether the process exits within `limit` (bounded waiting for a child, not a test of timing).
    pub async fn exits_within(&mut self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if !self.alive() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
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

/// The real binary on a fresh database of `db`, with users made by `tessera users create` (password
/// `oauth::PASSWORD`; `true` makes an admin). None when PostgreSQL is unreachable (a failure in CI) or the
/// binary is missing.
pub struct BinaryServer {
    pub server: ServerProcess,
    _dir: tempfile::TempDir,
    _schema: Option<crate::PgSchema>,
}

impl BinaryServer {
    pub async fn start(db: crate::DbKind, users: &[(&str, bool)]) -> Option<BinaryServer> {
        Self::start_with(db, users, &[]).await
    }

    /// As `start`, with more environment (`TESSERA_…` settings).
    pub async fn start_with(
        db: crate::DbKind,
        users: &[(&str, bool)],
        extra_env: &[(&str, &str)],
    ) -> Option<BinaryServer> {
        use std::io::Write;
        let bin = crate::tessera_bin()?;
        let dir = tempfile::tempdir().unwrap();
        let (database_url, schema) = crate::child_database(db, dir.path())?;
        let mut env = crate::child_env(dir.path(), database_url);
        env.push(("TESSERA_SECURITY__BCRYPT_COST".into(), "4".into()));
        env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        for (name, admin) in users {
            let mut cmd = std::process::Command::new(&bin);
            cmd.args(["users", "create", name]);
            if *admin {
                cmd.arg("--admin");
            }
            let mut child = cmd
                .envs(env.iter().cloned())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            writeln!(child.stdin.take().unwrap(), "{}", crate::oauth::PASSWORD).unwrap();
            assert!(child.wait().unwrap().success(), "users create {name}");
        }
        std::fs::create_dir_all(crate::logs::dir()).unwrap();
        let log = crate::logs::dir().join(format!("binary-{}.log", uuid::Uuid::new_v4().simple()));
        let server = ServerProcess::start(&bin, &env, &log).await;
        Some(BinaryServer {
            server,
            _dir: dir,
            _schema: schema,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base, path)
    }

    /// A password grant through `/oauth/token`; panics unless it succeeds.
    pub async fn access_token(&self, user: &str, scope: Option<&str>) -> String {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", user),
            ("password", crate::oauth::PASSWORD),
        ];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let body: serde_json::Value = reqwest::Client::new()
            .post(self.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().expect("access_token").to_owned()
    }
}
