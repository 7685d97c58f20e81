//! The use cases behind `tessera users …`, on both backends.

use serde_json::Value;
use tessera_core::Role;
use tessera_service::users::NewAccount;
use tessera_service::ServiceError;
use tessera_tests::both_backends;

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
