//! Health, readiness, request ids, heartbeat, problems and the OpenAPI document.

use std::net::SocketAddr;

use reqwest::StatusCode;
use serde_json::Value;
use tessera_tests::{both_backends, postgres_url, within, DbKind, TcpGate, TestApp, TestAppBuilder};

async fn readiness(app: &TestApp) -> (StatusCode, Value) {
    let res = app.get("/readyz").await;
    (res.status(), res.json().await.unwrap())
}

both_backends! {
    async fn health_and_readiness_answer(app: TestApp) {
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
        let (status, body) = readiness(&app).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["database"], "ok");
        assert_eq!(body["store"], "ok");
        assert_eq!(body["store_kind"], "memory");
        assert_eq!(body["revocation_listener"], "ok");
        assert_eq!(body["status"], "ok");
        app.begin_shutdown();
        let (status, body) = readiness(&app).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "readiness turns off on shutdown");
        assert_eq!(body["shutting_down"], true);
        assert_eq!(app.get("/healthz").await.status(), StatusCode::OK, "still alive while draining");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_without_a_restart() {
    let Some(base) = postgres_url() else { return };
    let target: SocketAddr = "127.0.0.1:5432".parse().unwrap();
    assert!(
        base.contains("127.0.0.1:5432"),
        "the gate forwards to the default PostgreSQL"
    );
    let gate = TcpGate::start(target).await;
    let app = TestAppBuilder::new(DbKind::Postgres)
        .database_via(gate.addr)
        .try_spawn()
        .await
        .expect("app");
    assert_eq!(readiness(&app).await.0, StatusCode::OK);
    gate.close();
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], "unavailable");
    let setup = app.get("/api/setup/status").await;
    assert_eq!(
        setup.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a dead database is a 503, not a 500"
    );
    gate.reopen();
    // The breaker (issue 19) lets one probe through per cool-down (500 ms): back within a few of them.
    let ready = || async { readiness(&app).await.0 == StatusCode::OK };
    assert!(within(std::time::Duration::from_secs(30), ready).await.is_some());
    let (_, body) = readiness(&app).await;
    assert_eq!(body["database"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_degrades_but_stays_ready() {
    let Some((gate, app)) = tessera_tests::behind_redis_gate(None).await else {
        return;
    };
    let (status, body) = readiness(&app).await;
    assert_eq!(
        (status, body["store"].as_str(), body["store_kind"].as_str()),
        (StatusCode::OK, Some("ok"), Some("redis"))
    );
    gate.close();
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["store"], "degraded");
    gate.reopen();
    // The store's breaker probes once per cool-down (500 ms): back within a few.
    let store_ok = || async { readiness(&app).await.1["store"] == "ok" };
    assert!(within(std::time::Duration::from_secs(30), store_ok)
        .await
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_when_sane_and_made_otherwise() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "x".repeat(200))
        .send()
        .await
        .unwrap();
    let made = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 25, "a fresh id replaces an oversized one");
    let next = app.get("/healthz").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(next, made, "ids are unique");
    let res = app.get("/api/nope").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["request_id"], id.as_str(), "the problem names the request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let res = app.get("/api/setup/admin").await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(
        res.headers()["allow"],
        "POST",
        "a 405 names what the resource takes (RFC 9110)"
    );
    let res = app.client.delete(app.url("/api/users/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, PUT");
    let res = app
        .client
        .head(app.url("/assets/tessera.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "HEAD is served where it is routed");
    let res = app.get("/oauth/nothing").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_request",
        "OAuth paths answer OAuth JSON"
    );
    let res = app.get("/problems/setup_closed").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Setup closed"));
    assert_eq!(
        app.get("/problems/nonsense").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_reports_modes() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .env("TESSERA_AUTH__KIOSK", "true")
        .try_spawn()
        .await
        .unwrap();
    let hb: Value = app.get("/api/heartbeat").await.json().await.unwrap();
    insta::assert_json_snapshot!(hb, { ".version" => "[version]" });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_the_endpoints() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    insta::assert_json_snapshot!("openapi_paths", paths);
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    // Each scoped operation names its scopes for every credential that can carry them, with 401 and 403.
    let mut scoped: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert!(
                    !schema.as_str().is_some_and(|r| r.ends_with("/Problem")),
                    "{method} {path} {status}: problems are application/problem+json"
                );
            }
            let Some(security) = op["security"].as_array() else {
                continue;
            };
            let schemes: Vec<&str> = security
                .iter()
                .flat_map(|r| r.as_object().unwrap().keys())
                .map(String::as_str)
                .collect();
            if !schemes.contains(&"oauth2") {
                continue;
            }
            assert_eq!(
                schemes,
                ["oauth2", "bearer", "basic", "session", "service_key"],
                "{method} {path}"
            );
            assert!(
                op["responses"]["401"].is_object() && op["responses"]["403"].is_object(),
                "{method} {path}"
            );
            scoped.push(format!(
                "{} {path}: {}",
                method.to_uppercase(),
                security[0]["oauth2"]
            ));
        }
    }
    scoped.sort();
    insta::assert_json_snapshot!("openapi_scopes", scoped);
    // The oauth2 scheme documents the token endpoint and this deployment's catalog.
    let oauth2 = &doc["components"]["securitySchemes"]["oauth2"];
    assert_eq!(oauth2["flows"]["password"]["tokenUrl"], "/oauth/token");
    let catalog = oauth2["flows"]["password"]["scopes"].as_object().unwrap();
    assert_eq!(catalog.len(), 20, "RomM's 20 scopes");
    assert!(catalog.contains_key("users.write") && catalog.contains_key("roms.user.read"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_key_file_is_private_and_stable() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let path = app.services.settings.server.data_dir.join("service-key");
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let key = std::fs::read_to_string(&path).unwrap();
    assert_eq!(key.trim().len(), 64);
    assert!(app.services.service_key.matches(key.trim()));
    assert!(!app.services.service_key.matches("0".repeat(64).as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let env = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    let e = tessera_server::config::load(None, &env("TESSERA_DATA_DIR", file.to_str().unwrap())).unwrap_err();
    assert_eq!(e.key, "server.data_dir");
    assert!(!e.to_string().contains('\n'));
    let e = tessera_server::config::load(None, &env("TESSERA_DATABASE_URL", "oracle://db")).unwrap_err();
    assert_eq!(e.to_string(), "configuration error: database.url: unsupported database URL scheme: \"oracle\" (expected sqlite:// or postgres://)");
}
