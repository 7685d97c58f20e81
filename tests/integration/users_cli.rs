//! The operator's CLI (`tessera users|tokens|clients|keys|config …`) and the use cases behind it, on both backends.

use serde_json::Value;
use tessera_core::Role;
use tessera_service::users::NewAccount;
use tessera_service::ServiceError;
use tessera_tests::{both_backends, run_tessera, DbKind};

fn account(name: &str, role: Role) -> NewAccount {
    NewAccount {
        username: name.into(),
        password: tessera_tests::oauth::PASSWORD.into(),
        email: None,
        role,
    }
}

both_backends! {
    async fn cli_admin_closes_setup_and_users_get_the_default_group(app: TestApp) {
        let s = &app.services;
        let member = s.create_user(account("Bob", Role::User)).await.unwrap();
        assert_eq!(member.username, "bob");
        assert!(member.permission_group_id.is_some(), "new users join the default group");
        let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
        assert_eq!(status["needs_setup"], true, "a plain user does not close setup");
        let admin = s.create_user(account("root", Role::Admin)).await.unwrap();
        assert_eq!(admin.role, "admin");
        let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
        assert_eq!(status["needs_setup"], false);
        assert!(matches!(s.create_user(account("BOB", Role::User)).await, Err(ServiceError::Conflict(_))));
    }

    async fn passwords_and_disabling(app: TestApp) {
        let s = &app.services;
        let admin = s.create_user(account("root", Role::Admin)).await.unwrap();
        let before = app.password_login("root", None).await;
        s.set_password("root", "another horse").await.unwrap();
        assert_eq!(app.introspect(&before.refresh_token).await, serde_json::json!({"active": false}), "refresh families die too");
        assert_eq!(app.introspect(&before.access_token).await, serde_json::json!({"active": false}));
        let after = s.find_user_by_name("root").await.unwrap();
        assert_eq!(after.generation, admin.generation + 1, "a new password bumps the generation");
        assert!(s.hasher.verify("another horse", after.password_hash.as_deref()).await.unwrap());
        assert!(matches!(s.set_password("root", "short").await, Err(ServiceError::Validation(_))));
        assert!(matches!(s.set_user_enabled("root", false).await, Err(ServiceError::Conflict(_))), "last admin stays");
        s.create_user(account("carol", Role::User)).await.unwrap();
        s.set_user_enabled("carol", false).await.unwrap();
        assert!(!s.find_user_by_name("carol").await.unwrap().enabled);
        assert!(matches!(s.set_user_enabled("nobody", false).await, Err(ServiceError::NotFound)));
    }
}

/// The operator's commands through the real binary: users, client tokens, OAuth clients, signing keys and
/// `config show`, on one database. Passwords and credentials go in on standard input, never in argv.
async fn the_operator_cli_end_to_end(db: DbKind) {
    if tessera_tests::tessera_bin().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some((url, _schema)) = tessera_tests::child_database(db, dir.path()) else {
        return;
    };
    let mut env = tessera_tests::child_env(dir.path(), url);
    env.push(("TESSERA_SECURITY__BCRYPT_COST".into(), "4".into()));
    env.push((
        "TESSERA_AUTH__SERVICE_KEY".into(),
        "s3cr3t-service-key-that-must-not-print".into(),
    ));
    let ok = |args: &[&str], stdin: &str| {
        let (ok, text) = run_tessera(&env, args, stdin);
        assert!(ok, "tessera {args:?} failed:\n{text}");
        text
    };
    let fails = |args: &[&str], stdin: &str| {
        let (ok, text) = run_tessera(&env, args, stdin);
        assert!(!ok, "tessera {args:?} should fail:\n{text}");
        text
    };
    ok(&["migrate"], "");

    // Users.
    assert!(ok(
        &["users", "create", "Root", "--admin"],
        "a long enough passphrase\n"
    )
    .contains("created user root"));
    ok(&["users", "create", "ada"], "another passphrase\n");
    assert!(fails(&["users", "create", "bob"], "short\n").contains("password"));
    let users = ok(&["users", "list"], "");
    assert!(
        users.lines().any(|l| l.ends_with("\troot\tadmin\tenabled")),
        "{users}"
    );
    assert!(
        users.lines().any(|l| l.ends_with("\tada\tuser\tenabled")),
        "{users}"
    );
    assert!(!users.contains("bob"));

    // Client tokens: created within the owner's rights, listed, working, revoked.
    let made = ok(
        &[
            "tokens",
            "create",
            "--user",
            "ada",
            "--name",
            "script",
            "--scope",
            "roms.read",
            "--expires",
            "30d",
        ],
        "",
    );
    let id = made
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .to_owned();
    let token = made
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("tsr_") && token.len() == 68, "{made}");
    assert!(
        fails(
            &[
                "tokens",
                "create",
                "--user",
                "ada",
                "--name",
                "x",
                "--scope",
                "users.write"
            ],
            ""
        )
        .contains("users.write"),
        "no elevation"
    );
    let listed = ok(&["tokens", "list", "--user", "ada"], "");
    assert!(
        listed.contains(&format!("{id}\tada\tscript\troms.read\texpires ")),
        "{listed}"
    );
    assert!(!listed.contains(&token), "the secret is shown once");
    // Repeatedly: a client token's check leaves work behind (last_used_at, connections being set up) that
    // the command must finish before exiting — it once crashed (SIGSEGV) about one run in three on PostgreSQL.
    for _ in 0..25 {
        let explained = ok(&["explain"], &format!("{token}\n"));
        assert!(
            explained.contains("client_token") && explained.contains("ada"),
            "{explained}"
        );
    }
    ok(&["tokens", "revoke", &id], "");
    assert!(!ok(&["tokens", "list"], "").contains("script"));
    let (_, explained) = run_tessera(&env, &["explain"], &format!("{token}\n"));
    assert!(
        explained.contains("invalid, expired, revoked") && !explained.contains("ada (id"),
        "{explained}"
    );

    // The operator's reset of a lost second factor (nothing enrolled here: it still answers and audits).
    assert!(ok(&["users", "reset-second-factor", "ada"], "").contains("second factors of ada removed"));
    assert!(fails(&["users", "reset-second-factor", "nobody"], "").contains("not found"));
    // Password and disabling.
    ok(&["users", "set-password", "ada"], "a brand new passphrase\n");
    ok(&["users", "disable", "ada"], "");
    assert!(ok(&["users", "list"], "")
        .lines()
        .any(|l| l.ends_with("\tada\tuser\tdisabled")));
    assert!(
        fails(&["users", "disable", "root"], "").contains("admin"),
        "the last admin stays enabled"
    );

    // OAuth clients.
    let client = ok(
        &[
            "clients",
            "create",
            "Launcher",
            "--client-id",
            "launcher",
            "--confidential",
            "--grant",
            "password",
            "--grant",
            "refresh_token",
            "--scope",
            "roms.read",
        ],
        "",
    );
    assert!(client.contains("launcher"), "{client}");
    assert!(ok(&["clients", "list"], "").contains("launcher"));
    // An app that signs people in through Tessera (OpenID Provider): its redirect URIs are required.
    let refused = fails(
        &["clients", "create", "Photos", "--grant", "authorization_code"],
        "",
    );
    assert!(refused.contains("redirect"), "{refused}");
    let photos = ok(
        &[
            "clients",
            "create",
            "Photos",
            "--client-id",
            "photos",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--scope",
            "me.read",
            "--redirect-uri",
            "https://photos.example/oauth/callback",
            "--post-logout-redirect-uri",
            "https://photos.example/",
            "--skip-consent",
        ],
        "",
    );
    assert!(
        photos.contains("client_id: photos") && !photos.contains("client_secret"),
        "{photos}"
    );
    assert!(ok(&["clients", "list"], "").contains("photos\tpublic\tauthorization_code refresh_token"));
    ok(&["clients", "delete", "launcher"], "");
    assert!(!ok(&["clients", "list"], "").contains("launcher"));

    // Signing keys: a rotation adds a key; the earlier one stays listed.
    let before = ok(&["keys", "list"], "")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    ok(&["keys", "rotate"], "");
    let after = ok(&["keys", "list"], "")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(after, before + 1);

    // config show redacts secrets.
    let shown = ok(&["config", "show"], "");
    assert!(
        shown.contains("service_key") && !shown.contains("s3cr3t-service-key"),
        "{shown}"
    );
}

tessera_tests::on_both_backends!(the_operator_cli_end_to_end);
