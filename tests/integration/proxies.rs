//! End to end through the real proxies with the snippets from `deploy/proxy/` (issue 8).

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::forward::RULES;
use tessera_tests::proxies::{proxy_available, Echo, Proxy, ProxyKind};
use tessera_tests::{DbKind, TestAppBuilder};

async fn through(kind: ProxyKind) {
    if !proxy_available(kind) {
        return;
    }
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .config(&RULES.replace(
            "allowed_redirect_hosts = [\"romm.example.com\"]",
            "allowed_redirect_hosts = [\"127.0.0.1\"]",
        ))
        .try_spawn()
        .await
        .unwrap();
    let echo = Echo::start();
    let proxy = Proxy::start(kind, app.addr, echo.addr).await;
    app.create_user("ada", Role::User).await;
    let member = app.password_login("ada", None).await.access_token;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let seen = |v: &Value, h: &str| v["headers"][h].as_str().map(str::to_owned);

    // Allowed: the upstream hears who it is.
    let res = no_redirect
        .get(proxy.url("/api/roms/7"))
        .bearer_auth(&member)
        .header("x-auth-user", "root")
        .header("x-auth-role", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{kind:?}");
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        seen(&v, "x-auth-user").as_deref(),
        Some("ada"),
        "{kind:?}: a spoofed X-Auth-User is replaced"
    );
    assert_eq!(seen(&v, "x-auth-role").as_deref(), Some("user"), "{kind:?}");
    assert_eq!(
        seen(&v, "x-auth-credential").as_deref(),
        Some("access_token"),
        "{kind:?}"
    );
    assert!(seen(&v, "x-auth-scopes").unwrap().contains("roms.read"));
    // No credential, then a missing scope.
    let res = no_redirect.get(proxy.url("/api/roms/7")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{kind:?}");
    let res = no_redirect
        .post(proxy.url("/api/roms/7"))
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "{kind:?}");
    // The client names another path or method in either header family: the proxy's own values decide
    // (nginx's auth subrequest carries client headers, so its snippet blanks X-Forwarded-Uri/-Method).
    let spoof = [
        ("x-forwarded-uri", "/public/x"),
        ("x-forwarded-method", "GET"),
        ("x-original-uri", "/public/x"),
        ("x-original-method", "GET"),
    ];
    for (name, value) in spoof {
        let res = no_redirect
            .get(proxy.url("/admin/users"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{kind:?}: {name} spoofed");
        let res = no_redirect
            .post(proxy.url("/api/roms/7"))
            .bearer_auth(&member)
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "{kind:?}: {name} turned a write into a read"
        );
    }
    let mut all = no_redirect.get(proxy.url("/admin/users"));
    for (name, value) in spoof {
        all = all.header(name, value);
    }
    let res = all.send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "{kind:?}: both families spoofed"
    );
    // Bypass: no identity, and a spoofed one never reaches the upstream.
    let res = no_redirect
        .get(proxy.url("/public/x"))
        .header("x-auth-user", "root")
        .header("x-auth-device-id", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{kind:?}");
    let v: Value = res.json().await.unwrap();
    assert_eq!(seen(&v, "x-auth-user"), None, "{kind:?}: {v}");
    assert_eq!(seen(&v, "x-auth-device-id"), None, "{kind:?}: {v}");
    // A browser on a login_redirect rule is sent to the login page.
    let res = no_redirect
        .get(proxy.url("/me/profile"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "{kind:?}");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!(
            "{}/login?rd=http%3A%2F%2F127.0.0.1%3A{}%2Fme%2Fprofile",
            app.base, proxy.port
        )),
        "{kind:?}: {location}"
    );
    // A device-bound client token names its device; a forged device header does not survive.
    let init: Value = app.post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv", "name": "TV", "client": "c", "requested_scopes": ["me.read"]})).await.json().await.unwrap();
    app.client
        .post(app.url("/api/auth/device/approve"))
        .bearer_auth(&member)
        .json(&json!({"user_code": init["user_code"], "approved_scopes": ["me.read"]}))
        .send()
        .await
        .unwrap();
    let dev: Value = app
        .post_json(
            "/api/auth/device/token",
            &json!({"device_code": init["device_code"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = no_redirect
        .get(proxy.url("/me/x"))
        .bearer_auth(dev["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        seen(&v, "x-auth-device-id").as_deref(),
        dev["device_id"].as_str(),
        "{kind:?}"
    );
    let res = no_redirect
        .get(proxy.url("/me/x"))
        .bearer_auth(&member)
        .header("x-auth-device-id", "forged")
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(seen(&v, "x-auth-device-id"), None, "{kind:?}: {v}");
    // RomM's authentication endpoints reach Tessera itself (README, "RomM integration").
    let res = no_redirect
        .get(proxy.url("/api/users/me"))
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{kind:?}");
    let me: Value = res.json().await.unwrap();
    assert_eq!(
        (me["username"].as_str(), me.get("headers")),
        (Some("ada"), None),
        "{kind:?}: {me}"
    );
    let res = no_redirect
        .post(proxy.url("/api/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ada"),
            ("password", tessera_tests::oauth::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{kind:?}");
    assert!(
        res.json::<Value>().await.unwrap()["access_token"].is_string(),
        "{kind:?}"
    );
    // RetroAchievements refreshes under /api/users stay RomM's, behind forward-auth.
    let res = no_redirect
        .post(proxy.url("/api/users/1/ra/refresh"))
        .send()
        .await
        .unwrap();
    let direct = app
        .client
        .post(app.url("/api/users/1/ra/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        direct.status(),
        StatusCode::NOT_FOUND,
        "Tessera itself has no such route"
    );
    assert!(
        matches!(res.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
        "{kind:?}: forward-auth refused it ({}), so it was bound for RomM",
        res.status()
    );
    // Revoked: refused on the next request.
    app.token_form("/oauth/revoke", &[("token", &member)]).await;
    let res = no_redirect
        .get(proxy.url("/api/roms/7"))
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{kind:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik() {
    through(ProxyKind::Traefik).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy() {
    through(ProxyKind::Caddy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx() {
    through(ProxyKind::Nginx).await;
}
