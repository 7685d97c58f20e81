//! One portable schema for both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    permission_groups (id) {
        id -> BigInt,
        name -> Text,
        description -> Nullable<Text>,
        is_default -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    group_grants (group_id, entity, action) {
        group_id -> BigInt,
        entity -> Text,
        action -> Text,
        own_only -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Nullable<Text>,
        email_verified -> Bool,
        password_hash -> Nullable<Text>,
        role -> Text,
        permission_group_id -> Nullable<BigInt>,
        enabled -> Bool,
        generation -> BigInt,
        token_seq -> BigInt,
        last_login -> Nullable<BigInt>,
        last_active -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        avatar_path -> Text,
        ra_username -> Nullable<Text>,
        ui_settings -> Nullable<Text>,
    }
}

diesel::table! {
    user_overrides (user_id, entity, action) {
        user_id -> BigInt,
        entity -> Text,
        action -> Text,
        own_only -> Bool,
        effect -> Text,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> BigInt,
        client_id -> Text,
        name -> Text,
        confidential -> Bool,
        secret_digest -> Nullable<Binary>,
        grant_types -> Text,
        scopes -> Text,
        can_introspect -> Bool,
        builtin -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        skip_consent -> Bool,
        logo_uri -> Nullable<Text>,
        refresh_without_offline_access -> Bool,
    }
}

diesel::table! {
    authorization_codes (digest) {
        digest -> Binary,
        client_id -> Text,
        user_id -> BigInt,
        session_id -> Nullable<Text>,
        redirect_uri -> Text,
        code_challenge -> Nullable<Text>,
        scopes -> Text,
        oidc_scopes -> Text,
        nonce -> Nullable<Text>,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        family_id -> Nullable<Text>,
    }
}

diesel::table! {
    user_totp (user_id) {
        user_id -> BigInt,
        secret_sealed -> Binary,
        confirmed_at -> Nullable<BigInt>,
        last_step -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        user_id -> BigInt,
        credential_id -> Text,
        user_handle -> Text,
        name -> Text,
        credential -> Text,
        counter -> BigInt,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    recovery_codes (user_id, digest) {
        user_id -> BigInt,
        digest -> Binary,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    oidc_session_clients (session_id, client_id) {
        session_id -> Text,
        client_id -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    oauth_consents (user_id, client_id) {
        user_id -> BigInt,
        client_id -> Text,
        scopes -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        user_id -> BigInt,
        client_device_identifier -> Text,
        name -> Text,
        client -> Text,
        platform -> Nullable<Text>,
        client_version -> Nullable<Text>,
        created_at -> BigInt,
        last_seen -> Nullable<BigInt>,
        ip_address -> Nullable<Text>,
        mac_address -> Nullable<Text>,
        hostname -> Nullable<Text>,
        sync_mode -> Text,
        sync_enabled -> Bool,
        sync_config -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    client_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        digest -> Nullable<Binary>,
        scopes -> Text,
        expires_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        device_id -> Nullable<Text>,
        generation -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    refresh_families (id) {
        id -> Text,
        user_id -> BigInt,
        client_id -> Text,
        device_id -> Nullable<Text>,
        scopes -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        oidc_scopes -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (digest) {
        digest -> Binary,
        family_id -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    revoked_access_tokens (token_id) {
        token_id -> Text,
        kind -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        digest -> Binary,
        user_id -> BigInt,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        oidc_id_token -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        public_jwk -> Text,
        private_encrypted -> Binary,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        verify_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    invites (digest) {
        digest -> Binary,
        role -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        used_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    password_resets (digest) {
        digest -> Binary,
        user_id -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    oidc_links (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    setup_state (id) {
        id -> BigInt,
        admin_user_id -> Nullable<BigInt>,
        completed_at -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> BigInt,
        kind -> Text,
        user_id -> Nullable<BigInt>,
        actor -> Nullable<Text>,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    user_avatars (user_id) {
        user_id -> BigInt,
        content_type -> Text,
        image -> Binary,
        updated_at -> BigInt,
    }
}

diesel::joinable!(group_grants -> permission_groups (group_id));
diesel::joinable!(users -> permission_groups (permission_group_id));
diesel::joinable!(user_overrides -> users (user_id));
diesel::joinable!(devices -> users (user_id));
diesel::joinable!(client_tokens -> users (user_id));
diesel::joinable!(client_tokens -> devices (device_id));
diesel::joinable!(refresh_families -> users (user_id));
diesel::joinable!(refresh_tokens -> refresh_families (family_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(oidc_links -> users (user_id));
diesel::joinable!(user_avatars -> users (user_id));
diesel::joinable!(authorization_codes -> users (user_id));
diesel::joinable!(oauth_consents -> users (user_id));
diesel::joinable!(oidc_session_clients -> users (user_id));
diesel::joinable!(user_totp -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    authorization_codes,
    oauth_consents,
    oidc_session_clients,
    passkeys,
    permission_groups,
    recovery_codes,
    user_totp,
    user_avatars,
    group_grants,
    users,
    user_overrides,
    oauth_clients,
    devices,
    client_tokens,
    refresh_families,
    refresh_tokens,
    revoked_access_tokens,
    sessions,
    signing_keys,
    invites,
    password_resets,
    oidc_links,
    setup_state,
    audit_events,
);
