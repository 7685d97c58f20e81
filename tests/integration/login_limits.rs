//! Password guessing is rate-limited on every path under one budget; OAuth client authentication has its
//! own budget of failures per address.

use reqwest::StatusCode;
use serde_json::json;
use tessera_core::Role;
use tessera_service::oauth::clients::ClientSpec;
use tessera_tests::oauth::PASSWORD;
use tessera_tests::{DbKind, TestApp, TestAppBuilder};

async fn grant(app: &TestApp, ip: &str, user: &str, pw: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/token"))
        .header("x-forwarded-for", ip)
        .form(&[("grant_type", "password"), ("username", user), ("password", pw)])
        .send()
        .await
        .unwrap()
}

async fn every_password_path_shares_one_budget(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let ip = "198.51.100.20";
    // Ten wrong guesses spread over the grant, the JSON login and Basic.
    for i in 0..10 {
        let status = match i % 3 {
            0 => grant(&app, ip, "ada", "wrong").await.status(),
            1 => app
                .client
                .post(app.url("/api/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"username": "ada", "password": "wrong"}))
                .send()
                .await
                .unwrap()
                .status(),
            _ => app
                .client
                .get(app.url("/api/users/me"))
                .header("x-forwarded-for", ip)
                .basic_auth("ada", Some("wrong"))
                .send()
                .await
                .unwrap()
                .status(),
        };
        assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "attempt {i}");
    }
    // The eleventh is refused before the password is checked, even the right one.
    let res = grant(&app, ip, "ada", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("x-forwarded-for", ip)
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client is not affected; time refills the budget.
    assert_eq!(
        grant(&app, "198.51.100.21", "ada", PASSWORD).await.status(),
        StatusCode::OK
    );
    app.clock.advance(std::time::Duration::from_secs(6));
    assert_eq!(grant(&app, ip, "ada", PASSWORD).await.status(), StatusCode::OK);
}

async fn successes_are_refunded_and_ips_have_their_own_cap(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let ip = "198.51.100.30";
    // Logging in successfully costs nothing: many in a row are fine.
    for _ in 0..15 {
        assert_eq!(grant(&app, ip, "ada", PASSWORD).await.status(), StatusCode::OK);
    }
    // 30 failures per IP across usernames, then the IP is refused.
    for i in 0..30 {
        let res = grant(&app, "198.51.100.31", &format!("user{i}"), "wrong").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "attempt {i}");
    }
    assert_eq!(
        grant(&app, "198.51.100.31", "someone", "wrong").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A confidential client that may introspect; returns its secret.
async fn introspecting_client(app: &TestApp, client_id: &str, can_introspect: bool) -> String {
    let spec = ClientSpec {
        client_id: Some(client_id.into()),
        name: client_id.into(),
        confidential: true,
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["me.read".into()],
        can_introspect,
        sign_in: Default::default(),
    };
    let created = app
        .services
        .create_client(spec, "test", app.services.catalog.all());
    created.await.unwrap().client_secret.unwrap()
}

/// POST `form` to `path` from `ip`, authenticated as `id:secret` with HTTP Basic.
async fn as_client(
    app: &TestApp,
    path: &str,
    ip: &str,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> StatusCode {
    let res = app
        .client
        .post(app.url(path))
        .header("x-forwarded-for", ip)
        .basic_auth(id, Some(secret));
    res.form(form).send().await.unwrap().status()
}

async fn failed_client_authentication_is_budgeted(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db)
        .config("[rate_limits]\nclient_auth = { limit = 3, period_secs = 60 }\n")
        .try_spawn()
        .await
    else {
        return;
    };
    let secret = introspecting_client(&app, "reporting", true).await;
    let narrow = introspecting_client(&app, "narrow", false).await;
    let grant = [("grant_type", "client_credentials")];
    let ip = "198.51.100.40";
    // Right credentials are refunded: more of them than the budget, on the token and revoke endpoints.
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/token", "/oauth/revoke"] {
        let form: &[(&str, &str)] = if path == "/oauth/token" {
            &grant
        } else {
            &[("token", "x")]
        };
        assert_eq!(
            as_client(&app, path, ip, "reporting", &secret, form).await,
            StatusCode::OK,
            "{path}"
        );
    }
    let token = [("token", "tsr_unknown")];
    assert_eq!(
        as_client(&app, "/oauth/introspect", ip, "reporting", &secret, &token).await,
        StatusCode::OK
    );
    // Three failures: a made-up client, a wrong secret, a client that may not introspect.
    let failures = [
        ("/oauth/token", "made-up", "secret", &grant[..]),
        ("/oauth/revoke", "reporting", "wrong", &token[..]),
        ("/oauth/introspect", "narrow", narrow.as_str(), &token[..]),
    ];
    for (path, id, pw, form) in failures {
        assert_eq!(
            as_client(&app, path, ip, id, pw, form).await,
            StatusCode::UNAUTHORIZED,
            "{path} {id}"
        );
    }
    // The budget is spent: even right credentials wait, refused before the lookup, with a Retry-After.
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("x-forwarded-for", ip)
        .basic_auth("reporting", Some(&secret));
    let res = res.form(&grant).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].is_string(), "an OAuth error body: {body}");
    // Malformed credentials are refused without the database and were never charged: still 401.
    let garbage = app
        .client
        .post(app.url("/oauth/token"))
        .header("x-forwarded-for", ip);
    let garbage = garbage
        .header("authorization", "Basic !!!")
        .form(&grant)
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    // A cached introspector asks neither the database nor the budget.
    assert_eq!(
        as_client(&app, "/oauth/introspect", ip, "reporting", &secret, &token).await,
        StatusCode::OK
    );
    // Another address is not affected; time refills the budget (one unit every 20 s).
    let other = as_client(
        &app,
        "/oauth/token",
        "198.51.100.41",
        "reporting",
        &secret,
        &grant,
    )
    .await;
    assert_eq!(other, StatusCode::OK);
    app.clock.advance(std::time::Duration::from_secs(21));
    assert_eq!(
        as_client(&app, "/oauth/token", ip, "reporting", &secret, &grant).await,
        StatusCode::OK
    );
}

tessera_tests::on_both_backends!(
    every_password_path_shares_one_budget,
    successes_are_refunded_and_ips_have_their_own_cap,
    failed_client_authentication_is_budgeted
);
