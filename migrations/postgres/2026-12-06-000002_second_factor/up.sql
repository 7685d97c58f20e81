-- Issue 21: a second factor. The TOTP secret is sealed with the key-encryption key, like the signing keys;
-- last_step is the newest 30-second step a code was accepted for (a code is never accepted twice).
CREATE TABLE user_totp (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed BYTEA NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT,
    created_at BIGINT NOT NULL
);

-- Ten one-use recovery codes per enrolment, stored as SHA-256 digests.
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    digest BYTEA NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, digest)
);
