//! A real third-party OAuth library (Python's authlib) against a running Tessera.

use std::process::Command;

use tessera_core::{Clock, Role, SystemClock};
use tessera_service::oauth::clients::ClientSpec;
use tessera_tests::oauth::PASSWORD;
use tessera_tests::{require_python_modules, DbKind, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_discovers_logs_in_refreshes_introspects_and_revokes() {
    if !require_python_modules(&["authlib", "requests"]) {
        return;
    }
    let app = TestApp::try_spawn(DbKind::Sqlite).await.unwrap();
    // authlib checks exp and iat against the wall clock, so this test runs on real time.
    app.clock.set(SystemClock.now());
    app.create_user("ada", Role::User).await;
    let client = app
        .services
        .create_client(
            ClientSpec {
                client_id: Some("main-app".into()),
                name: "Main app".into(),
                confidential: true,
                grant_types: vec!["client_credentials".into()],
                scopes: vec!["roms.read".into()],
                can_introspect: true,
                sign_in: Default::default(),
            },
            "test",
            app.services.catalog.all(),
        )
        .await
        .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/e2e/oauth_client.py");
    let base = app.base.clone();
    let secret = client.client_secret.unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([script, &base, "ada", PASSWORD, "main-app", &secret])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "authlib check failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("e2e: 14 passed, 0 failed"), "{stdout}");
}
