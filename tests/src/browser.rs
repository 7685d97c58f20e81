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
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
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

/// Fills and sends Tessera's sign-in form once it is shown.
pub async fn sign_in(c: &Client, username: &str, password: &str) {
    c.wait()
        .for_element(fantoccini::Locator::Css("#username"))
        .await
        .expect("the sign-in form");
    fill(c, "#username", username).await;
    fill(c, "#password", password).await;
    click(c, "button[type=submit]").await;
}
