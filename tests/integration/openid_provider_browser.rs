//! A person signs in to apps through Tessera in a real Chromium, the apps being built with relying-party
//! libraries nobody here wrote: Authlib (PyPI) and openid-client (npm, OpenID-certified). Each app is a
//! small web server around its library (`tests/e2e/oidc_rp.py`, `tests/oidc/rp.mjs`): discovery,
//! authorize with PKCE and a nonce, sign-in and consent in the browser, the code exchange, ID-token
//! validation with the library's own JWKS handling, userinfo, refresh, and RP-initiated logout.

use fantoccini::{Client, Locator};
use serde_json::Value;
use tessera_core::{Clock, Role, SystemClock};
use tessera_service::oauth::clients::{ClientSpec, SignInSettings};
use tessera_tests::browser::{browser_available, Browser};
use tessera_tests::oauth::PASSWORD;
use tessera_tests::{on_both_backends, require_python_modules, DbKind, TestApp};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// A relying-party process and the JSON events it prints, one per line.
struct RelyingParty {
    child: Child,
    events: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl RelyingParty {
    async fn start(program: &str, args: &[&str]) -> RelyingParty {
        let mut child = Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the relying party starts");
        let events = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut rp = RelyingParty {
            child,
            events,
            port: 0,
        };
        let ready = rp.next_event().await;
        assert_eq!(ready["event"], "ready", "{ready}");
        rp.port = u16::try_from(ready["port"].as_u64().expect("port")).expect("a port");
        rp
    }

    /// The next event; bounded, since a stuck app must fail the test rather than hang it.
    async fn next_event(&mut self) -> Value {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), self.events.next_line())
            .await
            .expect("the relying party reports within 30 s")
            .expect("its stdout")
            .expect("a line before it exits");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn register(app: &TestApp, client_id: &str, rp: &RelyingParty) {
    app.services
        .create_client(
            ClientSpec {
                client_id: Some(client_id.into()),
                name: format!("{client_id} gallery"),
                confidential: false,
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                scopes: vec!["me.read".into(), "roms.read".into()],
                can_introspect: false,
                sign_in: SignInSettings {
                    redirect_uris: vec![rp.url("/callback")],
                    post_logout_redirect_uris: vec![rp.url("/bye")],
                    ..Default::default()
                },
            },
            "test",
            app.services.catalog.all(),
        )
        .await
        .expect("client registered");
}

async fn fill(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

fn screenshot(name: &str, png: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "artifact: {}", path.display());
}

/// The whole flow in Chromium against one relying party; returns after it signed the person out.
async fn sign_in_and_out(app: &TestApp, rp: &mut RelyingParty, uid: i64, label: &str) {
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&rp.url("/login")).await.unwrap();
    // The app sends the browser to Tessera, which asks for the password first.
    c.wait().for_element(Locator::Css("#username")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    fill(c, "#username", "ada").await;
    fill(c, "#password", PASSWORD).await;
    click(c, "button[type=submit]").await;
    // Then the consent page, naming the app and the scopes in words.
    c.wait().for_element(Locator::Css("#approve")).await.unwrap();
    let client = c
        .find(Locator::Css("#client"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(client, format!("{label} gallery"));
    let scopes = c
        .find(Locator::Css("#scopes"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scopes.contains("See roms (roms.read)") && scopes.contains("See your email address"),
        "{scopes}"
    );
    screenshot(&format!("consent-{label}.png"), &c.screenshot().await.unwrap());
    click(c, "#approve").await;
    // Back at the app: it redeemed the code and validated everything with its own library.
    let hello = c
        .wait()
        .for_element(Locator::Css("#hello, #failed"))
        .await
        .unwrap();
    let text = hello.text().await.unwrap();
    let event = rp.next_event().await;
    assert_eq!(event["event"], "signed_in", "{event} / page: {text}");
    assert_eq!(event["sub"], uid.to_string());
    assert_eq!(event["userinfo_sub"], uid.to_string());
    assert_eq!(event["username"], "ada");
    assert_eq!(event["email"], "ada@example.com");
    assert_eq!(event["has_at_hash"], true);
    assert_eq!(event["refreshed"], true);
    assert_eq!(event["rotated"], true);
    assert_eq!(text, "Hello ada");
    // RP-initiated logout ends the Tessera session and returns to the app.
    click(c, "#logout").await;
    c.wait().for_element(Locator::Css("#bye")).await.unwrap();
    let event = rp.next_event().await;
    assert_eq!(event["event"], "signed_out", "{event}");
    assert_eq!(event["state"], "bye-state");
    // Signed out of Tessera: its sign-in page asks for a password again.
    c.goto(&app.url("/login")).await.unwrap();
    c.wait().for_element(Locator::Css("#username")).await.unwrap();
    browser.stop().await;
}

async fn authlib_signs_a_person_in_through_chromium(db: DbKind) {
    if !browser_available() || !require_python_modules(&["authlib", "requests"]) {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    // The libraries check exp and iat against the wall clock, so this test runs on real time.
    app.clock.set(SystemClock.now());
    let uid = app.create_user("ada", Role::User).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/e2e/oidc_rp.py");
    let mut rp = RelyingParty::start("python3", &[script, &app.base, "authlib"]).await;
    register(&app, "authlib", &rp).await;
    sign_in_and_out(&app, &mut rp, uid, "authlib").await;
    rp.stop().await;
}

on_both_backends!(authlib_signs_a_person_in_through_chromium);

async fn openid_client_signs_a_person_in_through_chromium(db: DbKind) {
    if !browser_available() || !tessera_tests::oidc::provider_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.clock.set(SystemClock.now());
    let uid = app.create_user("ada", Role::User).await;
    let script = tessera_tests::oidc::relying_party_script();
    let mut rp = RelyingParty::start("node", &[script.to_str().unwrap(), &app.base, "openid-client"]).await;
    register(&app, "openid-client", &rp).await;
    sign_in_and_out(&app, &mut rp, uid, "openid-client").await;
    rp.stop().await;
}

on_both_backends!(openid_client_signs_a_person_in_through_chromium);
