-- Portable schema: integer ids where RomM clients expect integers, text UUIDs elsewhere,
-- instants as epoch seconds, digests as BLOB, scope sets as space-delimited text.
CREATE TABLE permission_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    is_default BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE group_grants (
    group_id BIGINT NOT NULL REFERENCES permission_groups(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    action TEXT NOT NULL,
    own_only BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, entity, action)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    email TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT 0,
    password_hash TEXT,
    role TEXT NOT NULL,
    permission_group_id BIGINT REFERENCES permission_groups(id) ON DELETE SET NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    generation BIGINT NOT NULL DEFAULT 0,
    token_seq BIGINT NOT NULL DEFAULT 0,
    last_login BIGINT,
    last_active BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE user_overrides (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    action TEXT NOT NULL,
    own_only BOOLEAN NOT NULL DEFAULT 0,
    effect TEXT NOT NULL,
    PRIMARY KEY (user_id, entity, action)
);

CREATE TABLE oauth_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    confidential BOOLEAN NOT NULL,
    secret_digest BLOB,
    grant_types TEXT NOT NULL,
    scopes TEXT NOT NULL,
    can_introspect BOOLEAN NOT NULL DEFAULT 0,
    builtin BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_device_identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    client TEXT NOT NULL,
    platform TEXT,
    client_version TEXT,
    created_at BIGINT NOT NULL,
    last_seen BIGINT,
    UNIQUE (user_id, client_device_identifier)
);

CREATE TABLE client_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    digest BLOB UNIQUE,
    scopes TEXT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    device_id TEXT REFERENCES devices(id) ON DELETE CASCADE,
    generation BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX client_tokens_user ON client_tokens (user_id);

CREATE TABLE refresh_families (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    device_id TEXT REFERENCES devices(id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_families_user ON refresh_families (user_id);

CREATE TABLE refresh_tokens (
    digest BLOB PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Revoked access-token ids (jti) and families (sid), kept until expiry plus the verification leeway.
CREATE TABLE revoked_access_tokens (
    token_id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    digest BLOB NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_agent TEXT,
    ip TEXT,
    oidc_id_token TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_encrypted BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    verify_until BIGINT
);

CREATE TABLE invites (
    digest BLOB PRIMARY KEY NOT NULL,
    role TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    used_by BIGINT REFERENCES users(id) ON DELETE SET NULL
);

CREATE TABLE password_resets (
    digest BLOB PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE oidc_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- At most one row (id = 1): inserting it is how exactly one first-admin setup wins.
CREATE TABLE setup_state (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    admin_user_id BIGINT,
    completed_at BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    user_id BIGINT,
    actor TEXT,
    ip TEXT,
    detail TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
