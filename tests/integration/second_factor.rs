//! TOTP as a second factor (issue 21), driven with codes from an independent implementation (pyotp, PyPI)
//! through the real server: enrolment, every sign-in path, replay, skew, recovery codes, removal and reset.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::{Clock, Role};
use tessera_tests::oauth::{assert_oauth_error, set_cookie, PASSWORD};
use tessera_tests::{both_backends, require_python_modules, TestApp};

/// The code pyotp computes for `secret` at `unix` seconds.
fn pyotp(secret: &str, unix: i64) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))",
            secret,
            &unix.to_string(),
        ])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn now(app: &TestApp) -> i64 {
    app.clock.now().as_secs()
}

/// The next 30-second step: a code of a step already used is refused, as it should be.
fn next_step(app: &TestApp) {
    app.clock.advance(Duration::from_secs(30));
}

/// Enrols ada with TOTP; returns the base32 secret and the recovery codes.
async fn enrol(app: &TestApp) -> (String, Vec<String>) {
    let token = app.password_login("ada", None).await.access_token;
    let wrong = app
        .bearer_json(
            reqwest::Method::POST,
            "/api/users/me/totp",
            &token,
            json!({"current_password": "not it at all"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let begun: Value = app
        .bearer_json(
            reqwest::Method::POST,
            "/api/users/me/totp",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = begun["secret"].as_str().unwrap().to_owned();
    let uri = begun["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Tessera%3Aada?secret=") && uri.contains("issuer=Tessera"),
        "{uri}"
    );
    assert!(begun["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    // Not asked at sign-in until confirmed.
    assert_eq!(
        app.token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", PASSWORD)
            ]
        )
        .await
        .status(),
        StatusCode::OK
    );
    let bad = app
        .bearer_json(
            reqwest::Method::POST,
            "/api/users/me/totp/confirm",
            &token,
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let confirmed = app
        .bearer_json(
            reqwest::Method::POST,
            "/api/users/me/totp/confirm",
            &token,
            json!({"code": pyotp(&secret, now(app))}),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let codes: Vec<String> = confirmed.json::<Value>().await.unwrap()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn password_grant(app: &TestApp, otp: Option<&str>) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", "ada"),
        ("password", PASSWORD),
    ];
    if let Some(o) = otp {
        form.push(("otp", o));
    }
    app.token_form("/oauth/token", &form).await
}

both_backends! {
    async fn totp_is_asked_on_every_password_path(app: TestApp) {
        if !require_python_modules(&["pyotp"]) {
            return;
        }
        app.create_user("ada", Role::User).await;
        let (secret, codes) = enrol(&app).await;
        // The password grant: mfa_required without otp; a right code once; the same code again refused.
        assert_oauth_error(password_grant(&app, None).await, StatusCode::BAD_REQUEST, "mfa_required").await;
        next_step(&app);
        let code = pyotp(&secret, now(&app));
        assert_eq!(password_grant(&app, Some(&code)).await.status(), StatusCode::OK);
        assert_oauth_error(password_grant(&app, Some(&code)).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
        assert_oauth_error(password_grant(&app, Some("123456")).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
        // One step of clock skew either way is accepted (the previous step's code, never used).
        next_step(&app);
        next_step(&app);
        let previous = pyotp(&secret, now(&app) - 30);
        assert_eq!(password_grant(&app, Some(&previous)).await.status(), StatusCode::OK);
        // Two steps back is too old.
        next_step(&app);
        next_step(&app);
        let stale = pyotp(&secret, now(&app) - 60);
        assert_oauth_error(password_grant(&app, Some(&stale)).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
        // /api/auth/login: 401 second_factor_required without otp, a session with one.
        let res = app.post_json("/api/auth/login", &json!({"username": "ada", "password": PASSWORD})).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.json::<Value>().await.unwrap()["code"], "second_factor_required");
        next_step(&app);
        let res = app.post_json("/api/auth/login", &json!({"username": "ada", "password": PASSWORD, "otp": pyotp(&secret, now(&app))})).await;
        assert_eq!(res.status(), StatusCode::OK);
        // HTTP Basic cannot carry a code: refused with second_factor_required, on the API and at login.
        let basic = app.client.get(app.url("/api/users/me")).basic_auth("ada", Some(PASSWORD)).send().await.unwrap();
        assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(basic.json::<Value>().await.unwrap()["code"], "second_factor_required");
        let basic_login = app.client.post(app.url("/api/login")).basic_auth("ada", Some(PASSWORD)).send().await.unwrap();
        assert_eq!(basic_login.status(), StatusCode::UNAUTHORIZED);
        // A recovery code works once, with or without its dash, in any case.
        let recovery = codes[0].to_uppercase().replace('-', "");
        assert_eq!(password_grant(&app, Some(&recovery)).await.status(), StatusCode::OK);
        assert_oauth_error(password_grant(&app, Some(&codes[0])).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
        // /api/users/me reports it.
        let token = password_grant(&app, Some(&codes[1])).await.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        let me: Value = app.get_bearer("/api/users/me", &token).await.json().await.unwrap();
        assert_eq!(me["second_factor"], json!({"totp": true, "passkeys": 0, "recovery_codes_left": 8}));
        // Removing TOTP needs a code; then the password alone works again.
        let refused = app.bearer_json( reqwest::Method::DELETE, "/api/users/me/totp", &token, json!({"code": "999999"})).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let removed = app.bearer_json( reqwest::Method::DELETE, "/api/users/me/totp", &token, json!({"code": codes[2]})).await;
        assert_eq!(removed.status(), StatusCode::NO_CONTENT);
        assert_eq!(password_grant(&app, None).await.status(), StatusCode::OK);
        let events = app.services.db.run(|c| tessera_db::models::audit_events::AuditEvent::recent(c, 200)).await.unwrap();
        for kind in ["second_factor.totp_enabled", "second_factor.failed", "second_factor.recovery_code_used", "second_factor.totp_removed"] {
            assert!(events.iter().any(|e| e.kind == kind), "{kind} audited");
        }
    }

    async fn the_login_page_asks_for_the_code_in_a_second_step(app: TestApp) {
        if !require_python_modules(&["pyotp"]) {
            return;
        }
        app.create_user("ada", Role::User).await;
        let (secret, _) = enrol(&app).await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = http.get(app.url("/login?rd=%2Faccount%2Fapps")).send().await.unwrap();
        let form_cookie = set_cookie(&page, "tessera_login_form").unwrap();
        let res = http.post(app.url("/login")).header("cookie", format!("tessera_login_form={form_cookie}"))
            .form(&[("username", "ada"), ("password", PASSWORD), ("csrf_token", &form_cookie), ("rd", "/account/apps")])
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "no session yet: the code is asked");
        assert!(set_cookie(&res, "tessera_session").is_none());
        let pending = set_cookie(&res, "tessera_mfa").expect("the wait's cookie");
        let form2 = set_cookie(&res, "tessera_login_form").unwrap();
        assert!(res.text().await.unwrap().contains("Enter your code"));
        let cookies = format!("tessera_login_form={form2}; tessera_mfa={pending}");
        let send = |otp: String| http.post(app.url("/login/code")).header("cookie", cookies.clone())
            .form(&[("csrf_token", form2.clone()), ("otp", otp)]).send();
        let wrong = send("000000".into()).await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&wrong, "tessera_session").is_none());
        next_step(&app);
        let right = send(pyotp(&secret, now(&app))).await.unwrap();
        assert_eq!(right.status(), StatusCode::SEE_OTHER);
        assert_eq!(right.headers()["location"], "/account/apps");
        assert!(set_cookie(&right, "tessera_session").is_some());
        // The wait is used up: the same cookie with the next code starts nothing.
        next_step(&app);
        let again = send(pyotp(&secret, now(&app))).await.unwrap();
        assert_eq!(again.headers()["location"], "/login");
        assert!(set_cookie(&again, "tessera_session").is_none());
    }

    async fn an_admin_resets_a_lost_factor(app: TestApp) {
        if !require_python_modules(&["pyotp"]) {
            return;
        }
        let ada = app.create_user("ada", Role::User).await;
        app.create_user("root", Role::Admin).await;
        // Basic works (and is cached) before the enrolment, and stops at it.
        let basic = || app.client.get(app.url("/api/users/me")).basic_auth("ada", Some(PASSWORD)).send();
        assert_eq!(basic().await.unwrap().status(), StatusCode::OK);
        assert_eq!(basic().await.unwrap().status(), StatusCode::OK);
        enrol(&app).await;
        assert_eq!(basic().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        let root = app.password_login("root", None).await.access_token;
        let member = app.client.delete(app.url(&format!("/api/users/{ada}/second-factor"))).send().await.unwrap();
        assert_eq!(member.status(), StatusCode::UNAUTHORIZED);
        let res = app.client.delete(app.url(&format!("/api/users/{ada}/second-factor"))).bearer_auth(&root).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(password_grant(&app, None).await.status(), StatusCode::OK);
        let events = app.services.db.run(|c| tessera_db::models::audit_events::AuditEvent::recent(c, 50)).await.unwrap();
        assert!(events.iter().any(|e| e.kind == "second_factor.reset" && e.actor.as_deref() == Some("root")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_may_be_allowed_by_the_operator() {
    if !require_python_modules(&["pyotp"]) {
        return;
    }
    let app = tessera_tests::TestAppBuilder::new(tessera_tests::DbKind::Sqlite)
        .config("[security]\nbasic_with_second_factor = \"allow\"\n")
        .try_spawn()
        .await
        .expect("sqlite app");
    app.create_user("ada", Role::User).await;
    enrol(&app).await;
    let basic = app
        .client
        .get(app.url("/api/users/me"))
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    assert_oauth_error(
        password_grant(&app, None).await,
        StatusCode::BAD_REQUEST,
        "mfa_required",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_must_have_a_factor_enrols_before_anything_else() {
    if !require_python_modules(&["pyotp"]) {
        return;
    }
    let app = tessera_tests::TestAppBuilder::new(tessera_tests::DbKind::Sqlite)
        .config("[security]\nrequire_second_factor = [\"admin\"]\n")
        .try_spawn()
        .await
        .expect("sqlite app");
    app.create_user("root", Role::Admin).await;
    app.create_user("ada", Role::User).await;
    let grant = |user: &'static str, otp: Option<String>| {
        let mut form = vec![
            ("grant_type", "password".to_owned()),
            ("username", user.to_owned()),
            ("password", PASSWORD.to_owned()),
        ];
        if let Some(o) = otp {
            form.push(("otp", o));
        }
        app.client.post(app.url("/oauth/token")).form(&form).send()
    };
    // Until enrolled: no token, no session, no Basic.
    assert_oauth_error(
        grant("root", None).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "mfa_required",
    )
    .await;
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"username": "root", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "second_factor_required"
    );
    let basic = app
        .client
        .get(app.url("/api/users/me"))
        .basic_auth("root", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    // Others are not asked.
    assert_eq!(grant("ada", None).await.unwrap().status(), StatusCode::OK);
    // The sign-in page enrols right after the password.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(app.url("/login")).send().await.unwrap();
    let form_cookie = set_cookie(&page, "tessera_login_form").unwrap();
    let res = http
        .post(app.url("/login"))
        .header("cookie", format!("tessera_login_form={form_cookie}"))
        .form(&[
            ("username", "root"),
            ("password", PASSWORD),
            ("csrf_token", &form_cookie),
            ("rd", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookie(&res, "tessera_session").is_none(),
        "no session before the enrolment"
    );
    let pending = set_cookie(&res, "tessera_mfa").unwrap();
    let form2 = set_cookie(&res, "tessera_login_form").unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Set up your authenticator") && html.contains("<svg"),
        "{html}"
    );
    let secret = html
        .split("<code id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let cookies = format!("tessera_login_form={form2}; tessera_mfa={pending}");
    let send = |otp: String| {
        http.post(app.url("/login/enrol"))
            .header("cookie", cookies.clone())
            .form(&[("csrf_token", form2.clone()), ("otp", otp)])
            .send()
    };
    assert_eq!(
        send("000000".into()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let done = send(pyotp(&secret, now(&app))).await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        set_cookie(&done, "tessera_session").is_some(),
        "signed in once enrolled"
    );
    let page = done.text().await.unwrap();
    assert_eq!(
        page.matches("<li><code>").count(),
        10,
        "the ten recovery codes, shown once"
    );
    // From now on the code is asked like for anyone with a factor.
    next_step(&app);
    assert_oauth_error(
        grant("root", None).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "mfa_required",
    )
    .await;
    assert_eq!(
        grant("root", Some(pyotp(&secret, now(&app))))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

/// The two-step sign-in in a real Chromium: the password, then the authenticator's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_a_code_in_chromium() {
    use fantoccini::Locator;
    use tessera_tests::browser::{browser_available, click, fill, sign_in, Browser};
    if !browser_available() || !require_python_modules(&["pyotp"]) {
        return;
    }
    let app = TestApp::try_spawn(tessera_tests::DbKind::Sqlite)
        .await
        .expect("sqlite app");
    app.create_user("ada", Role::User).await;
    let (secret, _) = enrol(&app).await;
    next_step(&app);
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/login")).await.unwrap();
    sign_in(c, "ada", PASSWORD).await;
    // No session yet: the code is asked.
    c.wait().for_element(Locator::Css("#otp")).await.unwrap();
    fill(c, "#otp", &pyotp(&secret, now(&app))).await;
    click(c, "button[type=submit]").await;
    // Signed in: the account page, where a sign-in without a return address lands.
    let name = c
        .wait()
        .for_element(Locator::Css("#username"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(name, "ada");
    assert_eq!(c.current_url().await.unwrap().path(), "/account");
    browser.stop().await;
}
