//! Modes (issue 11, API.md §9): password login off, kiosk, no-auth, and the service key's header.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::forward::RULES;
use tessera_tests::oauth::{set_cookie, PASSWORD};
use tessera_tests::{on_both_backends, DbKind, TestAppBuilder};

async fn password_login_off_refuses_every_password_path(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db)
        .env("TESSERA_AUTH__PASSWORD_LOGIN", "false")
        .try_spawn()
        .await
    else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let grant = [
        ("grant_type", "password"),
        ("username", "ada"),
        ("password", PASSWORD),
    ];
    // RFC 6749 on /oauth/token (400 unauthorized_client); RomM's /api/token says 403 (API.md §9).
    for (path, status) in [
        ("/oauth/token", StatusCode::BAD_REQUEST),
        ("/api/token", StatusCode::FORBIDDEN),
    ] {
        let res = app.token_form(path, &grant).await;
        assert_eq!(res.status(), status, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized_client", "{path}: {body}");
        assert_eq!(
            body["error_description"], "password login is disabled",
            "{path}: {body}"
        );
    }
    let basic = app
        .client
        .post(app.url("/api/login"))
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        basic.json::<Value>().await.unwrap()["code"],
        "password_login_disabled"
    );
    let page = app.client.get(app.url("/login")).send().await.unwrap();
    let form = set_cookie(&page, "tessera_login_form").unwrap();
    assert!(
        !page.text().await.unwrap().contains("name=\"password\""),
        "no password form"
    );
    let posted = app
        .client
        .post(app.url("/login"))
        .header("cookie", format!("tessera_login_form={form}"))
        .form(&[
            ("username", "ada"),
            ("password", PASSWORD),
            ("csrf_token", form.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    // Basic elsewhere is a present credential: 401, never a fall-through.
    let me = app
        .client
        .get(app.url("/api/users/me"))
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let hb: Value = app.get("/api/heartbeat").await.json().await.unwrap();
    assert_eq!(hb["auth"]["password_login"], false);
    // Other credentials still work: a device pairs, a client token made by the operator works.
    let init = app
        .post_json(
            "/api/auth/device/init",
            &json!({"client_device_identifier": "tv", "name": "TV", "client": "argosy", "requested_scopes": ["me.read"]}),
        )
        .await;
    assert_eq!(init.status(), StatusCode::CREATED);
}

async fn kiosk_mode_reads_anonymously_and_never_writes(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db)
        .env("TESSERA_AUTH__KIOSK", "true")
        .config(RULES)
        .try_spawn()
        .await
    else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let me = app.get("/api/users/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(
        (me["id"].as_i64(), me["username"].as_str(), me["role"].as_str()),
        (Some(-1), Some("kiosk"), Some("user"))
    );
    let scopes: Vec<&str> = me["oauth_scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(scopes.len(), 8, "{scopes:?}");
    assert!(
        scopes.iter().all(|s| s.ends_with(".read")) && scopes.contains(&"me.read"),
        "{scopes:?}"
    );
    // Never a write, never an admin read.
    let write = app
        .post_json("/api/client-tokens", &json!({"name": "x", "scopes": ["me.read"]}))
        .await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/users").await.status(), StatusCode::FORBIDDEN);
    // A present but bad credential is still a 401, not the kiosk.
    assert_eq!(
        app.get_bearer("/api/users/me", "garbage").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Forward-auth: authenticated as the kiosk for reads, refused for writes.
    let forward = |method: &'static str| {
        app.client
            .get(app.url("/auth/forward"))
            .header("x-forwarded-method", method)
            .header("x-forwarded-host", "romm.example.com")
            .header("x-forwarded-uri", "/api/roms/7")
            .send()
    };
    let read = forward("GET").await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.headers()["x-auth-credential"], "kiosk");
    assert_eq!(read.headers()["x-auth-user-id"], "-1");
    assert_eq!(forward("PUT").await.unwrap().status(), StatusCode::FORBIDDEN);
    let hb: Value = app.get("/api/heartbeat").await.json().await.unwrap();
    assert_eq!(hb["auth"]["kiosk"], true);
}

on_both_backends!(
    password_login_off_refuses_every_password_path,
    kiosk_mode_reads_anonymously_and_never_writes
);

#[test]
fn kiosk_scopes_are_read_scopes_only() {
    let dir = tempfile::tempdir().unwrap();
    let env = |v: &str| {
        vec![
            ("TESSERA_DATA_DIR".to_owned(), dir.path().display().to_string()),
            ("TESSERA_AUTH__KIOSK_SCOPES".to_owned(), v.to_owned()),
        ]
    };
    for bad in [r#"["roms.write"]"#, r#"["users.read"]"#, r#"["nope.read"]"#] {
        let err = tessera_server::config::load(None, &env(bad))
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.kiosk_scopes"), "{bad}: {err}");
    }
    let ok = tessera_server::config::load(None, &env(r#"["roms.read"]"#)).unwrap();
    assert_eq!(ok.auth.kiosk_scopes, vec!["roms.read".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_makes_everyone_an_admin_on_loopback_only() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .no_auth()
        .try_spawn()
        .await
        .unwrap();
    app.create_user("ada", Role::User).await;
    let users = app.get("/api/users").await;
    assert_eq!(users.status(), StatusCode::OK);
    let hb: Value = app.get("/api/heartbeat").await.json().await.unwrap();
    assert_eq!(hb["auth"]["no_auth"], true);
    // Refused on anything but loopback.
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("TESSERA_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("TESSERA_LISTEN".to_owned(), "0.0.0.0:8080".to_owned()),
    ];
    let settings = tessera_server::config::load(None, &env).unwrap();
    let err = tessera_server::cli::with_no_auth(settings, true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("loopback"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_key_header_name_is_configurable() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .env("TESSERA_AUTH__SERVICE_KEY_HEADER", "X-OSM-API-Key")
        .try_spawn()
        .await
        .unwrap();
    app.create_user("ada", Role::User).await;
    let token = app.password_login("ada", None).await.access_token;
    let key = app.service_key();
    let ask = |header: &'static str| {
        app.client
            .post(app.url("/oauth/introspect"))
            .header(header, key.clone())
            .form(&[("token", token.as_str())])
            .send()
    };
    let res = ask("x-osm-api-key").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["active"], true);
    assert_eq!(
        ask("x-tessera-key").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
