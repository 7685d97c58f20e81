//! RomM's real clients against Tessera (issue 17): what their exact requests need.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::{DbKind, TestAppBuilder};

/// mcp-romm re-sends its full scope list on every refresh. A refusal for the scope must leave the refresh
/// token usable (RFC 6749 §5.2): the retry is not a replay and the login survives. On RomM's `/api/token`
/// the list is intersected with the grant, as RomM ignores it.
async fn a_refused_refresh_never_consumes_the_token(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let login = app.password_login("ada", Some("me.read roms.read")).await;
    let wide = "me.read roms.read users.read users.write";
    let refresh_with = |scope: Option<&'static str>, path: &'static str, token: String| {
        let app = &app;
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", token),
            ];
            if let Some(s) = scope {
                form.push(("scope", s.to_owned()));
            }
            app.client.post(app.url(path)).form(&form).send().await.unwrap()
        }
    };
    // Refused twice for the scope (wider, then unknown): nothing is consumed, nothing revoked.
    let res = refresh_with(Some(wide), "/oauth/token", login.refresh_token.clone()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let res = refresh_with(Some("no.such.scope"), "/oauth/token", login.refresh_token.clone()).await;
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");
    assert_eq!(
        app.introspect(&login.access_token).await["active"],
        true,
        "the live access token survives"
    );
    // The retry without the scope works, and is not a replay.
    let res = refresh_with(None, "/oauth/token", login.refresh_token.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let next: Value = res.json().await.unwrap();
    assert_eq!(next["scope"], "me.read roms.read");
    let events = app
        .services
        .db
        .run(|c| tessera_db::models::audit_events::AuditEvent::recent(c, 50))
        .await
        .unwrap();
    assert!(
        !events.iter().any(|e| e.kind == "refresh.replayed"),
        "no refresh.replayed event"
    );
    // RomM's /api/token intersects the re-sent list with the grant.
    let res = refresh_with(
        Some(wide),
        "/api/token",
        next["refresh_token"].as_str().unwrap().to_owned(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let romm: Value = res.json().await.unwrap();
    assert_eq!(romm["scope"], "me.read roms.read", "{romm}");
    assert_eq!(
        app.introspect(romm["access_token"].as_str().unwrap()).await["active"],
        json!(true)
    );
}

tessera_tests::on_both_backends!(a_refused_refresh_never_consumes_the_token);

/// A password grant whose requested scopes are all outside the user's rights is `invalid_scope` (API.md
/// §3), not a token with whatever the implications left; RomM's `/api/token` answers 401 for bad
/// credentials and bad refresh tokens, as RomM does, while `/oauth/token` keeps RFC 6749's 400.
async fn scope_and_credential_refusals_answer_as_each_path_should(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let password = tessera_tests::oauth::PASSWORD;
    for path in ["/oauth/token", "/api/token"] {
        let res = app
            .token_form(
                path,
                &[
                    ("grant_type", "password"),
                    ("username", "ada"),
                    ("password", password),
                    ("scope", "users.write"),
                ],
            )
            .await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_scope", "{path}: {body}");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
    let bad_password = [
        ("grant_type", "password"),
        ("username", "ada"),
        ("password", "wrong password!"),
    ];
    let bad_refresh = [("grant_type", "refresh_token"), ("refresh_token", "tsr_rt_0000")];
    for (path, status) in [
        ("/oauth/token", StatusCode::BAD_REQUEST),
        ("/api/token", StatusCode::UNAUTHORIZED),
    ] {
        for form in [&bad_password[..], &bad_refresh[..]] {
            let res = app.token_form(path, form).await;
            assert_eq!(res.status(), status, "{path} {form:?}");
            assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
        }
    }
}

tessera_tests::on_both_backends!(scope_and_credential_refusals_answer_as_each_path_should);

/// RomM's web app sends its CSRF token as `X-CSRFToken` from the cookie `romm_csrftoken`; one switch
/// (`session.preset = "romm"`) makes Tessera use RomM's names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_romm_preset_speaks_romms_cookie_and_csrf_names() {
    let Some(app) = TestAppBuilder::new(DbKind::Sqlite)
        .config("[session]\npreset = \"romm\"\n")
        .try_spawn()
        .await
    else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"username": "ada", "password": tessera_tests::oauth::PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let session = tessera_tests::oauth::set_cookie(&res, "romm_session").expect("romm_session");
    let csrf = tessera_tests::oauth::set_cookie(&res, "romm_csrftoken").expect("romm_csrftoken");
    assert_eq!(tessera_tests::oauth::set_cookie(&res, "tessera_session"), None);
    let write = |header: Option<&'static str>| {
        let mut rb = app
            .client
            .post(app.url("/api/client-tokens"))
            .header("cookie", format!("romm_session={session}; romm_csrftoken={csrf}"))
            .json(&json!({"name": "tv", "scopes": ["me.read"]}));
        if let Some(h) = header {
            rb = rb.header(h, csrf.as_str());
        }
        rb.send()
    };
    // RomM's header name, as its web app sends it; the generic one still works too.
    assert_eq!(
        write(Some("X-CSRFToken")).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        write(Some("x-csrf-token")).await.unwrap().status(),
        StatusCode::CREATED
    );
    let refused = write(None).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "csrf");
    // The session cookie is read under RomM's name.
    let me = app
        .client
        .get(app.url("/api/users/me"))
        .header("cookie", format!("romm_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let logout = app
        .client
        .post(app.url("/api/logout"))
        .header("cookie", format!("romm_session={session}"))
        .header("x-csrftoken", csrf.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    assert_eq!(
        tessera_tests::oauth::set_cookie(&logout, "romm_session").as_deref(),
        Some("")
    );
}

#[test]
fn cookie_names_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let load = |toml: &str| {
        let file = dir.path().join("t.toml");
        std::fs::write(&file, toml).unwrap();
        let env = vec![("TESSERA_DATA_DIR".to_owned(), dir.path().display().to_string())];
        tessera_server::config::load(Some(&file), &env).map(|s| s.session)
    };
    let err = load("[session]\ncookie_name = \"__Host-tessera_session\"\n").unwrap_err();
    assert!(err.to_string().contains("__Host-"), "{err}");
    let err = load("[session]\ncookie_name = \"a b\"\n").unwrap_err();
    assert!(err.to_string().contains("session.cookie_name"), "{err}");
    let ok = load("[server]\npublic_url = \"https://auth.example.com\"\n[session]\ncookie_name = \"__Host-tessera_session\"\n").unwrap();
    assert_eq!(ok.cookie_name, "__Host-tessera_session");
    assert_eq!(ok.csrf_header_names, vec!["x-csrf-token".to_owned()]);
}

/// RomM's user schema: the official muOS app indexes `me["avatar_path"]`; RomM's web app keeps
/// `ra_username` and `ui_settings` per user through `PUT /api/users/{id}` with `me.write`.
async fn user_objects_carry_romms_fields(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let ada = app.create_user("ada", Role::User).await;
    let admin = app.password_login("root", None).await.access_token;
    let member = app
        .password_login("ada", Some("me.read me.write"))
        .await
        .access_token;
    let me: Value = app
        .get_bearer("/api/users/me", &member)
        .await
        .json()
        .await
        .unwrap();
    for field in ["avatar_path", "ra_username", "ra_progression", "ui_settings"] {
        assert!(me.get(field).is_some(), "{field} in {me}");
    }
    assert_eq!(me["avatar_path"], "");
    let put = |token: &str, body: Value| {
        app.client
            .put(app.url(&format!("/api/users/{ada}")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    // RomM's form sends ui_settings as JSON text; an object is taken too.
    let res = put(
        &member,
        json!({"ra_username": "ada_ra", "ui_settings": "{\"theme\":\"dark\"}"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let me: Value = app
        .get_bearer("/api/users/me", &member)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["ra_username"].clone(), me["ui_settings"].clone()),
        (json!("ada_ra"), json!({"theme": "dark"}))
    );
    let res = put(&member, json!({"ui_settings": {"grid": 3}})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let listed: Value = app.get_bearer("/api/users", &admin).await.json().await.unwrap();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == ada)
        .unwrap()
        .clone();
    assert_eq!(row["ui_settings"], json!({"grid": 3}), "{row}");
    // RomM's id list, not a user called "identifiers".
    let ids: Value = app
        .get_bearer("/api/users/identifiers", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(ids.as_array().unwrap().contains(&json!(ada)), "{ids}");
    assert_eq!(row["ra_username"], "ada_ra");
    // Bounded and shaped: not an object, not JSON, or over 16 KiB is a 422.
    for bad in [
        json!({"ui_settings": [1, 2]}),
        json!({"ui_settings": "{not json"}),
        json!({"ui_settings": {"x": "y".repeat(17 * 1024)}}),
    ] {
        let res = put(&member, bad.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // Another user's account still needs users.write.
    let other = app.create_user("bob", Role::User).await;
    let res = app
        .client
        .put(app.url(&format!("/api/users/{other}")))
        .bearer_auth(&member)
        .json(&json!({"ra_username": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

tessera_tests::on_both_backends!(user_objects_carry_romms_fields);

/// RomM's device API (rommapp/romm backend/endpoints/device.py, responses/device.py): grout, decky-romm-sync,
/// argosy and Graviton register with `POST /api/devices`; repeats follow `allow_existing` / `allow_duplicate`;
/// `PUT` is partial; every object carries RomM's `DeviceSchema`.
async fn romms_device_api_registers_and_edits_devices(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let token = app
        .password_login("ada", Some("devices.read devices.write me.read"))
        .await
        .access_token;
    let post = |body: Value| {
        app.client
            .post(app.url("/api/devices"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    // grout's registration (grout romm/devices.go): name, platform, client, version, MAC, host name.
    let grout = json!({"name": "RG35XX", "platform": "muOS", "client": "grout", "client_version": "4.2.0",
        "mac_address": "aa:bb:cc:dd:ee:ff", "hostname": "rg35xx"});
    let res = post(grout.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["device_id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "RG35XX");
    assert!(created["created_at"].is_string());
    // The same fingerprint again: 200 with the same device; refused with allow_existing false;
    // a new device with allow_duplicate.
    let res = post(grout.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["device_id"], id.as_str());
    let mut refuse = grout.clone();
    refuse["allow_existing"] = json!(false);
    let res = post(refuse).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(
        (problem["code"].as_str(), problem["device_id"].as_str()),
        (Some("device_exists"), Some(id.as_str()))
    );
    let mut duplicate = grout.clone();
    duplicate["allow_duplicate"] = json!(true);
    let res = post(duplicate).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let second = res.json::<Value>().await.unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, id);
    // Without a MAC address, host name and platform together are the fingerprint.
    let deck =
        json!({"name": "Deck", "platform": "SteamOS", "client": "decky-romm-sync", "hostname": "steamdeck"});
    let first_deck = post(deck.clone()).await.unwrap();
    assert_eq!(first_deck.status(), StatusCode::CREATED);
    let again = post(deck).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    // An empty registration is RomM's all-null device.
    let res = post(json!({})).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["name"], Value::Null);

    // Every field of RomM's DeviceSchema is there (romm-cli's decoder requires them).
    let device: Value = app
        .get_bearer(&format!("/api/devices/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    for field in [
        "id",
        "user_id",
        "name",
        "platform",
        "client",
        "client_version",
        "ip_address",
        "mac_address",
        "hostname",
        "sync_mode",
        "sync_enabled",
        "sync_config",
        "last_seen",
        "created_at",
        "updated_at",
    ] {
        assert!(device.get(field).is_some(), "{field} in {device}");
    }
    assert_eq!(
        (
            device["sync_mode"].clone(),
            device["sync_enabled"].clone(),
            device["sync_config"].clone()
        ),
        (json!("api"), json!(true), Value::Null)
    );
    assert_eq!(device["hostname"], "rg35xx");
    assert!(device["user_id"].is_i64());

    // Partial updates: only client_version (was a 422), then sync fields; null clears a nullable field.
    let put = |body: Value| {
        app.client
            .put(app.url(&format!("/api/devices/{id}")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let res = put(json!({"client_version": "4.3.0"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(
        (edited["client_version"].as_str(), edited["name"].as_str()),
        (Some("4.3.0"), Some("RG35XX"))
    );
    app.clock.advance(std::time::Duration::from_secs(5));
    let res = put(
        json!({"sync_enabled": false, "sync_mode": "push_pull", "hostname": null,
        "sync_config": {"ssh_password": "hunter2", "ssh_key_path": "/k", "ssh_host": "nas"}}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["sync_enabled"], false);
    assert_eq!(edited["sync_mode"], "push_pull");
    assert_eq!(edited["hostname"], Value::Null);
    assert_eq!(
        edited["sync_config"],
        json!({"ssh_password": "********", "ssh_key_path": "********", "ssh_host": "nas"}),
        "masked as RomM does"
    );
    assert_ne!(edited["updated_at"], edited["created_at"]);
    for bad in [
        json!({"sync_mode": "rsync"}),
        json!({"mac_address": "aa:bb:cc:dd:ee:ff:00"}),
        json!({"sync_config": [1]}),
        json!({"sync_config": {"x": "y".repeat(17 * 1024)}}),
        json!({"name": "   "}),
    ] {
        let res = put(bad.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // The devices of this API and of the device flow are one list; another user's device is a 404.
    let listed: Value = app.get_bearer("/api/devices", &token).await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    app.create_user("bob", Role::User).await;
    let bob = app
        .password_login("bob", Some("devices.read devices.write"))
        .await
        .access_token;
    let res = app.get_bearer(&format!("/api/devices/{id}"), &bob).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Registration needs devices.write.
    let reader = app.password_login("ada", Some("devices.read")).await.access_token;
    let res = app
        .client
        .post(app.url("/api/devices"))
        .bearer_auth(&reader)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

tessera_tests::on_both_backends!(romms_device_api_registers_and_edits_devices);

/// A 1×1 PNG.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
    0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05,
    0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];

/// RomM's web app and romm-comm edit users with a multipart form (RomM's `UserForm`: username, password,
/// email, role, enabled, ra_username, netplayid, ui_settings as text, an `avatar` file); the avatar is
/// checked by its bytes and served at the URL `avatar_path` names.
async fn romms_multipart_user_form_and_avatar(db: DbKind) {
    use reqwest::multipart::{Form, Part};
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let ada = app.create_user("ada", Role::User).await;
    let admin = app.password_login("root", None).await.access_token;
    let member = app
        .password_login("ada", Some("me.read me.write assets.read"))
        .await
        .access_token;
    let form = |avatar: Option<(Vec<u8>, &'static str)>| {
        let mut f = Form::new()
            .text("username", "")
            .text("password", "")
            .text("email", "")
            .text("ra_username", "ada_ra")
            .text("netplayid", "ignored")
            .text("ui_settings", r#"{"theme":"dark"}"#);
        if let Some((bytes, mime)) = avatar {
            f = f.part(
                "avatar",
                Part::bytes(bytes).file_name("avatar.png").mime_str(mime).unwrap(),
            );
        }
        f
    };
    let put_form = |token: &str, f: Form| {
        app.client
            .put(app.url(&format!("/api/users/{ada}")))
            .bearer_auth(token)
            .multipart(f)
            .send()
    };
    let res = put_form(&member, form(Some((TINY_PNG.to_vec(), "image/png"))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["username"], "ada", "an empty field is not given");
    assert_eq!(user["ra_username"], "ada_ra");
    assert_eq!(user["ui_settings"], json!({"theme": "dark"}));
    let avatar_path = user["avatar_path"].as_str().unwrap().to_owned();
    assert!(
        avatar_path.starts_with(&format!("/api/users/{ada}/avatar")),
        "{avatar_path}"
    );
    // Served where avatar_path says, as what its bytes are, never sniffed into something else.
    let res = app.get_bearer(&avatar_path, &member).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().as_ref(), TINY_PNG);
    // Checked by content: a page named avatar.png and declared image/png is refused, and nothing changes.
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let res = put_form(&member, form(Some((html, "image/png")))).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.get_bearer(&avatar_path, &member).await;
    assert_eq!(res.bytes().await.unwrap().as_ref(), TINY_PNG);
    // Bounded: an avatar over 2 MiB is a 413.
    let mut big = TINY_PNG.to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let res = put_form(&member, form(Some((big, "image/png")))).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Reading avatars needs assets.read; a user without one is a 404.
    let narrow = app.password_login("ada", Some("me.read")).await.access_token;
    assert_eq!(
        app.get_bearer(&avatar_path, &narrow).await.status(),
        StatusCode::FORBIDDEN
    );
    let root_id = app
        .get_bearer("/api/users/me", &admin)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .get_bearer(&format!("/api/users/{root_id}/avatar"), &member)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // An admin edits another account with RomM's urlencoded form; enabled reads as RomM's booleans.
    let res = app
        .client
        .put(app.url(&format!("/api/users/{ada}")))
        .bearer_auth(&admin)
        .form(&[("enabled", "false"), ("role", ""), ("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let user: Value = res.json().await.unwrap();
    assert_eq!(
        (user["enabled"].clone(), user["email"].clone()),
        (json!(false), json!("ada@example.com"))
    );
    // Other bodies are a 415, a bad boolean a 422.
    let res = app
        .client
        .put(app.url(&format!("/api/users/{ada}")))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body("enabled=true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = app
        .client
        .put(app.url(&format!("/api/users/{ada}")))
        .bearer_auth(&admin)
        .form(&[("enabled", "maybe")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

tessera_tests::on_both_backends!(romms_multipart_user_form_and_avatar);
