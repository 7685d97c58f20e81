//! The device approval page in a real headless Chromium (issue 7).

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::browser::{browser_available, Browser};
use tessera_tests::oauth::PASSWORD;
use tessera_tests::{DbKind, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_approves_a_device_in_chromium() {
    if !browser_available() {
        return;
    }
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    app.create_user("ada", Role::User).await;
    // The TV starts pairing.
    let init: Value = app
        .post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv-browser", "name": "Living room TV",
            "client": "argosy", "platform": "android", "requested_scopes": ["me.read", "roms.read", "collections.read"]}))
        .await
        .json()
        .await
        .unwrap();
    let complete = init["verification_uri_complete"].as_str().unwrap().to_owned();

    let browser = Browser::start().await;
    let c = &browser.client;
    // Opening the link bounces through /login and back.
    c.goto(&complete).await.unwrap();
    c.wait().for_element(Locator::Css("#username")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys("ada")
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click returns when the form is sent, not always when the next page has loaded: wait for the
    // approval form (bounded by fantoccini's wait timeout) before reading the URL.
    c.wait().for_element(Locator::Css("#approve")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/device", "{url}");
    // Untick a scope, rename the device, keep the default expiry, approve.
    c.find(Locator::Css("input[value='collections.read']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = c.find(Locator::Css("#device_name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Bedroom TV").await.unwrap();
    let shot = c.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("device-approval.png");
    std::fs::write(&path, &shot).unwrap();
    // Written past libtest's capture so the CI log names the artifact even when the test passes.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "artifact: screenshot of the approval page: {}",
        path.display()
    );
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    c.find(Locator::Css("#approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = c
        .wait()
        .for_element(Locator::Css("#result"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(result.contains("Bedroom TV"), "{result}");
    browser.stop().await;

    // The TV's poll receives a token with exactly the remaining scopes, bound to the renamed device.
    let res = app
        .post_json(
            "/api/auth/device/token",
            &json!({"device_code": init["device_code"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token: Value = res.json().await.unwrap();
    assert_eq!(token["scopes"], json!(["me.read", "roms.read"]));
    let raw = token["access_token"].as_str().unwrap();
    let devices: Value = app
        .client
        .get(app.url("/api/devices"))
        .bearer_auth(app.password_login("ada", None).await.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(devices[0]["name"], "Bedroom TV");
    assert_eq!(devices[0]["id"], token["device_id"]);
    let me: Value = app.get_bearer("/api/users/me", raw).await.json().await.unwrap();
    assert_eq!(me["oauth_scopes"], json!(["me.read", "roms.read"]));
}
