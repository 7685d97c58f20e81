//! Device authorization, RFC 8628 and RomM's JSON, and device records (issue 7).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::{assert_oauth_error, jwt_parts, set_cookie, PASSWORD};
use tessera_tests::{
    all_backends_and_stores, on_all_backends_and_stores, DbKind, StoreKind, TestApp, TestAppBuilder,
};

async fn ok_json(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let b: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{b}");
    b
}

async fn romm_init(app: &TestApp, ident: &str, scopes: &[&str]) -> Value {
    let res = app
        .post_json(
            "/api/auth/device/init",
            &json!({"client_device_identifier": ident, "name": "Living room TV",
            "client": "argosy", "platform": "android", "client_version": "1.2", "requested_scopes": scopes}),
        )
        .await;
    ok_json(res, StatusCode::CREATED).await
}

async fn romm_poll(app: &TestApp, device_code: &str) -> reqwest::Response {
    app.post_json("/api/auth/device/token", &json!({"device_code": device_code}))
        .await
}

async fn approve(app: &TestApp, bearer: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/device/approve"))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn romm_error(res: reqwest::Response, code: &str) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let b: Value = res.json().await.unwrap();
    assert_eq!(
        (b["error"].as_str(), b["detail"].as_str()),
        (Some(code), Some(code)),
        "{b}"
    );
}

async fn rfc_start(app: &TestApp, scope: &str) -> Value {
    let res = app
        .token_form(
            "/oauth/device_authorization",
            &[("client_id", "tessera-cli"), ("scope", scope)],
        )
        .await;
    ok_json(res, StatusCode::OK).await
}

async fn rfc_poll(app: &TestApp, device_code: &str) -> reqwest::Response {
    app.token_form(
        "/oauth/token",
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", "tessera-cli"),
        ],
    )
    .await
}

async fn romm_flow_end_to_end(db: DbKind, store: StoreKind) {
    let Some(app) = TestAppBuilder::new(db).store(store).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let ada = app.password_login("ada", None).await.access_token;
    let init = romm_init(&app, "tv-1", &["me.read", "roms.read", "assets.write"]).await;
    let (device_code, user_code) = (
        init["device_code"].as_str().unwrap().to_owned(),
        init["user_code"].as_str().unwrap().to_owned(),
    );
    assert_eq!(device_code.len(), 64);
    assert_eq!(user_code.len(), 8);
    assert_eq!(init["verification_path"], "/device");
    assert_eq!(init["verification_uri"], format!("{}/device", app.base));
    let shown = format!("{}-{}", &user_code[..4], &user_code[4..]);
    assert_eq!(
        init["verification_uri_complete"],
        format!("{}/device?user_code={shown}", app.base)
    );
    assert_eq!(
        (init["expires_in"].as_i64(), init["interval"].as_i64()),
        (Some(600), Some(5))
    );

    romm_error(romm_poll(&app, &device_code).await, "authorization_pending").await;
    let pending = ok_json(
        app.get_bearer(
            &format!("/api/auth/device/pending/{}", shown.to_lowercase()),
            &ada,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pending["name"], "Living room TV");
    assert_eq!(
        pending["requested_scopes"],
        json!(["me.read", "roms.read", "assets.read", "assets.write"])
    );
    assert_eq!(pending["allowed_scopes"], pending["requested_scopes"]);

    let approved = ok_json(approve(&app, &ada, json!({"user_code": shown, "approved_scopes": ["me.read", "roms.read"], "device_name": "Den TV", "expires_in": "90d"})).await, StatusCode::OK).await;
    assert_eq!(approved["device_name"], "Den TV");
    let device_id = approved["device_id"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::from_secs(5));
    let token = ok_json(romm_poll(&app, &device_code).await, StatusCode::OK).await;
    let raw = token["access_token"].as_str().unwrap().to_owned();
    assert!(raw.starts_with("tsr_"));
    assert_eq!(
        (token["token_type"].as_str(), token["device_id"].as_str()),
        (Some("Bearer"), Some(device_id.as_str()))
    );
    assert_eq!(token["scopes"], json!(["me.read", "roms.read"]));
    assert_eq!(
        token["expires_at"],
        tessera_core::UnixTime(tessera_tests::T0.0 + 90 * 86_400).to_rfc3339()
    );
    // Redeemed once: any later poll is over.
    app.clock.advance(Duration::from_secs(5));
    romm_error(romm_poll(&app, &device_code).await, "expired_token").await;
    let me = ok_json(app.get_bearer("/api/users/me", &raw).await, StatusCode::OK).await;
    assert_eq!(me["current_device_id"], device_id.as_str());
    assert_eq!(me["oauth_scopes"], json!(["me.read", "roms.read"]));
    let intro = app.introspect(&raw).await;
    assert_eq!(
        (intro["device_id"].as_str(), intro["credential"].as_str()),
        (Some(device_id.as_str()), Some("client_token"))
    );
    let tokens = ok_json(app.get_bearer("/api/client-tokens", &ada).await, StatusCode::OK).await;
    assert_eq!(tokens[0]["device_id"], device_id.as_str());
    assert_eq!(tokens[0]["name"], "Den TV");
    let devices = ok_json(app.get_bearer("/api/devices", &ada).await, StatusCode::OK).await;
    assert_eq!(devices.as_array().unwrap().len(), 1);
    assert_eq!(
        (devices[0]["name"].as_str(), devices[0]["platform"].as_str()),
        (Some("Den TV"), Some("android"))
    );
    app.services.background.flush().await;
    let dev = ok_json(
        app.get_bearer(&format!("/api/devices/{device_id}"), &ada).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        dev["last_seen"].is_string(),
        "using the token marks the device seen"
    );
    // Written at most every five minutes: a use 4 minutes later changes nothing, one at 5 minutes does.
    let last_seen = || async {
        app.services.background.flush().await;
        let dev = ok_json(
            app.get_bearer(&format!("/api/devices/{device_id}"), &ada).await,
            StatusCode::OK,
        )
        .await;
        dev["last_seen"].as_str().unwrap().to_owned()
    };
    let first = last_seen().await;
    app.clock.advance(Duration::from_secs(4 * 60));
    ok_json(app.get_bearer("/api/users/me", &raw).await, StatusCode::OK).await;
    assert_eq!(last_seen().await, first, "debounced");
    app.clock.advance(Duration::from_secs(60));
    ok_json(app.get_bearer("/api/users/me", &raw).await, StatusCode::OK).await;
    let later = last_seen().await;
    assert!(later > first, "{later} after {first}");
}

async fn rfc_flow_end_to_end(db: DbKind, store: StoreKind) {
    let Some(app) = TestAppBuilder::new(db).store(store).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let ada = app.password_login("ada", None).await.access_token;
    let start = rfc_start(&app, "openid me.read roms.read").await;
    let device_code = start["device_code"].as_str().unwrap().to_owned();
    assert_eq!(start["verification_uri"], format!("{}/device", app.base));
    assert_oauth_error(
        rfc_poll(&app, &device_code).await,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
    )
    .await;
    // Polling again in the same second: slow_down, and the interval grows by 5 s each time.
    let slow = assert_oauth_error(
        rfc_poll(&app, &device_code).await,
        StatusCode::BAD_REQUEST,
        "slow_down",
    )
    .await;
    assert!(
        slow["error_description"].as_str().unwrap().contains("10"),
        "{slow}"
    );
    app.clock.advance(Duration::from_secs(5));
    assert_oauth_error(
        rfc_poll(&app, &device_code).await,
        StatusCode::BAD_REQUEST,
        "slow_down",
    )
    .await;
    app.clock.advance(Duration::from_secs(15));
    assert_oauth_error(
        rfc_poll(&app, &device_code).await,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
    )
    .await;
    ok_json(
        approve(
            &app,
            &ada,
            json!({"user_code": start["user_code"], "approved_scopes": ["roms.read"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.clock.advance(Duration::from_secs(15));
    let res = rfc_poll(&app, &device_code).await;
    let t = ok_json(res, StatusCode::OK).await;
    assert_eq!(t["scope"], "roms.read");
    assert!(t["refresh_token"].as_str().unwrap().starts_with("tsr_rt_"));
    let claims = jwt_parts(t["access_token"].as_str().unwrap()).1;
    let device_id = claims["device_id"].as_str().unwrap().to_owned();
    let intro = app.introspect(t["access_token"].as_str().unwrap()).await;
    assert_eq!(intro["device_id"], device_id.as_str());
    app.clock.advance(Duration::from_secs(15));
    assert_oauth_error(
        rfc_poll(&app, &device_code).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // A refresh keeps the device binding.
    let r = ok_json(
        app.refresh(t["refresh_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        jwt_parts(r["access_token"].as_str().unwrap()).1["device_id"],
        device_id.as_str()
    );
    // Deleting the device revokes its tokens.
    let del = app
        .client
        .delete(app.url(&format!("/api/devices/{device_id}")))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.introspect(r["access_token"].as_str().unwrap()).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect(r["refresh_token"].as_str().unwrap()).await,
        json!({"active": false})
    );
}

async fn deny_expiry_and_concurrent_polls(db: DbKind, store: StoreKind) {
    let Some(app) = TestAppBuilder::new(db).store(store).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let ada = app.password_login("ada", None).await.access_token;
    // Deny.
    let a = romm_init(&app, "tv-deny", &["me.read"]).await;
    let deny = app
        .client
        .post(app.url("/api/auth/device/deny"))
        .bearer_auth(&ada)
        .json(&json!({"user_code": a["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(deny.status(), StatusCode::NO_CONTENT);
    romm_error(
        romm_poll(&app, a["device_code"].as_str().unwrap()).await,
        "access_denied",
    )
    .await;
    assert_eq!(
        approve(
            &app,
            &ada,
            json!({"user_code": a["user_code"], "approved_scopes": ["me.read"]})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND,
        "decided once"
    );
    // Expiry.
    let b = rfc_start(&app, "me.read").await;
    app.clock.advance(Duration::from_secs(600));
    assert_oauth_error(
        rfc_poll(&app, b["device_code"].as_str().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "expired_token",
    )
    .await;
    assert_eq!(
        approve(
            &app,
            &ada,
            json!({"user_code": b["user_code"], "approved_scopes": ["me.read"]})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // Unknown and malformed codes.
    assert_oauth_error(
        rfc_poll(&app, &"ab".repeat(32)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        rfc_poll(&app, "short").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    romm_error(romm_poll(&app, "nonsense").await, "expired_token").await;
    // Concurrent polls after approval: one token.
    let c = romm_init(&app, "tv-race", &["me.read"]).await;
    ok_json(
        approve(
            &app,
            &ada,
            json!({"user_code": c["user_code"], "approved_scopes": ["me.read"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let code = c["device_code"].as_str().unwrap();
    let polls = futures::future::join_all((0..6).map(|_| romm_poll(&app, code))).await;
    let wins = polls.iter().filter(|r| r.status() == StatusCode::OK).count();
    assert_eq!(wins, 1);
    // A RomM code cannot be redeemed on the RFC endpoint.
    let d = romm_init(&app, "tv-cross", &["me.read"]).await;
    ok_json(
        approve(
            &app,
            &ada,
            json!({"user_code": d["user_code"], "approved_scopes": ["me.read"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_oauth_error(
        rfc_poll(&app, d["device_code"].as_str().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

async fn init_is_rate_limited(db: DbKind, store: StoreKind) {
    let Some(app) = TestAppBuilder::new(db).store(store).try_spawn().await else {
        return;
    };
    for i in 0..10 {
        let res = app
            .client
            .post(app.url("/api/auth/device/init"))
            .header("x-forwarded-for", "203.0.113.5")
            .json(&json!({"client_device_identifier": format!("d{i}"), "name": "x", "client": "y"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .client
        .post(app.url("/api/auth/device/init"))
        .header("x-forwarded-for", "203.0.113.5")
        .json(&json!({"client_device_identifier": "d11", "name": "x", "client": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let rfc = app
        .client
        .post(app.url("/oauth/device_authorization"))
        .header("x-forwarded-for", "203.0.113.5")
        .form(&[("client_id", "tessera-cli")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        rfc.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "one budget for both endpoints"
    );
}

on_all_backends_and_stores!(
    romm_flow_end_to_end,
    rfc_flow_end_to_end,
    deny_expiry_and_concurrent_polls,
    init_is_rate_limited
);

all_backends_and_stores! {
    async fn same_device_keeps_one_token(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let ada = app.password_login("ada", None).await.access_token;
        let mut raws = Vec::new();
        for _ in 0..2 {
            let i = romm_init(&app, "handheld-7", &["me.read"]).await;
            ok_json(approve(&app, &ada, json!({"user_code": i["user_code"], "approved_scopes": ["me.read"]})).await, StatusCode::OK).await;
            let t = ok_json(romm_poll(&app, i["device_code"].as_str().unwrap()).await, StatusCode::OK).await;
            raws.push((t["access_token"].as_str().unwrap().to_owned(), t["device_id"].as_str().unwrap().to_owned()));
        }
        assert_eq!(raws[0].1, raws[1].1, "the same identifier finds the same device");
        assert_eq!(app.get_bearer("/api/users/me", &raws[0].0).await.status(), StatusCode::UNAUTHORIZED, "the older token is revoked");
        assert_eq!(app.get_bearer("/api/users/me", &raws[1].0).await.status(), StatusCode::OK);
        let devices = ok_json(app.get_bearer("/api/devices", &ada).await, StatusCode::OK).await;
        assert_eq!(devices.as_array().unwrap().len(), 1);
        let tokens = ok_json(app.get_bearer("/api/client-tokens", &ada).await, StatusCode::OK).await;
        assert_eq!(tokens.as_array().unwrap().len(), 1);
        // Rename, then delete: the token dies with the device.
        let id = &raws[1].1;
        let ren = app.client.put(app.url(&format!("/api/devices/{id}"))).bearer_auth(&ada).json(&json!({"name": "Switch"})).send().await.unwrap();
        assert_eq!(ok_json(ren, StatusCode::OK).await["name"], "Switch");
        app.create_user("bob", Role::User).await;
        let bob = app.password_login("bob", None).await.access_token;
        assert_eq!(app.get_bearer(&format!("/api/devices/{id}"), &bob).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.client.delete(app.url(&format!("/api/devices/{id}"))).bearer_auth(&bob).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(app.client.delete(app.url(&format!("/api/devices/{id}"))).bearer_auth(&ada).send().await.unwrap().status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get_bearer("/api/users/me", &raws[1].0).await.status(), StatusCode::UNAUTHORIZED);
    }

    async fn approvals_respect_the_limit_and_the_approver(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let ada = app.password_login("ada", None).await.access_token;
        for i in 0..25 {
            let res = app.client.post(app.url("/api/client-tokens")).bearer_auth(&ada).json(&json!({"name": format!("t{i}"), "scopes": ["me.read"]})).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        let i = romm_init(&app, "tv-full", &["me.read"]).await;
        let full = approve(&app, &ada, json!({"user_code": i["user_code"], "approved_scopes": ["me.read"]})).await;
        assert_eq!(ok_json(full, StatusCode::CONFLICT).await["code"], "token_limit");
        let tokens = ok_json(app.get_bearer("/api/client-tokens", &ada).await, StatusCode::OK).await;
        let first = tokens[0]["id"].as_i64().unwrap();
        let del = app.client.delete(app.url(&format!("/api/client-tokens/{first}"))).bearer_auth(&ada).send().await.unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT);
        ok_json(approve(&app, &ada, json!({"user_code": i["user_code"], "approved_scopes": ["me.read"]})).await, StatusCode::OK).await;
        // Scope narrowing by the approving credential (after making room for one more token).
        let second = tokens[1]["id"].as_i64().unwrap();
        let del = app.client.delete(app.url(&format!("/api/client-tokens/{second}"))).bearer_auth(&ada).send().await.unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT);
        let narrow = app.password_login("ada", Some("me.read me.write roms.read")).await.access_token;
        let j = romm_init(&app, "tv-narrow", &["me.read", "roms.read", "platforms.read"]).await;
        let pending = ok_json(app.get_bearer(&format!("/api/auth/device/pending/{}", j["user_code"].as_str().unwrap()), &narrow).await, StatusCode::OK).await;
        assert_eq!(pending["allowed_scopes"], json!(["me.read", "roms.read"]));
        let over = approve(&app, &narrow, json!({"user_code": j["user_code"], "approved_scopes": ["roms.read", "platforms.read"]})).await;
        let p = ok_json(over, StatusCode::FORBIDDEN).await;
        assert_eq!(p["missing"], json!(["platforms.read"]));
        let not_requested = approve(&app, &ada, json!({"user_code": j["user_code"], "approved_scopes": ["assets.read"]})).await;
        ok_json(not_requested, StatusCode::FORBIDDEN).await;
        ok_json(approve(&app, &ada, json!({"user_code": j["user_code"], "approved_scopes": []})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        ok_json(approve(&app, &ada, json!({"user_code": j["user_code"], "approved_scopes": ["roms.read"], "expires_in": "7d"})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        let read_only = app.password_login("ada", Some("me.read")).await.access_token;
        assert_eq!(approve(&app, &read_only, json!({"user_code": j["user_code"], "approved_scopes": ["me.read"]})).await.status(), StatusCode::FORBIDDEN, "approving needs me.write");
        ok_json(approve(&app, &narrow, json!({"user_code": j["user_code"], "approved_scopes": ["roms.read"]})).await, StatusCode::OK).await;
        let t = ok_json(romm_poll(&app, j["device_code"].as_str().unwrap()).await, StatusCode::OK).await;
        assert_eq!(t["scopes"], json!(["roms.read"]));
    }

    async fn the_device_page_works_without_javascript(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let i = romm_init(&app, "tv-page", &["me.read", "roms.read", "users.read"]).await;
        let code = i["user_code"].as_str().unwrap();
        let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let anon = no_redirect.get(app.url(&format!("/device?user_code={code}"))).send().await.unwrap();
        assert_eq!(anon.status(), StatusCode::SEE_OTHER);
        assert_eq!(anon.headers()["location"], format!("/login?rd=%2Fdevice%3Fuser_code%3D{code}"));
        let s = app.session_login("ada").await;
        let page = app.with_session(app.client.get(app.url(&format!("/pair/device?user_code={code}"))), &s, false).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Living room TV") && html.contains("argosy") && html.contains("android"));
        assert!(html.contains(r#"value="users.read" disabled"#), "a scope the approver lacks cannot be ticked");
        assert!(html.contains(r#"value="roms.read" checked"#));
        assert!(html.contains(&s.csrf));
        // The form posts with its CSRF field: without it, refused.
        let form = |extra: &str| format!("user_code={code}&action=approve&device_name=Den&scope=roms.read&expires_in=30d{extra}");
        let forged = app.with_session(app.client.post(app.url("/device")), &s, false).header("content-type", "application/x-www-form-urlencoded").body(form("")).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let ok = app.with_session(app.client.post(app.url("/device")), &s, false).header("content-type", "application/x-www-form-urlencoded").body(form(&format!("&csrf_token={}", s.csrf))).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert!(ok.text().await.unwrap().contains("is connected"));
        let t = ok_json(romm_poll(&app, i["device_code"].as_str().unwrap()).await, StatusCode::OK).await;
        assert_eq!(t["scopes"], json!(["roms.read"]));
        let gone = app.with_session(app.client.get(app.url(&format!("/device?user_code={code}"))), &s, false).send().await.unwrap();
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
        let _ = set_cookie;
        let _ = PASSWORD;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qr_code_decodes_to_the_verification_link() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    let i = romm_init(&app, "tv-qr", &["me.read"]).await;
    let res = app
        .get(&format!(
            "/device/qr.svg?user_code={}",
            i["user_code"].as_str().unwrap()
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().await.unwrap();
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let data = pixmap.data().to_vec();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| data[(y * w + x) * 4]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, i["verification_uri_complete"].as_str().unwrap());
    let bad = app.get("/device/qr.svg?user_code=nope").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
