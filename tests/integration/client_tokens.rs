//! Client API tokens and pair codes (issue 6).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::PASSWORD;
use tessera_tests::{
    all_backends_and_stores, on_all_backends_and_stores, DbKind, StoreKind, TestApp, TestAppBuilder,
};

async fn body(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let b: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{b}");
    b
}

async fn create(app: &TestApp, bearer: &str, req: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/client-tokens"))
        .bearer_auth(bearer)
        .json(&req)
        .send()
        .await
        .unwrap()
}

all_backends_and_stores! {
    async fn create_list_use_regenerate_delete(app: TestApp) {
        let uid = app.create_user("ada", Role::User).await;
        let login = app.password_login("ada", None).await.access_token;
        let made = body(create(&app, &login, json!({"name": "script", "scopes": ["roms.read", "me.read"], "expires_in": "30d"})).await, StatusCode::CREATED).await;
        let raw = made["raw_token"].as_str().unwrap().to_owned();
        assert!(raw.starts_with("tsr_") && raw.len() == 68);
        assert_eq!(made["scopes"], json!(["me.read", "roms.read"]));
        assert_eq!(made["expires_at"], "2026-12-26T09:00:00Z");
        assert_eq!((made["user_id"].as_i64(), made["device_id"].clone()), (Some(uid), Value::Null));
        let id = made["id"].as_i64().unwrap();

        // The token works as a Bearer credential, with its own scopes ∩ rights.
        let me = body(app.get_bearer("/api/users/me", &raw).await, StatusCode::OK).await;
        assert_eq!(me["oauth_scopes"], json!(["me.read", "roms.read"]));
        let intro = app.introspect(&raw).await;
        assert_eq!((intro["active"].as_bool(), intro["credential"].as_str(), intro["token_type"].as_str()), (Some(true), Some("client_token"), Some("Bearer")));
        assert_eq!(intro["scope"], "me.read roms.read");

        let list = body(app.get_bearer("/api/client-tokens", &login).await, StatusCode::OK).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert!(list[0].get("raw_token").is_none(), "the secret is shown once");

        let again = body(app.client.put(app.url(&format!("/api/client-tokens/{id}/regenerate"))).bearer_auth(&login).send().await.unwrap(), StatusCode::OK).await;
        let raw2 = again["raw_token"].as_str().unwrap().to_owned();
        assert_ne!(raw2, raw);
        assert_eq!(again["id"], id);
        assert_eq!(again["expires_at"], made["expires_at"]);
        assert_eq!(app.get_bearer("/api/users/me", &raw).await.status(), StatusCode::UNAUTHORIZED, "the old secret dies at once");
        assert_eq!(app.introspect(&raw).await, json!({"active": false}));
        assert_eq!(app.get_bearer("/api/users/me", &raw2).await.status(), StatusCode::OK);

        // Another user cannot see or delete it.
        app.create_user("bob", Role::User).await;
        let bob = app.password_login("bob", None).await.access_token;
        assert_eq!(app.client.delete(app.url(&format!("/api/client-tokens/{id}"))).bearer_auth(&bob).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(app.client.put(app.url(&format!("/api/client-tokens/{id}/regenerate"))).bearer_auth(&bob).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(app.client.delete(app.url("/api/client-tokens/abc")).bearer_auth(&bob).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let del = app.client.delete(app.url(&format!("/api/client-tokens/{id}"))).bearer_auth(&login).send().await.unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get_bearer("/api/users/me", &raw2).await.status(), StatusCode::UNAUTHORIZED, "deleted: refused at once");
    }

    async fn admin_list_and_delete(app: TestApp) {
        app.create_user("root", Role::Admin).await;
        app.create_user("ada", Role::User).await;
        let admin = app.password_login("root", None).await.access_token;
        let ada = app.password_login("ada", None).await.access_token;
        let made = body(create(&app, &ada, json!({"name": "ada's", "scopes": ["me.read"]})).await, StatusCode::CREATED).await;
        let all = body(app.get_bearer("/api/client-tokens/all", &admin).await, StatusCode::OK).await;
        assert_eq!(all[0]["username"], "ada");
        assert_eq!(all[0]["name"], "ada's");
        assert_eq!(app.get_bearer("/api/client-tokens/all", &ada).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.client.delete(app.url(&format!("/api/client-tokens/{}/admin", made["id"]))).bearer_auth(&ada).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let del = app.client.delete(app.url(&format!("/api/client-tokens/{}/admin", made["id"]))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.introspect(made["raw_token"].as_str().unwrap()).await, json!({"active": false}));
    }

    async fn scopes_narrow_and_expiry_choices(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let narrow = app.password_login("ada", Some("me.read me.write")).await.access_token;
        let res = create(&app, &narrow, json!({"name": "wider", "scopes": ["me.read", "roms.read", "assets.write"]})).await;
        let p = body(res, StatusCode::FORBIDDEN).await;
        assert_eq!(p["code"], "scope_excess");
        assert_eq!(p["missing"], json!(["roms.read", "assets.read", "assets.write"]), "the excess is listed (normalised)");
        let ok = body(create(&app, &narrow, json!({"name": "fine", "scopes": ["me.write"]})).await, StatusCode::CREATED).await;
        assert_eq!(ok["scopes"], json!(["me.read", "me.write"]));
        // A client token cannot mint a wider one either.
        let raw = ok["raw_token"].as_str().unwrap();
        body(create(&app, raw, json!({"name": "from a token", "scopes": ["roms.read"]})).await, StatusCode::FORBIDDEN).await;
        // The owner's rights cap the token later too: a member cannot mint users.read.
        let full = app.password_login("ada", None).await.access_token;
        body(create(&app, &full, json!({"name": "admin-ish", "scopes": ["users.read"]})).await, StatusCode::FORBIDDEN).await;
        let bad = body(create(&app, &full, json!({"name": "x", "scopes": ["me.read"], "expires_in": "7d"})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(bad["detail"].as_str().unwrap().contains("30d"), "{bad}");
        body(create(&app, &full, json!({"name": "x", "scopes": []})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        body(create(&app, &full, json!({"name": "x", "scopes": ["nope.read"]})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        body(create(&app, &full, json!({"name": "", "scopes": ["me.read"]})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        let mut expiring = Vec::new();
        for (opt, days) in [("30d", Some(30)), ("90d", Some(90)), ("1y", Some(365)), ("never", None)] {
            let t = body(create(&app, &full, json!({"name": opt, "scopes": ["me.read"], "expires_in": opt})).await, StatusCode::CREATED).await;
            let expected = days.map(|d: i64| tessera_core::UnixTime(tessera_tests::T0.0 + d * 86_400).to_rfc3339());
            assert_eq!(t["expires_at"].as_str().map(str::to_owned), expected);
            expiring.push(t["raw_token"].as_str().unwrap().to_owned());
        }
        let null = body(create(&app, &full, json!({"name": "null", "scopes": ["me.read"], "expires_in": null})).await, StatusCode::CREATED).await;
        assert!(null["expires_at"].is_null());
        app.clock.advance(Duration::from_secs(30 * 86_400));
        assert_eq!(app.get_bearer("/api/users/me", &expiring[0]).await.status(), StatusCode::UNAUTHORIZED, "30d token expired");
        assert_eq!(app.get_bearer("/api/users/me", &expiring[1]).await.status(), StatusCode::OK);
        app.clock.advance(Duration::from_secs(336 * 86_400));
        assert_eq!(app.introspect(&expiring[2]).await, json!({"active": false}));
        assert_eq!(app.introspect(&expiring[3]).await["active"], true);
    }

    async fn at_most_25_live_tokens_even_when_racing(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let login = app.password_login("ada", None).await.access_token;
        let reqs: Vec<Value> = (0..30).map(|i| json!({"name": format!("t{i}"), "scopes": ["me.read"], "expires_in": if i < 3 { "30d" } else { "never" }})).collect();
        let results = futures::future::join_all(reqs.iter().map(|r| create(&app, &login, r.clone()))).await;
        let mut created = 0;
        for r in results {
            match r.status() {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => assert_eq!(r.json::<Value>().await.unwrap()["code"], "token_limit"),
                s => panic!("unexpected {s}"),
            }
        }
        assert_eq!(created, 25);
        let list = body(app.get_bearer("/api/client-tokens", &login).await, StatusCode::OK).await;
        assert_eq!(list.as_array().unwrap().len(), 25);
        // Expired tokens do not count.
        app.clock.advance(Duration::from_secs(31 * 86_400));
        let login = app.password_login("ada", None).await.access_token;
        let live_before = list.as_array().unwrap().iter().filter(|t| t["expires_at"].is_null()).count();
        for i in 0..(25 - live_before) {
            body(create(&app, &login, json!({"name": format!("more{i}"), "scopes": ["me.read"]})).await, StatusCode::CREATED).await;
        }
        body(create(&app, &login, json!({"name": "one too many", "scopes": ["me.read"]})).await, StatusCode::CONFLICT).await;
    }

    async fn last_used_is_debounced(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let login = app.password_login("ada", None).await.access_token;
        let t = body(create(&app, &login, json!({"name": "t", "scopes": ["me.read"]})).await, StatusCode::CREATED).await;
        assert!(t["last_used_at"].is_null());
        let raw = t["raw_token"].as_str().unwrap();
        let last_used = |app: &TestApp| {
            let login = login.clone();
            let client = app.client.clone();
            let url = app.url("/api/client-tokens");
            async move {
                let list: Value = client.get(url).bearer_auth(login).send().await.unwrap().json().await.unwrap();
                list[0]["last_used_at"].clone()
            }
        };
        app.get_bearer("/api/users/me", raw).await;
        app.services.background.flush().await;
        assert_eq!(last_used(&app).await, "2026-11-26T09:00:00Z");
        app.clock.advance(Duration::from_secs(30));
        app.get_bearer("/api/users/me", raw).await;
        app.services.background.flush().await;
        assert_eq!(last_used(&app).await, "2026-11-26T09:00:00Z", "not again within a minute");
        app.clock.advance(Duration::from_secs(31));
        app.get_bearer("/api/users/me", raw).await;
        app.services.background.flush().await;
        assert_eq!(last_used(&app).await, "2026-11-26T09:01:01Z");
    }

    async fn malformed_tokens_never_reach_the_database(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let login = app.password_login("ada", None).await.access_token;
        let t = body(create(&app, &login, json!({"name": "t", "scopes": ["me.read"]})).await, StatusCode::CREATED).await;
        let raw = t["raw_token"].as_str().unwrap().to_owned();
        let mut flipped = raw.clone().into_bytes();
        flipped[10] = if flipped[10] == b'a' { b'b' } else { b'a' };
        let flipped = String::from_utf8(flipped).unwrap();
        // With the database unreachable, a malformed token still gets its 401: it was refused by shape.
        let pool_probe = tessera_core::token_format::parse(tessera_core::token_format::TokenKind::Client, "tsr", &flipped);
        assert!(pool_probe.is_err(), "the checksum catches a one-character typo");
        for bad in [flipped.as_str(), "tsr_0123", "rmm_0000000000000000000000000000000000000000000000000000000000000000", &raw.to_uppercase()] {
            assert_eq!(app.get_bearer("/api/users/me", bad).await.status(), StatusCode::UNAUTHORIZED, "{bad}");
            assert_eq!(app.introspect(bad).await, json!({"active": false}));
        }
        // Revoking a client token through RFC 7009 works too.
        assert_eq!(app.token_form("/oauth/revoke", &[("token", &raw)]).await.status(), StatusCode::OK);
        assert_eq!(app.introspect(&raw).await, json!({"active": false}));
    }

    async fn a_disabled_owner_disables_the_token(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let login = app.password_login("ada", None).await.access_token;
        let t = body(create(&app, &login, json!({"name": "t", "scopes": ["me.read", "roms.read"]})).await, StatusCode::CREATED).await;
        let raw = t["raw_token"].as_str().unwrap();
        app.services.set_user_enabled("ada", false).await.unwrap();
        assert_eq!(app.get_bearer("/api/users/me", raw).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.introspect(raw).await, json!({"active": false}));
        app.services.set_user_enabled("ada", true).await.unwrap();
        assert_eq!(app.get_bearer("/api/users/me", raw).await.status(), StatusCode::OK);
    }
}

/// With the database gated off, a malformed token is still answered 401 (refused by shape), while a
/// well-formed one cannot be checked (503): proof that shape checks happen before any lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shape_checks_come_before_any_lookup() {
    let Some(_) = tessera_tests::postgres_url() else {
        return;
    };
    let gate = tessera_tests::TcpGate::start("127.0.0.1:5432".parse().unwrap()).await;
    let app = TestAppBuilder::new(DbKind::Postgres)
        .database_via(gate.addr)
        .try_spawn()
        .await
        .unwrap();
    app.create_user("ada", Role::User).await;
    let login = app.password_login("ada", None).await.access_token;
    let t = body(
        create(&app, &login, json!({"name": "t", "scopes": ["me.read"]})).await,
        StatusCode::CREATED,
    )
    .await;
    let raw = t["raw_token"].as_str().unwrap().to_owned();
    gate.close();
    let mut typo = raw.clone().into_bytes();
    typo[20] = if typo[20] == b'0' { b'1' } else { b'0' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(
        app.get_bearer("/api/users/me", &typo).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bearer("/api/users/me", &raw).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    gate.reopen();
}

async fn pair_codes_move_a_token(db: DbKind, store: StoreKind) {
    let Some(app) = TestAppBuilder::new(db).store(store).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let login = app.password_login("ada", None).await.access_token;
    let t = body(
        create(
            &app,
            &login,
            json!({"name": "tv", "scopes": ["me.read", "roms.read"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    let old = t["raw_token"].as_str().unwrap().to_owned();
    let pair = body(
        app.client
            .post(app.url(&format!("/api/client-tokens/{id}/pair")))
            .bearer_auth(&login)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let code = pair["code"].as_str().unwrap().to_owned();
    assert_eq!(pair["expires_in"], 60);
    assert!(
        code.len() == 8
            && code
                .bytes()
                .all(|b| tessera_service::client_tokens::CODE_ALPHABET.contains(&b))
    );
    let spaced = format!("{}-{}", code[..4].to_lowercase(), &code[4..]);
    assert_eq!(
        app.get(&format!("/api/client-tokens/pair/{spaced}/status"))
            .await
            .status(),
        StatusCode::NO_CONTENT,
        "case and hyphen do not matter"
    );
    // Two devices race for the code: one wins.
    let ex = |c: String| {
        app.client
            .post(app.url("/api/client-tokens/exchange"))
            .json(&json!({"code": c}))
            .send()
    };
    let (a, b) = tokio::join!(ex(code.clone()), ex(spaced.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND]);
    let won: Value = if a.status() == StatusCode::OK {
        a.json().await.unwrap()
    } else {
        b.json().await.unwrap()
    };
    let fresh = won["raw_token"].as_str().unwrap();
    assert_eq!(won["id"], id);
    assert_ne!(fresh, old, "the exchange regenerates the secret");
    assert_eq!(
        app.get_bearer("/api/users/me", &old).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bearer("/api/users/me", fresh).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/client-tokens/pair/{code}/status"))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "used"
    );
    // A code lapses after 60 s.
    let pair = body(
        app.client
            .post(app.url(&format!("/api/client-tokens/{id}/pair")))
            .bearer_auth(&login)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let code = pair["code"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::from_secs(59));
    assert_eq!(
        app.get(&format!("/api/client-tokens/pair/{code}/status"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(
        app.get(&format!("/api/client-tokens/pair/{code}/status"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    body(ex(code).await.unwrap(), StatusCode::NOT_FOUND).await;
    // Another user's token cannot be paired.
    app.create_user("bob", Role::User).await;
    let bob = app.password_login("bob", None).await.access_token;
    assert_eq!(
        app.client
            .post(app.url(&format!("/api/client-tokens/{id}/pair")))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn guessing_pair_codes_is_rate_limited(db: DbKind, store: StoreKind) {
    let Some(app) = TestAppBuilder::new(db).store(store).try_spawn().await else {
        return;
    };
    let from = |ip: &str, path: &str| app.client.get(app.url(path)).header("x-forwarded-for", ip).send();
    for i in 0..5 {
        let res = from(
            "198.51.100.7",
            &format!("/api/client-tokens/pair/AAAA{i}AAA/status"),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let sixth = app
        .client
        .post(app.url("/api/client-tokens/exchange"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"code": "BBBBBBBB"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = sixth.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&retry), "{retry}");
    assert_eq!(
        body(sixth, StatusCode::TOO_MANY_REQUESTS).await["code"],
        "rate_limited"
    );
    // Other clients have their own budget; time refills it.
    assert_eq!(
        from("198.51.100.8", "/api/client-tokens/pair/CCCCCCCC/status")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    app.clock.advance(Duration::from_secs(12));
    assert_eq!(
        from("198.51.100.7", "/api/client-tokens/pair/CCCCCCCC/status")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        from("198.51.100.7", "/api/client-tokens/pair/CCCCCCCC/status")
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A spoofed X-Forwarded-For from an untrusted peer would not help: loopback is the trusted proxy here,
    // so the rightmost untrusted entry decides.
    let spoofed = app
        .client
        .get(app.url("/api/client-tokens/pair/CCCCCCCC/status"))
        .header("x-forwarded-for", "1.1.1.1, 198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
}

on_all_backends_and_stores!(pair_codes_move_a_token, guessing_pair_codes_is_rate_limited);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_falls_back_to_memory_limits() {
    let Some(url) = tessera_tests::redis_url() else {
        return;
    };
    let gate = tessera_tests::TcpGate::start(url.trim_start_matches("redis://").parse().unwrap()).await;
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .store(StoreKind::Redis)
        .store_url(&format!("redis://{}", gate.addr))
        .try_spawn()
        .await
        .unwrap();
    gate.close();
    for _ in 0..5 {
        let res = app.get("/api/client-tokens/pair/DDDDDDDD/status").await;
        assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(
        app.get("/api/client-tokens/pair/DDDDDDDD/status").await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "limits still hold, per replica"
    );
    let _ = PASSWORD;
}
