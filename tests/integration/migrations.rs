//! Migrations: identical folder names in both trees, up → down → up leaves the same schema, and every
//! model writes and reads back a row on both backends.

use diesel::prelude::*;
use diesel::sql_types::Text;
use tessera_db::models::audit_events::{AuditEvent, NewAuditEvent};
use tessera_db::models::client_tokens::{ClientToken, NewClientToken};
use tessera_db::models::devices::Device;
use tessera_db::models::invites::Invite;
use tessera_db::models::oauth_clients::{NewOAuthClient, OAuthClient};
use tessera_db::models::oidc_links::OidcLink;
use tessera_db::models::password_resets::PasswordReset;
use tessera_db::models::permission_groups::{GroupGrant, NewPermissionGroup, PermissionGroup};
use tessera_db::models::refresh::{RefreshFamily, RefreshToken};
use tessera_db::models::revoked_access_tokens::RevokedAccessToken;
use tessera_db::models::sessions::Session;
use tessera_db::models::setup_state::SetupState;
use tessera_db::models::signing_keys::SigningKey;
use tessera_db::models::user_avatars::UserAvatar;
use tessera_db::models::users::{NewUser, User};
use tessera_db::{migrate, DbConnection, DbError};
use tessera_tests::both_backends;

fn folder_names(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn migration_folders_match_between_backends() {
    let sqlite = folder_names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, folder_names("postgres"));
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct SchemaLine {
    #[diesel(sql_type = Text)]
    line: String,
}

/// The schema as text lines: tables, columns, types, defaults, indexes.
fn dump_schema(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let rows: Vec<SchemaLine> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT type || ' ' || name || ': ' || coalesce(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY type, name",
        )
        .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || \
             coalesce(column_default, '') AS line FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations' \
             UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename <> '__diesel_schema_migrations' ORDER BY 1",
        )
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.line).collect())
}

fn round_trip_every_model(c: &mut DbConnection) -> Result<(), DbError> {
    let group = PermissionGroup::insert(
        c,
        &NewPermissionGroup {
            name: "Testers",
            description: Some("d"),
            is_default: false,
            created_at: 1,
            updated_at: 2,
        },
    )?;
    assert_eq!(
        (
            group.name.as_str(),
            group.description.as_deref(),
            group.created_at
        ),
        ("Testers", Some("d"), 1)
    );
    let grant = GroupGrant {
        group_id: group.id,
        entity: "roms".into(),
        action: "read".into(),
        own_only: true,
    };
    PermissionGroup::add_grants(c, std::slice::from_ref(&grant))?;
    assert_eq!(PermissionGroup::grants(c, group.id)?, vec![grant]);

    let user = User::insert(
        c,
        &NewUser {
            username: "ada",
            email: Some("ada@example.com"),
            password_hash: Some("$2b$04$hash"),
            role: "user",
            permission_group_id: Some(group.id),
            enabled: true,
            created_at: 10,
            updated_at: 11,
        },
    )?;
    assert_eq!(User::find(c, user.id)?, Some(user.clone()));
    assert_eq!(User::find_by_username(c, "ada")?.map(|u| u.id), Some(user.id));
    let second = User::insert(
        c,
        &NewUser {
            username: "bob",
            ..NewUser {
                email: None,
                ..sample_user()
            }
        },
    )?;
    assert!(second.id > user.id, "integer ids increase");

    let client = OAuthClient::insert(
        c,
        &NewOAuthClient {
            client_id: "launcher",
            name: "Launcher",
            confidential: true,
            secret_digest: Some(&[7u8; 32]),
            grant_types: "password refresh_token",
            scopes: "me.read",
            can_introspect: true,
            builtin: false,
            created_at: 1,
            updated_at: 1,
            redirect_uris: "https://app.example/cb",
            post_logout_redirect_uris: "",
            backchannel_logout_uri: None,
            skip_consent: false,
            logo_uri: None,
            refresh_without_offline_access: false,
        },
    )?;
    assert_eq!(OAuthClient::find_by_client_id(c, "launcher")?, Some(client));

    let device = Device {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id,
        client_device_identifier: "tv-1".into(),
        name: "Living room".into(),
        client: "argosy".into(),
        platform: Some("android".into()),
        client_version: None,
        created_at: 5,
        last_seen: Some(6),
        ip_address: Some("192.0.2.7".into()),
        mac_address: Some("aa:bb:cc:dd:ee:ff".into()),
        hostname: Some("tv".into()),
        sync_mode: "file_transfer".into(),
        sync_enabled: false,
        sync_config: Some(r#"{"path":"/saves"}"#.into()),
        updated_at: 7,
    };
    Device::insert(c, &device)?;
    let avatar = UserAvatar {
        user_id: user.id,
        content_type: "image/png".into(),
        image: vec![0x89, 0x50, 0x4E, 0x47, 0, 255],
        updated_at: 8,
    };
    UserAvatar::replace(c, &avatar)?;
    UserAvatar::replace(c, &avatar)?;
    assert_eq!(UserAvatar::find(c, user.id)?, Some(avatar));
    assert_eq!(Device::find(c, &device.id)?, Some(device.clone()));

    let token = ClientToken::insert(
        c,
        &NewClientToken {
            user_id: user.id,
            name: "script",
            digest: Some(&[1u8; 32]),
            scopes: "me.read roms.read",
            expires_at: Some(99),
            device_id: Some(&device.id),
            created_at: 7,
        },
    )?;
    assert_eq!(ClientToken::find_by_digest(c, &[1u8; 32])?, Some(token));

    let family = RefreshFamily {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id,
        client_id: "launcher".into(),
        device_id: None,
        scopes: "me.read".into(),
        created_at: 1,
        expires_at: Some(100),
        revoked_at: None,
        oidc_scopes: Some("openid profile".into()),
    };
    RefreshFamily::insert(c, &family)?;
    assert_eq!(RefreshFamily::find(c, &family.id)?, Some(family.clone()));
    let rt = RefreshToken {
        digest: vec![2u8; 32],
        family_id: family.id.clone(),
        issued_at: 1,
        expires_at: 50,
        used_at: None,
    };
    RefreshToken::insert(c, &rt)?;
    assert_eq!(RefreshToken::find(c, &rt.digest)?, Some(rt.clone()));
    assert!(RefreshToken::mark_used(c, &rt.digest, 3)?);
    assert!(
        !RefreshToken::mark_used(c, &rt.digest, 4)?,
        "a used token cannot be used again"
    );

    let revoked = RevokedAccessToken {
        token_id: "jti-1".into(),
        kind: "jti".into(),
        expires_at: 1_000,
    };
    RevokedAccessToken::insert(c, &revoked)?;
    assert_eq!(RevokedAccessToken::find(c, "jti-1")?, Some(revoked));

    let session = Session {
        id: uuid::Uuid::now_v7().to_string(),
        digest: vec![3u8; 32],
        user_id: user.id,
        created_at: 1,
        last_seen_at: 2,
        expires_at: 3,
        user_agent: Some("test".into()),
        ip: Some("127.0.0.1".into()),
        oidc_id_token: None,
    };
    Session::insert(c, &session)?;
    assert_eq!(Session::find(c, &session.digest)?, Some(session));

    let key = SigningKey {
        kid: "k1".into(),
        alg: "ES256".into(),
        public_jwk: "{}".into(),
        private_encrypted: vec![9, 9, 9],
        created_at: 1,
        retired_at: None,
        verify_until: Some(2),
    };
    SigningKey::insert(c, &key)?;
    assert_eq!(SigningKey::find(c, "k1")?, Some(key));

    let invite = Invite {
        digest: vec![4u8; 32],
        role: "user".into(),
        created_by: Some(user.id),
        created_at: 1,
        expires_at: 2,
        used_at: None,
        used_by: None,
    };
    Invite::insert(c, &invite)?;
    assert_eq!(Invite::find(c, &invite.digest)?, Some(invite));

    let reset = PasswordReset {
        digest: vec![5u8; 32],
        user_id: user.id,
        created_at: 1,
        expires_at: 2,
        used_at: None,
    };
    PasswordReset::insert(c, &reset)?;
    assert_eq!(PasswordReset::find(c, &reset.digest)?, Some(reset));

    let link = OidcLink {
        issuer: "https://idp".into(),
        subject: "sub-1".into(),
        user_id: user.id,
        created_at: 1,
    };
    OidcLink::insert(c, &link)?;
    assert_eq!(OidcLink::find(c, "sub-1")?, Some(link));

    assert_eq!(SetupState::get(c)?, None);
    SetupState::claim(c, 42)?;
    assert!(
        SetupState::claim(c, 43).unwrap_err().is_unique_violation(),
        "the singleton admits one row"
    );
    SetupState::set_admin(c, user.id)?;
    assert_eq!(
        SetupState::get(c)?,
        Some(SetupState {
            id: 1,
            admin_user_id: Some(user.id),
            completed_at: 42
        })
    );

    let event = AuditEvent::record(
        c,
        &NewAuditEvent {
            at: 1,
            kind: "test",
            user_id: Some(user.id),
            actor: Some("t"),
            ip: None,
            detail: Some("{}"),
        },
    )?;
    assert_eq!(AuditEvent::recent(c, 10)?.first(), Some(&event));

    // Deleting the user cascades to what hangs off it.
    diesel::delete(tessera_db::schema::users::table.find(user.id)).execute(c)?;
    assert_eq!(ClientToken::find_by_digest(c, &[1u8; 32])?, None);
    assert_eq!(Device::find(c, &device.id)?, None);
    Ok(())
}

fn sample_user() -> NewUser<'static> {
    NewUser {
        username: "sample",
        email: None,
        password_hash: None,
        role: "user",
        permission_group_id: None,
        enabled: true,
        created_at: 1,
        updated_at: 1,
    }
}

both_backends! {
    async fn up_down_up_leaves_the_same_schema(app: TestApp) {
        app.services
            .db
            .run(|c| -> Result<(), DbError> {
                let first = dump_schema(c)?;
                assert!(first.len() > 20, "the schema was dumped: {first:?}");
                assert!(migrate::revert_all(c)? >= 1);
                assert!(dump_schema(c)?.is_empty(), "down removes everything");
                assert!(migrate::has_pending(c)?);
                migrate::run_pending(c)?;
                assert_eq!(dump_schema(c)?, first);
                Ok(())
            })
            .await
            .unwrap();
    }

    async fn every_model_round_trips_a_row(app: TestApp) {
        // Start from an empty database: revert and re-apply, so seeded rows do not interfere.
        app.services
            .db
            .run(|c| -> Result<(), DbError> {
                migrate::revert_all(c)?;
                migrate::run_pending(c)?;
                round_trip_every_model(c)
            })
            .await
            .unwrap();
    }
}
