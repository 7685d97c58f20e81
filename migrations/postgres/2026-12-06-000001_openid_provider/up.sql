-- Issue 20: Tessera as the OpenID Provider of the apps behind it (authorization code with PKCE).
-- Redirect URIs are space-separated: a registered URI never contains a space.
ALTER TABLE oauth_clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE oauth_clients ADD COLUMN skip_consent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE oauth_clients ADD COLUMN logo_uri TEXT;
-- A first-party app that gets refresh tokens without asking for offline_access.
ALTER TABLE oauth_clients ADD COLUMN refresh_without_offline_access BOOLEAN NOT NULL DEFAULT FALSE;

-- One-use authorization codes, stored as digests. Redeeming sets used_at and family_id in one conditional
-- update; a second redemption finds used_at set and revokes that family.
CREATE TABLE authorization_codes (
    digest BYTEA PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id TEXT,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    scopes TEXT NOT NULL,
    oidc_scopes TEXT NOT NULL,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    family_id TEXT
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);

-- What a user approved for a client: remembered until revoked; asked again when a request wants more.
CREATE TABLE oauth_consents (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- Which apps a Tessera session signed in to (by a redeemed code): told by back-channel logout when it ends.
CREATE TABLE oidc_session_clients (
    session_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, client_id)
);

-- The OpenID scopes a family was granted (`openid profile email groups offline_access`): what `userinfo`
-- answers for its access tokens, kept across refreshes. NULL for logins that were not OpenID sign-ins.
ALTER TABLE refresh_families ADD COLUMN oidc_scopes TEXT;
