//! Brute force and enumeration (issue 10): one bcrypt per failed login on every path, the same answer
//! for known and unknown users, budgets shared across replicas, the user-code budget, the audit log and
//! the problem pages.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::{set_cookie, PASSWORD};
use tessera_tests::{on_both_backends, DbKind, TestApp, TestAppBuilder};

/// One failed login attempt on one path; returns status and body text.
async fn attempt(app: &TestApp, path: &str, user: &str, password: &str) -> (StatusCode, String) {
    let c = &app.client;
    let res = match path {
        "/oauth/token" | "/api/token" => c.post(app.url(path)).form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ]),
        "/api/login" => c.post(app.url(path)).basic_auth(user, Some(password)),
        "/api/auth/login" => c
            .post(app.url(path))
            .json(&json!({"username": user, "password": password})),
        "basic" => c.get(app.url("/api/users/me")).basic_auth(user, Some(password)),
        "/login" => {
            let page = c.get(app.url("/login")).send().await.unwrap();
            let form = set_cookie(&page, "tessera_login_form").unwrap();
            c.post(app.url("/login"))
                .header("cookie", format!("tessera_login_form={form}"))
                .form(&[
                    ("username", user),
                    ("password", password),
                    ("csrf_token", form.as_str()),
                ])
        }
        other => panic!("no such login path {other}"),
    };
    let res = res.send().await.unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    (status, body)
}

/// Bodies carry a request id (JSON) or a fresh form token (the page); the rest must match between
/// known and unknown users.
fn without_request_id(body: &str) -> String {
    const FORM_TOKEN: &str = r#"name="csrf_token" value=""#;
    if let Some(at) = body.find(FORM_TOKEN) {
        let start = at + FORM_TOKEN.len();
        let end = start + body[start..].find('"').unwrap_or(0);
        return format!("{}{}", &body[..start], &body[end..]);
    }
    match serde_json::from_str::<Value>(body) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("request_id");
            }
            v.to_string()
        }
        Err(_) => body.to_owned(),
    }
}

const LOGIN_PATHS: [&str; 6] = [
    "/oauth/token",
    "/api/token",
    "/api/login",
    "/api/auth/login",
    "basic",
    "/login",
];

async fn every_failed_login_runs_bcrypt_exactly_once(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let hasher = &app.services.hasher;
    for path in LOGIN_PATHS {
        let mut answers = Vec::new();
        let mut timings = Vec::new();
        // A known user with a wrong password, an unknown user, and a name that is not even valid.
        for (user, password) in [
            ("ada", "wrong password"),
            ("nobody", "wrong password"),
            ("Not A Name!", "x"),
        ] {
            let before = hasher.verifications();
            let start = Instant::now();
            let (status, body) = attempt(&app, path, user, password).await;
            timings.push(start.elapsed());
            assert_eq!(
                hasher.verifications() - before,
                1,
                "{path} as {user:?}: exactly one bcrypt per failed login"
            );
            assert!(
                matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED),
                "{path}: {status}"
            );
            answers.push((status, without_request_id(&body)));
        }
        assert_eq!(
            answers[0], answers[1],
            "{path}: known and unknown users get the same answer"
        );
        assert_eq!(
            answers[0], answers[2],
            "{path}: an invalid name gets the same answer too"
        );
        // Reported, not asserted: the machines are noisy; the bcrypt count above is the proof.
        println!(
            "{path}: known {:?}, unknown {:?}, invalid {:?}",
            timings[0], timings[1], timings[2]
        );
    }
    // A success also costs exactly one.
    let before = hasher.verifications();
    assert_eq!(
        attempt(&app, "/oauth/token", "ada", PASSWORD).await.0,
        StatusCode::OK
    );
    assert_eq!(hasher.verifications() - before, 1);
}

async fn the_audit_log_lists_security_events(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    let ada = app.create_user("ada", Role::User).await;
    app.create_user("root", Role::Admin).await;
    attempt(&app, "/oauth/token", "ada", "wrong password").await;
    let admin = app.password_login("root", None).await.access_token;
    let get = |query: &str| {
        app.client
            .get(app.url(&format!("/api/audit{query}")))
            .bearer_auth(&admin)
            .send()
    };
    let res = get("?kind=login.failed").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let events: Vec<Value> = res.json().await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "login.failed");
    assert_eq!(events[0]["user_id"], ada);
    assert_eq!(events[0]["at"], "2026-11-26T09:00:00Z");
    // Filters: by user, by time, by count.
    let other: Vec<Value> = get(&format!("?user_id={}", ada + 1000))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(other.is_empty());
    let later: Vec<Value> = get("?since=2026-11-26T10:00:00Z")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
    let one: Vec<Value> = get("?limit=1").await.unwrap().json().await.unwrap();
    assert_eq!(one.len(), 1);
    // Bad filters are 422 naming the parameter, not 500s or plain-text 400s.
    let long_kind = format!("?kind={}", "k".repeat(65));
    for query in [
        "?limit=0",
        "?limit=5000",
        "?since=yesterday",
        "?user_id=abc",
        long_kind.as_str(),
    ] {
        let res = get(query).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
    }
    // A lockout is a security event too, recorded once per budget period however often it is hit.
    for _ in 0..14 {
        attempt(&app, "/api/token", "ada", "still wrong").await;
    }
    let locked: Vec<Value> = get("?kind=login.locked").await.unwrap().json().await.unwrap();
    assert_eq!(locked.len(), 1, "{locked:?}");
    assert!(
        locked[0]["detail"].as_str().unwrap().contains("login_user"),
        "{locked:?}"
    );
    app.clock.advance(Duration::from_secs(60));
    // logs.read is needed: a plain user is refused.
    let user = app.password_login("ada", None).await.access_token;
    let res = app.get_bearer("/api/audit", &user).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["missing"], json!(["logs.read"]));
}

on_both_backends!(
    every_failed_login_runs_bcrypt_exactly_once,
    the_audit_log_lists_security_events
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_budget_is_shared_across_replicas() {
    let Some((a, b)) = tessera_tests::replica_pair().await else {
        return;
    };
    a.create_user("ada", Role::User).await;
    let guess = |app: &TestApp| {
        app.client
            .post(app.url("/oauth/token"))
            .header("x-forwarded-for", "203.0.113.9")
            .form(&[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", "wrong"),
            ])
            .send()
    };
    // Ten guesses, alternating replicas, use up the one per-user budget (10/min).
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            guess(app).await.unwrap().status(),
            StatusCode::BAD_REQUEST,
            "guess {i}"
        );
    }
    for app in [&a, &b] {
        let res = guess(app).await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_user_codes_are_rate_limited_per_account() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    app.create_user("ada", Role::User).await;
    let token = app.password_login("ada", None).await.access_token;
    let init: Value = app
        .post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv", "name": "TV", "client": "argosy", "platform": "android", "requested_scopes": ["me.read"]}))
        .await
        .json()
        .await
        .unwrap();
    let real = init["user_code"].as_str().unwrap().to_owned();
    let pending = |code: String| {
        let (app, token) = (&app, token.clone());
        async move {
            app.get_bearer(&format!("/api/auth/device/pending/{code}"), &token)
                .await
        }
    };
    // Right codes do not count against the budget.
    for _ in 0..12 {
        assert_eq!(pending(real.clone()).await.status(), StatusCode::OK);
    }
    for i in 0..10 {
        assert_eq!(
            pending("BBBB-BBBB".into()).await.status(),
            StatusCode::NOT_FOUND,
            "miss {i}"
        );
    }
    let res = pending(real.clone()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // The page answers the same way, in HTML.
    let session = app.session_login("ada").await;
    let page = app
        .with_session(
            app.client.get(app.url("/device?user_code=CCCC-CCCC")),
            &session,
            false,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.text().await.unwrap().contains("Too many wrong codes"));
    app.clock.advance(Duration::from_secs(60));
    assert_eq!(pending(real).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_types_are_explained_and_documented() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let res = app.get("/problems/rate_limited").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(res.text().await.unwrap().to_lowercase().contains("too many"));
    assert_eq!(
        app.get("/problems/no_such_code").await.status(),
        StatusCode::NOT_FOUND
    );
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(spec["paths"]["/api/audit"]["get"].is_object());
    assert!(spec["paths"]["/problems/{code}"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_problem_code_in_use_is_explained() {
    // Every `"<code>"` passed to ApiError::new in the source must have a /problems/<code> page.
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut codes = std::collections::BTreeSet::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("ApiError::new(") {
                    let rest = &text[i..];
                    let after_status = &rest[rest.find(',').unwrap() + 1..];
                    let lit = after_status.trim_start();
                    if let Some(code) = lit.strip_prefix('"').and_then(|l| l.split('"').next()) {
                        codes.insert(code.to_owned());
                    }
                }
            }
        }
    }
    assert!(codes.len() >= 10, "{codes:?}");
    for code in codes {
        assert_eq!(
            app.get(&format!("/problems/{code}")).await.status(),
            StatusCode::OK,
            "/problems/{code}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_credentials_and_slow_clients_are_refused() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .env("TESSERA_SERVER__REQUEST_TIMEOUT_MS", "300")
        .try_spawn()
        .await
        .unwrap();
    let huge = "a".repeat(9 * 1024);
    let res = app.get_bearer("/api/users/me", &huge).await;
    assert_eq!(res.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // A head that never ends: the server answers 408 and closes, instead of holding the connection.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closed the slow connection");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    // A token request whose body trickles in too slowly is refused, not a held worker (actix's own
    // timer or the OAuth body reader answers 408, whichever fires first).
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=pass",
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), slow.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_ascii_forwarded_host_is_answered_not_crashed() {
    // Found by the forward_rules fuzz target: a multi-byte character where a `*.example.com` suffix
    // would start used to panic the matcher, dropping the proxy's connection.
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .config(tessera_tests::forward::RULES)
        .try_spawn()
        .await
        .unwrap();
    let host = reqwest::header::HeaderValue::from_bytes(b"app\xd9\x9axample.com").unwrap();
    let res = app
        .client
        .get(app.url("/auth/forward"))
        .header("x-forwarded-host", host)
        .header("x-forwarded-uri", "/app/x")
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "no rule matches that host: the default deny"
    );
}
