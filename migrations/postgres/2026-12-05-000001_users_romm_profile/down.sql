-- revert users_romm_profile
ALTER TABLE users DROP COLUMN ui_settings;
ALTER TABLE users DROP COLUMN ra_username;
ALTER TABLE users DROP COLUMN avatar_path;
