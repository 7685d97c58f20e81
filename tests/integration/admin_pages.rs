//! The admin pages' forms over plain HTTP (issue 22), as a browser without JavaScript posts them: an
//! admin adds a user, makes and deletes a permission group, moves a user into it and grants them one
//! right on top, edits an OAuth client, and pages back through the audit log; every change reaches the
//! credentials at once, with the same rules as the API. Every admin form refuses a missing or wrong CSRF
//! token and a user without the right.

use reqwest::StatusCode;
use serde_json::Value;
use tessera_core::Role;
use tessera_service::audit::AuditFilter;
use tessera_tests::oauth::{BrowserSession, PASSWORD};
use tessera_tests::{on_both_backends, DbKind, TestApp};

/// Posts an admin form with the session's token in its field; the page's status and HTML.
async fn post_form(
    app: &TestApp,
    s: &BrowserSession,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", s.csrf.as_str())];
    form.extend_from_slice(fields);
    let res = app
        .with_session(app.client.post(app.url(path)), s, false)
        .form(&form)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn get_page(app: &TestApp, s: &BrowserSession, path: &str) -> (StatusCode, String) {
    let res = app
        .with_session(app.client.get(app.url(path)), s, false)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

fn scopes_of(introspected: &Value) -> Vec<String> {
    introspected["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .map(str::to_owned)
        .collect()
}

async fn group_id(app: &TestApp, name: &str) -> Option<i64> {
    app.services
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.group.name == name)
        .map(|g| g.group.id)
}

async fn default_group(app: &TestApp) -> i64 {
    let groups = app.services.list_groups().await.unwrap();
    groups
        .into_iter()
        .find(|g| g.group.is_default)
        .expect("a default group")
        .group
        .id
}

async fn an_admin_runs_users_groups_and_clients_from_forms(db: DbKind) {
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let ada = app.create_user("ada", Role::User).await;
    let root = app.session_login("root").await;

    // A user added directly: the admin sets the first password; they sign in with it.
    let (status, page) = post_form(
        &app,
        &root,
        "/admin/users/create",
        &[
            ("username", "cleo"),
            ("password", PASSWORD),
            ("email", ""),
            ("role", "user"),
            ("permission_group_id", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Created"), "{page}");
    assert!(!app.password_login("cleo", None).await.access_token.is_empty());
    // Bad input is said in words and makes nothing.
    let (status, page) = post_form(
        &app,
        &root,
        "/admin/users/create",
        &[("username", "dora"), ("password", "short"), ("role", "user")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("class=\"error\""), "{page}");
    assert!(app.services.find_user_by_name("dora").await.is_err());

    // A new, empty group; ada moved into it loses what the default group gave, at once.
    let ada_token = app.password_login("ada", None).await.access_token;
    assert!(scopes_of(&app.introspect(&ada_token).await).contains(&"roms.read".to_owned()));
    let (status, page) = post_form(&app, &root, "/admin/groups/create", &[("name", "Guests")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let guests = group_id(&app, "Guests").await.expect("the group was made");
    let (status, page) = get_page(&app, &root, &format!("/admin/user/{ada}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("roms.read"), "the page shows her rights: {page}");
    let here = format!("/admin/user/{ada}");
    let guests_id = guests.to_string();
    let (status, page) = post_form(&app, &root, &here, &[("permission_group_id", &guests_id)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Saved"), "{page}");
    let now = scopes_of(&app.introspect(&ada_token).await);
    assert!(!now.contains(&"roms.read".to_owned()), "{now:?}");
    // One right granted to her alone, on top of the group: back at once, and the API sees the override.
    let (status, page) = post_form(
        &app,
        &root,
        &here,
        &[
            ("permission_group_id", &guests_id),
            ("effect:roms:read", "grant"),
            ("effect:roms:write", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(scopes_of(&app.introspect(&ada_token).await).contains(&"roms.read".to_owned()));
    let root_token = app.password_login("root", None).await.access_token;
    let api: Value = app
        .get_bearer(&format!("/api/permissions/users/{ada}"), &root_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["permission_group_id"], guests);
    assert_eq!(api["overrides"][0]["entity"], "roms", "{api}");
    assert_eq!(api["overrides"][0]["effect"], "grant", "{api}");
    // An override naming no such right is refused in words, and nothing changes.
    let (status, page) = post_form(
        &app,
        &root,
        &here,
        &[("permission_group_id", ""), ("effect:nothing:read", "grant")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let still: Value = app
        .get_bearer(&format!("/api/permissions/users/{ada}"), &root_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["permission_group_id"], guests);
    // A right named twice (a hand-made form, or the API) is refused in words, not a server error.
    let (status, page) = post_form(
        &app,
        &root,
        &here,
        &[
            ("permission_group_id", ""),
            ("effect:roms:read", "grant"),
            ("effect:roms:read", "revoke"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("named twice"), "{page}");
    let twice = serde_json::json!({"name": "Twice", "grants": [{"entity": "roms", "action": "read"}, {"entity": "roms", "action": "read"}]});
    let res = app
        .client
        .post(app.url("/api/permissions/groups"))
        .bearer_auth(&root_token)
        .json(&twice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(group_id(&app, "Twice").await, None);
    // The default group cannot be deleted (said in words); Guests can, and is gone.
    let default = default_group(&app).await.to_string();
    let (status, page) = post_form(&app, &root, "/admin/groups/delete", &[("id", &default)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("default"), "{page}");
    let (status, page) = post_form(&app, &root, "/admin/groups/delete", &[("id", &guests_id)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Deleted"), "{page}");
    assert_eq!(group_id(&app, "Guests").await, None);
    // Making a group the default is audited like every other admin change.
    let (status, _) = post_form(&app, &root, "/admin/groups/make-default", &[("id", &default)]).await;
    assert_eq!(status, StatusCode::OK);
    let filter = AuditFilter::parse(None, Some("group.made_default"), None, None).unwrap();
    let events = app.services.audit_events(filter).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].actor.is_some(), "{events:?}");

    // An OAuth client edited: its next token carries the new scopes; the kind and secret stay.
    let (status, page) = post_form(
        &app,
        &root,
        "/admin/clients/create",
        &[
            ("name", "Backup job"),
            ("client_id", "backup-job"),
            ("confidential", "1"),
            ("grant_type", "client_credentials"),
            ("scopes", "roms.read"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let secret = page
        .split("id=\"client-secret\" type=\"text\" readonly value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the secret is shown once")
        .to_owned();
    let token = || async {
        let res = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth("backup-job", Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()
    };
    assert_eq!(token().await["scope"], "roms.read");
    let (status, page) = post_form(
        &app,
        &root,
        "/admin/clients/update",
        &[
            ("client_id", "backup-job"),
            ("name", "Nightly backup"),
            ("grant_type", "client_credentials"),
            ("scopes", "roms.read platforms.read"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Nightly backup"), "{page}");
    let issued = token().await;
    let mut scopes = scopes_of(&issued);
    scopes.sort();
    assert_eq!(scopes, ["platforms.read", "roms.read"], "{issued}");
    // Beyond the admin's own rights is impossible to ask for; an unknown scope is refused in words.
    let (status, page) = post_form(
        &app,
        &root,
        "/admin/clients/update",
        &[
            ("client_id", "backup-job"),
            ("name", "Nightly backup"),
            ("grant_type", "client_credentials"),
            ("scopes", "no.such"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let mut kept = scopes_of(&token().await);
    kept.sort();
    assert_eq!(kept, ["platforms.read", "roms.read"]);
    app.stop().await;
}

on_both_backends!(an_admin_runs_users_groups_and_clients_from_forms);

/// The audit log pages newest first, 50 to a page, on the page and in the API (`before=<id>`).
async fn the_audit_log_pages_back(db: DbKind) {
    let Some(app) = TestApp::try_spawn(db).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let default = default_group(&app).await;
    let token = app.password_login("root", None).await.access_token;
    let admin = app.services.resolve_bearer(&token).await.unwrap();
    for _ in 0..60 {
        app.services.set_default_group(default, &admin).await.unwrap();
    }
    let root = app.session_login("root").await;
    let all: Vec<Value> = app
        .get_bearer("/api/audit?limit=1000", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(all.len() > 60, "{}", all.len());
    let rows = |page: &str| page.matches("class=\"event-kind\"").count();
    let (status, first) = get_page(&app, &root, "/admin/audit?kind=group.made_default").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&first), 50);
    let older = first
        .split("href=\"/admin/audit?")
        .find_map(|rest| {
            rest.split_once("\" id=\"older\"")
                .map(|(q, _)| q.replace("&#38;", "&").replace("&amp;", "&"))
        })
        .expect("a link to the older page");
    assert!(
        older.contains("kind=group.made_default"),
        "the filter is kept: {older}"
    );
    let (_, second) = get_page(&app, &root, &format!("/admin/audit?{older}")).await;
    assert_eq!(rows(&second), 10, "60 such events in all: {older}");
    assert!(!second.contains("id=\"older\""), "the last page links no further");
    assert!(second.contains("id=\"newest\""));
    // The API pages the same way: `before` the last id shown.
    let page1: Vec<Value> = app
        .get_bearer("/api/audit?limit=5", &token)
        .await
        .json()
        .await
        .unwrap();
    let last = page1[4]["id"].as_i64().unwrap();
    let page2: Vec<Value> = app
        .get_bearer(&format!("/api/audit?limit=5&before={last}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2.len(), 5);
    assert_eq!(page2[0]["id"], all[5]["id"]);
    assert!(page2.iter().all(|e| e["id"].as_i64().unwrap() < last));
    app.stop().await;
}

on_both_backends!(the_audit_log_pages_back);

/// Every admin form refuses a post without the session's CSRF token in its field, or with a wrong one,
/// and a signed-in user without the right; nothing of it is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_forms_refuse_a_missing_or_wrong_csrf_token_and_a_member() {
    let app = TestApp::try_spawn(DbKind::Sqlite).await.expect("sqlite app");
    app.create_user("root", Role::Admin).await;
    let ada = app.create_user("ada", Role::User).await.to_string();
    let root = app.session_login("root").await;
    let member = app.session_login("ada").await;
    let target = format!("/admin/user/{ada}");
    let forms = [
        "/admin/users/create",
        "/admin/users/disable",
        "/admin/users/role",
        "/admin/users/end-sessions",
        "/admin/users/reset-link",
        "/admin/users/reset-second-factor",
        "/admin/invite",
        target.as_str(),
        "/admin/groups/create",
        "/admin/groups/save",
        "/admin/groups/delete",
        "/admin/groups/make-default",
        "/admin/clients/create",
        "/admin/clients/update",
        "/admin/clients/delete",
        "/admin/settings/rotate-key",
    ];
    let fields = [
        ("id", ada.as_str()),
        ("username", "eve"),
        ("password", PASSWORD),
        ("name", "Evil"),
        ("client_id", "evil"),
        ("role", "admin"),
    ];
    for path in forms {
        for token in [None, Some("wrong")] {
            let mut form: Vec<(&str, &str)> = fields.to_vec();
            if let Some(t) = token {
                form.push(("csrf_token", t));
            }
            let res = app
                .with_session(app.client.post(app.url(path)), &root, true)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert!(
                matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
                "{path} with {token:?}: {}",
                res.status()
            );
        }
        let (status, _) = post_form(&app, &member, path, &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} by a member");
    }
    assert!(
        app.services.find_user_by_name("eve").await.is_err(),
        "nothing was made"
    );
    assert_eq!(group_id(&app, "Evil").await, None);
    let me = app.password_login("ada", None).await.access_token;
    assert_eq!(
        app.get_bearer("/api/users/me", &me).await.status(),
        StatusCode::OK,
        "ada is untouched"
    );
    app.stop().await;
}
