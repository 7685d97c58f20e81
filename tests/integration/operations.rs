//! Operations (issue 12): `/metrics` after a mixed workload.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use tessera_core::Role;
use tessera_tests::forward::RULES;
use tessera_tests::{DbKind, TestAppBuilder};

/// Prometheus text → (name, labels, value) triples.
fn samples(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (head, value) = l.rsplit_once(' ').expect("a sample");
            let (name, labels) = match head.split_once('{') {
                Some((n, rest)) => {
                    let body = rest.trim_end_matches('}');
                    let labels = body
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (k, v) = p.split_once("=\"").expect("label");
                            (k.to_owned(), v.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (n.to_owned(), labels)
                }
                None => (head.to_owned(), BTreeMap::new()),
            };
            (name, labels, value.parse().expect("number"))
        })
        .collect()
}

fn value(all: &[(String, BTreeMap<String, String>, f64)], name: &str, labels: &[(&str, &str)]) -> f64 {
    all.iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_mixed_workload() {
    let app = TestAppBuilder::new(DbKind::Sqlite)
        .config(RULES)
        .try_spawn()
        .await
        .unwrap();
    app.create_user("ada", Role::User).await;
    let tokens = app.password_login("ada", None).await;
    assert_eq!(app.refresh(&tokens.refresh_token).await.status(), StatusCode::OK);
    let forward = |token: &str| {
        app.client
            .get(app.url("/auth/forward"))
            .header("x-forwarded-host", "romm.example.com")
            .header("x-forwarded-uri", "/api/roms/1")
            .bearer_auth(token)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            forward(&tokens.access_token).await.unwrap().status(),
            StatusCode::OK
        );
    }
    for _ in 0..2 {
        assert_eq!(
            forward("garbage").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for _ in 0..11 {
        app.token_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", "nope"),
            ],
        )
        .await;
    }
    app.clock.advance(std::time::Duration::from_secs(60));
    let fresh = app.password_login("ada", None).await;
    let res = app
        .token_form("/oauth/revoke", &[("token", &fresh.refresh_token)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let _session = app.session_login("ada").await;
    // Forward-auth answers any method a proxy forwards: a made-up one must not become a label value.
    for _ in 0..2 {
        let made_up = reqwest::Method::from_bytes(b"FROBNICATE").unwrap();
        let res = app
            .client
            .request(made_up, app.url("/auth/forward"))
            .header("x-forwarded-host", "romm.example.com")
            .header("x-forwarded-uri", "/api/roms/1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Labelled by pattern, never by the raw path (bounded label values).
    assert_eq!(
        app.get("/api/users/424242").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let all = samples(&res.text().await.unwrap());
    let tokens_total = |kind, event| value(&all, "tessera_tokens_total", &[("kind", kind), ("event", event)]);
    assert_eq!(tokens_total("access", "issued"), 2.0, "two password logins");
    assert_eq!(tokens_total("refresh", "issued"), 2.0);
    assert_eq!(tokens_total("access", "refreshed"), 1.0);
    assert_eq!(tokens_total("refresh", "revoked"), 1.0);
    let cache = |c, r| {
        value(
            &all,
            "tessera_cache_lookups_total",
            &[("cache", c), ("result", r)],
        )
    };
    assert!(
        cache("identity", "hit") >= 2.0,
        "later forward-auth calls hit the cache"
    );
    assert!(cache("identity", "miss") >= 1.0);
    assert!(
        cache("negative", "hit") >= 1.0,
        "the second garbage token is a negative-cache hit"
    );
    assert!(
        value(
            &all,
            "tessera_rate_limit_rejections_total",
            &[("action", "login_user")]
        ) >= 1.0
    );
    let requests = |route, status| {
        value(
            &all,
            "tessera_http_requests_total",
            &[("route", route), ("method", "GET"), ("status", status)],
        )
    };
    assert_eq!(requests("/auth/forward", "200"), 3.0);
    assert_eq!(requests("/auth/forward", "401"), 2.0);
    assert_eq!(requests("/api/users/{id}", "401"), 1.0);
    assert_eq!(
        value(
            &all,
            "tessera_http_requests_total",
            &[("route", "/auth/forward"), ("method", "other"), ("status", "401")],
        ),
        2.0,
        "methods outside the standard ones are counted as other"
    );
    assert!(!all.iter().any(|(_, labels, _)| labels
        .iter()
        .any(|(_, v)| v.contains("424242") || v.contains("FROBNICATE"))));
    assert!(
        value(
            &all,
            "tessera_http_request_duration_seconds_count",
            &[("route", "/auth/forward")]
        ) >= 5.0
    );
    assert!(value(&all, "tessera_bcrypt_verifications", &[]) >= 12.0);
    assert_eq!(value(&all, "tessera_active_sessions", &[]), 1.0);
    assert_eq!(value(&all, "tessera_revocation_listener_up", &[]), 1.0);
}

/// Runs the real binary with `env`; returns success and what it printed.
fn tessera(env: &[(String, String)], args: &[&str]) -> (bool, String) {
    tessera_tests::run_tessera(env, args, "")
}

fn row<'a>(table: &'a str, name: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} row in:\n{table}"))
}

async fn doctor_and_dry_run_migrations_tell_the_truth(db: DbKind) {
    if tessera_tests::tessera_bin().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some((url, _schema)) = tessera_tests::child_database(db, dir.path()) else {
        return;
    };
    let env = tessera_tests::child_env(dir.path(), url);
    // A fresh database: the dry run lists, the doctor fails on migrations, nothing is applied.
    let (ok, text) = tessera(&env, &["migrate", "--dry-run"]);
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
        .unwrap()
        .count();
    assert!(
        ok && text.contains("would apply") && text.contains(&format!("{shipped} migration(s) pending")),
        "{text}"
    );
    let (ok, text) = tessera(&env, &["doctor"]);
    assert!(!ok, "pending migrations fail the doctor:\n{text}");
    assert!(row(&text, "migrations").contains("FAIL"), "{text}");
    assert!(row(&text, "database").contains("ok"), "{text}");
    let (_, text) = tessera(&env, &["migrate", "--dry-run"]);
    assert!(
        text.contains(&format!("{shipped} migration(s) pending")),
        "the dry run changed nothing: {text}"
    );
    let (ok, text) = tessera(&env, &["migrate"]);
    assert!(ok, "{text}");
    let (ok, text) = tessera(&env, &["doctor"]);
    assert!(ok, "{text}");
    for name in ["config", "database", "migrations", "clock", "store", "public_url"] {
        assert!(row(&text, name).contains(" ok "), "{name}: {text}");
    }
    // An unreachable store is a failure the doctor names.
    let mut bad = env.clone();
    bad.push(("TESSERA_STORE_URL".into(), "redis://127.0.0.1:1".into()));
    let (ok, text) = tessera(&bad, &["doctor"]);
    assert!(!ok && row(&text, "store").contains("FAIL"), "{text}");
}

tessera_tests::on_both_backends!(doctor_and_dry_run_migrations_tell_the_truth);

/// CI saw `tessera migrate --dry-run` on PostgreSQL die with SIGSEGV right after printing its answer. A
/// checkout waits in 50 ms slices and each slice asks r2d2 again, which starts one more connection while
/// the first is slow; the answer came over the first, and the process exited with the second still in its
/// TLS setup, under OpenSSL's exit handlers. A relay in front of PostgreSQL makes that the case every time:
/// it answers the first connection only once a second one has arrived, and the later ones only once the
/// command has printed. The process must then stay until they are established (the client speaks again)
/// and end well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_exits_only_after_the_connections_it_started() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    if tessera_tests::tessera_bin().is_none() {
        return;
    }
    let Some(schema) = tessera_tests::PgSchema::create() else {
        return;
    };
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = relay.local_addr().unwrap();
    let (second_arrived, _) = tokio::sync::watch::channel(false);
    let (printed, _) = tokio::sync::watch::channel(false);
    let (later_tx, mut later_rx) = tokio::sync::mpsc::unbounded_channel::<tokio::task::JoinHandle<bool>>();
    let (arrived, answered) = (second_arrived.clone(), printed.clone());
    let accept = tokio::spawn(async move {
        let mut index = 0usize;
        while let Ok((mut client, _)) = relay.accept().await {
            let mut server = tokio::net::TcpStream::connect("127.0.0.1:5432").await.unwrap();
            // The first connection waits for the second; the later ones for the printed answer.
            let mut gate = if index == 0 {
                arrived.subscribe()
            } else {
                arrived.send_replace(true);
                answered.subscribe()
            };
            let first = index == 0;
            index += 1;
            let task = tokio::spawn(async move {
                let (mut client_rx, mut client_tx) = client.split();
                let (mut server_rx, mut server_tx) = server.split();
                let mut buf = vec![0u8; 16 * 1024];
                // What the client sends before the gate opens (its SSL or startup request) goes through.
                loop {
                    tokio::select! {
                        opened = async { gate.wait_for(|open| *open).await.is_ok() } => { assert!(opened); break; }
                        n = client_rx.read(&mut buf) => match n {
                            Ok(0) | Err(_) => return false,
                            Ok(n) => server_tx.write_all(&buf[..n]).await.unwrap(),
                        },
                    }
                }
                // Whether the client is still there to go on with its handshake once answered.
                let mut spoke_again = first;
                let mut back = vec![0u8; 16 * 1024];
                loop {
                    tokio::select! {
                        n = client_rx.read(&mut buf) => match n {
                            Ok(0) | Err(_) => return spoke_again,
                            Ok(n) => {
                                spoke_again = true;
                                if server_tx.write_all(&buf[..n]).await.is_err() {
                                    return spoke_again;
                                }
                            }
                        },
                        n = server_rx.read(&mut back) => match n {
                            Ok(0) | Err(_) => return spoke_again,
                            Ok(n) => {
                                if client_tx.write_all(&back[..n]).await.is_err() {
                                    return spoke_again;
                                }
                            }
                        },
                    }
                }
            });
            if !first {
                let _ = later_tx.send(task);
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let url = schema.url_with_base(&format!("postgres://postgres@{addr}/test"));
    let mut child = tokio::process::Command::new(tessera_tests::tessera_bin().unwrap())
        .args(["migrate", "--dry-run"])
        .envs(tessera_tests::child_env(dir.path(), url))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tessera starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut text = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        text.push_str(&line);
        text.push('\n');
        if line.ends_with("migration(s) pending") {
            break;
        }
    }
    assert!(text.contains("migration(s) pending"), "{text}");
    assert!(
        *second_arrived.borrow(),
        "the slow first connection made the command start a second"
    );
    printed.send_replace(true);
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("the command ends")
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(status.success(), "{status}: {text}{stderr}");
    accept.abort();
    drop(printed);
    let mut later = 0;
    while let Ok(task) = later_rx.try_recv() {
        later += 1;
        assert!(
            task.await.unwrap(),
            "a connection the command started was abandoned mid-handshake when it exited"
        );
    }
    assert!(later >= 1, "a second connection was started");
}

/// README's configuration table lists exactly the keys the configuration file accepts.
#[test]
fn the_readme_configuration_table_matches_the_code() {
    let keys = tessera_server::config::key_paths();
    assert!(keys.len() > 50, "{keys:?}");
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let mut documented = std::collections::BTreeSet::new();
    let mut rate_limit_row = String::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let first = line.split('|').nth(1).unwrap_or("");
        for token in first.split('`').skip(1).step_by(2) {
            documented.insert(token.to_owned());
        }
        if first.contains("rate_limits.<action>") {
            rate_limit_row = line.to_owned();
        }
    }
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| match k.strip_prefix("rate_limits.") {
            // One row documents every rate-limit action by name.
            Some(action) => !rate_limit_row.contains(&format!("`{action}`")),
            None => !documented.contains(*k),
        })
        .collect();
    assert!(
        missing.is_empty(),
        "keys missing from README's configuration table: {missing:?}"
    );
    let unknown: Vec<&String> = documented
        .iter()
        .filter(|t| t.contains('.') && !t.contains('<') && !keys.contains(t))
        .collect();
    assert!(
        unknown.is_empty(),
        "README documents keys the code does not have: {unknown:?}"
    );
}

/// deploy/tessera.example.toml shows every key in its section.
#[test]
fn the_example_configuration_documents_every_key() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/tessera.example.toml"),
    )
    .unwrap();
    let mut section = String::new();
    let mut shown = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_owned();
        } else if let Some((key, _)) = line.trim_start_matches("# ").split_once(" = ") {
            shown.insert(format!("{section}.{}", key.trim()));
        } else if line.contains("[[forward_auth.rules]]") {
            shown.insert("forward_auth.rules".to_owned());
        } else if line.starts_with("# catalog = ") {
            shown.insert("scopes.catalog".to_owned());
        }
    }
    let missing: Vec<String> = tessera_server::config::key_paths()
        .into_iter()
        .filter(|k| !shown.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "not in deploy/tessera.example.toml: {missing:?}"
    );
}

/// An incoming W3C trace context joins the request's log lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_context_reaches_the_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        return; // the logs go to stderr then, not to the suite's file
    }
    let app = TestAppBuilder::new(DbKind::Sqlite).try_spawn().await.unwrap();
    app.create_user("ada", Role::User).await;
    let trace = format!(
        "{:032x}",
        u128::from_le_bytes(*uuid::Uuid::new_v4().as_bytes()) | 1
    );
    // Eleven wrong guesses: the refusal is logged (warn, tessera::security) with the request it refused.
    for _ in 0..11 {
        app.client
            .post(app.url("/oauth/token"))
            .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
            .form(&[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", "nope"),
            ])
            .send()
            .await
            .unwrap();
    }
    let log = tessera_tests::logs::dir().join(format!("suite-{}.log", std::process::id()));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.contains(&trace))
        .unwrap_or_else(|| panic!("no log line carries {trace}"));
    assert!(line.contains("rate limit reached"), "{line}");
}
