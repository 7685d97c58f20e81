//! Forward-auth decisions, asked directly as a proxy would (issue 8).

use reqwest::StatusCode;
use serde_json::json;
use tessera_core::Role;
use tessera_tests::forward::RULES;
use tessera_tests::oauth::PASSWORD;
use tessera_tests::{DbKind, TestApp, TestAppBuilder};

async fn app_with_rules(db: DbKind) -> Option<TestApp> {
    TestAppBuilder::new(db).config(RULES).try_spawn().await
}

/// A Traefik/Caddy-style question about `method uri` on `host`.
fn ask(app: &TestApp, method: &str, host: &str, uri: &str) -> reqwest::RequestBuilder {
    app.client
        .get(app.url("/auth/forward"))
        .header("x-forwarded-method", method)
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-host", host)
        .header("x-forwarded-uri", uri)
}

fn h(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

async fn policies_globs_hosts_and_methods(db: DbKind) {
    let Some(app) = app_with_rules(db).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let uid = app.services.find_user_by_name("ada").await.unwrap().id;
    let member = app.password_login("ada", None).await.access_token;
    // Bypass: credentials are not even examined.
    let res = ask(&app, "GET", "romm.example.com", "/public/logo.png")
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(h(&res, "x-auth-user").is_none());
    // Scopes by method.
    let res = ask(&app, "GET", "romm.example.com", "/api/roms/12?x=1")
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(h(&res, "x-auth-user-id"), Some(uid.to_string()));
    assert_eq!(h(&res, "x-auth-user").as_deref(), Some("ada"));
    assert_eq!(h(&res, "x-auth-role").as_deref(), Some("user"));
    assert_eq!(h(&res, "x-auth-credential").as_deref(), Some("access_token"));
    assert!(h(&res, "x-auth-scopes")
        .unwrap()
        .split(' ')
        .any(|s| s == "roms.read"));
    assert!(h(&res, "x-auth-device-id").is_none());
    let res = ask(&app, "POST", "romm.example.com", "/api/roms/12")
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(h(&res, "x-auth-reason").as_deref(), Some("missing_scope"));
    assert_eq!(h(&res, "x-auth-required-scopes").as_deref(), Some("roms.write"));
    assert_eq!(h(&res, "x-auth-missing-scopes").as_deref(), Some("roms.write"));
    // No credential on a protected rule.
    let res = ask(&app, "GET", "romm.example.com", "/api/roms")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        h(&res, "www-authenticate").as_deref(),
        Some("Bearer realm=\"tessera\"")
    );
    // Default deny, even for an admin.
    app.create_user("root", Role::Admin).await;
    let admin = app.password_login("root", None).await.access_token;
    let res = ask(&app, "GET", "romm.example.com", "/elsewhere")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status(), h(&res, "x-auth-reason").as_deref()),
        (StatusCode::FORBIDDEN, Some("denied"))
    );
    // Hosts: *.example.com covers subdomains, not the bare domain or look-alikes.
    assert_eq!(
        ask(&app, "GET", "media.example.com:8443", "/app/x")
            .bearer_auth(&member)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        ask(&app, "GET", "example.com", "/app/x")
            .bearer_auth(&member)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask(&app, "GET", "evilexample.com", "/app/x")
            .bearer_auth(&member)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // Admin scopes.
    assert_eq!(
        ask(&app, "GET", "h", "/admin/users")
            .bearer_auth(&member)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask(&app, "GET", "h", "/admin/users")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

async fn path_attacks_never_reach_a_bypass(db: DbKind) {
    let Some(app) = app_with_rules(db).await else {
        return;
    };
    for (uri, status, reason) in [
        ("/public/..%2fadmin", StatusCode::FORBIDDEN, Some("bad_path")),
        ("/public/..%2Fadmin", StatusCode::FORBIDDEN, Some("bad_path")),
        ("/public/..\\admin", StatusCode::FORBIDDEN, Some("bad_path")),
        ("/public/%00", StatusCode::FORBIDDEN, Some("bad_path")),
        ("//admin", StatusCode::UNAUTHORIZED, None),
        ("/public/../admin", StatusCode::UNAUTHORIZED, None),
        ("/public/%2e%2e/admin", StatusCode::UNAUTHORIZED, None),
        ("/public/./a/../b", StatusCode::OK, None),
    ] {
        let res = ask(&app, "GET", "h", uri).send().await.unwrap();
        assert_eq!(
            (res.status(), h(&res, "x-auth-reason").as_deref()),
            (status, reason),
            "{uri}"
        );
    }
}

async fn login_redirects_for_browsers(db: DbKind) {
    let Some(app) = app_with_rules(db).await else {
        return;
    };
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let traefik = no_redirect
        .get(app.url("/auth/forward"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "romm.example.com")
        .header("x-forwarded-uri", "/app/games?id=1")
        .send()
        .await
        .unwrap();
    assert_eq!(traefik.status(), StatusCode::FOUND);
    assert_eq!(
        h(&traefik, "location").unwrap(),
        format!(
            "{}/login?rd=https%3A%2F%2Fromm.example.com%2Fapp%2Fgames%3Fid%3D1",
            app.base
        )
    );
    let nginx = no_redirect
        .get(app.url("/auth/forward"))
        .header("accept", "text/html")
        .header("x-original-uri", "/app/games")
        .header("x-original-method", "GET")
        .header("x-forwarded-host", "romm.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        nginx.status(),
        StatusCode::UNAUTHORIZED,
        "nginx turns an auth 302 into a 500"
    );
    assert_eq!(
        h(&nginx, "x-auth-redirect").unwrap(),
        format!(
            "{}/login?rd=http%3A%2F%2Fromm.example.com%2Fapp%2Fgames",
            app.base
        )
    );
    // Not a browser: a plain 401. A host outside the allow-list: no rd.
    let api = no_redirect
        .get(app.url("/auth/forward"))
        .header("x-forwarded-host", "romm.example.com")
        .header("x-forwarded-uri", "/app/x")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let other = no_redirect
        .get(app.url("/auth/forward"))
        .header("accept", "text/html")
        .header("x-forwarded-host", "other.example.com")
        .header("x-forwarded-uri", "/app/x")
        .send()
        .await
        .unwrap();
    assert_eq!(h(&other, "location").unwrap(), format!("{}/login", app.base));
    // The login page honours an allowed rd.
    let page = app
        .client
        .get(app.url("/login?rd=https%3A%2F%2Fromm.example.com%2Fapp%2Fgames"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("https://romm.example.com/app/games"));
    let page = app
        .client
        .get(app.url("/login?rd=https%3A%2F%2Fevil.example.net%2F"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("evil.example.net"));
}

async fn every_credential_kind_and_refusals(db: DbKind) {
    let Some(app) = app_with_rules(db).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let t = app.password_login("ada", None).await;
    let kind = |res: &reqwest::Response| h(res, "x-auth-credential");
    let res = ask(&app, "GET", "h", "/me/x")
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(kind(&res).as_deref(), Some("basic"));
    let res = ask(&app, "GET", "h", "/me/x")
        .header("x-tessera-key", app.service_key())
        .send()
        .await
        .unwrap();
    assert_eq!(
        (kind(&res).as_deref(), h(&res, "x-auth-role").as_deref()),
        (Some("service_key"), Some("service"))
    );
    let s = app.session_login("ada").await;
    let res = ask(&app, "GET", "h", "/me/x")
        .header("cookie", format!("tessera_session={}", s.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(kind(&res).as_deref(), Some("session"));
    // A session cookie on a POST needs no CSRF token here: the main app keeps its own.
    let res = app
        .client
        .post(app.url("/auth/forward"))
        .header("x-forwarded-uri", "/me/x")
        .header("cookie", format!("tessera_session={}", s.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A device-bound client token names its device.
    let init: serde_json::Value = app.post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv", "name": "TV", "client": "c", "requested_scopes": ["me.read"]})).await.json().await.unwrap();
    app.client
        .post(app.url("/api/auth/device/approve"))
        .bearer_auth(&t.access_token)
        .json(&json!({"user_code": init["user_code"], "approved_scopes": ["me.read"]}))
        .send()
        .await
        .unwrap();
    let dev: serde_json::Value = app
        .post_json(
            "/api/auth/device/token",
            &json!({"device_code": init["device_code"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = ask(&app, "GET", "h", "/me/x")
        .bearer_auth(dev["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(kind(&res).as_deref(), Some("client_token"));
    assert_eq!(h(&res, "x-auth-device-id").as_deref(), dev["device_id"].as_str());
    // Revoked, then a disabled owner, then expired: refused on the next request.
    app.token_form("/oauth/revoke", &[("token", &t.access_token)])
        .await;
    assert_eq!(
        ask(&app, "GET", "h", "/me/x")
            .bearer_auth(&t.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let t2 = app.password_login("ada", None).await;
    app.services.set_user_enabled("ada", false).await.unwrap();
    assert_eq!(
        ask(&app, "GET", "h", "/me/x")
            .bearer_auth(&t2.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ask(&app, "GET", "h", "/me/x")
            .bearer_auth(dev["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.services.set_user_enabled("ada", true).await.unwrap();
    let t3 = app.password_login("ada", None).await;
    app.clock.advance(std::time::Duration::from_secs(1800 + 61));
    assert_eq!(
        ask(&app, "GET", "h", "/me/x")
            .bearer_auth(&t3.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

tessera_tests::on_both_backends!(
    policies_globs_hosts_and_methods,
    path_attacks_never_reach_a_bypass,
    login_redirects_for_browsers,
    every_credential_kind_and_refusals
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .config(RULES)
        .env("TESSERA_SERVER__TRUSTED_PROXIES", r#"["10.0.0.0/8"]"#)
        .try_spawn()
        .await
        .unwrap();
    // Loopback is not trusted here: the claimed bypass path is ignored, the request's own path decides.
    let res = ask(&app, "GET", "h", "/public/x").send().await.unwrap();
    assert_eq!(
        (res.status(), h(&res, "x-auth-reason").as_deref()),
        (StatusCode::FORBIDDEN, Some("denied"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_nginx_request_with_a_length_but_no_body_is_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = app_with_rules(DbKind::Sqlite).await.unwrap();
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let req = "GET /auth/forward HTTP/1.1\r\nHost: romm\r\nX-Original-URI: /public/a\r\nX-Original-Method: POST\r\nContent-Length: 12\r\nConnection: close\r\n\r\n";
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("answered without a body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn bad_rules_stop_the_start_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    std::fs::write(&file, "[[forward_auth.rules]]\npath = \"/ok\"\npolicy = \"bypass\"\n\n[[forward_auth.rules]]\npath = \"/x\"\npolicy = \"scopes\"\nscopes = [\"nope.read\"]\n").unwrap();
    let env = vec![("TESSERA_DATA_DIR".to_owned(), dir.path().display().to_string())];
    let e = tessera_server::config::load(Some(&file), &env).unwrap_err();
    assert_eq!(e.key, "forward_auth.rules[1]");
    assert!(e.message.contains("nope.read"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_tells_who_what_and_why() {
    let app = app_with_rules(DbKind::Sqlite).await.unwrap();
    app.create_user("ada", Role::User).await;
    let t = app
        .password_login("ada", Some("me.read roms.read roms.write"))
        .await
        .access_token;
    let s = &app.services;
    let get = s
        .explain(&t, "GET", Some("https://romm.example.com/api/roms/1?x=2"))
        .await
        .unwrap();
    let post = s
        .explain(&t, "POST", Some("https://romm.example.com/api/roms/1"))
        .await
        .unwrap();
    let attack = s
        .explain(&t, "GET", Some("https://romm.example.com/public/..%2fadmin"))
        .await
        .unwrap();
    let nobody = s
        .explain("garbage", "GET", Some("https://romm.example.com/public/a"))
        .await
        .unwrap();
    let basic = s.explain(&format!("ada:{PASSWORD}"), "GET", None).await.unwrap();
    insta::assert_snapshot!("explain", format!("{get}\n{post}\n{attack}\n{nobody}\n{basic}"));
    assert!(
        post.contains("403 missing_scope"),
        "the member lacks roms.write though the token asked for it"
    );
}

/// What a cached forward-auth answer moves around: the service call's future is built on the stack,
/// moved into the handler's and boxed by actix on every request, so its size is paid per request. Credential
/// loads (locks, database round trips) are boxed on the miss path; kept inline they made the future 2.4 KB
/// in release builds (864 bytes boxed). The bound is loose (debug builds lay futures out larger) but fails
/// if a load is inlined again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_auth_future_stays_small() {
    let app = app_with_rules(DbKind::Sqlite).await.unwrap();
    let presented = || tessera_service::authn::Presented {
        api_key: None,
        authorization: Some(b"Bearer garbage"),
        service_key: None,
        session: None,
        client_ip: None,
    };
    let forward = app
        .services
        .forward("romm.example.com", "/api/roms", "GET", presented);
    let size = std::mem::size_of_val(&forward);
    eprintln!("forward-auth future: {size} bytes");
    assert!(size <= 1536, "the forward-auth future grew to {size} bytes");
    let (decision, identity) = forward.await.unwrap();
    assert!(identity.is_none(), "{decision:?}");
}
