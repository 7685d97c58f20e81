use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_tests::{both_backends, on_both_backends, DbKind, TestAppBuilder};

async fn problem(res: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], format!("/problems/{code}"));
    assert!(body["request_id"].as_str().is_some_and(|s| s.len() > 8), "{body}");
    body
}

both_backends! {
    async fn ten_racing_setups_create_exactly_one_admin(app: TestApp) {
        let bodies: Vec<Value> = (0..10)
            .map(|i| json!({"username": format!("admin{i}"), "password": "correct horse"}))
            .collect();
        let calls = bodies.iter().map(|b| app.post_json("/api/setup/admin", b));
        let results = futures::future::join_all(calls).await;
        let mut created = 0;
        let mut closed = 0;
        for r in results {
            match r.status() {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => {
                    problem(r, StatusCode::CONFLICT, "setup_closed").await;
                    closed += 1;
                }
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!((created, closed), (1, 9));
        let users = app.services.list_users().await.unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].role, "admin");
        let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
        assert_eq!(status, json!({"needs_setup": false}));
    }

    async fn setup_creates_admin_then_closes(app: TestApp) {
        let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
        assert_eq!(status, json!({"needs_setup": true}));
        let res = app
            .post_json("/api/setup/admin", &json!({"username": "Ada", "password": "correct horse", "email": "ada@example.com"}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let user: Value = res.json().await.unwrap();
        assert_eq!(user["username"], "ada");
        assert_eq!(user["role"], "admin");
        assert_eq!(user["email"], "ada@example.com");
        assert_eq!(user["created_at"], "2026-11-26T09:00:00Z");
        assert!(user["id"].is_i64());
        let again = app.post_json("/api/setup/admin", &json!({"username": "eve", "password": "correct horse"})).await;
        problem(again, StatusCode::CONFLICT, "setup_closed").await;
        assert_eq!(app.services.list_users().await.unwrap().len(), 1);
        let hb: Value = app.get("/api/heartbeat").await.json().await.unwrap();
        assert_eq!(hb["setup"]["needs_setup"], false);
    }

    async fn bad_setup_bodies_are_4xx_and_create_nothing(app: TestApp) {
        let url = app.url("/api/setup/admin");
        let c = &app.client;
        let malformed = c.post(&url).header("content-type", "application/json").body("{\"username\": ").send().await.unwrap();
        problem(malformed, StatusCode::BAD_REQUEST, "bad_request").await;
        let big = format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(70 * 1024));
        let oversized = c.post(&url).header("content-type", "application/json").body(big).send().await.unwrap();
        problem(oversized, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
        let form = c.post(&url).header("content-type", "text/plain").body("username=a").send().await.unwrap();
        problem(form, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
        let wrong_type = app.post_json("/api/setup/admin", &json!({"username": 5, "password": true})).await;
        problem(wrong_type, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let invalid = app.post_json("/api/setup/admin", &json!({"username": "a b", "password": "short", "email": "nope"})).await;
        let body = problem(invalid, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["username", "password", "email"]);
        let too_long = app.post_json("/api/setup/admin", &json!({"username": "ada", "password": "p".repeat(73)})).await;
        problem(too_long, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert!(app.services.list_users().await.unwrap().is_empty());
        let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
        assert_eq!(status["needs_setup"], true);
    }
}

async fn disabled_setup_is_refused(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db)
        .env("TESSERA_SETUP__DISABLED", "true")
        .try_spawn()
        .await
    else {
        return;
    };
    let res = app
        .post_json(
            "/api/setup/admin",
            &json!({"username": "ada", "password": "correct horse"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN, "setup_disabled").await;
    assert!(app.services.list_users().await.unwrap().is_empty());
    let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
    assert_eq!(status["needs_setup"], false);
}

on_both_backends!(disabled_setup_is_refused);
