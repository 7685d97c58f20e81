DROP TABLE oidc_session_clients;
DROP TABLE oauth_consents;
DROP TABLE authorization_codes;
ALTER TABLE oauth_clients DROP COLUMN logo_uri;
ALTER TABLE oauth_clients DROP COLUMN skip_consent;
ALTER TABLE oauth_clients DROP COLUMN backchannel_logout_uri;
ALTER TABLE oauth_clients DROP COLUMN post_logout_redirect_uris;
ALTER TABLE oauth_clients DROP COLUMN redirect_uris;
ALTER TABLE refresh_families DROP COLUMN oidc_scopes;
