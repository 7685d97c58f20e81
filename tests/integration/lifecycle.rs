//! Accounts lifecycle (issue 11): invites and registration, password reset and email verification by
//! mail through a real SMTP server, and the first-admin page.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::{set_cookie, PASSWORD};
use tessera_tests::smtp::{link_in, SmtpSink};
use tessera_tests::{on_both_backends, DbKind, TestApp, TestAppBuilder};

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let rb = app.client.post(app.url(path)).json(&body);
    let rb = match token {
        Some(t) => rb.bearer_auth(t),
        None => rb,
    };
    rb.send().await.unwrap()
}

async fn invite(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    post(app, "/api/users/invite-link", Some(token), body).await
}

fn register_body(token: &str, username: &str) -> Value {
    json!({"token": token, "username": username, "email": format!("{username}@example.org"), "password": PASSWORD})
}

async fn invites_create_accounts_once(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let admin = app.password_login("root", None).await.access_token;
    let res = invite(&app, &admin, json!({"role": "viewer"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let inv: Value = res.json().await.unwrap();
    let token = inv["token"].as_str().unwrap().to_owned();
    assert_eq!(inv["url"], format!("{}/register?token={token}", app.base));
    assert_eq!(inv["expires_at"], "2026-12-03T09:00:00Z", "seven days by default");

    // A bad account leaves the invite unused; a taken username too.
    let bad = post(
        &app,
        "/api/users/register",
        None,
        json!({"token": token, "username": "x", "password": "short"}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let taken = post(&app, "/api/users/register", None, register_body(&token, "root")).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let ok = post(&app, "/api/users/register", None, register_body(&token, "Bea")).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let user: Value = ok.json().await.unwrap();
    assert_eq!(
        (user["username"].as_str(), user["role"].as_str()),
        (Some("bea"), Some("user"))
    );
    assert_eq!(user["email_verified"], false);
    assert_eq!(app.password_login("bea", None).await.body["token_type"], "Bearer");
    // Used once: a second use is 410, whoever tries.
    let again = post(&app, "/api/users/register", None, register_body(&token, "cid")).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert_eq!(again.json::<Value>().await.unwrap()["code"], "gone");

    // Expired invites are gone too.
    let late: Value = invite(&app, &admin, json!({"expires_in": 3600}))
        .await
        .json()
        .await
        .unwrap();
    app.clock.advance(std::time::Duration::from_secs(3601));
    let res = post(
        &app,
        "/api/users/register",
        None,
        register_body(late["token"].as_str().unwrap(), "dan"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::GONE);

    // Ten racing registrations with one invite: exactly one account.
    let admin = app.password_login("root", None).await.access_token;
    let race: Value = invite(&app, &admin, json!({})).await.json().await.unwrap();
    let token = race["token"].as_str().unwrap().to_owned();
    let attempts = (0..10).map(|i| {
        let (app, token) = (&app, token.clone());
        async move {
            // Each racer from its own address, so the per-IP register budget is not what decides.
            app.client
                .post(app.url("/api/users/register"))
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .json(&register_body(&token, &format!("racer{i}")))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::GONE),
        "{statuses:?}"
    );

    // Validation of the invite itself.
    for body in [
        json!({"role": "owner"}),
        json!({"expires_in": 10}),
        json!({"expires_in": 99_999_999}),
    ] {
        assert_eq!(
            invite(&app, &admin, body.clone()).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
    }
}

async fn only_admins_invite_admins(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let helper = app.create_user("helper", Role::User).await;
    let admin = app.password_login("root", None).await.access_token;
    // A user granted users.write (on top of the default group, so holding what an invitee gets) may
    // invite users, but not admins.
    let default = app
        .services
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.group.is_default)
        .expect("a default group")
        .group
        .id;
    let res = app
        .client
        .put(app.url(&format!("/api/permissions/users/{helper}")))
        .bearer_auth(&admin)
        .json(&json!({"permission_group_id": default, "overrides": [{"entity": "users", "action": "write", "own_only": false, "effect": "grant"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let helper_token = app.password_login("helper", None).await.access_token;
    assert_eq!(
        invite(&app, &helper_token, json!({"role": "admin"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        invite(&app, &helper_token, json!({"role": "user"}))
            .await
            .status(),
        StatusCode::CREATED
    );
    // Out of every group, the helper holds less than an invitee would get: the invite would mint it.
    let res = app
        .client
        .put(app.url(&format!("/api/permissions/users/{helper}")))
        .bearer_auth(&admin)
        .json(&json!({"permission_group_id": null, "overrides": [{"entity": "users", "action": "write", "own_only": false, "effect": "grant"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let refused = invite(&app, &helper_token, json!({"role": "user"})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "scope_excess");
    let plain = app.create_user("plain", Role::User).await;
    let _ = plain;
    let plain_token = app.password_login("plain", None).await.access_token;
    assert_eq!(
        invite(&app, &plain_token, json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let admin_invite: Value = invite(&app, &admin, json!({"role": "admin"}))
        .await
        .json()
        .await
        .unwrap();
    let res = post(
        &app,
        "/api/users/register",
        None,
        register_body(admin_invite["token"].as_str().unwrap(), "second"),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["role"], "admin");
}

on_both_backends!(invites_create_accounts_once, only_admins_invite_admins);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_and_invites_are_rate_limited() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    app.create_user("root", Role::Admin).await;
    // Register: 10 per hour per client IP, valid invite or not.
    for i in 0..10 {
        let res = post(
            &app,
            "/api/users/register",
            None,
            register_body("no-such-invite", &format!("u{i}")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::GONE, "attempt {i}");
    }
    let res = post(
        &app,
        "/api/users/register",
        None,
        register_body("no-such-invite", "u10"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Invites: 20 per hour per inviter.
    let admin = app.password_login("root", None).await.access_token;
    for i in 0..20 {
        assert_eq!(
            invite(&app, &admin, json!({})).await.status(),
            StatusCode::CREATED,
            "invite {i}"
        );
    }
    assert_eq!(
        invite(&app, &admin, json!({})).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_page_creates_an_account() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    app.create_user("root", Role::Admin).await;
    let admin = app.password_login("root", None).await.access_token;
    let inv: Value = invite(&app, &admin, json!({})).await.json().await.unwrap();
    let token = inv["token"].as_str().unwrap();
    let page = app
        .client
        .get(app.url(&format!("/register?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let form = set_cookie(&page, "tessera_form").unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(token) && html.contains(&form));
    let submit = |csrf: String| {
        app.client
            .post(app.url("/register"))
            .header("cookie", format!("tessera_form={form}"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("token", token),
                ("username", "eve"),
                ("email", ""),
                ("password", PASSWORD),
            ])
            .send()
    };
    assert_eq!(
        submit("forged".into()).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let done = submit(form.clone()).await.unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    assert!(done.text().await.unwrap().contains("Welcome, eve"));
    let reused = submit(form.clone()).await.unwrap();
    assert_eq!(reused.status(), StatusCode::GONE);
}

/// An app that mails through a real SMTP server.
async fn app_with_mail(db: DbKind, sink: &SmtpSink) -> Option<TestApp> {
    TestAppBuilder::new(db)
        .env("TESSERA_MAIL__SMTP_HOST", "127.0.0.1")
        .env("TESSERA_MAIL__SMTP_PORT", &sink.port.to_string())
        .env("TESSERA_MAIL__SMTP_TLS", "none")
        .env("TESSERA_MAIL__FROM", "Tessera <id@example.org>")
        .try_spawn()
        .await
}

async fn a_mailed_reset_link_sets_a_password_and_revokes_everything(db: DbKind) {
    let Some(sink) = SmtpSink::start().await else {
        return;
    };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };
    let ada = app.create_user("ada", Role::User).await;
    app.create_user("root", Role::Admin).await;
    let admin = app.password_login("root", None).await.access_token;
    let res = app
        .client
        .put(app.url(&format!("/api/users/{ada}")))
        .bearer_auth(&admin)
        .json(&json!({"email": "ada@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let before = app.password_login("ada", None).await;
    let session = app.session_login("ada").await;
    let ct: Value = app
        .client
        .post(app.url("/api/client-tokens"))
        .bearer_auth(&before.access_token)
        .json(&json!({"name": "script", "scopes": ["me.read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_token = ct["raw_token"].as_str().unwrap().to_owned();

    // Known and unknown users get the same empty 204; only the known one gets mail.
    for name in ["nobody", "ada"] {
        let res = post(&app, "/api/forgot-password", None, json!({"username": name})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{name}");
        assert!(res.text().await.unwrap().is_empty());
    }
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1, "no mail for an unknown user");
    assert!(mails[0].contains("To: ada@example.org"), "{}", mails[0]);
    assert!(
        mails[0].contains("From: Tessera <id@example.org>"),
        "{}",
        mails[0]
    );
    let (url, token) = link_in(&mails[0], "/reset-password").expect("a reset link in the mail");
    assert!(url.starts_with(&app.base), "{url}");
    // The link is followed: the page shows the form for it.
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(&token));

    let new_password = "a brand new password";
    let res = post(
        &app,
        "/api/reset-password",
        None,
        json!({"token": token, "new_password": new_password}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Every earlier credential is dead, client tokens included.
    assert_eq!(app.introspect(&before.access_token).await["active"], false);
    assert_eq!(
        app.refresh(&before.refresh_token).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get_bearer("/api/users/me", &client_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let me = app
        .with_session(app.client.get(app.url("/api/users/me")), &session, false)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let login = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", new_password),
            ],
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    // One use only; and links die after ten minutes.
    let again = post(
        &app,
        "/api/reset-password",
        None,
        json!({"token": token, "new_password": "yet another one"}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::GONE);
    let fresh = app.services.issue_reset_link(ada).await.unwrap();
    app.clock.advance(std::time::Duration::from_secs(601));
    let fresh_token = fresh.split("token=").nth(1).unwrap();
    let late = post(
        &app,
        "/api/reset-password",
        None,
        json!({"token": fresh_token, "new_password": "too late password"}),
    )
    .await;
    assert_eq!(late.status(), StatusCode::GONE);
    // The link never reached the log.
    let logs = std::fs::read_dir(tessera_tests::logs::dir()).unwrap();
    for f in logs.flatten() {
        assert!(!std::fs::read_to_string(f.path())
            .unwrap_or_default()
            .contains(&token));
    }
}

async fn email_is_verified_by_a_mailed_link(db: DbKind) {
    let Some(sink) = SmtpSink::start().await else {
        return;
    };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let t = app.password_login("ada", None).await.access_token;
    let res = app
        .client
        .put(app.url("/api/users/me"))
        .bearer_auth(&t)
        .json(&json!({"email": "ada@example.org", "current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    assert_eq!(
        post(&app, "/api/users/me/verify-email", Some(&t), json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let mails = sink.wait_for(1).await;
    let (url, _) = link_in(&mails[0], "/verify-email").expect("a verification link");
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let me: Value = app.get_bearer("/api/users/me", &t).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true, "{me}");
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status(),
        StatusCode::GONE,
        "one use"
    );
}

on_both_backends!(
    a_mailed_reset_link_sets_a_password_and_revokes_everything,
    email_is_verified_by_a_mailed_link
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_is_rate_limited_alike_for_everyone() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    app.create_user("ada", Role::User).await;
    for name in ["ada", "nobody"] {
        for i in 0..5 {
            let res = post(&app, "/api/forgot-password", None, json!({"username": name})).await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT, "{name} {i}");
        }
        let res = post(&app, "/api/forgot-password", None, json!({"username": name})).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{name}");
    }
}

async fn the_setup_page_creates_the_first_admin_then_closes(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    let page = app.client.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let form = set_cookie(&page, "tessera_form").unwrap();
    let submit = |username: &'static str| {
        app.client
            .post(app.url("/setup"))
            .header("cookie", format!("tessera_form={form}"))
            .form(&[
                ("csrf_token", form.as_str()),
                ("token", ""),
                ("username", username),
                ("email", ""),
                ("password", PASSWORD),
            ])
            .send()
    };
    let bad = app
        .client
        .post(app.url("/setup"))
        .header("cookie", format!("tessera_form={form}"))
        .form(&[
            ("csrf_token", form.as_str()),
            ("username", "ok"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = submit("owner").await.unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    assert_eq!(
        app.password_login("owner", None).await.body["token_type"],
        "Bearer"
    );
    // Closed, not hidden: the page and a replayed form both say so.
    assert_eq!(
        app.client.get(app.url("/setup")).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(submit("intruder").await.unwrap().status(), StatusCode::CONFLICT);
    let status: Value = app.get("/api/heartbeat").await.json().await.unwrap();
    assert_eq!(status["setup"]["needs_setup"], false);
}

on_both_backends!(the_setup_page_creates_the_first_admin_then_closes);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_setup_page_is_forbidden() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .env("TESSERA_SETUP__DISABLED", "true")
        .try_spawn()
        .await
        .unwrap();
    let page = app.client.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.text().await.unwrap().contains("disabled"));
}
