-- RomM's device schema (issue 17): what RomM's clients send to POST /api/devices and read back.
-- Devices registered through POST /api/devices carry their own id as client_device_identifier, so the
-- (user_id, client_device_identifier) uniqueness of device-flow devices holds for both kinds in one table.
ALTER TABLE devices ADD COLUMN ip_address TEXT;
ALTER TABLE devices ADD COLUMN mac_address TEXT;
ALTER TABLE devices ADD COLUMN hostname TEXT;
ALTER TABLE devices ADD COLUMN sync_mode TEXT NOT NULL DEFAULT 'api';
ALTER TABLE devices ADD COLUMN sync_enabled BOOLEAN NOT NULL DEFAULT 1;
-- Opaque JSON object kept for RomM's clients, bounded by the API.
ALTER TABLE devices ADD COLUMN sync_config TEXT;
ALTER TABLE devices ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE devices SET updated_at = created_at;
CREATE INDEX devices_user_mac ON devices (user_id, mac_address);
