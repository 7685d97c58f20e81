//! Passkeys (issue 21) through the real server: the API's refusals on both databases, and the whole
//! life of a passkey in Chromium with WebDriver's virtual authenticator (the browser's own WebAuthn
//! stack, chromedriver's CTAP2 authenticator): add it on the account page, sign in with it alone, use it
//! as the second step after a password, rename and delete it, and a cloned authenticator refused.

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::browser::{browser_available, click, fill, screenshots, sign_in, submit, Browser};
use tessera_tests::oauth::{assert_oauth_error, set_cookie, PASSWORD};
use tessera_tests::{on_both_backends, DbKind, TestApp, TestAppBuilder};

/// WebAuthn needs a host name for its relying-party id: the app answers as http://localhost:PORT.
async fn localhost_app(db: DbKind, extra_config: Option<&str>) -> Option<TestApp> {
    let port = tessera_tests::oidc::free_port();
    let mut b = TestAppBuilder::new(db)
        .port(port)
        .env("TESSERA_PUBLIC_URL", &format!("http://localhost:{port}"));
    if let Some(c) = extra_config {
        b = b.config(c);
    }
    b.try_spawn().await
}

async fn problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    res.json().await.unwrap()
}

async fn passkeys_refuse_what_they_must(db: DbKind) {
    // An IP address cannot be a WebAuthn relying party: said plainly, before anything is stored.
    let Some(ip_app) = TestApp::try_spawn(db).await else {
        return;
    };
    ip_app.create_user("ada", Role::User).await;
    let token = ip_app.password_login("ada", None).await.access_token;
    let res = ip_app
        .bearer_json(
            reqwest::Method::POST,
            "/api/users/me/passkeys/options",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    let p = problem(res, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("public_url"), "{p}");
    ip_app.stop().await;

    let app = localhost_app(
        db,
        Some("[rate_limits]\npasskey_start = { limit = 3, period_secs = 60 }\n"),
    )
    .await
    .expect("app");
    let uid = app.create_user("ada", Role::User).await;
    let token = app.password_login("ada", None).await.access_token;
    let path = "/api/users/me/passkeys/options";
    let anonymous = app.post_json(path, &json!({"current_password": PASSWORD})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .bearer_json(
            reqwest::Method::POST,
            path,
            &token,
            json!({"current_password": "not it"}),
        )
        .await;
    let p = problem(wrong, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["field"], "current_password", "{p}");
    // Right: options for a discoverable credential with user verification, for this host.
    let res = app
        .bearer_json(
            reqwest::Method::POST,
            path,
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let c: Value = res.json().await.unwrap();
    let pk = &c["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost", "{c}");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required", "{c}");
    assert_eq!(
        pk["authenticatorSelection"]["userVerification"], "required",
        "{c}"
    );
    assert_eq!(pk["user"]["name"], "ada");
    let challenge = c["challenge_id"].as_str().unwrap();
    // Answers that are not a credential, too large, or for no ceremony: 422, nothing stored.
    let register = "/api/users/me/passkeys";
    for (body, field) in [
        (
            json!({"challenge_id": challenge, "name": "Laptop", "credential": {"id": "x"}}),
            "credential",
        ),
        (
            json!({"challenge_id": challenge, "name": "Laptop", "credential": {"id": "x".repeat(20_000)}}),
            "credential",
        ),
        (
            json!({"challenge_id": challenge, "name": " ", "credential": {}}),
            "name",
        ),
    ] {
        let p = problem(
            app.bearer_json(reqwest::Method::POST, register, &token, body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let well_formed = json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}});
    let p = problem(
        app.bearer_json(
            reqwest::Method::POST,
            register,
            &token,
            json!({"challenge_id": "no-such-ceremony", "name": "Laptop", "credential": well_formed}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "challenge_id", "{p}");
    // A forged attestation for a real ceremony is refused, and that ceremony is used up.
    let p = problem(
        app.bearer_json(
            reqwest::Method::POST,
            register,
            &token,
            json!({"challenge_id": challenge, "name": "Laptop", "credential": well_formed}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "credential", "{p}");
    let list: Value = app
        .bearer_json(reqwest::Method::GET, register, &token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    for method in [reqwest::Method::PATCH, reqwest::Method::DELETE] {
        let res = app
            .bearer_json(
                method,
                "/api/users/me/passkeys/nope",
                &token,
                json!({"name": "x"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.services.second_factor_status(uid).await.unwrap().passkeys, 0);

    // The sign-in page's ceremonies: a discoverable challenge for anyone (budgeted per address), the
    // second step only with a waiting sign-in, and an answer only with the page's form token.
    let opts = app.post_json("/login/passkey/options", &json!({})).await;
    assert_eq!(opts.status(), StatusCode::OK);
    let o: Value = opts.json().await.unwrap();
    assert!(
        o["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{o}"
    );
    assert!(
        o["options"].get("mediation").is_none_or(Value::is_null),
        "asked on a button press: {o}"
    );
    let second = app
        .post_json("/login/passkey/options", &json!({"second": true}))
        .await;
    assert_eq!(second.status(), StatusCode::UNAUTHORIZED);
    let no_token = app
        .client
        .post(app.url("/login/passkey"))
        .form(&[("csrf_token", "x"), ("challenge_id", "y"), ("credential", "{}")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let page = app.get("/login").await;
    let form_cookie = set_cookie(&page, "tessera_login_form").expect("form token cookie");
    let forged = app
        .client
        .post(app.url("/login/passkey"))
        .header("cookie", format!("tessera_login_form={form_cookie}"))
        .form(&[
            ("csrf_token", form_cookie.as_str()),
            ("challenge_id", o["challenge_id"].as_str().unwrap()),
            ("credential", &json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null}}).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&forged, "tessera_session").is_none());
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("That passkey was not accepted"));
    // Starts are budgeted per address (limit 3 here): one was made above, two more pass, the next not.
    for _ in 0..2 {
        let ok = app.post_json("/login/passkey/options", &json!({})).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
    let limited = app.post_json("/login/passkey/options", &json!({})).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

on_both_backends!(passkeys_refuse_what_they_must);

/// Signed in: the page has the sign-out form (the account page, where a sign-in without `rd` lands).
async fn signed_in_as(c: &Client) -> bool {
    c.find(Locator::Css("form[action='/logout']")).await.is_ok()
}

async fn sign_out(app: &TestApp, c: &Client) {
    c.goto(&app_url(app, "/login")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap();
    click(c, "form[action='/logout'] button").await;
    c.wait().for_element(Locator::Css("#username")).await.unwrap();
}

fn app_url(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.services.settings.server.public_url)
}

/// Signs in with the password and adds a passkey named `name` on the account page.
async fn add_passkey(app: &TestApp, c: &Client, name: &str) {
    c.goto(&app_url(app, "/account/passkeys")).await.unwrap();
    sign_in(c, "ada", PASSWORD).await;
    c.wait()
        .for_element(Locator::Css("#passkey-register"))
        .await
        .unwrap();
    assert!(c.find(Locator::Css("#none")).await.is_ok(), "no passkey yet");
    fill(c, "#name", name).await;
    fill(c, "#current_password", PASSWORD).await;
    submit(c, "#add").await;
    c.wait().for_element(Locator::Css("#done")).await.unwrap();
    let listed = c
        .find(Locator::Css(".passkey-name"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listed, name);
}

/// Clicks the page's passkey button and waits for where it leads.
async fn use_passkey(c: &Client) {
    c.wait()
        .for_element(Locator::Css("#passkey-sign-in"))
        .await
        .unwrap();
    click(c, "#passkey-sign-in").await;
    c.wait()
        .for_element(Locator::Css("form[action='/logout'], p.error:not([hidden])"))
        .await
        .unwrap();
}

async fn a_person_lives_with_a_passkey_in_chromium(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = localhost_app(db, None).await else {
        return;
    };
    let uid = app.create_user("ada", Role::User).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let authenticator = browser.add_virtual_authenticator().await;
    add_passkey(&app, c, "Laptop").await;
    assert_eq!(app.services.second_factor_status(uid).await.unwrap().passkeys, 1);
    // From now on a password alone is not enough anywhere a factor cannot be shown in a browser.
    let res = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "mfa_required").await;
    let basic = app
        .client
        .get(app.url("/api/users/me"))
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        basic.json::<Value>().await.unwrap()["code"],
        "second_factor_required"
    );
    // The account says so (read in the browser, with its session).
    c.goto(&app_url(&app, "/api/users/me")).await.unwrap();
    let me: Value =
        serde_json::from_str(&c.find(Locator::Css("body")).await.unwrap().text().await.unwrap()).unwrap();
    assert_eq!(me["second_factor"]["passkeys"], 1, "{me}");
    assert_eq!(me["second_factor"]["totp"], false, "{me}");
    let held = browser.credentials(&authenticator).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["isResidentCredential"], true, "a discoverable credential");

    // The passkey alone signs in: no username typed.
    sign_out(&app, c).await;
    use_passkey(c).await;
    assert!(signed_in_as(c).await, "{}", c.source().await.unwrap());

    // After a password, the passkey is the second step (no code form: ada has no TOTP).
    sign_out(&app, c).await;
    sign_in(c, "ada", PASSWORD).await;
    c.wait()
        .for_element(Locator::Css("#passkey-sign-in"))
        .await
        .unwrap();
    assert!(c.find(Locator::Css("#otp")).await.is_err());
    assert!(!signed_in_as(c).await, "no session before the second step");
    use_passkey(c).await;
    assert!(signed_in_as(c).await, "{}", c.source().await.unwrap());

    // Rename, then delete, on the account page.
    c.goto(&app_url(&app, "/account/passkeys")).await.unwrap();
    fill(
        c,
        "form[action='/account/passkeys/rename'] input[name=name]",
        "Work laptop",
    )
    .await;
    submit(c, "button.rename").await;
    c.wait().for_element(Locator::Css("#done")).await.unwrap();
    let listed = c
        .find(Locator::Css(".passkey-name"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listed, "Work laptop");
    screenshots(c, "account-passkeys").await;
    submit(c, "button.delete").await;
    c.wait().for_element(Locator::Css("#none")).await.unwrap();
    assert_eq!(app.services.second_factor_status(uid).await.unwrap().passkeys, 0);
    // The authenticator still holds the credential, but it no longer signs anyone in.
    sign_out(&app, c).await;
    use_passkey(c).await;
    assert!(!signed_in_as(c).await);
    let error = c
        .find(Locator::Css("p.error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("not accepted"), "{error}");
    browser.stop().await;
    app.stop().await;
}

on_both_backends!(a_person_lives_with_a_passkey_in_chromium);

async fn a_cloned_authenticator_is_refused(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = localhost_app(db, None).await else {
        return;
    };
    let uid = app.create_user("ada", Role::User).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let original = browser.add_virtual_authenticator().await;
    add_passkey(&app, c, "Phone").await;
    // The API sees and renames it too, with the browser's session (and its CSRF token for the write).
    let cookie =
        |name: &'static str| async move { c.get_named_cookie(name).await.unwrap().value().to_owned() };
    let session = tessera_tests::oauth::BrowserSession {
        cookie: cookie("tessera_session").await,
        csrf: cookie("tessera_csrf").await,
    };
    let list = || async {
        let res = app
            .with_session(app.client.get(app.url("/api/users/me/passkeys")), &session, false)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()
    };
    let listed = list().await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["name"], "Phone");
    let renamed = app
        .with_session(
            app.client.patch(app.url(&format!(
                "/api/users/me/passkeys/{}",
                listed[0]["id"].as_str().unwrap()
            ))),
            &session,
            true,
        )
        .json(&json!({"name": "Old phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::NO_CONTENT);
    assert_eq!(list().await[0]["name"], "Old phone");
    sign_out(&app, c).await;
    use_passkey(c).await;
    assert!(signed_in_as(c).await);
    // Copy the key out of the authenticator, as a cloner would, with the counter it had long ago.
    let mut copied = browser.credentials(&original).await.remove(0);
    assert!(
        copied["signCount"].as_u64().unwrap() > 0,
        "the authenticator counts: {copied}"
    );
    copied["signCount"] = json!(0);
    browser.remove_virtual_authenticator(&original).await;
    let clone = browser.add_virtual_authenticator().await;
    browser.add_credential(&clone, copied).await;
    sign_out(&app, c).await;
    use_passkey(c).await;
    assert!(!signed_in_as(c).await, "a counter that went backwards is refused");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("tessera_second_factor_total{event=\"passkey_cloned\"} 1"),
        "refused as a clone, not for another reason"
    );
    // The owner lost the device: an admin's reset removes the passkeys with the other factors.
    app.create_user("root", Role::Admin).await;
    let root = app.password_login("root", None).await.access_token;
    let reset = app
        .client
        .delete(app.url(&format!("/api/users/{uid}/second-factor")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.services.second_factor_status(uid).await.unwrap().passkeys, 0);
    assert!(
        !app.password_login("ada", None).await.access_token.is_empty(),
        "the password alone works again"
    );
    browser.stop().await;
    app.stop().await;
}

on_both_backends!(a_cloned_authenticator_is_refused);
