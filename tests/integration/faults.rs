//! Failures of Tessera's own dependencies (issue 10). Connections are cut through a `TcpGate` between one
//! Tessera and the shared PostgreSQL or Redis, never by stopping the servers other tests use.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::forward::RULES;
use tessera_tests::oauth::PASSWORD;
use tessera_tests::process::ServerProcess;
use tessera_tests::{
    behind_postgres_gate, behind_redis_gate, postgres_url, within, DbKind, TcpGate, TestApp, TestAppBuilder,
};

/// What one request of the load saw.
#[derive(Debug)]
struct Outcome {
    status: StatusCode,
    body: Value,
}

/// Password grants followed by a refresh, from `workers` tasks, until `stop` is set.
fn login_and_refresh_load(
    app: &TestApp,
    workers: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Outcome>>> {
    (0..workers)
        .map(|_| {
            let (client, url, stop) = (app.client.clone(), app.url("/oauth/token"), stop.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let send = |form: Vec<(&'static str, String)>| client.post(&url).form(&form).send();
                    let login = send(vec![
                        ("grant_type", "password".into()),
                        ("username", "ada".into()),
                        ("password", PASSWORD.into()),
                    ])
                    .await
                    .expect("Tessera answers");
                    let status = login.status();
                    let body: Value = login.json().await.expect("a JSON body, whatever the status");
                    let refresh = body["refresh_token"].as_str().map(str::to_owned);
                    seen.push(Outcome { status, body });
                    if let Some(rt) = refresh {
                        let res = send(vec![
                            ("grant_type", "refresh_token".into()),
                            ("refresh_token", rt),
                        ])
                        .await
                        .expect("Tessera answers");
                        let status = res.status();
                        let body = res.json().await.expect("a JSON body, whatever the status");
                        seen.push(Outcome { status, body });
                    }
                }
                seen
            })
        })
        .collect()
}

async fn readiness(app: &TestApp) -> StatusCode {
    app.get("/readyz").await.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_database_fails_cleanly_under_load_and_recovers() {
    let Some(base) = postgres_url() else { return };
    assert!(
        base.contains("127.0.0.1:5432"),
        "the gate forwards to the default PostgreSQL"
    );
    let gate = TcpGate::start("127.0.0.1:5432".parse().unwrap()).await;
    let app = TestAppBuilder::new(DbKind::Postgres)
        .database_via(gate.addr)
        .try_spawn()
        .await
        .expect("app");
    app.create_user("ada", Role::User).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = login_and_refresh_load(&app, 4, stop.clone());
    // Let the load run, then cut the database under it until the load has seen the cut.
    let warm = app.password_login("ada", None).await;
    gate.close();
    let mut probes = 0;
    loop {
        let res = app.refresh(&warm.refresh_token).await;
        probes += 1;
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "temporarily_unavailable", "{body}");
            break;
        }
        assert!(probes < 1000, "the cut never showed");
    }
    assert_eq!(readiness(&app).await, StatusCode::SERVICE_UNAVAILABLE);
    let api = app.get("/api/users/me").await;
    assert!(matches!(
        api.status(),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::UNAUTHORIZED
    ));
    let me = app
        .client
        .get(app.url("/api/users/me"))
        .basic_auth("ada", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(me.headers()["content-type"], "application/problem+json");
    // Back, without a restart.
    gate.reopen();
    // Bounded by time, not by a count: while the breaker is open each probe answers at once, and only
    // one probe per cool-down (500 ms) tries the database.
    assert!(
        within(std::time::Duration::from_secs(30), || async {
            readiness(&app).await == StatusCode::OK
        })
        .await
        .is_some(),
        "/readyz recovers"
    );
    let fresh = app.password_login("ada", None).await;
    assert_eq!(app.refresh(&fresh.refresh_token).await.status(), StatusCode::OK);
    stop.store(true, Ordering::SeqCst);
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for task in load {
        for o in task.await.unwrap() {
            *by_status.entry(o.status.as_u16()).or_default() += 1;
            match o.status {
                StatusCode::OK => {}
                StatusCode::SERVICE_UNAVAILABLE => assert_eq!(o.body["error"], "temporarily_unavailable"),
                // A refresh whose rotation committed just before the cut but whose answer was lost, tried
                // again: reuse detection, by design.
                StatusCode::BAD_REQUEST => assert_eq!(o.body["error"], "invalid_grant", "{}", o.body),
                other => panic!("unexpected {other}: {}", o.body),
            }
        }
    }
    println!("load outcomes by status: {by_status:?}");
    assert!(
        by_status.contains_key(&503),
        "the load saw the cut: {by_status:?}"
    );
}

/// Issue 19, point 1: once one request has found PostgreSQL refusing connections, the rest are answered
/// 503 at once by the open breaker instead of each waiting out the connect timeout (30 s here); one probe
/// per cool-down finds the database back, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_database_is_answered_at_once_and_probed_back() {
    let Some((gate, app)) = behind_postgres_gate(&[("TESSERA_DATABASE__CONNECT_TIMEOUT_SECS", "30")]).await
    else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let t = app.password_login("ada", None).await;
    gate.close();
    let first = app.refresh(&t.refresh_token).await;
    assert_eq!(
        first.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the outage is found"
    );
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let res = app.refresh(&t.refresh_token).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"],
            "temporarily_unavailable"
        );
    }
    // Without the breaker each of these waits the 30 s connect timeout (10 minutes in all).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "answered at once: {:?} for 20",
        started.elapsed()
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("tessera_database_breaker_open 1"), "{metrics}");
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tessera_database_refused_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(refused >= 10, "refused without trying: {refused}");
    gate.reopen();
    assert!(
        within(std::time::Duration::from_secs(30), || async {
            app.refresh(&t.refresh_token).await.status() == StatusCode::OK
        })
        .await
        .is_some(),
        "a probe finds the database back and the breaker closes"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("tessera_database_breaker_open 0"),
        "closed again"
    );
}

/// Issue 19: a PostgreSQL that holds packets (nothing refused, nothing answered; libpq has no read
/// timeout) costs the request that finds it its deadline (connect + statement timeout + 1 s, 3 s here);
/// the breaker then answers the rest 503 at once, and after the gate reopens a probe finds it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_database_costs_one_deadline_then_answers_at_once() {
    let Some((gate, app)) = behind_postgres_gate(&[
        ("TESSERA_DATABASE__CONNECT_TIMEOUT_SECS", "1"),
        ("TESSERA_DATABASE__STATEMENT_TIMEOUT_MS", "1000"),
    ])
    .await
    else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let t = app.password_login("ada", None).await;
    gate.hold();
    let first = app.refresh(&t.refresh_token).await;
    assert_eq!(
        first.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the held database is found"
    );
    let started = std::time::Instant::now();
    for _ in 0..10 {
        assert_eq!(
            app.refresh(&t.refresh_token).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Each would otherwise wait its 3 s deadline (30 s in all); at most one probe may wait it.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "answered at once: {:?}",
        started.elapsed()
    );
    gate.reopen();
    assert!(
        within(std::time::Duration::from_secs(30), || async {
            app.refresh(&t.refresh_token).await.status() == StatusCode::OK
        })
        .await
        .is_some(),
        "the database is found back without a restart"
    );
}

/// Issue 19, point 2: a silently partitioned Redis (the gate holds every packet, refuses nothing) costs the
/// request that finds it one store deadline (400 ms); after that, rate limits fall back to memory and
/// store-only flows answer 503 at once, `/readyz` reports the store degraded at once, and a probe per
/// cool-down finds Redis back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_redis_is_answered_at_once_after_one_deadline() {
    let Some((gate, app)) = behind_redis_gate(None).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    app.password_login("ada", None).await;
    gate.hold();
    let wrong = || {
        app.token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", "wrong"),
            ],
        )
    };
    // The first store call waits its deadline and opens the breaker.
    assert_eq!(wrong().await.status(), StatusCode::BAD_REQUEST);
    let started = std::time::Instant::now();
    for _ in 0..5 {
        assert_eq!(
            wrong().await.status(),
            StatusCode::BAD_REQUEST,
            "limits fall back to memory"
        );
    }
    let init = app
        .post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv", "name": "TV", "client": "argosy", "platform": "android", "requested_scopes": ["me.read"]}))
        .await;
    assert_eq!(
        init.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "store-only flows: 503"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["store"], "degraded");
    // Held, each of these would wait at least one 400 ms deadline (before the breaker, two of 2 s each
    // for a wrong password): seven requests in well under that.
    assert!(
        started.elapsed() < std::time::Duration::from_millis(2800),
        "answered at once: {:?}",
        started.elapsed()
    );
    gate.reopen();
    let store_ok = || async {
        let body: Value = app.get("/readyz").await.json().await.unwrap();
        body["store"] == "ok"
    };
    assert!(
        within(std::time::Duration::from_secs(30), store_ok)
            .await
            .is_some(),
        "a probe finds Redis back"
    );
    let init = app
        .post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv", "name": "TV", "client": "argosy", "platform": "android", "requested_scopes": ["me.read"]}))
        .await;
    assert_eq!(init.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_redis_closes_device_flows_and_forward_auth_falls_back() {
    let Some((gate, app)) = behind_redis_gate(Some(RULES)).await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let kept = app.password_login("ada", None).await.access_token;
    let revoked = app.password_login("ada", None).await.access_token;
    let forward = |token: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/auth/forward"))
                .header("x-forwarded-uri", "/api/roms/1")
                .header("x-forwarded-host", "romm.example.com")
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(forward(kept.clone()).await, StatusCode::OK);
    assert_eq!(forward(revoked.clone()).await, StatusCode::OK);
    gate.close();

    // Issue 19: /readyz reports the revocation listener; the replica is degraded (still 200) while it is
    // down, and ok again once it resubscribes (checked after the gate reopens, below).
    let listener_down = || async {
        let body: Value = app.get("/readyz").await.json().await.unwrap();
        body["revocation_listener"] == "degraded"
    };
    assert!(
        within(std::time::Duration::from_secs(30), listener_down)
            .await
            .is_some(),
        "the listener's loss shows in /readyz"
    );
    let res = app.get("/readyz").await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    // Point 2: once the outage is found, store calls answer at once (the store's breaker), not after a
    // deadline each: twenty device polls in well under the 400 ms deadline each would cost.
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let poll = app
            .post_json("/api/auth/device/token", &json!({"device_code": "0".repeat(64)}))
            .await;
        assert_eq!(poll.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "answered at once: {:?} for 20",
        started.elapsed()
    );

    // Device and pair flows live in the store: they fail closed, with the right error shape.
    let init = app
        .post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv", "name": "TV", "client": "argosy", "platform": "android", "requested_scopes": ["me.read"]}))
        .await;
    assert_eq!(init.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = init.json().await.unwrap();
    assert!(body.get("detail").is_some(), "{body}");
    let rfc = app
        .token_form("/oauth/device_authorization", &[("client_id", "tessera-cli")])
        .await;
    assert_eq!(rfc.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        rfc.json::<Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    let ct: Value = app
        .client
        .post(app.url("/api/client-tokens"))
        .bearer_auth(&kept)
        .json(&json!({"name": "tv", "scopes": ["me.read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pair = app
        .client
        .post(app.url(&format!("/api/client-tokens/{}/pair", ct["id"])))
        .bearer_auth(&kept)
        .send()
        .await
        .unwrap();
    assert_eq!(pair.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(pair.headers()["content-type"], "application/problem+json");

    // A revocation that cannot reach the other replicas is an error, not a success (issue 16, defect 7):
    // the database change stands and this replica checks the database, but the caller must know.
    let res = app.token_form("/oauth/revoke", &[("token", &revoked)]).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("tessera_eviction_publish_failures_total 1"),
        "counted: {}",
        metrics
            .lines()
            .filter(|l| l.contains("eviction"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Forward-auth checks the database instead of trusting its cache: the revocation holds here.
    assert_eq!(forward(kept.clone()).await, StatusCode::OK);
    assert_eq!(forward(revoked.clone()).await, StatusCode::UNAUTHORIZED);

    // Redis returns: the flows work again, without a restart.
    gate.reopen();
    // Bounded by time: the store's breaker lets one probe through per cool-down (500 ms). Meanwhile the
    // fast refusals are charged to device_init in this replica's memory (limits fall back there), so a
    // 429 may come before Redis answers again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut back = false;
    while std::time::Instant::now() < deadline {
        let init = app
            .post_json("/api/auth/device/init", &json!({"client_device_identifier": "tv", "name": "TV", "client": "argosy", "platform": "android", "requested_scopes": ["me.read"]}))
            .await;
        if init.status().is_success() {
            back = true;
            break;
        }
        assert!(
            matches!(
                init.status(),
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
            ),
            "{}",
            init.status()
        );
    }
    assert!(back, "device init works again once Redis is back");
    let listening = || async {
        let body: Value = app.get("/readyz").await.json().await.unwrap();
        body["revocation_listener"] == "ok" && body["status"] == "ok"
    };
    assert!(
        within(std::time::Duration::from_secs(30), listening)
            .await
            .is_some(),
        "the listener resubscribes and /readyz says so"
    );
    assert_eq!(forward(revoked).await, StatusCode::UNAUTHORIZED);
    assert_eq!(forward(kept).await, StatusCode::OK);
}

async fn a_killed_server_loses_no_committed_refresh_token(db: DbKind) {
    let Some(bin) = tessera_tests::tessera_bin() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some((database_url, _schema)) = tessera_tests::child_database(db, dir.path()) else {
        return;
    };
    let env: Vec<(String, String)> = [
        ("TESSERA_DATA_DIR", dir.path().display().to_string()),
        ("TESSERA_DATABASE_URL", database_url),
        ("TESSERA_SECURITY__BCRYPT_COST", "4".into()),
        ("TESSERA_LOG__LEVEL", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    // The server's log joins the suite's, which `make test` searches for panics.
    std::fs::create_dir_all(tessera_tests::logs::dir()).unwrap();
    let log = tessera_tests::logs::dir().join(format!("killed-server-{}.log", uuid::Uuid::new_v4().simple()));
    let mut create = std::process::Command::new(&bin)
        .args(["users", "create", "ada"])
        .envs(env.iter().cloned())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(create.wait().unwrap().success(), "users create");

    let server = ServerProcess::start(&bin, &env, &log).await;
    let client = reqwest::Client::new();
    let token_url = format!("{}/oauth/token", server.base);
    // Four chains of rotations; each keeps the last refresh token it was given.
    let chains = 4;
    let mut latest = Vec::new();
    for _ in 0..chains {
        let body: Value = client
            .post(&token_url)
            .form(&[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        latest.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    let latest = Arc::new(Mutex::new(latest));
    let rotations = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..chains)
        .map(|i| {
            let (client, url, latest, rotations) = (
                client.clone(),
                token_url.clone(),
                latest.clone(),
                rotations.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let rt = latest.lock().unwrap()[i].clone();
                    let Ok(res) = client
                        .post(&url)
                        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt.as_str())])
                        .send()
                        .await
                    else {
                        return; // the server is gone
                    };
                    let status = res.status();
                    let Ok(body) = res.json::<Value>().await else {
                        return;
                    };
                    assert_eq!(status, StatusCode::OK, "rotation before the kill: {body}");
                    latest.lock().unwrap()[i] = body["refresh_token"].as_str().unwrap().to_owned();
                    rotations.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // Kill once the load is in full swing (a count of rotations, not a time).
    while rotations.load(Ordering::SeqCst) < 40 {
        tokio::task::yield_now().await;
    }
    server.kill_9();
    for t in tasks {
        t.await.unwrap();
    }
    let done = rotations.load(Ordering::SeqCst);

    // After a restart, every token a client holds still works, or its use is reported as a reuse
    // (the rotation committed but its answer died with the process) — never silently unknown.
    let server = ServerProcess::start(&bin, &env, &log).await;
    let token_url = format!("{}/oauth/token", server.base);
    let key = std::fs::read_to_string(dir.path().join("service-key"))
        .unwrap()
        .trim()
        .to_owned();
    let held = latest.lock().unwrap().clone();
    let mut reused = 0;
    for rt in &held {
        let res = client
            .post(&token_url)
            .form(&[("grant_type", "refresh_token"), ("refresh_token", rt.as_str())])
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        if status != StatusCode::OK {
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::BAD_REQUEST, Some("invalid_grant")),
                "{body}"
            );
            reused += 1;
        }
    }
    let events: Vec<Value> = client
        .get(format!("{}/api/audit?kind=refresh.replayed", server.base))
        .header("x-tessera-key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        reused,
        "each refused token was a detected reuse: {events:?}"
    );
    println!("{done} rotations before SIGKILL; after restart {} of {chains} held tokens work, {reused} detected as reused", chains - reused);
    server.kill_9();
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}

tessera_tests::on_both_backends!(a_killed_server_loses_no_committed_refresh_token);

/// Issue 19: with `server.shutdown_delay_secs`, SIGTERM turns `/readyz` to 503 at once while the replica
/// keeps serving (so a balancer stops routing to it before its listener closes); a second signal ends the
/// wait and the process drains and exits.
async fn a_shutdown_delay_keeps_serving_with_readiness_off(db: DbKind) {
    let Some(mut tessera) = tessera_tests::process::BinaryServer::start_with(
        db,
        &[("ada", false)],
        &[("TESSERA_SERVER__SHUTDOWN_DELAY_SECS", "120")],
    )
    .await
    else {
        return;
    };
    let client = reqwest::Client::new();
    let ready = client.get(tessera.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    tessera.server.terminate();
    let off = || async {
        client.get(tessera.url("/readyz")).send().await.unwrap().status() == StatusCode::SERVICE_UNAVAILABLE
    };
    assert!(
        within(std::time::Duration::from_secs(30), off).await.is_some(),
        "readiness turns off after SIGTERM"
    );
    let body: Value = client
        .get(tessera.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["shutting_down"], true, "{body}");
    // Still serving: health, and real work on new connections.
    let fresh = reqwest::Client::new();
    assert_eq!(
        fresh.get(tessera.url("/healthz")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let token = fresh
        .post(tessera.url("/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ada"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        token.status(),
        StatusCode::OK,
        "new requests are served during the delay"
    );
    assert!(tessera.server.alive(), "the delay holds");
    tessera.server.terminate();
    assert!(
        tessera
            .server
            .exits_within(std::time::Duration::from_secs(30))
            .await,
        "a second signal skips the rest of the delay"
    );
}

tessera_tests::on_both_backends!(a_shutdown_delay_keeps_serving_with_readiness_off);
