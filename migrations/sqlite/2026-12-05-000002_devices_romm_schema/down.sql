-- revert devices_romm_schema
DROP INDEX devices_user_mac;
ALTER TABLE devices DROP COLUMN updated_at;
ALTER TABLE devices DROP COLUMN sync_config;
ALTER TABLE devices DROP COLUMN sync_enabled;
ALTER TABLE devices DROP COLUMN sync_mode;
ALTER TABLE devices DROP COLUMN hostname;
ALTER TABLE devices DROP COLUMN mac_address;
ALTER TABLE devices DROP COLUMN ip_address;
