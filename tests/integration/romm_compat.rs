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
