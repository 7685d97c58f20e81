//! A person signs in to apps through Tessera in a real Chromium, the apps being built with relying-party
//! libraries nobody here wrote: Authlib (PyPI) and openid-client (npm, OpenID-certified). Each app is a
//! small web server around its library (`tests/e2e/oidc_rp.py`, `tests/oidc/rp.mjs`): discovery,
//! authorize with PKCE and a nonce, sign-in and consent in the browser, the code exchange, ID-token
//! validation with the library's own JWKS handling, userinfo, refresh, and RP-initiated logout.

use fantoccini::Locator;
use serde_json::Value;
use tessera_core::{Clock, Role, SystemClock};
use tessera_service::oauth::clients::{ClientSpec, SignInSettings};
use tessera_tests::browser::{browser_available, click, screenshot, screenshots, sign_in, Browser};
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

async fn register(app: &TestApp, client_id: &str, rp: &RelyingParty, backchannel: bool) {
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
                    backchannel_logout_uri: backchannel.then(|| rp.url("/backchannel")),
                    ..Default::default()
                },
            },
            "test",
            app.services.catalog.all(),
        )
        .await
        .expect("client registered");
}

/// The whole flow in Chromium against one relying party; returns after it signed the person out. With
/// `backchannel`, the app also receives (and verifies) a back-channel logout token for the session.
async fn sign_in_and_out(app: &TestApp, rp: &mut RelyingParty, uid: i64, label: &str, backchannel: bool) {
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&rp.url("/login")).await.unwrap();
    // The app sends the browser to Tessera, which asks for the password first.
    c.wait().for_element(Locator::Css("#username")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    sign_in(c, "ada", PASSWORD).await;
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
    let mut tessera = c.current_url().await.unwrap();
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
    // The person sees the app among those that can sign them in (`/account/apps`).
    // In a second tab, so the app's page (a redeemed code in its URL) is never loaded again.
    tessera.set_path("/account/apps");
    tessera.set_query(None);
    let app_tab = c.window().await.unwrap();
    let tab = c.new_window(true).await.unwrap();
    c.switch_to_window(tab.handle).await.unwrap();
    c.goto(tessera.as_str()).await.unwrap();
    let apps = c.wait().for_element(Locator::Css("#apps")).await.unwrap();
    assert!(apps.text().await.unwrap().contains(&format!("{label} gallery")));
    screenshots(c, &format!("account-apps-{label}")).await;
    c.close_window().await.unwrap();
    c.switch_to_window(app_tab).await.unwrap();
    let sid = event["sid"].clone();
    // RP-initiated logout ends the Tessera session and returns to the app.
    click(c, "#logout").await;
    c.wait().for_element(Locator::Css("#bye")).await.unwrap();
    // The back-channel token is sent in the background: it may arrive before or after the browser.
    let mut events = vec![rp.next_event().await];
    if backchannel {
        events.push(rp.next_event().await);
    }
    let signed_out = events
        .iter()
        .find(|e| e["event"] == "signed_out")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(signed_out["state"], "bye-state");
    if backchannel {
        let told = events
            .iter()
            .find(|e| e["event"] == "backchannel_logout")
            .unwrap_or_else(|| panic!("{events:?}"));
        assert_eq!(
            told["sid"], sid,
            "the logout token names the session of the ID token"
        );
        assert_eq!(told["sub"], uid.to_string());
    }
    // Signed out of Tessera: its sign-in page asks for a password again.
    c.goto(&app.url("/login")).await.unwrap();
    c.wait().for_element(Locator::Css("#username")).await.unwrap();
    browser.stop().await;
}

/// The whole flow against one replica; the app verifies a back-channel logout token when `backchannel`.
async fn signs_a_person_in_through_chromium(db: DbKind, library: Library, backchannel: bool) {
    if !library.available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    // The libraries check exp and iat against the wall clock, so this test runs on real time.
    app.clock.set(SystemClock.now());
    let uid = app.create_user("ada", Role::User).await;
    let mut rp = library.start(&app.base).await;
    register(&app, library.label(), &rp, backchannel).await;
    sign_in_and_out(&app, &mut rp, uid, library.label(), backchannel).await;
    rp.stop().await;
}

async fn authlib_signs_a_person_in_through_chromium(db: DbKind) {
    signs_a_person_in_through_chromium(db, Library::Authlib, true).await;
}

on_both_backends!(authlib_signs_a_person_in_through_chromium);

async fn openid_client_signs_a_person_in_through_chromium(db: DbKind) {
    signs_a_person_in_through_chromium(db, Library::OpenIdClient, false).await;
}

on_both_backends!(openid_client_signs_a_person_in_through_chromium);

/// JupyterHub (PyPI) with oauthenticator: a whole app with OpenID Connect login, configured only through
/// its own settings (`tests/e2e/jupyterhub_config.py`), behind its own proxy (configurable-http-proxy, npm).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jupyterhub_signs_a_person_in_through_tessera() {
    if !browser_available()
        || !tessera_tests::oidc::provider_available()
        || !require_python_modules(&["jupyterhub", "oauthenticator"])
    {
        return;
    }
    let app = TestApp::try_spawn(DbKind::Sqlite).await.expect("sqlite app");
    app.clock.set(SystemClock.now());
    app.create_user("ada", Role::User).await;
    let (hub_port, api_port, proxy_port) = (
        tessera_tests::oidc::free_port(),
        tessera_tests::oidc::free_port(),
        tessera_tests::oidc::free_port(),
    );
    let hub = format!("http://127.0.0.1:{hub_port}");
    let client = app
        .services
        .create_client(
            ClientSpec {
                client_id: Some("jupyterhub".into()),
                name: "JupyterHub".into(),
                confidential: true,
                grant_types: vec!["authorization_code".into()],
                scopes: vec!["me.read".into()],
                can_introspect: false,
                sign_in: SignInSettings {
                    redirect_uris: vec![format!("{hub}/hub/oauth_callback")],
                    ..Default::default()
                },
            },
            "test",
            app.services.catalog.all(),
        )
        .await
        .expect("client registered");
    let state = tempfile::tempdir().unwrap();
    let chp = tessera_tests::oidc::node_bin("configurable-http-proxy");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/e2e/jupyterhub_config.py");
    let mut jupyterhub = Command::new("python3")
        .args(["-m", "jupyterhub", "-f", config])
        .current_dir(state.path())
        .env("TESSERA_ISSUER", &app.base)
        .env("HUB_PORT", hub_port.to_string())
        .env("HUB_API_PORT", api_port.to_string())
        .env("PROXY_API_PORT", proxy_port.to_string())
        .env("HUB_STATE_DIR", state.path())
        .env("HUB_CLIENT_SECRET", client.client_secret.expect("a secret"))
        .env("CHP_PATH", chp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("jupyterhub starts");
    let health = format!("{hub}/hub/health");
    let up = tessera_tests::within(std::time::Duration::from_secs(60), || async {
        app.client
            .get(&health)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    assert!(up.is_some(), "JupyterHub answers on {hub}");

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{hub}/hub/login")).await.unwrap();
    // auto_login: JupyterHub sends the browser straight to Tessera.
    c.wait().for_element(Locator::Css("#username")).await.unwrap();
    sign_in(c, "ada", PASSWORD).await;
    c.wait().for_element(Locator::Css("#approve")).await.unwrap();
    assert_eq!(
        c.find(Locator::Css("#client"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "JupyterHub"
    );
    click(c, "#approve").await;
    // Back in JupyterHub, signed in as ada (its home page names the user).
    let signed_in = tessera_tests::within(std::time::Duration::from_secs(20), || async {
        let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let source = c.source().await.unwrap_or_default();
        url.starts_with(&format!("{hub}/hub/")) && !url.contains("oauth_callback") && source.contains("ada")
    })
    .await;
    let url = c.current_url().await.unwrap();
    screenshot("jupyterhub-signed-in.png", &c.screenshot().await.unwrap());
    assert!(
        signed_in.is_some(),
        "JupyterHub did not sign ada in; it shows {url}"
    );
    browser.stop().await;

    // Stop the hub gracefully so it stops its proxy too; then make sure the proxy is gone.
    if let Some(pid) = jupyterhub.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(20), jupyterhub.wait()).await;
    if stopped.is_err() {
        let _ = jupyterhub.kill().await;
    }
    if let Ok(pid) = std::fs::read_to_string(state.path().join("jupyterhub-proxy.pid")) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", pid.trim()])
            .status();
    }
}

/// Which relying-party library an app is built with, and how its process is started.
#[derive(Clone, Copy)]
enum Library {
    Authlib,
    OpenIdClient,
}

impl Library {
    fn label(self) -> &'static str {
        match self {
            Library::Authlib => "authlib",
            Library::OpenIdClient => "openid-client",
        }
    }

    /// Whether this machine can run the library's app (and a browser).
    fn available(self) -> bool {
        browser_available()
            && match self {
                Library::Authlib => require_python_modules(&["authlib", "requests"]),
                Library::OpenIdClient => tessera_tests::oidc::provider_available(),
            }
    }

    async fn start(self, issuer: &str) -> RelyingParty {
        match self {
            Library::Authlib => {
                let script = concat!(env!("CARGO_MANIFEST_DIR"), "/e2e/oidc_rp.py");
                RelyingParty::start("python3", &[script, issuer, "authlib"]).await
            }
            Library::OpenIdClient => {
                let script = tessera_tests::oidc::relying_party_script();
                RelyingParty::start("node", &[script.to_str().unwrap(), issuer, "openid-client"]).await
            }
        }
    }
}

/// The whole flow with the app and the browser talking to two replicas through one nginx (round robin):
/// codes, sessions and consents made on one replica are used on the other.
async fn signs_a_person_in_through_two_replicas(library: Library) {
    use tessera_tests::proxies::{proxy_available, Proxy, ProxyKind};
    if !library.available() || !proxy_available(ProxyKind::Nginx) {
        return;
    }
    let (Some(_), Some(_)) = (tessera_tests::postgres_url(), tessera_tests::redis_url()) else {
        return;
    };
    let port = tessera_tests::oidc::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let a = tessera_tests::TestAppBuilder::new(DbKind::Postgres)
        .store(tessera_tests::StoreKind::Redis)
        .env("TESSERA_PUBLIC_URL", &public)
        .try_spawn()
        .await
        .expect("replica a");
    let b = tessera_tests::TestAppBuilder::new(DbKind::Postgres)
        .replica_of(&a)
        .try_spawn()
        .await
        .expect("replica b");
    a.clock.set(SystemClock.now());
    b.clock.set(SystemClock.now());
    let proxy = Proxy::nginx_balancer_on(port, &[a.addr, b.addr]).await;
    let uid = a.create_user("ada", Role::User).await;
    let label = library.label();
    let mut rp = library.start(&public).await;
    // Back-channel logout is checked with Authlib, which verifies the logout token itself.
    let backchannel = matches!(library, Library::Authlib);
    register(&a, label, &rp, backchannel).await;
    sign_in_and_out(&a, &mut rp, uid, label, backchannel).await;
    rp.stop().await;
    drop(proxy);
    // Both replicas took part in the sign-in (nginx alternates between them).
    for replica in [&a, &b] {
        let metrics = replica.get("/metrics").await.text().await.unwrap();
        let oauth = metrics
            .lines()
            .any(|l| l.starts_with("tessera_http_requests_total{") && l.contains("route=\"/oauth/"));
        assert!(
            oauth,
            "replica {} served none of the OpenID requests",
            replica.base
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_signs_a_person_in_through_two_replicas() {
    signs_a_person_in_through_two_replicas(Library::Authlib).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_signs_a_person_in_through_two_replicas() {
    signs_a_person_in_through_two_replicas(Library::OpenIdClient).await;
}
