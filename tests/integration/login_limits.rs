//! Password guessing is rate-limited on every path under one budget.

use reqwest::StatusCode;
use serde_json::json;
use tessera_core::Role;
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

tessera_tests::on_both_backends!(
    every_password_path_shares_one_budget,
    successes_are_refunded_and_ips_have_their_own_cap
);
