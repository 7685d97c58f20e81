-- Issue 21: passkeys (WebAuthn). `credential` is webauthn-rs's serialised Passkey (public key, counter,
-- flags): nothing secret, but only the server writes it. `counter` mirrors the signature counter so a
-- sign-in can advance it with a compare-and-set (a cloned authenticator's lower count is refused).
-- `user_handle` is the random WebAuthn user id the authenticator keeps (one per user, reused).
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    user_handle TEXT NOT NULL,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    counter BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);
