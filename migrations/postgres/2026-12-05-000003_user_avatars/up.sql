-- RomM's avatar upload (issue 17): one checked image per user, served at /api/users/{id}/avatar. Kept in the
-- database, not the data dir, so that every replica serves it and backups carry it.
CREATE TABLE user_avatars (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    image BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
