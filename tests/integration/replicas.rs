//! Two replicas on one PostgreSQL and one Redis behave as one (issue 9).

use std::time::Duration;

use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::{postgres_url, redis_url, within, DbKind, StoreKind, TcpGate, TestApp, TestAppBuilder};

async fn active(app: &TestApp, token: &str) -> bool {
    app.introspect(token).await["active"] == true
}

async fn scope(app: &TestApp, token: &str) -> String {
    app.introspect(token).await["scope"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_tokens_and_revocations() {
    let (Some(_), Some(redis)) = (postgres_url(), redis_url()) else {
        return;
    };
    let a = TestAppBuilder::new(DbKind::Postgres)
        .store(StoreKind::Redis)
        .try_spawn()
        .await
        .unwrap();
    let gate = TcpGate::start(redis.trim_start_matches("redis://").parse().unwrap()).await;
    let b = TestAppBuilder::new(DbKind::Postgres)
        .replica_of(&a)
        .store_url(&format!("redis://{}", gate.addr))
        .try_spawn()
        .await
        .unwrap();
    let ready = within(Duration::from_secs(5), || async {
        a.services.caches.usable() && b.services.caches.usable()
    })
    .await;
    assert!(ready.is_some(), "both replicas subscribe to evictions");

    // Minted on A, works on B (and B caches it).
    a.create_user("ada", Role::User).await;
    let t = a.password_login("ada", None).await.access_token;
    assert!(active(&b, &t).await);
    assert!(active(&b, &t).await);
    assert!(b.services.caches.entry_count() <= 1);

    // Revoked on A: refused by B within a second.
    a.token_form("/oauth/revoke", &[("token", &t)]).await;
    let took = within(Duration::from_secs(1), || async { !active(&b, &t).await }).await;
    println!("revocation reached replica B in {took:?}");
    assert!(took.is_some(), "B refused the revoked token within 1 s");

    // Demoted on A: B's answer loses the scope within a second.
    a.create_user("root", Role::Admin).await;
    let root = a.password_login("root", None).await.access_token;
    let bob_id = a.create_user("bob", Role::Admin).await;
    let bob = a.password_login("bob", None).await.access_token;
    assert!(scope(&b, &bob).await.contains("users.write"));
    let res = a
        .client
        .put(a.url(&format!("/api/users/{bob_id}")))
        .bearer_auth(&root)
        .json(&json!({"role": "user"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let took = within(Duration::from_secs(1), || async {
        !scope(&b, &bob).await.contains("users.write")
    })
    .await;
    println!("demotion reached replica B in {took:?}");
    assert!(took.is_some(), "B dropped users.write within 1 s");

    // B loses Redis: it stops trusting its cache and checks the database on every request.
    let t2 = a.password_login("ada", None).await.access_token;
    assert!(active(&b, &t2).await);
    gate.close();
    let degraded = within(Duration::from_secs(3), || async { !b.services.caches.usable() }).await;
    assert!(degraded.is_some(), "B notices the lost subscription");
    a.token_form("/oauth/revoke", &[("token", &t2)]).await;
    assert!(
        !active(&b, &t2).await,
        "without Redis, B still refuses the revoked token (database fallback)"
    );
    let t3 = a.password_login("ada", None).await.access_token;
    assert!(active(&b, &t3).await, "and still serves valid ones");

    // Redis is back: B resubscribes, clears its caches and hears revocations again.
    gate.reopen();
    let back = within(Duration::from_secs(3), || async { b.services.caches.usable() }).await;
    assert!(back.is_some(), "B resubscribes");
    assert!(active(&b, &t3).await);
    a.token_form("/oauth/revoke", &[("token", &t3)]).await;
    let took = within(Duration::from_secs(1), || async { !active(&b, &t3).await }).await;
    assert!(took.is_some(), "after recovery B hears revocations again");
}

/// Issue 6: a client token is refused everywhere within a second of its deletion, regeneration, expiry or
/// its owner's disabling — on the replica that made the change and on one that had it cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_tokens_die_on_every_replica_within_a_second() {
    let Some((a, b)) = tessera_tests::replica_pair().await else {
        return;
    };
    let ready = within(Duration::from_secs(5), || async {
        a.services.caches.usable() && b.services.caches.usable()
    })
    .await;
    assert!(ready.is_some(), "both replicas subscribe to evictions");
    a.create_user("ada", Role::User).await;
    let login = a.password_login("ada", None).await.access_token;
    let mint = |expires: &'static str| {
        let a = &a;
        async move {
            // Disabling an owner ends its sessions too, so each mint signs in afresh.
            let login = a.password_login("ada", None).await.access_token;
            let res = a
                .client
                .post(a.url("/api/client-tokens"))
                .bearer_auth(&login)
                .json(&json!({"name": "script", "scopes": ["me.read"], "expires_in": expires}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            let made: Value = res.json().await.unwrap();
            (
                made["id"].as_i64().unwrap(),
                made["raw_token"].as_str().unwrap().to_owned(),
            )
        }
    };
    let refused_on_both = |token: String| {
        let (a, b) = (&a, &b);
        async move {
            let took = within(Duration::from_secs(1), || async {
                !active(a, &token).await && !active(b, &token).await
            })
            .await;
            println!("client token refused on both replicas after {took:?}");
            took.is_some()
        }
    };

    // Regenerated on A: the old secret is refused on B (which had it cached), the new one works there.
    let (id, old) = mint("never").await;
    assert!(active(&b, &old).await && active(&b, &old).await);
    let res = a
        .client
        .put(a.url(&format!("/api/client-tokens/{id}/regenerate")))
        .bearer_auth(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new: Value = res.json().await.unwrap();
    let new = new["raw_token"].as_str().unwrap().to_owned();
    assert!(
        refused_on_both(old).await,
        "regeneration kills the old secret everywhere"
    );
    assert!(active(&b, &new).await);

    // Deleted on A: refused on B.
    let res = a
        .client
        .delete(a.url(&format!("/api/client-tokens/{id}")))
        .bearer_auth(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(refused_on_both(new).await, "deletion kills the token everywhere");

    // Owner disabled on A: refused on B; enabled again: accepted on B again.
    let (_, kept) = mint("never").await;
    assert!(active(&b, &kept).await && active(&b, &kept).await);
    a.services.set_user_enabled("ada", false).await.unwrap();
    assert!(
        refused_on_both(kept.clone()).await,
        "a disabled owner's token dies everywhere"
    );
    a.services.set_user_enabled("ada", true).await.unwrap();
    let back = within(Duration::from_secs(1), || async { active(&b, &kept).await }).await;
    assert!(back.is_some(), "re-enabled owner: B accepts the token again");

    // Expired: B refuses the cached token the moment its clock passes the expiry, with no eviction at all.
    let (_, month) = mint("30d").await;
    assert!(active(&b, &month).await && active(&b, &month).await);
    let past_expiry = Duration::from_secs(30 * 86_400 + 1);
    a.clock.advance(past_expiry);
    b.clock.advance(past_expiry);
    assert!(
        !active(&b, &month).await,
        "expired: refused from B's cache at once"
    );
    assert!(!active(&a, &month).await);
    assert!(active(&b, &kept).await, "a token without expiry lives on");
}

/// The steady state touches no database: with PostgreSQL cut off, a warm credential is still answered
/// (from the caches), a cold one cannot be (503), and known garbage is refused from the negative cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_cache_answers_without_the_database() {
    let Some(_) = postgres_url() else { return };
    let gate = TcpGate::start("127.0.0.1:5432".parse().unwrap()).await;
    let app = TestAppBuilder::new(DbKind::Postgres)
        .database_via(gate.addr)
        .try_spawn()
        .await
        .unwrap();
    assert!(
        within(Duration::from_secs(5), || async { app.services.caches.usable() })
            .await
            .is_some()
    );
    app.create_user("ada", Role::User).await;
    let warm = app.password_login("ada", None).await.access_token;
    let cold = app.password_login("ada", None).await.access_token;
    let garbage = "tsr_0000000000000000000000000000000000000000000000000000006b5c2a4f";
    let garbage = {
        // A well-formed client token (valid checksum) that names nothing.
        let body = &garbage[..garbage.len() - 8];
        format!("{body}{:08x}", crc32fast::hash(body.as_bytes()))
    };
    assert!(active(&app, &warm).await);
    assert!(!active(&app, &garbage).await);
    gate.close();
    assert!(active(&app, &warm).await, "served from the caches");
    assert!(!active(&app, &garbage).await, "refused from the negative cache");
    let res = app
        .client
        .post(app.url("/oauth/introspect"))
        .header("x-tessera-key", app.service_key())
        .form(&[("token", cold.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503, "a cold credential needs the database");
    gate.reopen();
}

/// A rolling restart: one of two replicas behind nginx stops gracefully and comes back on its port
/// while clients keep calling; not one request fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_behind_a_proxy_fails_no_request() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use tessera_tests::proxies::{proxy_available, Proxy, ProxyKind};
    let (Some(_), Some(_)) = (postgres_url(), redis_url()) else {
        return;
    };
    if !proxy_available(ProxyKind::Nginx) {
        return;
    }
    let mut a = TestAppBuilder::new(DbKind::Postgres)
        .store(StoreKind::Redis)
        .try_spawn()
        .await
        .unwrap();
    let b = TestAppBuilder::new(DbKind::Postgres)
        .replica_of(&a)
        .try_spawn()
        .await
        .unwrap();
    a.create_user("ada", Role::User).await;
    let token = a.password_login("ada", None).await.access_token;
    let proxy = Proxy::nginx_balancer(&[a.addr, b.addr]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (url, token, stop, done) = (
                proxy.url("/api/users/me"),
                token.clone(),
                stop.clone(),
                done.clone(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut failures = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match client.get(&url).bearer_auth(&token).send().await {
                        Ok(res) if res.status() == reqwest::StatusCode::OK => {}
                        Ok(res) => failures.push(res.status().to_string()),
                        Err(e) => failures.push(e.to_string()),
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
                failures
            })
        })
        .collect();
    let wait_for = |n: usize| {
        let done = done.clone();
        async move {
            while done.load(Ordering::SeqCst) < n {
                tokio::task::yield_now().await;
            }
        }
    };
    wait_for(50).await;
    // Replica A drains and stops, then a new A starts on the same port.
    let port = a.addr.port();
    a.stop_server().await;
    let during = done.load(Ordering::SeqCst);
    wait_for(during + 50).await;
    let a2 = TestAppBuilder::new(DbKind::Postgres)
        .replica_of(&b)
        .port(port)
        .try_spawn()
        .await
        .unwrap();
    let back = done.load(Ordering::SeqCst);
    wait_for(back + 100).await;
    stop.store(true, Ordering::SeqCst);
    let mut failures = Vec::new();
    for task in load {
        failures.extend(task.await.unwrap());
    }
    println!("{} requests across the restart", done.load(Ordering::SeqCst));
    assert!(
        failures.is_empty(),
        "requests failed during the rolling restart: {failures:?}"
    );
    // The restarted replica serves again.
    assert_eq!(
        a2.get_bearer("/api/users/me", &token).await.status(),
        reqwest::StatusCode::OK
    );
}

/// `replica_pair`, once both replicas listen for evictions.
async fn subscribed_pair() -> Option<(TestApp, TestApp)> {
    let (a, b) = tessera_tests::replica_pair().await?;
    let ready = within(Duration::from_secs(5), || async {
        a.services.caches.usable() && b.services.caches.usable()
    })
    .await;
    assert!(ready.is_some(), "both replicas subscribe to evictions");
    Some((a, b))
}

async fn basic_me(app: &TestApp, password: &str) -> reqwest::StatusCode {
    app.client
        .get(app.url("/api/users/me"))
        .basic_auth("ada", Some(password))
        .send()
        .await
        .unwrap()
        .status()
}

/// Issue 18: HTTP Basic costs one bcrypt, then is an identity-cache hit; a password change or a disable on
/// another replica ends it there within a second, and the new password works at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_is_cached_and_dropped_on_every_replica() {
    let Some((a, b)) = subscribed_pair().await else {
        return;
    };
    a.create_user("root", Role::Admin).await;
    let ada = a.create_user("ada", Role::User).await;
    let before = b.services.hasher.verifications();
    for _ in 0..5 {
        assert_eq!(
            basic_me(&b, tessera_tests::oauth::PASSWORD).await,
            reqwest::StatusCode::OK
        );
    }
    assert_eq!(
        b.services.hasher.verifications() - before,
        1,
        "five Basic requests, one bcrypt"
    );
    let admin = a.password_login("root", None).await.access_token;
    let set = |body: Value| {
        a.client
            .put(a.url(&format!("/api/users/{ada}")))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let fresh = "another long passphrase";
    assert_eq!(
        set(json!({"password": fresh})).await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    let took = within(Duration::from_secs(1), || async {
        basic_me(&b, tessera_tests::oauth::PASSWORD).await == reqwest::StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(took.is_some(), "B refused the old password within 1 s");
    assert_eq!(basic_me(&b, fresh).await, reqwest::StatusCode::OK);
    assert_eq!(
        set(json!({"enabled": false})).await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    let took = within(Duration::from_secs(1), || async {
        basic_me(&b, fresh).await == reqwest::StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(
        took.is_some(),
        "B refused a disabled user's cached Basic within 1 s"
    );
}

/// Issue 18: a lockout drops the user's cached Basic credential, so a guessing storm on an account also
/// stops the right password that was cached before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_drops_a_cached_basic_credential() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    assert_eq!(
        basic_me(&app, tessera_tests::oauth::PASSWORD).await,
        reqwest::StatusCode::OK
    );
    let mut locked = false;
    for i in 0..20 {
        if basic_me(&app, &format!("wrong guess {i}")).await == reqwest::StatusCode::TOO_MANY_REQUESTS {
            locked = true;
            break;
        }
    }
    assert!(locked, "the per-account budget runs out");
    assert_ne!(
        basic_me(&app, tessera_tests::oauth::PASSWORD).await,
        reqwest::StatusCode::OK,
        "the cached right password is not honoured during the lockout"
    );
}

/// Issue 18: a session cookie is served from the identity cache once warm (no database query), and signing
/// out on one replica ends it on the other within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_session_ends_on_every_replica_at_sign_out() {
    let Some((a, b)) = subscribed_pair().await else {
        return;
    };
    a.create_user("ada", Role::User).await;
    let session = a.session_login("ada").await;
    let me = |app: &TestApp| {
        app.client
            .get(app.url("/api/users/me"))
            .header("cookie", format!("tessera_session={}", session.cookie))
            .send()
    };
    assert_eq!(me(&b).await.unwrap().status(), reqwest::StatusCode::OK);
    let hits = b.services.metrics.identity_hits.get();
    assert_eq!(me(&b).await.unwrap().status(), reqwest::StatusCode::OK);
    assert_eq!(
        b.services.metrics.identity_hits.get(),
        hits + 1,
        "the second request is a cache hit"
    );
    let out = a
        .client
        .post(a.url("/api/logout"))
        .header("cookie", format!("tessera_session={}", session.cookie))
        .header("x-csrf-token", session.csrf.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), reqwest::StatusCode::OK);
    let took = within(Duration::from_secs(1), || async {
        me(&b).await.unwrap().status() == reqwest::StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(took.is_some(), "B ended the signed-out session within 1 s");
}

/// Issue 18: misses are single-flight: many requests presenting one uncached credential at once make one
/// load, counted in /metrics; the rest answer from the cache it filled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_of_one_credential_make_one_load() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    let ready = within(Duration::from_secs(5), || async { app.services.caches.usable() }).await;
    assert!(ready.is_some(), "the caches are in use");
    app.create_user("ada", Role::User).await;
    let login = app.password_login("ada", None).await.access_token;
    let token: Value = app
        .client
        .post(app.url("/api/client-tokens"))
        .bearer_auth(&login)
        .json(&json!({"name": "flood", "scopes": ["me.read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let raw = token["raw_token"].as_str().unwrap().to_owned();
    let before = app.services.metrics.identity_loads.get();
    let requests = (0..32).map(|_| app.client.get(app.url("/api/users/me")).bearer_auth(&raw).send());
    for res in futures::future::join_all(requests).await {
        assert_eq!(res.unwrap().status(), reqwest::StatusCode::OK);
    }
    assert_eq!(
        app.services.metrics.identity_loads.get() - before,
        1,
        "32 concurrent misses, one load"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("tessera_cache_lookups_total{cache=\"identity\",result=\"load\"}"),
        "loads are counted in /metrics"
    );
}

/// Issue 18: an introspecting OAuth client is authenticated once and then served from the cache; losing
/// `can_introspect` on one replica stops it on the other within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_introspecting_client_is_cached_and_dropped_on_every_replica() {
    let Some((a, b)) = subscribed_pair().await else {
        return;
    };
    a.create_user("root", Role::Admin).await;
    let admin = a.password_login("root", None).await.access_token;
    let spec = |can: bool| {
        json!({"name": "Main app", "confidential": true, "grant_types": ["client_credentials"],
            "scopes": ["roms.read"], "can_introspect": can})
    };
    let c: Value = a
        .client
        .post(a.url("/api/oauth-clients"))
        .bearer_auth(&admin)
        .json(
            &json!({"client_id": "main-app", "name": "Main app", "confidential": true,
            "grant_types": ["client_credentials"], "scopes": ["roms.read"], "can_introspect": true}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let introspect = |app: &TestApp| {
        app.client
            .post(app.url("/oauth/introspect"))
            .basic_auth("main-app", Some(secret.clone()))
            .form(&[("token", admin.as_str())])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(introspect(&b).await.unwrap().status(), reqwest::StatusCode::OK);
    }
    let wrong = b
        .client
        .post(b.url("/oauth/introspect"))
        .basic_auth("main-app", Some("not the secret"))
        .form(&[("token", admin.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "the cache is keyed by the secret too"
    );
    // A cached Authorization header still answers for the rest of the request: a second method or a
    // form client_id naming someone else is refused, not served from the cache.
    let mixed = |form: &'static [(&'static str, &'static str)]| {
        let mut fields = vec![("token", admin.as_str())];
        fields.extend_from_slice(form);
        b.client
            .post(b.url("/oauth/introspect"))
            .basic_auth("main-app", Some(secret.clone()))
            .form(&fields)
            .send()
    };
    for form in [
        &[("client_id", "someone-else")][..],
        &[("client_secret", "x")][..],
    ] {
        let res = mixed(form).await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");
    }
    assert_eq!(
        mixed(&[("client_id", "main-app")]).await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    let by_post = || {
        b.client
            .post(b.url("/oauth/introspect"))
            .form(&[
                ("token", admin.as_str()),
                ("client_id", "main-app"),
                ("client_secret", &secret),
            ])
            .send()
    };
    let post = by_post().await.unwrap();
    assert_eq!(
        post.status(),
        reqwest::StatusCode::OK,
        "client_secret_post introspects too"
    );
    let bearer = b
        .client
        .post(b.url("/oauth/introspect"))
        .bearer_auth(&secret)
        .form(&[("token", admin.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(
        bearer.json::<Value>().await.unwrap()["error_description"],
        "client authentication must use HTTP Basic"
    );
    let upd = a
        .client
        .put(a.url("/api/oauth-clients/main-app"))
        .bearer_auth(&admin)
        .json(&spec(false))
        .send()
        .await
        .unwrap();
    assert_eq!(upd.status(), reqwest::StatusCode::OK);
    let took = within(Duration::from_secs(1), || async {
        introspect(&b).await.unwrap().status() == reqwest::StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(
        took.is_some(),
        "B refused the client within 1 s of losing can_introspect"
    );
    let post = by_post().await.unwrap();
    assert_eq!(
        post.status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "the same eviction ends its form-keyed entry"
    );
}
