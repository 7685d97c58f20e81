-- RomM's user schema: what RomM's clients read from every user object (issue 17).
ALTER TABLE users ADD COLUMN avatar_path TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN ra_username TEXT;
-- Opaque JSON kept for RomM's web app, bounded by the API.
ALTER TABLE users ADD COLUMN ui_settings TEXT;
