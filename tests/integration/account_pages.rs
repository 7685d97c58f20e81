//! The account page (issue 22) in Chromium and over plain HTTP: a sign-in without a return address lands
//! on it; a person changes their email and password and ends another session there, with the same
//! rules as the API; every form refuses a missing or wrong CSRF token; screenshots at two widths.

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;
use tessera_core::Role;
use tessera_tests::browser::{browser_available, click, fill, screenshots, sign_in, submit, Browser};
use tessera_tests::oauth::PASSWORD;
use tessera_tests::{on_both_backends, DbKind, TestApp};

async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn a_person_manages_their_account_in_chromium(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    // Another device of ada's, signed in through the API.
    let phone = app.session_login("ada").await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/login")).await.unwrap();
    sign_in(c, "ada", PASSWORD).await;
    assert_eq!(text(c, "#username").await, "ada");
    assert_eq!(c.current_url().await.unwrap().path(), "/account");
    assert_eq!(
        c.find_all(Locator::Css("#sessions tbody tr"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(text(c, "#sessions tr.current").await.contains("(this one)"));
    screenshots(c, "account").await;

    // End the other session: its cookie stops working at once.
    submit(c, "button.end-session").await;
    assert_eq!(text(c, "#done").await, "Session ended.");
    assert_eq!(
        c.find_all(Locator::Css("#sessions tbody tr"))
            .await
            .unwrap()
            .len(),
        1
    );
    let me = app.with_session(app.client.get(app.url("/api/users/me")), &phone, false);
    assert_eq!(me.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Email: a wrong password is refused in words; the right one changes it (unverified until confirmed).
    fill(c, "#new-email", "ada@new.example").await;
    fill(c, "#email-password", "not my password").await;
    submit(c, "#change-email").await;
    assert!(text(c, "#error").await.contains("current password"));
    fill(c, "#new-email", "ada@new.example").await;
    fill(c, "#email-password", PASSWORD).await;
    submit(c, "#change-email").await;
    assert!(text(c, "#done").await.starts_with("Email changed"));
    assert_eq!(text(c, "#email").await, "ada@new.example");
    // Confirming it needs a mail server; without one the page says so, and what to do.
    submit(c, "#send-confirmation").await;
    assert!(text(c, "#error").await.contains("no mail server"));

    // Password: the old one stops working, this session stays.
    fill(c, "#current-password", PASSWORD).await;
    fill(c, "#new-password", "a brand new passphrase").await;
    submit(c, "#change-password").await;
    assert!(text(c, "#done").await.starts_with("Password changed"));
    let old = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(old.status(), StatusCode::BAD_REQUEST);
    let new = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(new.status(), StatusCode::OK);
    c.goto(&app.url("/account")).await.unwrap();
    assert_eq!(text(c, "#username").await, "ada");
    // A page ada may not see answers as a page for a person, not a problem document.
    c.goto(&app.url("/admin")).await.unwrap();
    assert!(text(c, "#what-happened").await.contains("users.read"));
    assert!(c.source().await.unwrap().contains("Your account may not do this"));
    browser.stop().await;
    // Programs asking the same get the problem document, as everywhere.
    app.services.set_password("ada", PASSWORD).await.unwrap();
    let s = app.session_login("ada").await;
    let program = app
        .with_session(app.client.get(app.url("/admin")), &s, false)
        .send()
        .await
        .unwrap();
    assert_eq!(program.status(), StatusCode::FORBIDDEN);
    assert_eq!(program.headers()["content-type"], "application/problem+json");
    app.stop().await;
}

on_both_backends!(a_person_manages_their_account_in_chromium);

async fn value(c: &Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn a_person_makes_a_token_in_chromium(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let held: Vec<String> = app.password_login("ada", None).await.body["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/account/tokens")).await.unwrap();
    sign_in(c, "ada", PASSWORD).await;
    assert_eq!(text(c, "#count").await, "0 of 25");
    // The picker offers exactly what ada holds: nothing an admin has.
    let mut offered = Vec::new();
    for b in c.find_all(Locator::Css("input[name=scope]")).await.unwrap() {
        offered.push(b.attr("value").await.unwrap().unwrap());
    }
    assert!(!offered.is_empty());
    assert!(
        offered.iter().all(|o| held.contains(o)),
        "{offered:?} within {held:?}"
    );
    assert!(!offered.iter().any(|o| o == "users.write"));
    fill(c, "#token-name", "Launcher").await;
    click(c, "input[name=scope][value='me.read']").await;
    submit(c, "#create").await;
    let secret = value(c, "#secret").await;
    assert!(secret.len() > 64, "{secret}");
    screenshots(c, "account-tokens").await;
    // The shown secret works against the API, with only what was ticked.
    let me = app.get_bearer("/api/users/me", &secret).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        app.get_bearer("/api/devices", &secret).await.status(),
        StatusCode::FORBIDDEN
    );
    // Reloading never shows it again.
    c.goto(&app.url("/account/tokens")).await.unwrap();
    assert!(c.find(Locator::Css("#secret")).await.is_err());
    assert_eq!(text(c, "#count").await, "1 of 25");
    // A pair code with its QR code, for a TV.
    submit(c, "button.pair").await;
    assert_eq!(text(c, "#pair-code").await.len(), 8);
    assert!(c.find(Locator::Css("#pair-qr svg")).await.is_ok());
    // Regenerate: a new secret, the old one refused at once.
    submit(c, "button.regenerate").await;
    let renewed = value(c, "#secret").await;
    assert_ne!(renewed, secret);
    assert_eq!(
        app.get_bearer("/api/users/me", &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bearer("/api/users/me", &renewed).await.status(),
        StatusCode::OK
    );
    submit(c, "button.delete").await;
    c.wait().for_element(Locator::Css("#none")).await.unwrap();
    assert_eq!(
        app.get_bearer("/api/users/me", &renewed).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Asking for more than ada holds (a forged form) is refused in words, nothing made.
    browser.stop().await;
    let s = app.session_login("ada").await;
    let forged = app
        .with_session(app.client.post(app.url("/account/tokens/create")), &s, false)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf_token={}&name=x&scope=users.write&expires_in=30d",
            s.csrf
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.text().await.unwrap().contains("id=\"error\""));
    app.stop().await;
}

on_both_backends!(a_person_makes_a_token_in_chromium);

/// A TV approved through the device flow (RomM's endpoints); returns its token.
async fn approved_tv(app: &TestApp, bearer: &str) -> String {
    let init: serde_json::Value = app
        .post_json(
            "/api/auth/device/init",
            &json!({"client_device_identifier": "tv-1", "name": "Living room TV", "client": "argosy",
                    "platform": "android", "client_version": "1.2", "requested_scopes": ["me.read", "roms.read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let approved = app
        .client
        .post(app.url("/api/auth/device/approve"))
        .bearer_auth(bearer)
        .json(&json!({"user_code": init["user_code"], "approved_scopes": ["me.read", "roms.read"], "device_name": "Den TV"}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::OK);
    app.clock.advance(std::time::Duration::from_secs(5));
    let token: serde_json::Value = app
        .post_json(
            "/api/auth/device/token",
            &json!({"device_code": init["device_code"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().expect("a device token").to_owned()
}

async fn a_person_renames_and_revokes_a_device_in_chromium(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let ada = app.password_login("ada", None).await.access_token;
    let tv = approved_tv(&app, &ada).await;
    assert_eq!(
        app.get_bearer("/api/users/me", &tv).await.status(),
        StatusCode::OK
    );
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/account/devices")).await.unwrap();
    sign_in(c, "ada", PASSWORD).await;
    assert_eq!(text(c, ".device-name").await, "Den TV");
    assert_eq!(text(c, ".device-scopes").await, "me.read roms.read");
    screenshots(c, "account-devices").await;
    fill(
        c,
        "form[action='/account/devices/rename'] input[name=name]",
        "Bedroom TV",
    )
    .await;
    submit(c, "button.rename").await;
    assert_eq!(text(c, "#done").await, "Renamed.");
    assert_eq!(text(c, ".device-name").await, "Bedroom TV");
    submit(c, "button.revoke").await;
    c.wait().for_element(Locator::Css("#none")).await.unwrap();
    assert_eq!(
        app.get_bearer("/api/users/me", &tv).await.status(),
        StatusCode::UNAUTHORIZED
    );
    browser.stop().await;
    app.stop().await;
}

on_both_backends!(a_person_renames_and_revokes_a_device_in_chromium);

/// Every account form refuses a post without the session's CSRF token in its field (403), and without a
/// session sends the browser through `/login` back to the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_forms_refuse_a_missing_or_wrong_csrf_token() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.expect("sqlite app");
    app.create_user("ada", Role::User).await;
    let s = app.session_login("ada").await;
    let forms = [
        ("/account/password", "/account"),
        ("/account/email", "/account"),
        ("/account/verify-email", "/account"),
        ("/account/sessions/end", "/account"),
        ("/account/sessions/end-others", "/account"),
        ("/account/passkeys/rename", "/account/passkeys"),
        ("/account/passkeys/delete", "/account/passkeys"),
        ("/account/apps/revoke", "/account/apps"),
        ("/account/tokens/create", "/account/tokens"),
        ("/account/tokens/delete", "/account/tokens"),
        ("/account/devices/rename", "/account/devices"),
        ("/account/devices/revoke", "/account/devices"),
    ];
    let fields = json!({"current_password": PASSWORD, "new_password": "another passphrase", "email": "x@example.com",
        "id": "x", "name": "x", "client_id": "x"});
    for (path, page) in forms {
        for token in [None, Some("wrong"), Some(s.csrf.as_str())] {
            let mut form = fields.as_object().unwrap().clone();
            if let Some(t) = token {
                // The session's token is the header's; the form field must carry the page's (the same).
                form.insert("csrf_token".into(), json!(t));
            }
            let res = app
                .with_session(app.client.post(app.url(path)), &s, true)
                .form(&form)
                .send()
                .await
                .unwrap();
            match token {
                Some(t) if t == s.csrf => assert_ne!(res.status(), StatusCode::FORBIDDEN, "{path}"),
                _ => assert!(
                    matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
                    "{path} with {token:?}: {}",
                    res.status()
                ),
            }
        }
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let anonymous = no_redirects
            .post(app.url(path)).form(&json!({"csrf_token": "x", "id": "x", "client_id": "x", "current_password": "x", "new_password": "x", "email": "x"})).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "{path}");
        let rd: String = url::form_urlencoded::byte_serialize(page.as_bytes()).collect();
        assert_eq!(
            anonymous.headers()["location"],
            format!("/login?rd={rd}").as_str(),
            "{path}"
        );
    }
    app.stop().await;
}

async fn an_admin_manages_users_in_chromium(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let ada = app.create_user("ada", Role::User).await;
    app.create_user("bob", Role::User).await;
    let ada_token = app.password_login("ada", None).await.access_token;
    // A member without users.read gets no admin page.
    let member = app.session_login("bob").await;
    let refused = app
        .with_session(app.client.get(app.url("/admin")), &member, false)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/admin")).await.unwrap();
    sign_in(c, "root", PASSWORD).await;
    assert_eq!(text(c, "#shown").await, "3 of 3 users.");
    screenshots(c, "admin-users").await;
    fill(c, "#q", "ad").await;
    submit(c, "form[role=search] button").await;
    assert_eq!(text(c, "#shown").await, "1 of 1 users.");
    assert_eq!(text(c, ".user-name").await, "ada\nada@example.com");
    // Disable: ada's tokens stop at once; enable again.
    submit(c, "tr[data-user=ada] button.toggle").await;
    assert!(text(c, "#done").await.starts_with("Disabled"));
    assert_eq!(text(c, "tr[data-user=ada] .user-state").await, "disabled");
    assert_eq!(
        app.get_bearer("/api/users/me", &ada_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    submit(c, "tr[data-user=ada] button.toggle").await;
    assert_eq!(text(c, "tr[data-user=ada] .user-state").await, "enabled");
    // An admin cannot disable themself (nor the last admin): said in words.
    submit(c, "tr[data-user=root] button.toggle").await;
    let refusal = text(c, "#error").await;
    assert!(!refusal.is_empty(), "refused in words");
    assert_eq!(
        text(c, "tr[data-user=root] .user-state").await,
        "enabled",
        "{refusal}"
    );
    // A role change takes effect at once; back again.
    let bob = app.services.find_user_by_name("bob").await.unwrap().id;
    let set_role = |role: &'static str| async move {
        c.find(Locator::Css(&format!("#role-{bob}")))
            .await
            .unwrap()
            .select_by_value(role)
            .await
            .unwrap();
        submit(c, "tr[data-user=bob] button.set-role").await;
        text(c, "tr[data-user=bob] .user-role").await
    };
    assert_eq!(set_role("admin").await, "admin");
    assert_eq!(set_role("user").await, "user");
    // Signed out everywhere: ada's browser session and her OAuth token end at once.
    let ada_session = app.session_login("ada").await;
    let ada_oauth = app.password_login("ada", None).await.access_token;
    submit(c, "tr[data-user=ada] button.end-sessions").await;
    assert!(text(c, "#done").await.starts_with("Signed out everywhere"));
    let me = app.with_session(app.client.get(app.url("/api/users/me")), &ada_session, false);
    assert_eq!(me.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get_bearer("/api/users/me", &ada_oauth).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A one-use reset link for ada, shown once; it sets her password.
    submit(c, "tr[data-user=ada] button.reset-link").await;
    let reset = value(c, "#reset-link").await;
    assert!(reset.contains("/reset-password?token="), "{reset}");
    c.goto(&reset).await.unwrap();
    fill(c, "#password", "ada's fresh passphrase").await;
    submit(c, "button[type=submit]").await;
    c.wait().for_element(Locator::Css(".done, .error")).await.unwrap();
    let fresh = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", "ada's fresh passphrase"),
            ],
        )
        .await;
    assert_eq!(fresh.status(), StatusCode::OK);
    app.services.set_password("ada", PASSWORD).await.unwrap();
    c.goto(&app.url("/admin")).await.unwrap();
    // An invite link, shown once; the person registers through it and can sign in.
    submit(c, "#make-invite").await;
    let link = value(c, "#invite-link").await;
    assert!(link.contains("/register?token="), "{link}");
    c.goto(&link).await.unwrap();
    fill(c, "#username", "carol").await;
    fill(c, "#email", "carol@example.com").await;
    fill(c, "#password", PASSWORD).await;
    submit(c, "button[type=submit]").await;
    c.wait().for_element(Locator::Css(".done, .error")).await.unwrap();
    assert!(!app.password_login("carol", None).await.access_token.is_empty());
    // It works once.
    c.goto(&link).await.unwrap();
    if c.find(Locator::Css("#username")).await.is_ok() {
        fill(c, "#username", "dave").await;
        fill(c, "#password", PASSWORD).await;
        submit(c, "button[type=submit]").await;
    }
    assert!(text(c, ".error").await.contains("used"), "the link works once");
    // The audit log, filtered to ada: the changes above, newest first.
    c.goto(&app.url(&format!("/admin/audit?user_id={ada}")))
        .await
        .unwrap();
    let rows = c.find_all(Locator::Css("#events tbody tr")).await.unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        assert_eq!(cells[2].text().await.unwrap(), ada.to_string());
    }
    screenshots(c, "admin-audit").await;
    c.goto(&app.url("/admin/audit?user_id=abc")).await.unwrap();
    assert!(text(c, "#error").await.contains("user_id"));
    browser.stop().await;
    // The forms check the session's CSRF token, then the scope.
    let root = app.session_login("root").await;
    let wrong = app
        .with_session(app.client.post(app.url("/admin/users/disable")), &root, false)
        .form(&[("csrf_token", "wrong"), ("id", &ada.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let by_member = app
        .with_session(app.client.post(app.url("/admin/users/disable")), &member, false)
        .form(&[("csrf_token", member.csrf.as_str()), ("id", &ada.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(by_member.status(), StatusCode::FORBIDDEN);
    // A manager (users.write through a group, not an admin) gets no reset link for an admin, nor for
    // someone holding rights the manager lacks: a reset link hands over the account.
    let root_token = app.password_login("root", None).await.access_token;
    let group: serde_json::Value = app
        .client
        .post(app.url("/api/permissions/groups"))
        .bearer_auth(&root_token)
        .json(&json!({"name": "Managers", "grants": [{"entity": "users", "action": "read"}, {"entity": "users", "action": "write"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bob = app.services.find_user_by_name("bob").await.unwrap().id;
    let moved = app
        .client
        .put(app.url(&format!("/api/permissions/users/{bob}")))
        .bearer_auth(&root_token)
        .json(&json!({"permission_group_id": group["id"], "overrides": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    let manager = app.session_login("bob").await;
    let root_id = app.services.find_user_by_name("root").await.unwrap().id;
    for (target, says) in [(root_id, "only an admin"), (ada, "rights you do not")] {
        let res = app
            .with_session(
                app.client.post(app.url("/admin/users/reset-link")),
                &manager,
                false,
            )
            .form(&[("csrf_token", manager.csrf.as_str()), ("id", &target.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text().await.unwrap();
        assert!(
            page.contains(says) && !page.contains("reset-password?token="),
            "{says}: {page}"
        );
    }
    assert_eq!(
        app.get_bearer(
            "/api/users/me",
            &app.password_login("ada", None).await.access_token
        )
        .await
        .status(),
        StatusCode::OK,
        "ada is still enabled"
    );
    app.stop().await;
}

on_both_backends!(an_admin_manages_users_in_chromium);

async fn an_admin_sees_the_settings_and_rotates_the_key(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    app.create_user("bob", Role::User).await;
    let member = app.session_login("bob").await;
    let refused = app
        .with_session(app.client.get(app.url("/admin/settings")), &member, false)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/admin/settings")).await.unwrap();
    sign_in(c, "root", PASSWORD).await;
    assert_eq!(text(c, "#database").await, "ok");
    assert_eq!(c.find_all(Locator::Css("#keys tbody tr")).await.unwrap().len(), 1);
    assert_eq!(text(c, ".key-state").await, "current");
    // The effective configuration, with no secret in it.
    let config = text(c, "#config").await;
    assert!(
        config.contains(&app.services.settings.server.public_url),
        "{config}"
    );
    let kek = std::fs::read_to_string(app.services.settings.server.data_dir.join("jwt-kek")).unwrap();
    for secret in [app.service_key(), kek.trim().to_owned()] {
        assert!(
            secret.len() >= 32 && !config.contains(&secret),
            "a secret is shown"
        );
    }
    screenshots(c, "admin-settings").await;
    submit(c, "#rotate").await;
    assert!(text(c, "#done").await.starts_with("Rotated"));
    let states: Vec<String> = {
        let mut v = Vec::new();
        for e in c.find_all(Locator::Css(".key-state")).await.unwrap() {
            v.push(e.text().await.unwrap());
        }
        v
    };
    assert_eq!(states.len(), 2, "{states:?}");
    assert!(
        states.contains(&"current".to_owned()) && states.iter().any(|s| s.starts_with("retired")),
        "{states:?}"
    );
    browser.stop().await;
    // Tokens keep working across the rotation.
    let token = app.password_login("bob", None).await.access_token;
    assert_eq!(
        app.get_bearer("/api/users/me", &token).await.status(),
        StatusCode::OK
    );
    let events = app
        .services
        .db
        .run(|c| tessera_db::models::audit_events::AuditEvent::recent(c, 20))
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == "signing_key.rotated" && e.actor.is_some()));
    app.stop().await;
}

on_both_backends!(an_admin_sees_the_settings_and_rotates_the_key);

async fn an_admin_registers_an_oauth_client_in_chromium(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/admin/clients")).await.unwrap();
    sign_in(c, "root", PASSWORD).await;
    fill(c, "#client-name", "Backup job").await;
    fill(c, "#client-id", "backup-job").await;
    click(c, "input[name=grant_type][value=client_credentials]").await;
    fill(c, "#client-scopes", "roms.read").await;
    submit(c, "#create").await;
    let secret = value(c, "#client-secret").await;
    assert_eq!(secret.len(), 64);
    screenshots(c, "admin-clients").await;
    let token = || {
        app.client
            .post(app.url("/oauth/token"))
            .basic_auth("backup-job", Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let issued: serde_json::Value = token().await.unwrap().json().await.unwrap();
    assert_eq!(issued["scope"], "roms.read", "{issued}");
    submit(c, "tr[data-client=backup-job] button.delete").await;
    assert!(text(c, "#done").await.starts_with("Deleted"));
    assert_eq!(token().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Bad input is refused in words; nothing is made.
    fill(c, "#client-name", "Broken").await;
    click(c, "input[name=confidential]").await;
    click(c, "input[name=grant_type][value=client_credentials]").await;
    submit(c, "#create").await;
    assert!(text(c, "#error").await.contains("confidential"));
    browser.stop().await;
    app.stop().await;
}

on_both_backends!(an_admin_registers_an_oauth_client_in_chromium);

async fn an_admin_edits_a_group_and_a_member_token_shrinks(db: DbKind) {
    if !browser_available() {
        return;
    }
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    app.create_user("ada", Role::User).await;
    let ada = app.password_login("ada", None).await.access_token;
    let scopes = |v: serde_json::Value| {
        v["scope"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(scopes(app.introspect(&ada).await).contains(&"roms.read".to_owned()));
    let default = app
        .services
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.group.is_default)
        .expect("a default group")
        .group
        .name;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/admin/groups")).await.unwrap();
    sign_in(c, "root", PASSWORD).await;
    let section = format!("section[data-group='{default}']");
    assert!(text(c, &format!("{section} .effective"))
        .await
        .contains("roms.read"));
    screenshots(c, "admin-groups").await;
    click(c, &format!("{section} input[name=grant][value='roms:read']")).await;
    // Shown live, before saving, as the server will compute it.
    let preview = text(c, &format!("{section} .effective")).await;
    assert!(
        !preview.contains("roms.read") && preview.contains("platforms.read"),
        "{preview}"
    );
    submit(c, &format!("{section} button.save")).await;
    assert!(text(c, "#done").await.starts_with("Saved"));
    assert_eq!(
        text(c, &format!("{section} .effective")).await,
        preview,
        "the server agrees"
    );
    assert!(!text(c, &format!("{section} .effective"))
        .await
        .contains("roms.read"));
    // The member's token shrinks at once: the credential's scopes ∩ the owner's current rights.
    let now = scopes(app.introspect(&ada).await);
    assert!(!now.contains(&"roms.read".to_owned()), "{now:?}");
    // One right given back to ada alone, from her permissions page (an override on top of the group).
    c.goto(&app.url("/admin")).await.unwrap();
    click(c, "tr[data-user=ada] a.permissions").await;
    c.wait()
        .for_element(Locator::Css("#o-roms-read"))
        .await
        .unwrap()
        .select_by_value("grant")
        .await
        .unwrap();
    submit(c, "#save-rights").await;
    assert!(text(c, "#done").await.starts_with("Saved"));
    assert!(text(c, "#effective").await.contains("roms.read"));
    screenshots(c, "admin-user").await;
    let now = scopes(app.introspect(&ada).await);
    assert!(now.contains(&"roms.read".to_owned()), "{now:?}");
    browser.stop().await;
    app.stop().await;
}

on_both_backends!(an_admin_edits_a_group_and_a_member_token_shrinks);
