//! Regressions for the outside review's findings (issue 16): each test fails on the code before the fix.

use reqwest::StatusCode;
use tessera_core::Role;
use tessera_tests::forward::RULES;
use tessera_tests::process::ServerProcess;
use tessera_tests::{DbKind, TestApp, TestAppBuilder};

fn reason(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("x-auth-reason")
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn forward_app(proxy: &str) -> Option<TestApp> {
    TestAppBuilder::new(DbKind::Sqlite)
        .config(&RULES.replace(
            "[forward_auth]\n",
            &format!("[forward_auth]\nproxy = \"{proxy}\"\n"),
        ))
        .try_spawn()
        .await
}

/// Asks `/auth/forward` as a trusted proxy would, with `headers`.
async fn ask(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = app.client.get(app.url("/auth/forward"));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.header("x-forwarded-host", "romm.example.com")
        .send()
        .await
        .unwrap()
}

/// Defect 1: the header family is the deployment's, never the request's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_reads_only_the_configured_header_family() {
    let Some(app) = forward_app("auto").await else {
        return;
    };
    // nginx sends its own X-Original-*; the client adds the Traefik family pointing at a bypass rule.
    let res = ask(
        &app,
        &[
            ("x-original-uri", "/admin/users"),
            ("x-original-method", "POST"),
            ("x-forwarded-uri", "/public/x"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(reason(&res).as_deref(), Some("bad_request"));
    // A write turned into a read by a client-sent X-Forwarded-Method.
    let res = ask(
        &app,
        &[
            ("x-original-uri", "/api/roms/1"),
            ("x-original-method", "DELETE"),
            ("x-forwarded-method", "GET"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // The honest nginx request: decided on X-Original-*.
    let honest = [("x-original-uri", "/admin/users"), ("x-original-method", "POST")];
    assert_eq!(ask(&app, &honest).await.status(), StatusCode::UNAUTHORIZED);
    let res = ask(
        &app,
        &[("x-original-uri", "/public/x"), ("x-original-method", "GET")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // forward_auth.proxy = "nginx": the other family is never read, not even to refuse.
    let Some(nginx) = forward_app("nginx").await else {
        return;
    };
    let both = [
        ("x-original-uri", "/admin/users"),
        ("x-original-method", "POST"),
        ("x-forwarded-uri", "/public/x"),
        ("x-forwarded-method", "GET"),
    ];
    assert_eq!(
        ask(&nginx, &both).await.status(),
        StatusCode::UNAUTHORIZED,
        "decided on /admin/users"
    );
    // forward_auth.proxy = "traefik": a client-added X-Original-* is never read.
    let Some(traefik) = forward_app("traefik").await else {
        return;
    };
    let both = [
        ("x-forwarded-uri", "/admin/users"),
        ("x-forwarded-method", "POST"),
        ("x-original-uri", "/public/x"),
        ("x-original-method", "GET"),
    ];
    assert_eq!(
        ask(&traefik, &both).await.status(),
        StatusCode::UNAUTHORIZED,
        "decided on /admin/users"
    );
}

/// Defect 4: `admin.example.com.` and `ADMIN.example.com.:443` meet the rule written for the host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_rules_hold_for_every_spelling_of_the_host() {
    let Some(app) = TestAppBuilder::new(DbKind::Sqlite)
        .config(
            r#"
[forward_auth]
default_policy = "deny"
allowed_redirect_hosts = ["admin.example.com"]

[[forward_auth.rules]]
host = "admin.example.com"
path = "/**"
policy = "scopes"
scopes = ["users.write"]
login_redirect = true

[[forward_auth.rules]]
path = "/**"
policy = "bypass"
"#,
        )
        .try_spawn()
        .await
    else {
        return;
    };
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let ask = |host: &str| {
        no_redirect
            .get(app.url("/auth/forward"))
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", host)
            .header("x-forwarded-uri", "/users")
            .header("accept", "text/html")
            .send()
    };
    for host in [
        "admin.example.com",
        "admin.example.com.",
        "ADMIN.example.com.:443",
        "Admin.Example.Com:8443",
    ] {
        let res = ask(host).await.unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{host} must meet the host rule");
    }
    // The login redirect names the canonical host.
    let res = ask("ADMIN.example.com.:8443").await.unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.ends_with("/login?rd=https%3A%2F%2Fadmin.example.com%3A8443%2Fusers"),
        "{location}"
    );
    assert_eq!(ask("other.example.com").await.unwrap().status(), StatusCode::OK);
    for bad in [
        "admin.example.com..",
        "admin example.com",
        "admin.example.com:x",
        "[::1",
    ] {
        let res = ask(bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(reason(&res).as_deref(), Some("bad_host"));
    }
}

/// Defect 3: a 30 KB forwarded URI crashed the whole process (one recursion per `**` segment).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_forwarded_uri_is_refused_and_the_binary_keeps_serving() {
    let Some(bin) = tessera_tests::tessera_bin() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tessera.toml");
    std::fs::write(&config, RULES).unwrap();
    let mut env = tessera_tests::child_env(
        dir.path(),
        format!("sqlite://{}/tessera.db", dir.path().display()),
    );
    env.push(("TESSERA_CONFIG".into(), config.display().to_string()));
    std::fs::create_dir_all(tessera_tests::logs::dir()).unwrap();
    let log = tessera_tests::logs::dir().join(format!("huge-uri-{}.log", uuid::Uuid::new_v4().simple()));
    let mut server = ServerProcess::start(&bin, &env, &log).await;
    let client = reqwest::Client::new();
    for uri in [
        "/public/x".repeat(3_500),
        format!("/public{}", "/a".repeat(15_000)),
        format!("/admin{}", "/a".repeat(15_000)),
    ] {
        let res = client
            .get(format!("{}/auth/forward", server.base))
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-host", "romm.example.com")
            .header("x-forwarded-uri", uri)
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(reason(&res).as_deref(), Some("bad_path"));
    }
    let res = client
        .get(format!("{}/auth/forward", server.base))
        .header("x-forwarded-uri", "/public/x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "still serving");
    assert!(server.alive(), "the process survived");
}

/// The other URI shapes that proxies and apps read differently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_forwarded_uris_are_bad_paths() {
    let Some(app) = forward_app("auto").await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    for uri in [
        "/public/x#/../../admin",
        "/public/%2e%2e%2fadmin",
        "/public/%252e%252e/admin",
        "/public/..%5cadmin",
        "/public/%252fadmin",
    ] {
        let res = app
            .client
            .get(app.url("/auth/forward"))
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-uri", uri)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(reason(&res).as_deref(), Some("bad_path"), "{uri}");
    }
}

async fn create_token(app: &TestApp, bearer: &str, name: &str, scopes: &[&str]) -> reqwest::Response {
    app.client
        .post(app.url("/api/client-tokens"))
        .bearer_auth(bearer)
        .json(&serde_json::json!({"name": name, "scopes": scopes}))
        .send()
        .await
        .unwrap()
}

async fn problem(res: reqwest::Response, status: StatusCode) -> serde_json::Value {
    assert_eq!(res.status(), status);
    res.json().await.unwrap()
}

/// Defect 2: revealing or re-issuing a secret is minting, bounded by the caller's effective scopes.
async fn a_narrow_credential_never_takes_over_a_wider_one(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let full = app.password_login("root", None).await.access_token;
    let admin: serde_json::Value = create_token(
        &app,
        &full,
        "admin",
        &["users.read", "users.write", "me.read", "me.write"],
    )
    .await
    .json()
    .await
    .unwrap();
    let narrow: serde_json::Value = create_token(&app, &full, "tv", &["me.read", "me.write"])
        .await
        .json()
        .await
        .unwrap();
    let narrow_raw = narrow["raw_token"].as_str().unwrap();
    let admin_id = admin["id"].as_i64().unwrap();
    for (method, path) in [
        (
            reqwest::Method::PUT,
            format!("/api/client-tokens/{admin_id}/regenerate"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/client-tokens/{admin_id}/pair"),
        ),
    ] {
        let res = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(narrow_raw)
            .send()
            .await
            .unwrap();
        let body = problem(res, StatusCode::FORBIDDEN).await;
        assert_eq!(body["code"], "scope_excess", "{path}: {body}");
        assert!(
            body.to_string().contains("users.write"),
            "names the excess: {body}"
        );
    }
    // The admin token still works: nothing was regenerated.
    let res = app
        .get_bearer("/api/users/me", admin["raw_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Its own token, or one within its reach, still regenerates and pairs.
    let narrow_id = narrow["id"].as_i64().unwrap();
    let res = app
        .client
        .put(app.url(&format!("/api/client-tokens/{narrow_id}/regenerate")))
        .bearer_auth(narrow_raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let renewed: serde_json::Value = res.json().await.unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/client-tokens/{narrow_id}/pair")))
        .bearer_auth(renewed["raw_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A session (full rights) regenerates the admin token.
    let res = app
        .client
        .put(app.url(&format!("/api/client-tokens/{admin_id}/regenerate")))
        .bearer_auth(&full)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The siblings: an OAuth client (its secret is a credential) and an admin invite.
    let users_admin: serde_json::Value = create_token(&app, &full, "ops", &["users.read", "users.write"])
        .await
        .json()
        .await
        .unwrap();
    let ops = users_admin["raw_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/api/oauth-clients"))
        .bearer_auth(ops)
        .json(&serde_json::json!({"name": "wide", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["roms.write"]}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "scope_excess", "{body}");
    let res = app
        .client
        .post(app.url("/api/oauth-clients"))
        .bearer_auth(ops)
        .json(&serde_json::json!({"name": "narrow", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["users.read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let client: serde_json::Value = res.json().await.unwrap();
    let res = app
        .client
        .put(app.url(&format!("/api/oauth-clients/{}", client["client_id"].as_str().unwrap())))
        .bearer_auth(ops)
        .json(&serde_json::json!({"name": "narrow", "grant_types": ["client_credentials"], "scopes": ["users.read", "roms.write"]}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "scope_excess", "{body}");
    let res = app
        .client
        .post(app.url("/api/users/invite-link"))
        .bearer_auth(ops)
        .json(&serde_json::json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "scope_excess", "{body}");
    let res = app
        .client
        .post(app.url("/api/users/invite-link"))
        .bearer_auth(&full)
        .json(&serde_json::json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    // A user invite mints an account with the default group's rights: the narrow token lacks them.
    let res = app
        .client
        .post(app.url("/api/users/invite-link"))
        .bearer_auth(ops)
        .json(&serde_json::json!({"role": "user"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "scope_excess", "{body}");
    assert!(
        body.to_string().contains("roms.read"),
        "names what it would hand out: {body}"
    );
    let res = app
        .client
        .post(app.url("/api/users/invite-link"))
        .bearer_auth(&full)
        .json(&serde_json::json!({"role": "user"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    // Making a group the default hands its rights to every invited or self-registered account: the
    // narrow token may not make a wide group the default, and the old default stays.
    let res = app
        .client
        .post(app.url("/api/permissions/groups"))
        .bearer_auth(&full)
        .json(&serde_json::json!({"name": "Wide", "grants": [{"entity": "roms", "action": "delete"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let wide: serde_json::Value = res.json().await.unwrap();
    let defaults = || async {
        let groups = app.services.list_groups().await.unwrap();
        let ids: Vec<i64> = groups
            .iter()
            .filter(|g| g.group.is_default)
            .map(|g| g.group.id)
            .collect();
        ids
    };
    let make_default = |token: String, group: serde_json::Value| {
        app.client
            .put(app.url("/api/permissions/default-group"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "group_id": group }))
            .send()
    };
    let default_before = defaults().await;
    let res = make_default(ops.to_owned(), wide["id"].clone()).await.unwrap();
    let body = problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "scope_excess", "{body}");
    assert!(
        body.to_string().contains("roms.write"),
        "names the excess: {body}"
    );
    assert_eq!(defaults().await, default_before, "the old default stays");
    let res = make_default(full.clone(), wide["id"].clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for old in default_before {
        let res = make_default(full.clone(), old.into()).await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    // Accounts: creating an admin, or taking one over by its password, with an admin's narrow token.
    let boss = app.create_user("boss", Role::Admin).await;
    let res = app
        .client
        .put(app.url(&format!("/api/users/{boss}")))
        .bearer_auth(ops)
        .json(&serde_json::json!({"password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "scope_excess", "{body}");
    assert_eq!(
        app.password_login("boss", None).await.body["scope"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true),
        "boss keeps the password"
    );
    let res = app
        .client
        .post(app.url("/api/users"))
        .bearer_auth(ops)
        .json(&serde_json::json!({"username": "mallory", "password": "a brand new passphrase", "role": "admin"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "scope_excess", "{body}");
    let res = app
        .client
        .post(app.url("/api/users"))
        .bearer_auth(&full)
        .json(&serde_json::json!({"username": "mallory", "password": "a brand new passphrase", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

tessera_tests::on_both_backends!(a_narrow_credential_never_takes_over_a_wider_one);

/// Defect 6: `rd` is resolved as a browser would; control characters are a 400 before a session is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_redirects_never_leave_for_a_foreign_origin() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The browser drops the tab of `/\t/evil.example` and goes to //evil.example.
    for rd in [
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:%20x=y",
        "/%5Cevil.example",
    ] {
        let res = no_redirect
            .get(app.url(&format!("/login?rd={rd}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{rd}");
        let res = no_redirect
            .get(app.url(&format!("/login/oidc?rd={rd}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "/login/oidc {rd}");
    }
    // A foreign origin is dropped, not followed: the page renders without it.
    let page = no_redirect
        .get(app.url("/login?rd=https://evil.example/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let form_cookie = tessera_tests::oauth::set_cookie(&page, "tessera_login_form").unwrap();
    assert!(!page.text().await.unwrap().contains("evil.example"));
    let post = |rd: &'static str| {
        no_redirect
            .post(app.url("/login"))
            .header("cookie", format!("tessera_login_form={form_cookie}"))
            .form(&[
                ("username", "ada"),
                ("password", tessera_tests::oauth::PASSWORD),
                ("csrf_token", form_cookie.as_str()),
                ("rd", rd),
            ])
            .send()
    };
    // CR/LF used to be a 500 after the session row was written.
    let res = post("/x\r\nSet-Cookie: a=b").await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(tessera_tests::oauth::set_cookie(&res, "tessera_session"), None);
    let res = post("//evil.example/x").await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account", "a foreign rd is dropped");
    let res = post("/device?x=1").await.unwrap();
    assert_eq!(res.headers()["location"], "/device?x=1");
}

/// Identity-cache misses so far on `app` (each miss is a database load).
fn misses(app: &TestApp) -> u64 {
    app.services.metrics.identity_misses.get()
}

/// Who-is-this through the cached path (the `Caller` extractor).
async fn forward_status(app: &TestApp, token: &str) -> StatusCode {
    app.get_bearer("/api/users/me", token).await.status()
}

/// Defect 5: an unauthenticated revoke of garbage flushed every cache on every replica. Now what names
/// nothing evicts nothing, and a real revocation evicts only its own credential. `a` revokes; `b` (another
/// replica, or `a` itself) keeps serving the rest from its cache.
async fn evictions_are_precise(a: &TestApp, b: &TestApp) {
    a.create_user("ada", Role::User).await;
    let kept = a.password_login("ada", None).await;
    let doomed = a.password_login("ada", None).await;
    let full = a.password_login("ada", None).await.access_token;
    let ctok: serde_json::Value = create_token(a, &full, "tv", &["me.read"])
        .await
        .json()
        .await
        .unwrap();
    let ctok = ctok["raw_token"].as_str().unwrap().to_owned();
    for t in [&kept.access_token, &doomed.access_token, &ctok] {
        assert_eq!(forward_status(b, t).await, StatusCode::OK);
    }
    let warm = misses(b);
    // Garbage of every shape, unauthenticated (the built-in client needs no secret).
    let garbage = [
        "tsr_rt_".to_owned() + &"0".repeat(72),
        "tsr_".to_owned() + &"0".repeat(72),
        "eyJhbGciOiJFUzI1NiJ9.e30.AAAA".to_owned(),
        "x".repeat(100),
    ];
    for g in &garbage {
        let res = a.token_form("/oauth/revoke", &[("token", g)]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    for t in [&kept.access_token, &doomed.access_token, &ctok] {
        assert_eq!(forward_status(b, t).await, StatusCode::OK);
    }
    assert_eq!(misses(b), warm, "garbage revocations evicted nothing");
    // A real revocation of one login evicts that login only.
    let res = a
        .token_form("/oauth/revoke", &[("token", &doomed.refresh_token)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut refused = false;
    for _ in 0..200 {
        if forward_status(b, &doomed.access_token).await == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        // Bounded wait for the other replica to hear the eviction (the contract is one second).
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(refused, "the revoked login is refused");
    let before = misses(b);
    assert_eq!(forward_status(b, &kept.access_token).await, StatusCode::OK);
    assert_eq!(forward_status(b, &ctok).await, StatusCode::OK);
    assert_eq!(misses(b), before, "the other credentials stayed cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evictions_are_precise_on_one_instance() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    evictions_are_precise(&app, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evictions_are_precise_across_replicas() {
    let Some((a, b)) = tessera_tests::replica_pair().await else {
        return;
    };
    evictions_are_precise(&a, &b).await;
}

/// Defect 9: `/api/access/check` verified a client token as a JWT and negative-cached it, so its owner got
/// 401 everywhere for five seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_check_of_a_client_token_never_poisons_it() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    app.create_user("ada", Role::User).await;
    let admin = app.password_login("root", None).await.access_token;
    let ada = app.password_login("ada", None).await.access_token;
    let ctok: serde_json::Value = create_token(&app, &ada, "tv", &["me.read", "roms.read"])
        .await
        .json()
        .await
        .unwrap();
    let ctok = ctok["raw_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/api/access/check"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"token": ctok, "entity": "roms", "action": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["allowed"], true, "{body}");
    assert_eq!(
        app.get_bearer("/api/users/me", ctok).await.status(),
        StatusCode::OK
    );
    assert_eq!(forward_status(&app, ctok).await, StatusCode::OK);
}

/// Defect 13: narrowing a client narrows its live logins, and deleting it ends them, within the same
/// second as other revocations.
async fn client_changes_reach_its_tokens(db: DbKind) {
    let Some(app) = TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    app.create_user("ada", Role::User).await;
    let admin = app.password_login("root", None).await.access_token;
    let client = |method: reqwest::Method, path: &str, body: serde_json::Value| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let res = client(
        reqwest::Method::POST,
        "/api/oauth-clients",
        serde_json::json!({"client_id": "launcher", "name": "Launcher", "grant_types": ["password", "refresh_token"], "scopes": ["me.read", "roms.read"]}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let form = [
        ("grant_type", "password"),
        ("username", "ada"),
        ("password", tessera_tests::oauth::PASSWORD),
        ("client_id", "launcher"),
        ("scope", "me.read roms.read"),
    ];
    let t: serde_json::Value = app.token_form("/oauth/token", &form).await.json().await.unwrap();
    let (access, refresh) = (
        t["access_token"].as_str().unwrap().to_owned(),
        t["refresh_token"].as_str().unwrap().to_owned(),
    );
    assert_eq!(app.introspect(&access).await["scope"], "me.read roms.read");
    let res = client(
        reqwest::Method::PUT,
        "/api/oauth-clients/launcher",
        serde_json::json!({"name": "Launcher", "grant_types": ["password", "refresh_token"], "scopes": ["me.read"]}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.introspect(&access).await["scope"],
        "me.read",
        "the live access token narrowed"
    );
    let res = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", "launcher"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t: serde_json::Value = res.json().await.unwrap();
    assert_eq!(t["scope"], "me.read", "the refresh family narrowed");
    let access = t["access_token"].as_str().unwrap().to_owned();
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let res = client(
        reqwest::Method::DELETE,
        "/api/oauth-clients/launcher",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        app.introspect(&access).await,
        serde_json::json!({"active": false}),
        "deleted client: token dead"
    );
    let res = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", "launcher"),
            ],
        )
        .await;
    assert!(res.status().is_client_error());
}

tessera_tests::on_both_backends!(client_changes_reach_its_tokens);

/// Defect 8: the memory store is bounded and expiring, and the flows that store per request have per-IP
/// budgets (forgot-password, upstream sign-in starts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_store_is_bounded() {
    use tessera_store::{MemoryStore, Store};
    let store = MemoryStore::with_capacity(1_000);
    let now = tessera_core::UnixTime(1_000);
    let later = tessera_core::UnixTime(1_600);
    for i in 0..20_000 {
        store
            .set(&format!("oidc:{i}"), b"flow", later, now)
            .await
            .unwrap();
        store.incr(&format!("count:{i}"), 1, later, now).await.unwrap();
    }
    let held = store.len();
    assert!(held <= 2 * 1_000 + 100, "bounded: {held} entries held");
    // Live entries set last are still there and exact; a fresh key is set-if-absent once only.
    assert!(store.set_if_absent("pair:x", b"1", later, now).await.unwrap());
    assert!(!store.set_if_absent("pair:x", b"2", later, now).await.unwrap());
    assert_eq!(
        store.take("pair:x", now).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(store.take("pair:x", now).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_and_oidc_starts_are_budgeted_per_ip() {
    // The issuer is a closed port: each start is charged before the provider is asked.
    let closed = tessera_tests::ports::free_port();
    let Some(app) = TestAppBuilder::new(DbKind::Sqlite)
        .config(&format!(
            "[oidc]\nissuer = \"http://127.0.0.1:{closed}\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\n\
             [rate_limits]\nforgot_password_ip = {{ limit = 3, period_secs = 3600 }}\noidc_start = {{ limit = 3, period_secs = 60 }}\n"
        ))
        .try_spawn()
        .await
    else {
        return;
    };
    // Different usernames each time: the per-username budget never trips, the per-IP one does.
    for i in 0..3 {
        let res = app
            .post_json(
                "/api/forgot-password",
                &serde_json::json!({"username": format!("user{i}")}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let res = app
        .post_json("/api/forgot-password", &serde_json::json!({"username": "user9"}))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..3 {
        let res = no_redirect.get(app.url("/login/oidc")).send().await.unwrap();
        assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let res = no_redirect.get(app.url("/login/oidc")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // RomM's start path is the same sign-in, under the same budget.
    let res = no_redirect
        .get(app.url("/api/login/openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Defect 10: a cross-site form could sign a victim's browser in (login CSRF).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_login_posts_are_refused() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let form = [("username", "ada"), ("password", tessera_tests::oauth::PASSWORD)];
    let cross = [
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "https://evil.romm.example"),
        ],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
    ];
    for headers in &cross {
        let mut rb = app.client.post(app.url("/api/auth/login")).form(&form);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(tessera_tests::oauth::set_cookie(&res, "tessera_session"), None);
        let mut rb = app
            .client
            .post(app.url("/api/login"))
            .basic_auth("ada", Some(tessera_tests::oauth::PASSWORD));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        assert_eq!(
            rb.send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "/api/login {headers:?}"
        );
    }
    // Same-origin scripts and non-browser clients keep working.
    let honest = [
        vec![("sec-fetch-site", "same-origin"), ("origin", app.base.as_str())],
        vec![("origin", app.base.as_str())],
        vec![],
    ];
    for headers in &honest {
        let mut rb = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&serde_json::json!({"username": "ada", "password": tessera_tests::oauth::PASSWORD}));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{headers:?}");
    }
}

/// Defect 11: `/api/auth/login` and `POST /device` read up to 256 KiB (and bcrypt ran on a 200 KB
/// password); each route now has its documented limit, 413 before parsing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_refused_over_their_limit_before_parsing() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let huge = "p".repeat(200 * 1024);
    let checks_before = app.services.render_metrics().await.unwrap();
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .form(&[("username", "ada"), ("password", huge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&serde_json::json!({"username": "ada", "password": huge}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bcrypt = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("tessera_bcrypt_verifications "))
            .map(str::to_owned)
    };
    assert!(bcrypt(&checks_before).is_some(), "the bcrypt gauge is exported");
    assert_eq!(
        bcrypt(&app.services.render_metrics().await.unwrap()),
        bcrypt(&checks_before),
        "no bcrypt ran"
    );
    let session = app.session_login("ada").await;
    let res = app
        .with_session(app.client.post(app.url("/device")), &session, false)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("user_code=ABCD-EFGH&scope={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // No recursion follows attacker-sized input: 30,000 nested arrays (within the 64 KiB limit) are a
    // 4xx on every JSON-reading path, never a stack overflow.
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    for path in [
        "/api/auth/login",
        "/oauth/token",
        "/api/client-tokens",
        "/api/forgot-password",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(deep.clone())
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
    // An honest login still works.
    assert_eq!(
        app.post_json(
            "/api/auth/login",
            &serde_json::json!({"username": "ada", "password": tessera_tests::oauth::PASSWORD})
        )
        .await
        .status(),
        StatusCode::OK
    );
}

/// Defect 12: the database (password hashes) and its WAL files were created 0644 in a 0755 data dir.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_dir_and_database_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let Some(bin) = tessera_tests::tessera_bin() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fresh").join("data");
    let env = tessera_tests::child_env(&dir, format!("sqlite://{}/tessera.db", dir.display()));
    std::fs::create_dir_all(tessera_tests::logs::dir()).unwrap();
    let log = tessera_tests::logs::dir().join(format!("perms-{}.log", uuid::Uuid::new_v4().simple()));
    let server = ServerProcess::start(&bin, &env, &log).await;
    // A write, so the WAL files exist while the server runs.
    let res = reqwest::Client::new()
        .post(format!("{}/api/setup/admin", server.base))
        .json(&serde_json::json!({"username": "root", "password": tessera_tests::oauth::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "data dir");
    for name in ["tessera.db", "tessera.db-wal", "tessera.db-shm"] {
        let p = dir.join(name);
        assert!(p.exists(), "{name} exists while serving");
        assert_eq!(mode(&p), 0o600, "{name}");
    }
    drop(server);
}

/// Defect 7: a revocation whose cross-replica publish fails answers 503 instead of success, and is
/// published as soon as the store is reachable again, so the other replica's cache drops it then (a retry
/// of the call may find nothing left to revoke).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_that_cannot_reach_the_replicas_is_an_error_then_arrives() {
    use std::time::{Duration, Instant};
    let (Some(_), Some(redis)) = (tessera_tests::postgres_url(), tessera_tests::redis_url()) else {
        return;
    };
    let gate = tessera_tests::TcpGate::start(redis.trim_start_matches("redis://").parse().unwrap()).await;
    let a = TestAppBuilder::new(DbKind::Postgres)
        .store_url(&format!("redis://{}", gate.addr))
        .try_spawn()
        .await
        .unwrap();
    let b = TestAppBuilder::new(DbKind::Postgres)
        .replica_of(&a)
        .store_url(&redis)
        .try_spawn()
        .await
        .unwrap();
    let start = Instant::now();
    while !(a.services.caches.usable() && b.services.caches.usable()) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "both replicas subscribe"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.create_user("ada", Role::User).await;
    let t = a.password_login("ada", None).await;
    assert_eq!(forward_status(&b, &t.access_token).await, StatusCode::OK);
    assert_eq!(
        forward_status(&b, &t.access_token).await,
        StatusCode::OK,
        "cached on B"
    );
    gate.close();
    let res = a
        .token_form("/oauth/revoke", &[("token", &t.refresh_token)])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "not reported as done"
    );
    gate.reopen();
    let start = Instant::now();
    let mut refused = false;
    while start.elapsed() < Duration::from_secs(3) {
        if forward_status(&b, &t.access_token).await == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "the delayed eviction reached B {:?} after the store came back",
        start.elapsed()
    );
    assert!(refused, "B dropped the revoked login once A could publish");
}

/// Issue 18: behind an authenticating proxy that owns `Authorization`, a client token travels in the
/// configured API-key header, which counts before `Authorization`; a bad key is refused, never a
/// fall-through; only client tokens are taken there; without the setting the header means nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_token_in_the_api_key_header_wins_over_the_proxys_authorization() {
    let Some(app) = TestAppBuilder::new(DbKind::Sqlite)
        .config(&format!("[auth]\napi_key_header = \"X-Api-Key\"\n{RULES}"))
        .try_spawn()
        .await
    else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let login = app.password_login("ada", None).await.access_token;
    let token: serde_json::Value = app
        .client
        .post(app.url("/api/client-tokens"))
        .bearer_auth(&login)
        .json(&serde_json::json!({"name": "behind-cf", "scopes": ["me.read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let raw = token["raw_token"].as_str().unwrap();
    let me = |key: &str| {
        app.client
            .get(app.url("/api/users/me"))
            .basic_auth("proxy-user", Some("proxy-password"))
            .header("x-api-key", key.to_owned())
            .send()
    };
    let res = me(raw).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["username"], "ada");
    assert_eq!(
        me("tsr_garbage").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me(&login).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "only client tokens travel in the API-key header"
    );
    // Forward-auth reads it the same way.
    let res = app
        .client
        .get(app.url("/auth/forward"))
        .header("x-forwarded-uri", "/me/profile")
        .header("x-api-key", raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-auth-user"], "ada");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_setting_an_api_key_header_means_nothing() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    let res = app
        .client
        .get(app.url("/api/users/me"))
        .header("x-api-key", "tsr_whatever")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["detail"],
        "a credential is required"
    );
}

/// Minting never widens, for permission groups and per-user overrides too: a narrow admin credential
/// cannot hand a group or a member rights beyond its own scopes (403 `scope_excess`, nothing written).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_overrides_never_hand_over_more_than_the_credential_holds() {
    let Some(app) = TestApp::try_spawn(DbKind::Sqlite).await else {
        return;
    };
    app.create_user("root", Role::Admin).await;
    let ada = app.create_user("ada", Role::User).await;
    let narrow = app
        .password_login("root", Some("users.read users.write"))
        .await
        .access_token;
    let full = app.password_login("root", None).await.access_token;
    let send = |method: reqwest::Method, path: String, token: &str, body: serde_json::Value| {
        app.client
            .request(method, app.url(&path))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let wide = serde_json::json!({"name": "Editors", "grants": [{"entity": "roms", "action": "write"}]});
    let res = send(
        reqwest::Method::POST,
        "/api/permissions/groups".into(),
        &narrow,
        wide.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "scope_excess"
    );
    let within = serde_json::json!({"name": "Readers", "grants": [{"entity": "users", "action": "read"}]});
    let res = send(
        reqwest::Method::POST,
        "/api/permissions/groups".into(),
        &narrow,
        within,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let g: serde_json::Value = res.json().await.unwrap();
    let gid = g["id"].as_i64().unwrap();
    let res = send(
        reqwest::Method::PUT,
        format!("/api/permissions/groups/{gid}"),
        &narrow,
        wide.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "nor by editing a group");
    // An override granting roms.write to a member: refused for the narrow token, and nothing changed.
    let over = serde_json::json!({"permission_group_id": null,
        "overrides": [{"entity": "roms", "action": "write", "own_only": false, "effect": "grant"}]});
    let res = send(
        reqwest::Method::PUT,
        format!("/api/permissions/users/{ada}"),
        &narrow,
        over.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let now: serde_json::Value = app
        .get_bearer(&format!("/api/permissions/users/{ada}"), &full)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["overrides"], serde_json::json!([]), "rolled back: {now}");
    let res = send(
        reqwest::Method::PUT,
        format!("/api/permissions/users/{ada}"),
        &full,
        over,
    )
    .await
    .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "an admin credential holding the scope may"
    );
}
