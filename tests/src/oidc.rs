//! A real upstream OpenID provider for sign-in tests: oidc-provider (npm), configured by
//! `tests/oidc/provider.mjs` with one client (Tessera) and a few accounts. Started per test on a free
//! port, stopped by its PID.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

pub struct OidcProvider {
    pub issuer: String,
    process: Child,
}

pub const CLIENT_ID: &str = "tessera";
pub const CLIENT_SECRET: &str = "tessera-test-secret-tessera-test-secret";

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// A free port for the provider, chosen before Tessera starts (Tessera's config names the issuer).
pub use crate::ports::free_port;

/// An executable installed by `npm install --prefix tests/oidc` (`node_modules/.bin`).
pub fn node_bin(name: &str) -> std::path::PathBuf {
    dir().join("node_modules/.bin").join(name)
}

/// The relying party built with openid-client (`tests/oidc/rp.mjs`).
pub fn relying_party_script() -> std::path::PathBuf {
    dir().join("rp.mjs")
}

/// True when node and the OpenID peers' packages (oidc-provider, openid-client) are installed; locally a
/// missing one is reported, in CI it fails (`npm install --prefix tests/oidc`).
pub fn provider_available() -> bool {
    let ok = dir().join("node_modules/oidc-provider").exists()
        && dir().join("node_modules/openid-client").exists()
        && node_bin("configurable-http-proxy").exists()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "node and tests/oidc/node_modules are required with CI=true (npm install --prefix tests/oidc)"
        );
        eprintln!("NOT RUN: node or tests/oidc/node_modules is missing (npm install --prefix tests/oidc)");
    }
    ok
}

impl OidcProvider {
    /// Starts the provider on `port` for a Tessera whose public URL is `tessera_base`.
    pub async fn start(port: u16, tessera_base: &str) -> OidcProvider {
        let mut process = Command::new("node")
            .arg(dir().join("provider.mjs"))
            .arg(port.to_string())
            .arg(format!("{tessera_base}/login/oidc/callback"))
            .arg(format!("{tessera_base}/login"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let issuer = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        // Waiting for a child process to listen is bounded (10 s), not a test of timing.
        for _ in 0..200 {
            if client
                .get(format!("{issuer}/.well-known/openid-configuration"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return OidcProvider { issuer, process };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = process.kill();
        let _ = process.wait();
        panic!("oidc-provider did not start on {port}");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A browser stand-in: a cookie jar and redirects followed, as a person's browser would.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

/// Where the sign-in ended: the last page's status, URL and text.
pub struct Landing {
    pub status: reqwest::StatusCode,
    pub url: String,
    pub text: String,
}

fn form_action(html: &str) -> Option<String> {
    let at = html.find("<form")?;
    let rest = &html[at..];
    let a = rest.find("action=\"")? + "action=\"".len();
    let end = rest[a..].find('"')?;
    Some(rest[a..a + end].replace("&amp;", "&"))
}

impl Browser {
    pub fn new() -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::limited(20))
            .build()
            .expect("client");
        Browser { client, jar }
    }

    /// The value of a cookie the jar would send to `url`.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let header = self.jar.cookies(&url.parse().ok()?)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    /// Starts at Tessera's `/login/oidc`, signs in at the provider as `login` and consents, and
    /// follows the redirects back to wherever Tessera sends the browser.
    pub async fn sign_in(&self, tessera_base: &str, issuer: &str, login: &str) -> Landing {
        let mut res = self
            .client
            .get(format!("{tessera_base}/login/oidc"))
            .send()
            .await
            .expect("start");
        for prompt in ["login", "consent"] {
            let url = res.url().to_string();
            if !url.starts_with(issuer) {
                break; // already back at Tessera (the provider remembered the consent)
            }
            let html = res.text().await.expect("provider page");
            let action = form_action(&html)
                .unwrap_or_else(|| panic!("no form on the provider's {prompt} page: {html}"));
            let action = if action.starts_with('/') {
                format!("{issuer}{action}")
            } else {
                action
            };
            let form: Vec<(&str, &str)> = match prompt {
                "login" => vec![("prompt", "login"), ("login", login), ("password", "any")],
                _ => vec![("prompt", "consent")],
            };
            res = self
                .client
                .post(action)
                .form(&form)
                .send()
                .await
                .expect("provider form");
        }
        Landing {
            status: res.status(),
            url: res.url().to_string(),
            text: res.text().await.unwrap_or_default(),
        }
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}
