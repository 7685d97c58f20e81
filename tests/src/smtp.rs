//! A real SMTP server for mail tests: aiosmtpd (PyPI) with its Mailbox handler, writing each message it
//! receives into a maildir that the test reads. Started per test on a free port, stopped by its PID.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct SmtpSink {
    pub port: u16,
    process: Child,
    maildir: tempfile::TempDir,
}

impl SmtpSink {
    /// None (reported, or a failure in CI) when python3 lacks aiosmtpd.
    pub async fn start() -> Option<SmtpSink> {
        if !crate::require_python_modules(&["aiosmtpd"]) {
            return None;
        }
        let maildir = tempfile::tempdir().expect("maildir");
        let port = crate::ports::free_port();
        let mut process = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir.path().join("box"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        // Waiting for a child process to listen is bounded (10 s), not a test of timing.
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(SmtpSink {
                    port,
                    process,
                    maildir,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = process.kill();
        let _ = process.wait();
        panic!("aiosmtpd did not listen on {port}");
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(dir) = std::fs::read_dir(self.maildir.path().join("box").join(sub)) {
                out.extend(dir.filter_map(|e| e.ok().map(|e| e.path())));
            }
        }
        out.sort();
        out
    }

    /// Every message received so far, as text with quoted-printable soft breaks undone.
    pub fn messages(&self) -> Vec<String> {
        self.files()
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|m| m.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="))
            .collect()
    }

    /// Waits (bounded, 10 s: mail is sent after the HTTP answer) until `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} mails, got {}", self.messages().len());
    }
}

/// The link to `path` (for example `/reset-password`) in a mail, with its `token=`.
pub fn link_in(message: &str, path: &str) -> Option<(String, String)> {
    let at = message.find(&format!("{path}?token="))?;
    let start = message[..at].rfind("http")?;
    let end = message[at..]
        .find(|c: char| c.is_whitespace())
        .map_or(message.len(), |e| at + e);
    let url = message[start..end].to_owned();
    let token = url.split("token=").nth(1)?.to_owned();
    Some((url, token))
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
