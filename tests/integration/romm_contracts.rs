//! Contract tests for RomM clients that cannot be built here (issue 17): each replays a client's exact
//! requests, read from its source with the search tool, and checks the fields its decoder requires. The
//! source files are named at each test; a client that changes them changes these tests.
//!
//! Graviton (C#) is not among the sources the search index holds, so it has no contract here; it registers
//! with `POST /api/devices` like argosy and grout, which are covered.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::{set_cookie, PASSWORD};
use tessera_tests::{DbKind, TestAppBuilder};

/// RFC 3339 as Go's `time.Time` decodes it (`2006-01-02T15:04:05Z07:00`).
fn is_rfc3339(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() >= 20 && s.as_bytes()[10] == b'T' && (s.ends_with('Z') || s.contains('+')))
}

/// grout (rommapp/grout, Go): romm/client.go sends HTTP Basic on every request; romm/auth.go decodes
/// `CurrentUser{username}` and the pair exchange `TokenExchangeResponse{raw_token, name, scopes,
/// expires_at}`; romm/devices.go posts `RegisterDeviceRequest` (omitempty MAC/host) to `/api/devices`,
/// decodes `{device_id, name, created_at: time.Time}`, lists `[]Device` (sync_mode, sync_enabled,
/// created_at/updated_at as time.Time) and sends `UpdateDeviceRequest` with only the fields it changes.
async fn grout_contract(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let basic = |rb: reqwest::RequestBuilder| rb.basic_auth("ada", Some(PASSWORD));
    let me: Value = basic(app.client.get(app.url("/api/users/me")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "ada");
    let res = basic(app.client.post(app.url("/api/devices")))
        .json(
            &json!({"name": "RG35XX Plus", "platform": "muOS", "client": "grout", "client_version": "4.5.0",
            "mac_address": "02:00:00:aa:bb:cc", "hostname": "rg35xxplus"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert!(
        created["device_id"].is_string() && is_rfc3339(&created["created_at"]),
        "{created}"
    );
    let id = created["device_id"].as_str().unwrap().to_owned();
    let devices: Value = basic(app.client.get(app.url("/api/devices")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let d = &devices[0];
    for string_field in [
        "id",
        "name",
        "platform",
        "client",
        "client_version",
        "mac_address",
        "hostname",
        "sync_mode",
    ] {
        assert!(d[string_field].is_string(), "{string_field} in {d}");
    }
    assert!(d["sync_enabled"].is_boolean() && is_rfc3339(&d["created_at"]) && is_rfc3339(&d["updated_at"]));
    // omitempty: only what changed; a *bool sync_enabled.
    let res = basic(app.client.put(app.url(&format!("/api/devices/{id}"))))
        .json(&json!({"client_version": "4.6.0", "sync_enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let d: Value = res.json().await.unwrap();
    assert_eq!(
        (d["client_version"].clone(), d["sync_enabled"].clone()),
        (json!("4.6.0"), json!(false))
    );
    assert_eq!(d["name"], "RG35XX Plus");
    // Pairing (romm/auth.go ExchangeToken): no credential, JSON {code}.
    let login = app.password_login("ada", None).await.access_token;
    let token: Value = app
        .client
        .post(app.url("/api/client-tokens"))
        .bearer_auth(&login)
        .json(&json!({"name": "grout", "scopes": ["me.read", "roms.read", "assets.read", "assets.write", "devices.read", "devices.write"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pair: Value = app
        .client
        .post(app.url(&format!("/api/client-tokens/{}/pair", token["id"])))
        .bearer_auth(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .post_json("/api/client-tokens/exchange", &json!({"code": pair["code"]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let exchanged: Value = res.json().await.unwrap();
    assert!(
        exchanged["raw_token"].is_string() && exchanged["name"] == "grout",
        "{exchanged}"
    );
    assert!(exchanged["scopes"].as_array().is_some_and(|s| s.len() == 6));
    assert!(exchanged["expires_at"].is_null() || exchanged["expires_at"].is_string());
    // Device authorization (romm/device_auth.go): init, then a poll whose 400 detail names the state.
    let init = app
        .post_json(
            "/api/auth/device/init",
            &json!({"client_device_identifier": "grout-rg35xx", "name": "RG35XX Plus", "client": "grout",
                "platform": "muOS", "client_version": "4.5.0", "requested_scopes": ["me.read", "roms.read"]}),
        )
        .await;
    assert!(
        init.status().is_success(),
        "grout accepts any 2xx: {}",
        init.status()
    );
    let init: Value = init.json().await.unwrap();
    for field in [
        "device_code",
        "user_code",
        "verification_path",
        "verification_path_complete",
    ] {
        assert!(init[field].is_string(), "{field} in {init}");
    }
    assert!(init["expires_in"].is_i64() && init["interval"].is_i64());
    let poll = app
        .post_json(
            "/api/auth/device/token",
            &json!({"device_code": init["device_code"]}),
        )
        .await;
    assert_eq!(poll.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        poll.json::<Value>().await.unwrap()["detail"],
        "authorization_pending"
    );
}

tessera_tests::on_both_backends!(grout_contract);

/// argosy-launcher (rommapp/argosy-launcher, Kotlin/Moshi): data/remote/romm/RomMApi.kt posts
/// `RomMDeviceRegistration{name, platform: "android", client: "argosy", client_version, sync_mode}` and
/// decodes `RomMDeviceRegistrationResponse{device_id}`; on a version change it PUTs the same body and
/// decodes `RomMDevice` (non-null `id`); RomMConnectionManager reads `RomMUser{id, username, enabled, role}`
/// from `/api/users/me`. Moshi drops null fields when it encodes, and refuses a null for a non-null field.
async fn argosy_contract(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let token = app
        .password_login("ada", Some("me.read devices.read devices.write"))
        .await
        .access_token;
    let user: Value = app
        .get_bearer("/api/users/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        user["id"].is_i64()
            && user["username"].is_string()
            && user["enabled"].is_boolean()
            && user["role"].is_string(),
        "{user}"
    );
    let registration = json!({"name": "AYN Odin 2", "platform": "android", "client": "argosy",
        "client_version": "1.9.0", "sync_mode": "api"});
    let res = app
        .client
        .post(app.url("/api/devices"))
        .bearer_auth(&token)
        .json(&registration)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut upgraded = registration.clone();
    upgraded["client_version"] = json!("1.10.0");
    let res = app
        .client
        .put(app.url(&format!("/api/devices/{id}")))
        .bearer_auth(&token)
        .json(&upgraded)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let device: Value = res.json().await.unwrap();
    assert_eq!(device["id"], id.as_str());
    assert_eq!(device["client_version"], "1.10.0");
    assert!(device["created_at"].is_string() && device["updated_at"].is_string());
}

tessera_tests::on_both_backends!(argosy_contract);

/// RomM's web app (rommapp/romm, TypeScript/axios): services/api/identity.ts signs in with
/// `POST /api/login` and HTTP Basic; services/api/index.ts sends `x-csrftoken` from the cookie
/// `romm_csrftoken` on every request and, to recover it, deletes the cookie and calls `GET /api/heartbeat`;
/// services/api/user.ts edits a user with a urlencoded form, or multipart when an avatar is chosen.
async fn romm_web_app_contract(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db)
        .config("[session]\npreset = \"romm\"\n")
        .try_spawn()
        .await
    else {
        return;
    };
    let ada = app.create_user("ada", Role::User).await;
    let login = app
        .client
        .post(app.url("/api/login"))
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let session = set_cookie(&login, "romm_session").expect("romm_session");
    let csrf = set_cookie(&login, "romm_csrftoken").expect("romm_csrftoken");
    // refetchCSRFToken: the cookie is gone, the heartbeat sets it again for the same session.
    let heartbeat = app
        .client
        .get(app.url("/api/heartbeat"))
        .header("cookie", format!("romm_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(heartbeat.status(), StatusCode::OK);
    assert_eq!(
        set_cookie(&heartbeat, "romm_csrftoken").as_deref(),
        Some(csrf.as_str())
    );
    assert_eq!(heartbeat.headers()["cache-control"], "private, no-store");
    let anonymous = app.get("/api/heartbeat").await;
    assert_eq!(
        set_cookie(&anonymous, "romm_csrftoken"),
        None,
        "no session, no token"
    );
    // updateUser without an avatar: urlencoded, every field the form holds (axios drops undefined ones).
    let cookies = format!("romm_session={session}; romm_csrftoken={csrf}");
    let res = app
        .client
        .put(app.url(&format!("/api/users/{ada}")))
        .header("cookie", &cookies)
        .header("x-csrftoken", &csrf)
        .form(&[
            ("avatar", ""),
            ("username", "ada"),
            ("email", "ada@example.com"),
            ("enabled", "true"),
            ("role", "viewer"),
            ("ra_username", "ada_ra"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    assert_eq!(res.json::<Value>().await.unwrap()["ra_username"], "ada_ra");
    // Without the header the same write is refused.
    let res = app
        .client
        .put(app.url(&format!("/api/users/{ada}")))
        .header("cookie", &cookies)
        .form(&[("ra_username", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

tessera_tests::on_both_backends!(romm_web_app_contract);
