//! Users, roles, groups, overrides and effective access (issue 5).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::{BrowserSession, PASSWORD};
use tessera_tests::{both_backends, TestApp};

const MEMBER_RIGHTS: &str = "me.read roms.read platforms.read assets.read devices.read firmware.read \
                             roms.user.read collections.read me.write assets.write devices.write \
                             roms.user.write collections.write";

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn scopes_of(app: &TestApp, token: &str) -> String {
    app.introspect(token).await["scope"]
        .as_str()
        .unwrap_or("<inactive>")
        .to_owned()
}

async fn put_json(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn post_json_as(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

both_backends! {
    async fn roles_groups_and_overrides_yield_the_documented_scopes(app: TestApp) {
        let admin_id = app.create_user("root", Role::Admin).await;
        let admin = app.password_login("root", None).await.access_token;
        let me: Value = app.get_bearer("/api/permissions/me", &admin).await.json().await.unwrap();
        assert_eq!(me["rights"].as_array().unwrap().len(), 20, "admin holds every scope");
        assert_eq!(me["role"], "admin");

        // A new user joins the default group "Member".
        let created = json_of(post_json_as(&app, "/api/users", &admin, json!({"username": "Ada", "password": PASSWORD, "role": "viewer"})).await, StatusCode::CREATED).await;
        assert_eq!((created["username"].as_str(), created["role"].as_str()), (Some("ada"), Some("user")), "viewer is stored as user");
        let uid = created["id"].as_i64().unwrap();
        let ada = app.password_login("ada", None).await.access_token;
        assert_eq!(scopes_of(&app, &ada).await, MEMBER_RIGHTS);

        // A group with users:read, tasks, logs and an own-only roms grant.
        let g = json_of(post_json_as(&app, "/api/permissions/groups", &admin, json!({"name": "Operators", "grants": [
            {"entity": "users", "action": "read"}, {"entity": "tasks", "action": "write"},
            {"entity": "logs", "action": "read"}, {"entity": "roms", "action": "write", "own_only": true}]})).await, StatusCode::CREATED).await;
        let gid = g["id"].as_i64().unwrap();
        json_of(put_json(&app, &format!("/api/permissions/users/{uid}"), &admin, json!({"permission_group_id": gid, "overrides": [
            {"entity": "logs", "action": "read", "effect": "revoke"}, {"entity": "platforms", "action": "delete", "effect": "grant"}]})).await, StatusCode::OK).await;
        // The existing token follows at once: group scopes ∩ the token's (member) scopes.
        assert_eq!(scopes_of(&app, &ada).await, "me.read roms.read platforms.read roms.user.read me.write roms.user.write");
        let fresh = app.password_login("ada", None).await.access_token;
        assert_eq!(
            scopes_of(&app, &fresh).await,
            "me.read roms.read platforms.read roms.user.read me.write roms.user.write roms.write platforms.write users.read tasks.run"
        );
        let perms = json_of(app.get_bearer(&format!("/api/permissions/users/{uid}"), &admin).await, StatusCode::OK).await;
        assert_eq!(perms["overrides"].as_array().unwrap().len(), 2);
        // No group at all: only me.*.
        json_of(put_json(&app, &format!("/api/permissions/users/{uid}"), &admin, json!({"permission_group_id": null, "overrides": []})).await, StatusCode::OK).await;
        assert_eq!(scopes_of(&app, &fresh).await, "me.read me.write");
        assert!(admin_id > 0);
    }

    async fn demotion_revocation_disable_and_password_reach_existing_tokens(app: TestApp) {
        app.create_user("root", Role::Admin).await;
        let admin = app.password_login("root", None).await.access_token;
        let bob_id = app.create_user("bob", Role::Admin).await;
        let bob = app.password_login("bob", None).await.access_token;
        assert!(scopes_of(&app, &bob).await.contains("users.write"));
        // Demote: the same token shrinks to the member rights on the next request.
        json_of(put_json(&app, &format!("/api/users/{bob_id}"), &admin, json!({"role": "user"})).await, StatusCode::OK).await;
        assert_eq!(scopes_of(&app, &bob).await, MEMBER_RIGHTS);
        assert_eq!(app.get_bearer("/api/users", &bob).await.status(), StatusCode::FORBIDDEN);
        // Revoke a grant by override.
        json_of(put_json(&app, &format!("/api/permissions/users/{bob_id}"), &admin, json!({"permission_group_id": app.get_bearer(&format!("/api/users/{bob_id}"), &admin).await.json::<Value>().await.unwrap()["permission_group_id"], "overrides": [{"entity": "roms", "action": "read", "effect": "revoke"}]})).await, StatusCode::OK).await;
        assert!(!scopes_of(&app, &bob).await.contains("roms.read"));
        // Password change by an admin kills the token.
        json_of(put_json(&app, &format!("/api/users/{bob_id}"), &admin, json!({"password": "another long one"})).await, StatusCode::OK).await;
        assert_eq!(app.introspect(&bob).await, json!({"active": false}));
        // Disabling kills new ones too.
        app.services.set_password("bob", PASSWORD).await.unwrap();
        let bob2 = app.password_login("bob", None).await;
        json_of(put_json(&app, &format!("/api/users/{bob_id}"), &admin, json!({"enabled": false})).await, StatusCode::OK).await;
        assert_eq!(app.introspect(&bob2.access_token).await, json!({"active": false}));
        assert_eq!(app.introspect(&bob2.refresh_token).await, json!({"active": false}));
        assert_eq!(app.get_bearer("/api/users/me", &bob2.access_token).await.status(), StatusCode::UNAUTHORIZED);
    }

    async fn a_narrow_credential_cannot_act_beyond_its_scopes(app: TestApp) {
        app.create_user("root", Role::Admin).await;
        let ada = app.create_user("ada", Role::User).await;
        let narrow = app.password_login("root", Some("me.read me.write")).await.access_token;
        let res = put_json(&app, &format!("/api/users/{ada}"), &narrow, json!({"email": "x@example.com"})).await;
        let body = json_of(res, StatusCode::FORBIDDEN).await;
        assert_eq!((body["code"].as_str(), body["missing"].clone()), (Some("insufficient_scope"), json!(["users.write"])));
        assert_eq!(app.get_bearer("/api/users", &narrow).await.status(), StatusCode::FORBIDDEN);
        let me = json_of(app.get_bearer("/api/users/me", &narrow).await, StatusCode::OK).await;
        assert_eq!(me["oauth_scopes"], json!(["me.read", "me.write"]), "oauth_scopes are the credential's");
        let full = app.password_login("root", None).await.access_token;
        json_of(put_json(&app, &format!("/api/users/{ada}"), &full, json!({"email": "x@example.com"})).await, StatusCode::OK).await;
        // A user with users.write through a group still cannot touch admins or make one.
        let g = json_of(post_json_as(&app, "/api/permissions/groups", &full, json!({"name": "Managers", "grants": [{"entity": "users", "action": "write"}]})).await, StatusCode::CREATED).await;
        json_of(put_json(&app, &format!("/api/permissions/users/{ada}"), &full, json!({"permission_group_id": g["id"], "overrides": []})).await, StatusCode::OK).await;
        let manager = app.password_login("ada", None).await.access_token;
        let root_id = app.services.find_user_by_name("root").await.unwrap().id;
        assert_eq!(put_json(&app, &format!("/api/users/{root_id}"), &manager, json!({"enabled": false})).await.status(), StatusCode::FORBIDDEN);
        // Nor reset an admin's second factors (issue 21): only an admin resets an admin's.
        let reset = app.client.delete(app.url(&format!("/api/users/{root_id}/second-factor"))).bearer_auth(&manager).send().await.unwrap();
        assert_eq!(reset.status(), StatusCode::FORBIDDEN);
        assert_eq!(post_json_as(&app, "/api/users", &manager, json!({"username": "evil", "password": PASSWORD, "role": "admin"})).await.status(), StatusCode::FORBIDDEN);
        // Creating an account whose password the manager knows would hand the manager the default
        // group's rights, which the manager lacks: minting never widens (issue 16).
        let body = json_of(post_json_as(&app, "/api/users", &manager, json!({"username": "newbie", "password": PASSWORD})).await, StatusCode::FORBIDDEN).await;
        assert_eq!(body["code"], "scope_excess", "{body}");
        json_of(post_json_as(&app, "/api/users", &full, json!({"username": "newbie", "password": PASSWORD})).await, StatusCode::CREATED).await;
        assert_eq!(put_json(&app, &format!("/api/users/{ada}"), &manager, json!({"role": "admin"})).await.status(), StatusCode::FORBIDDEN);
    }

    async fn self_and_last_admin_protections(app: TestApp) {
        let root = app.create_user("root", Role::Admin).await;
        let token = app.password_login("root", None).await.access_token;
        let body = json_of(put_json(&app, &format!("/api/users/{root}"), &token, json!({"role": "user"})).await, StatusCode::FORBIDDEN).await;
        assert_eq!(body["code"], "forbidden");
        json_of(put_json(&app, &format!("/api/users/{root}"), &token, json!({"enabled": false})).await, StatusCode::FORBIDDEN).await;
        let del = app.client.delete(app.url(&format!("/api/users/{root}"))).bearer_auth(&token).send().await.unwrap();
        json_of(del, StatusCode::FORBIDDEN).await;
        // A second admin is demoted; then the first is the last enabled admin.
        let second = app.create_user("second", Role::Admin).await;
        let second_token = app.password_login("second", None).await.access_token;
        let stale = app.services.resolve_access_token(&second_token).await.unwrap();
        json_of(put_json(&app, &format!("/api/users/{second}"), &token, json!({"role": "user"})).await, StatusCode::OK).await;
        // The (stale) identity of the former admin still may not remove the last one.
        let err = app.services.update_user(&stale, root, tessera_service::accounts::UserUpdate { enabled: Some(false), ..Default::default() }).await.unwrap_err();
        assert!(matches!(err, tessera_service::ServiceError::Conflict(_)), "{err:?}");
        let err = app.services.delete_user(&stale, root).await.unwrap_err();
        assert!(matches!(err, tessera_service::ServiceError::Conflict(_)), "{err:?}");
        // Renaming and validation.
        json_of(put_json(&app, &format!("/api/users/{second}"), &token, json!({"username": "root"})).await, StatusCode::CONFLICT).await;
        let bad = json_of(post_json_as(&app, "/api/users", &token, json!({"username": "x", "password": "p".repeat(73), "email": "bad"})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(bad["errors"].as_array().unwrap().len(), 3);
        let del = app.client.delete(app.url(&format!("/api/users/{second}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get_bearer(&format!("/api/users/{second}"), &token).await.status(), StatusCode::NOT_FOUND);
    }

    async fn access_check_applies_grants_and_own_only(app: TestApp) {
        app.create_user("root", Role::Admin).await;
        let admin = app.password_login("root", None).await.access_token;
        let ada = app.create_user("ada", Role::User).await;
        let g = json_of(post_json_as(&app, "/api/permissions/groups", &admin, json!({"name": "Owners", "grants": [
            {"entity": "roms", "action": "read"}, {"entity": "collections", "action": "write", "own_only": true}]})).await, StatusCode::CREATED).await;
        json_of(put_json(&app, &format!("/api/permissions/users/{ada}"), &admin, json!({"permission_group_id": g["id"], "overrides": []})).await, StatusCode::OK).await;
        let key = app.service_key();
        let check = |body: Value| {
            let req = app.client.post(app.url("/api/access/check")).header("x-tessera-key", key.clone()).json(&body);
            async move { json_of(req.send().await.unwrap(), StatusCode::OK).await }
        };
        assert_eq!(check(json!({"user_id": ada, "entity": "roms", "action": "read"})).await["allowed"], true);
        assert_eq!(check(json!({"user_id": ada, "entity": "roms", "action": "write"})).await["allowed"], false);
        assert_eq!(check(json!({"user_id": ada, "entity": "collections", "action": "write", "owner_id": ada})).await["allowed"], true);
        let other = check(json!({"user_id": ada, "entity": "collections", "action": "write", "owner_id": ada + 1000})).await;
        assert_eq!(other["allowed"], false);
        assert!(other["reason"].as_str().unwrap().contains("own"));
        assert_eq!(check(json!({"user_id": ada, "entity": "collections", "action": "write"})).await["allowed"], false, "own_only needs owner_id");
        assert_eq!(check(json!({"user_id": ada, "entity": "collections", "action": "read", "owner_id": ada + 1})).await["allowed"], false);
        let root = app.services.find_user_by_name("root").await.unwrap().id;
        assert_eq!(check(json!({"user_id": root, "entity": "logs", "action": "read"})).await["reason"], "admin");
        // With a token: its scopes count too.
        let narrow = app.password_login("ada", Some("me.read")).await.access_token;
        assert_eq!(check(json!({"token": narrow, "entity": "roms", "action": "read"})).await["allowed"], false);
        let wide = app.password_login("ada", None).await.access_token;
        assert_eq!(check(json!({"token": wide, "entity": "roms", "action": "read"})).await["allowed"], true);
        assert_eq!(check(json!({"token": "garbage", "entity": "roms", "action": "read"})).await["allowed"], false);
        let bad = app.client.post(app.url("/api/access/check")).header("x-tessera-key", key.clone())
            .json(&json!({"user_id": ada, "entity": "spaceships", "action": "read"})).send().await.unwrap();
        json_of(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
        let member = app.password_login("ada", None).await.access_token;
        let denied = post_json_as(&app, "/api/access/check", &member, json!({"user_id": ada, "entity": "roms", "action": "read"})).await;
        json_of(denied, StatusCode::FORBIDDEN).await;
    }

    async fn groups_and_the_default_group(app: TestApp) {
        app.create_user("root", Role::Admin).await;
        let admin = app.password_login("root", None).await.access_token;
        let groups = json_of(app.get_bearer("/api/permissions/groups", &admin).await, StatusCode::OK).await;
        assert_eq!(groups[0]["name"], "Member");
        assert_eq!(groups[0]["is_default"], true);
        assert_eq!(groups[0]["grants"].as_array().unwrap().len(), 9);
        let g = json_of(post_json_as(&app, "/api/permissions/groups", &admin, json!({"name": "Guests", "grants": [{"entity": "roms", "action": "read"}]})).await, StatusCode::CREATED).await;
        let gid = g["id"].as_i64().unwrap();
        json_of(post_json_as(&app, "/api/permissions/groups", &admin, json!({"name": "Guests"})).await, StatusCode::CONFLICT).await;
        json_of(post_json_as(&app, "/api/permissions/groups", &admin, json!({"name": "Bad", "grants": [{"entity": "roms", "action": "fly"}]})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        let res = app.client.put(app.url("/api/permissions/default-group")).bearer_auth(&admin).json(&json!({"group_id": gid})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        app.create_user("guest", Role::User).await;
        let guest = app.password_login("guest", None).await.access_token;
        assert_eq!(scopes_of(&app, &guest).await, "me.read roms.read roms.user.read me.write roms.user.write");
        let del = app.client.delete(app.url(&format!("/api/permissions/groups/{gid}"))).bearer_auth(&admin).send().await.unwrap();
        json_of(del, StatusCode::CONFLICT).await;
        let upd = put_json(&app, &format!("/api/permissions/groups/{gid}"), &admin, json!({"name": "Guests", "grants": []})).await;
        json_of(upd, StatusCode::OK).await;
        assert_eq!(scopes_of(&app, &guest).await, "me.read me.write", "members follow a group edit at once");
        let catalog = json_of(app.get_bearer("/api/permissions/catalog", &guest).await, StatusCode::OK).await;
        assert_eq!(catalog["scopes"].as_array().unwrap().len(), 20);
        assert_eq!(app.get_bearer("/api/permissions/groups", &guest).await.status(), StatusCode::FORBIDDEN);
    }

    async fn me_and_password_change(app: TestApp) {
        let uid = app.create_user("ada", Role::User).await;
        let browser = app.session_login("ada").await;
        let other = app.session_login("ada").await;
        let t = app.password_login("ada", None).await;
        let me = json_of(app.get_bearer("/api/users/me", &t.access_token).await, StatusCode::OK).await;
        assert_eq!((me["id"].as_i64(), me["username"].as_str()), (Some(uid), Some("ada")));
        assert_eq!(me["last_login"], "2026-11-26T09:00:00Z");
        let put = |body: Value| {
            let rb = app.with_session(app.client.put(app.url("/api/users/me")), &browser, true).json(&body);
            async move { rb.send().await.unwrap() }
        };
        json_of(put(json!({"email": "new@example.com"})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        json_of(put(json!({"email": "new@example.com", "current_password": "wrong one!"})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        let ok = json_of(put(json!({"email": "new@example.com", "current_password": PASSWORD})).await, StatusCode::OK).await;
        assert_eq!(ok["email"], "new@example.com");
        assert_eq!(app.introspect(&t.access_token).await["active"], true, "an email change revokes nothing");
        let api_key = json_of(post_json_as(&app, "/api/client-tokens", &t.access_token, json!({"name": "script", "scopes": ["me.read"]})).await, StatusCode::CREATED).await;
        let api_key = api_key["raw_token"].as_str().unwrap().to_owned();
        json_of(put(json!({"new_password": "a second long passphrase", "current_password": PASSWORD})).await, StatusCode::OK).await;
        assert_eq!(app.introspect(&api_key).await["active"], true, "client tokens survive unless asked");
        assert_eq!(app.introspect(&t.access_token).await, json!({"active": false}));
        assert_eq!(app.introspect(&t.refresh_token).await, json!({"active": false}));
        let still = app.with_session(app.client.get(app.url("/api/users/me")), &browser, false).send().await.unwrap();
        assert_eq!(still.status(), StatusCode::OK, "the session that changed the password lives on");
        let gone = app.with_session(app.client.get(app.url("/api/users/me")), &other, false).send().await.unwrap();
        assert_eq!(gone.status(), StatusCode::UNAUTHORIZED, "other sessions end");
        json_of(put(json!({"new_password": "a third long passphrase", "current_password": "a second long passphrase", "revoke_client_tokens": true})).await, StatusCode::OK).await;
        assert_eq!(app.introspect(&api_key).await, json!({"active": false}), "revoke_client_tokens ends them too");
    }

    async fn basic_credentials_work_on_the_api(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let ok = app.client.get(app.url("/api/users/me")).basic_auth("ada", Some(PASSWORD)).send().await.unwrap();
        assert_eq!(json_of(ok, StatusCode::OK).await["username"], "ada");
        let bad = app.client.get(app.url("/api/users/me")).basic_auth("ada", Some("nope")).send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
        // A present but invalid credential never falls through to the next one.
        let s: BrowserSession = app.session_login("ada").await;
        let mixed = app.with_session(app.client.get(app.url("/api/users/me")), &s, false).bearer_auth("garbage").send().await.unwrap();
        assert_eq!(mixed.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_is_refused_when_password_login_is_off() {
    let app = tessera_tests::TestAppBuilder::new(tessera_tests::DbKind::Sqlite)
        .env("TESSERA_AUTH__PASSWORD_LOGIN", "false")
        .try_spawn()
        .await
        .unwrap();
    app.create_user("ada", Role::User).await;
    let res = app
        .client
        .get(app.url("/api/users/me"))
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let login = app
        .post_json(
            "/api/auth/login",
            &json!({"username": "ada", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        json_of(login, StatusCode::FORBIDDEN).await["code"],
        "password_login_disabled"
    );
    app.clock.advance(Duration::from_secs(1));
}
