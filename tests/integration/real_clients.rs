//! RomM's real clients, pinned and unchanged, against the real `tessera` binary on both databases (issue 17):
//! mcp-romm from PyPI and romm-api (the library behind romm-cli) from crates.io. `scripts/clients.sh`
//! builds both; see tests/clients/.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_tests::clients::{mcp_romm_driver, mcp_romm_python, romm_api_harness};
use tessera_tests::oauth::PASSWORD;
use tessera_tests::process::BinaryServer;
use tessera_tests::DbKind;

async fn run_json(mut cmd: tokio::process::Command) -> Value {
    let out = cmd.kill_on_drop(true).output().await.expect("the client runs");
    assert!(
        out.status.success(),
        "client failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Audit events of one kind, read as an admin would.
async fn audit_count(tessera: &BinaryServer, admin: &str, kind: &str) -> usize {
    let events: Value = reqwest::Client::new()
        .get(tessera.url(&format!("/api/audit?kind={kind}&limit=100")))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    events.as_array().expect("audit events").len()
}

/// mcp-romm (server.py): password grant with its full scope list, refresh re-sending that list when the
/// access token nears expiry, and its 401 retry. As an admin and as a default member (for whom the list is
/// wider than the grant): the refresh succeeds instead of falling back to the password. mcp-romm keeps the
/// first refresh token and never stores the rotated one, so its 401 retry presents a used token at once:
/// within the reuse grace (issue 19) that rotates again instead of revoking its login.
async fn mcp_romm_keeps_its_login(db: DbKind) {
    let Some(python) = mcp_romm_python() else {
        return;
    };
    let Some(tessera) = BinaryServer::start(db, &[("root", true), ("ada", false)]).await else {
        return;
    };
    let admin = tessera.access_token("root", None).await;
    for (n, user) in ["root", "ada"].into_iter().enumerate() {
        let mut cmd = tokio::process::Command::new(&python);
        cmd.arg(mcp_romm_driver())
            .env("ROMM_URL", &tessera.server.base)
            .env("ROMM_USERNAME", user)
            .env("ROMM_PASSWORD", PASSWORD);
        let out = run_json(cmd).await;
        let who = format!("User: {user}");
        for step in ["whoami", "whoami_after_refresh", "whoami_after_401"] {
            assert!(out[step].as_str().unwrap().contains(&who), "{step}: {out}");
        }
        assert_eq!(out["access_token_changed"], true, "{out}");
        let devices = out["devices"].as_str().unwrap();
        assert!(
            devices.starts_with("No devices") || devices.starts_with("Devices"),
            "{out}"
        );
        let requests = out["token_requests"].as_array().unwrap();
        let summary: Vec<(String, i64)> = requests
            .iter()
            .map(|r| {
                (
                    r["grant_type"].as_str().unwrap().to_owned(),
                    r["status"].as_i64().unwrap(),
                )
            })
            .collect();
        // The refresh, re-sending the full scope list, succeeds: no fallback to the password.
        assert_eq!(
            summary[..2],
            [("password".to_owned(), 200), ("refresh_token".to_owned(), 200)],
            "{user}: {out}"
        );
        assert!(
            requests[1]["scope"].as_str().unwrap().contains("tasks.run"),
            "the full list is re-sent"
        );
        // The 401 retry: mcp-romm presents the refresh token it already used, within the grace: answered,
        // no fallback to the password, no theft alarm.
        assert_eq!(
            requests[2]["refresh_token"], requests[1]["refresh_token"],
            "{out}"
        );
        assert_eq!(summary[2..], [("refresh_token".to_owned(), 200)], "{user}: {out}");
        assert_eq!(
            audit_count(&tessera, &admin, "refresh.replayed").await,
            0,
            "{user}"
        );
        assert_eq!(
            audit_count(&tessera, &admin, "refresh.retried").await,
            n + 1,
            "one retry within the grace per run"
        );
    }
}

tessera_tests::on_both_backends!(mcp_romm_keeps_its_login);

/// romm-api 1.4.1 (romm-cli's library): Basic, a client token as Bearer and the pair-code exchange, with its
/// own decoders for `CurrentUser`, `DeviceSchema`, `DeviceCreateResponse` and `ClientTokenCreateSchema`.
async fn romm_api_decodes_tessera(db: DbKind) {
    let Some(harness) = romm_api_harness() else {
        return;
    };
    // An authenticating proxy in front owns Authorization: client tokens travel in X-Api-Key.
    let Some(tessera) = BinaryServer::start_with(
        db,
        &[("ada", false)],
        &[("TESSERA_AUTH__API_KEY_HEADER", "X-Api-Key")],
    )
    .await
    else {
        return;
    };
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(&harness);
        cmd.args(args).env("TESSERA_URL", &tessera.server.base);
        run_json(cmd)
    };
    let login = tessera.access_token("ada", None).await;
    let http = reqwest::Client::new();
    let me: Value = http
        .get(tessera.url("/api/users/me"))
        .bearer_auth(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ada = me["id"].clone();
    let basic = run(&["basic", "ada", PASSWORD]).await;
    assert_eq!(basic["me_id"], ada, "{basic}");
    assert_eq!(basic["same_device_again"], true, "{basic}");
    assert_eq!(
        (
            basic["sync_mode"].clone(),
            basic["hostname"].clone(),
            basic["updated_client_version"].clone()
        ),
        (json!("api"), json!("harness"), json!("1.4.2"))
    );
    // A client token, as romm-cli keeps one, and the pair-code exchange a TV uses.
    let res = http
        .post(tessera.url("/api/client-tokens"))
        .bearer_auth(&login)
        .json(&json!({"name": "romm-cli", "scopes": ["me.read", "devices.read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token: Value = res.json().await.unwrap();
    let bearer = run(&["bearer", token["raw_token"].as_str().unwrap()]).await;
    assert_eq!(
        (bearer["me_id"].clone(), bearer["devices"].clone()),
        (ada.clone(), json!(1))
    );
    let pair: Value = http
        .post(tessera.url(&format!("/api/client-tokens/{}/pair", token["id"])))
        .bearer_auth(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let exchanged = run(&["exchange", pair["code"].as_str().unwrap()]).await;
    assert_eq!(
        (
            exchanged["token_name"].clone(),
            exchanged["user_id"].clone(),
            exchanged["me_id"].clone()
        ),
        (json!("romm-cli"), ada.clone(), ada)
    );
    assert_eq!(exchanged["scopes"], json!(["me.read", "devices.read"]));
}

tessera_tests::on_both_backends!(romm_api_decodes_tessera);
