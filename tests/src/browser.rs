//! A real headless Chromium driven through chromedriver (WebDriver), for page tests.

use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder};

/// Paths of Debian's packages `chromium` and `chromium-driver`.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// True when Chromium and chromedriver are installed; locally a missing one is reported, in CI it fails.
pub fn browser_available() -> bool {
    let ok = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !ok {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "Chromium and chromedriver are required with CI=true (apt-get install chromium chromium-driver)"
        );
        eprintln!("NOT RUN: Chromium or chromedriver is missing (apt-get install chromium chromium-driver)");
    }
    ok
}

impl Browser {
    pub async fn start() -> Browser {
        let port = crate::ports::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                // The background-networking flags keep Chromium from dialling out of this closed network.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--window-size=900,1100",
                         format!("--user-data-dir={}", profile.path().display())]
            }),
        );
        // chromedriver needs a moment to listen; waiting for a child process is bounded (10 s), not a
        // test of timing.
        let url = format!("http://127.0.0.1:{port}");
        let mut last_err = None;
        for _ in 0..200 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: profile,
                    }
                }
                Err(e) => last_err = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not answer: {last_err:?}");
    }

    /// Ends the session and stops chromedriver (by its PID).
    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// Saves a screenshot into `target/browser-artifacts` (kept with the CI log) and says where.
pub fn screenshot(name: &str, png: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact folder");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("screenshot written");
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "artifact: {}", path.display());
}

/// Screenshots of the current page at a desktop and a phone width (`NAME-desktop.png`, `NAME-phone.png`).
pub async fn screenshots(c: &Client, name: &str) {
    for (label, w, h) in [("desktop", 1280, 1000), ("phone", 390, 844)] {
        c.set_window_size(w, h).await.expect("window size");
        screenshot(
            &format!("{name}-{label}.png"),
            &c.screenshot().await.expect("screenshot"),
        );
    }
    c.set_window_size(900, 1100).await.expect("window size");
}

/// Types into the element `css` finds.
pub async fn fill(c: &Client, css: &str, text: &str) {
    c.find(fantoccini::Locator::Css(css))
        .await
        .expect("element")
        .send_keys(text)
        .await
        .expect("typed");
}

/// Clicks the element `css` finds.
pub async fn click(c: &Client, css: &str) {
    c.find(fantoccini::Locator::Css(css))
        .await
        .expect("element")
        .click()
        .await
        .expect("clicked");
}

/// Clicks what sends a form (or starts a navigation) and returns once the page it was on is gone, so the
/// next look finds the new page, not the old one. The wait is bounded (15 s).
pub async fn submit(c: &Client, css: &str) {
    let old = c.find(fantoccini::Locator::Css("html")).await.expect("a page");
    click(c, css).await;
    for _ in 0..300 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("clicking {css} did not leave the page");
}

/// Fills and sends Tessera's sign-in form once it is shown.
pub async fn sign_in(c: &Client, username: &str, password: &str) {
    c.wait()
        .for_element(fantoccini::Locator::Css("#username"))
        .await
        .expect("the sign-in form");
    fill(c, "#username", username).await;
    fill(c, "#password", password).await;
    submit(c, "button[type=submit]").await;
}

/// A command of WebDriver's WebAuthn extension (W3C WebAuthn §11), which chromedriver implements:
/// virtual authenticators and their credentials.
#[derive(Debug)]
struct WebAuthnCommand {
    path: String,
    method: http::Method,
    body: Option<serde_json::Value>,
}

impl fantoccini::wd::WebDriverCompatibleCommand for WebAuthnCommand {
    fn endpoint(&self, base: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/webauthn/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (self.method.clone(), self.body.as_ref().map(|b| b.to_string()))
    }
}

impl Browser {
    async fn webauthn(
        &self,
        method: http::Method,
        path: String,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        self.client
            .issue_cmd(WebAuthnCommand { path, method, body })
            .await
            .expect("a WebAuthn extension command")
    }

    /// Adds a virtual CTAP2 authenticator that keeps discoverable credentials and verifies its user
    /// (as a phone's or a laptop's platform authenticator does); returns its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let v = self
            .webauthn(
                http::Method::POST,
                "authenticator".into(),
                Some(serde_json::json!({
                    "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                    "hasUserVerification": true, "isUserConsenting": true, "isUserVerified": true
                })),
            )
            .await;
        v.as_str().expect("an authenticator id").to_owned()
    }

    pub async fn remove_virtual_authenticator(&self, id: &str) {
        self.webauthn(http::Method::DELETE, format!("authenticator/{id}"), None)
            .await;
    }

    /// The credentials an authenticator holds (with private keys and signature counts).
    pub async fn credentials(&self, id: &str) -> Vec<serde_json::Value> {
        let v = self
            .webauthn(http::Method::GET, format!("authenticator/{id}/credentials"), None)
            .await;
        v.as_array().cloned().unwrap_or_default()
    }

    /// Puts a credential into an authenticator (for example one copied from another: a clone).
    pub async fn add_credential(&self, id: &str, credential: serde_json::Value) {
        self.webauthn(
            http::Method::POST,
            format!("authenticator/{id}/credential"),
            Some(credential),
        )
        .await;
    }
}
