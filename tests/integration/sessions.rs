//! Browser sessions, CSRF and CORS (issue 5).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::{set_cookie, PASSWORD};
use tessera_tests::{both_backends, DbKind, TestApp, TestAppBuilder};

async fn me_status(app: &TestApp, cookie: &str) -> StatusCode {
    app.client
        .get(app.url("/api/users/me"))
        .header("cookie", format!("tessera_session={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
}

both_backends! {
    async fn login_sets_a_fresh_session_and_cookies(app: TestApp) {
        app.create_user("ada", Role::User).await;
        // An attacker-planted cookie is never adopted: login issues a new session id.
        let planted = "a".repeat(64);
        let res = app.client.post(app.url("/api/auth/login")).header("cookie", format!("tessera_session={planted}"))
            .json(&json!({"username": "ada", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let raw: Vec<String> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let session = raw.iter().find(|c| c.starts_with("tessera_session=")).unwrap();
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"), "{session}");
        assert!(!session.contains("Secure"), "plain http in tests");
        let csrf = raw.iter().find(|c| c.starts_with("tessera_csrf=")).unwrap();
        assert!(!csrf.contains("HttpOnly"), "the page's script reads the CSRF cookie");
        let first = set_cookie(&res, "tessera_session").unwrap();
        assert_ne!(first, planted);
        assert_eq!(me_status(&app, &planted).await, StatusCode::UNAUTHORIZED);
        assert_eq!(me_status(&app, &first).await, StatusCode::OK);
        // Signing in again, even from a live session, rotates the id.
        let again = app.client.post(app.url("/api/auth/login")).header("cookie", format!("tessera_session={first}"))
            .header("content-type", "application/x-www-form-urlencoded").body(format!("username=ada&password={}", PASSWORD.replace(' ', "+")))
            .send().await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        let second = set_cookie(&again, "tessera_session").unwrap();
        assert_ne!(second, first);
        // RomM's Basic login.
        let basic = app.client.post(app.url("/api/login")).basic_auth("ada", Some(PASSWORD)).send().await.unwrap();
        assert_eq!(basic.status(), StatusCode::OK);
        assert!(set_cookie(&basic, "tessera_session").is_some());
        let wrong = app.client.post(app.url("/api/login")).basic_auth("ada", Some("nope")).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let me: Value = app.client.get(app.url("/api/users/me")).header("cookie", format!("tessera_session={second}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["oauth_scopes"].as_array().unwrap().len(), 13, "a session carries the user's rights");
    }

    async fn logout_and_session_delete_end_sessions(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let a = app.session_login("ada").await;
        let b = app.session_login("ada").await;
        let list: Value = app.with_session(app.client.get(app.url("/api/sessions")), &a, false).send().await.unwrap().json().await.unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2);
        let current: Vec<bool> = list.iter().map(|s| s["current"].as_bool().unwrap()).collect();
        assert_eq!(current.iter().filter(|c| **c).count(), 1);
        let other_id = list.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
        let del = app.with_session(app.client.delete(app.url(&format!("/api/sessions/{other_id}"))), &a, true).send().await.unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT);
        assert_eq!(me_status(&app, &b.cookie).await, StatusCode::UNAUTHORIZED);
        let again = app.with_session(app.client.delete(app.url(&format!("/api/sessions/{other_id}"))), &a, true).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
        // Someone else's session is a 404 too.
        app.create_user("bob", Role::User).await;
        let bob = app.session_login("bob").await;
        let bobs: Value = app.with_session(app.client.get(app.url("/api/sessions")), &bob, false).send().await.unwrap().json().await.unwrap();
        let bob_id = bobs[0]["id"].as_str().unwrap();
        let foreign = app.with_session(app.client.delete(app.url(&format!("/api/sessions/{bob_id}"))), &a, true).send().await.unwrap();
        assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
        let out = app.with_session(app.client.post(app.url("/api/logout")), &a, true).send().await.unwrap();
        assert_eq!(out.status(), StatusCode::OK);
        let cleared = set_cookie(&out, "tessera_session").unwrap();
        assert!(cleared.is_empty());
        assert_eq!(me_status(&app, &a.cookie).await, StatusCode::UNAUTHORIZED);
        assert_eq!(me_status(&app, &bob.cookie).await, StatusCode::OK);
        let out = app.with_session(app.client.post(app.url("/api/auth/logout")), &bob, true).send().await.unwrap();
        assert_eq!(out.status(), StatusCode::OK);
        assert_eq!(me_status(&app, &bob.cookie).await, StatusCode::UNAUTHORIZED);
    }

    async fn sessions_expire_idle_and_absolute(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let idle = app.session_login("ada").await;
        app.clock.advance(Duration::from_secs(2 * 86_400 - 10));
        assert_eq!(me_status(&app, &idle.cookie).await, StatusCode::OK, "within the idle timeout");
        app.clock.advance(Duration::from_secs(2 * 86_400 + 1));
        assert_eq!(me_status(&app, &idle.cookie).await, StatusCode::UNAUTHORIZED, "idle for two days");
        let busy = app.session_login("ada").await;
        for _ in 0..13 {
            app.clock.advance(Duration::from_secs(86_400));
            assert_eq!(me_status(&app, &busy.cookie).await, StatusCode::OK);
        }
        app.clock.advance(Duration::from_secs(86_400));
        assert_eq!(me_status(&app, &busy.cookie).await, StatusCode::UNAUTHORIZED, "14 days is the absolute limit");
        let me = app.password_login("ada", None).await.access_token;
        let user: Value = app.get_bearer("/api/users/me", &me).await.json().await.unwrap();
        assert!(user["last_active"].is_string());
    }

    async fn activity_is_written_at_most_every_five_minutes(app: TestApp) {
        let id = app.create_user("ada", Role::User).await;
        let s = app.session_login("ada").await;
        let last_active = || async { app.services.get_user(id).await.unwrap().last_active.unwrap() };
        let login_time = last_active().await;
        assert_eq!(app.services.get_user(id).await.unwrap().last_login, Some(login_time), "login sets both");
        app.clock.advance(Duration::from_secs(4 * 60));
        assert_eq!(me_status(&app, &s.cookie).await, StatusCode::OK);
        assert_eq!(last_active().await, login_time, "4 minutes later: not written again");
        app.clock.advance(Duration::from_secs(60));
        assert_eq!(me_status(&app, &s.cookie).await, StatusCode::OK);
        assert_eq!(last_active().await, login_time + 300, "5 minutes later: written");
        app.clock.advance(Duration::from_secs(299));
        assert_eq!(me_status(&app, &s.cookie).await, StatusCode::OK);
        assert_eq!(last_active().await, login_time + 300, "debounced again");
    }

    async fn cookie_writes_need_the_csrf_token(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let s = app.session_login("ada").await;
        let body = json!({"email": "x@example.com", "current_password": PASSWORD});
        let missing = app.with_session(app.client.put(app.url("/api/users/me")), &s, false).json(&body).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::FORBIDDEN);
        assert_eq!(missing.json::<Value>().await.unwrap()["code"], "csrf");
        // A Bearer header added to a cookie request does not exempt it.
        let t = app.password_login("ada", None).await.access_token;
        let with_bearer = app.with_session(app.client.put(app.url("/api/users/me")), &s, false).bearer_auth("bogus").json(&body).send().await.unwrap();
        assert_eq!(with_bearer.status(), StatusCode::FORBIDDEN);
        let with_valid_bearer = app.with_session(app.client.put(app.url("/api/users/me")), &s, false).bearer_auth(&t).json(&body).send().await.unwrap();
        assert_eq!(with_valid_bearer.json::<Value>().await.unwrap()["code"], "csrf");
        let wrong = app.with_session(app.client.put(app.url("/api/users/me")), &s, false).header("x-csrf-token", "0".repeat(64)).json(&body).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        // Another session's token does not fit this one.
        let other = app.session_login("ada").await;
        let swapped = app.with_session(app.client.put(app.url("/api/users/me")), &s, false).header("x-csrf-token", &other.csrf).json(&body).send().await.unwrap();
        assert_eq!(swapped.status(), StatusCode::FORBIDDEN);
        let ok = app.with_session(app.client.put(app.url("/api/users/me")), &s, true).json(&body).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let logout = app.with_session(app.client.post(app.url("/api/logout")), &s, false).send().await.unwrap();
        assert_eq!(logout.status(), StatusCode::FORBIDDEN, "logout is a cookie write too");
        // Reads and Bearer-only writes need no CSRF token; login works with a stale cookie.
        assert_eq!(app.with_session(app.client.get(app.url("/api/users/me")), &s, false).send().await.unwrap().status(), StatusCode::OK);
        let relogin = app.client.post(app.url("/api/auth/login")).header("cookie", "tessera_session=stale")
            .json(&json!({"username": "ada", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(relogin.status(), StatusCode::OK);
    }

    async fn the_login_page_signs_in_with_its_form_token(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let page = app.client.get(app.url("/login?rd=https://evil.example/steal")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let form_cookie = set_cookie(&page, "tessera_login_form").unwrap();
        let html = page.text().await.unwrap();
        assert!(html.contains("<form") && html.contains(&form_cookie));
        assert!(!html.contains("evil.example"), "an outside rd is dropped");
        let forged = app.client.post(app.url("/login")).form(&[("username", "ada"), ("password", PASSWORD), ("csrf_token", "x")]).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let bad = no_redirects.post(app.url("/login")).header("cookie", format!("tessera_login_form={form_cookie}"))
            .form(&[("username", "ada"), ("password", "wrong"), ("csrf_token", form_cookie.as_str())]).send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
        assert!(bad.text().await.unwrap().contains("invalid username or password"));
        let ok = no_redirects.post(app.url("/login")).header("cookie", format!("tessera_login_form={form_cookie}"))
            .form(&[("username", "ada"), ("password", PASSWORD), ("csrf_token", form_cookie.as_str()), ("rd", "/api/users/me")]).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        assert_eq!(ok.headers()["location"], "/api/users/me");
        let cookie = set_cookie(&ok, "tessera_session").unwrap();
        assert_eq!(me_status(&app, &cookie).await, StatusCode::OK);
        let signed_in = app.client.get(app.url("/login")).header("cookie", format!("tessera_session={cookie}")).send().await.unwrap().text().await.unwrap();
        assert!(signed_in.contains("signed in as <strong>ada</strong>"));
    }
}

/// Behind HTTPS the cookies are Secure; with `session.cookie_domain` sibling hosts behind forward-auth see them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_follow_the_public_url_and_the_cookie_domain() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .env("TESSERA_PUBLIC_URL", "https://auth.example.test")
        .env("TESSERA_SESSION__COOKIE_DOMAIN", ".example.test")
        .try_spawn()
        .await
        .unwrap();
    app.create_user("ada", Role::User).await;
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    for name in ["tessera_session=", "tessera_csrf="] {
        let c = cookies.iter().find(|c| c.starts_with(name)).unwrap();
        assert!(
            c.contains("; Secure") && c.contains("Domain=.example.test"),
            "{c}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_off_unless_origins_are_listed() {
    let off = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let preflight = |app: &TestApp, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/users/me"))
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .send()
    };
    let res = preflight(&off, "https://app.example.com").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let on = TestAppBuilder::new(DbKind::Sqlite)
        .env("TESSERA_CORS__ALLOWED_ORIGINS", r#"["https://app.example.com"]"#)
        .try_spawn()
        .await
        .unwrap();
    let res = preflight(&on, "https://evil.example.com").await.unwrap();
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "an unlisted origin gets nothing"
    );
    let res = preflight(&on, "https://app.example.com").await.unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let same_origin = on
        .client
        .get(on.url("/healthz"))
        .header("origin", on.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        same_origin.status(),
        StatusCode::OK,
        "Tessera's own pages still work"
    );
    let star = tessera_server::config::load(
        None,
        &[
            ("TESSERA_CORS__ALLOWED_ORIGINS".into(), r#"["*"]"#.into()),
            (
                "TESSERA_DATA_DIR".into(),
                on.services.settings.server.data_dir.display().to_string(),
            ),
        ],
    );
    assert_eq!(star.unwrap_err().key, "cors.allowed_origins");
}
