//! Rows to wire types: the service answers the HTTP layer in `tessera-proto` types, so no database row
//! crosses into `tessera-http` (which has no `tessera-db` dependency; `make boundaries` checks it).

use tessera_core::{ScopeCatalog, UnixTime};
use tessera_db::models::client_tokens::ClientToken as TokenRow;
use tessera_db::models::devices::Device;
use tessera_db::models::oauth_clients::OAuthClient;
use tessera_db::models::users::User;
use tessera_proto::client_tokens::{ClientToken, ClientTokenCreate};
use tessera_proto::devices::DeviceView;
use tessera_proto::oauth::OAuthClientView;
use tessera_proto::setup::UserView;

use crate::client_tokens::CreatedToken;

pub fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id,
        username: u.username.clone(),
        email: u.email.clone(),
        email_verified: u.email_verified,
        enabled: u.enabled,
        role: u.role.clone(),
        permission_group_id: u.permission_group_id,
        last_login: u.last_login.map(|t| UnixTime(t).to_rfc3339()),
        last_active: u.last_active.map(|t| UnixTime(t).to_rfc3339()),
        created_at: UnixTime(u.created_at).to_rfc3339(),
        updated_at: UnixTime(u.updated_at).to_rfc3339(),
        avatar_path: u.avatar_path.clone(),
        ra_username: u.ra_username.clone(),
        ra_progression: None,
        ui_settings: ui_settings(u),
    }
}

/// The stored `ui_settings` text as JSON (None when unset or, impossibly, unreadable).
pub fn ui_settings(u: &User) -> Option<serde_json::Value> {
    u.ui_settings
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
}

/// `sync_config` keys RomM masks in every answer.
const MASKED_SYNC_CONFIG_KEYS: &[&str] = &["ssh_password", "ssh_key_path"];

fn masked_sync_config(text: Option<&str>) -> Option<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_str(text?).ok()?;
    if let Some(object) = v.as_object_mut() {
        for (k, val) in object.iter_mut() {
            if MASKED_SYNC_CONFIG_KEYS.contains(&k.as_str()) {
                *val = serde_json::Value::String("********".into());
            }
        }
    }
    Some(v)
}

/// "" in a NOT NULL device-flow column is RomM's null.
pub fn nullable(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_owned())
}

pub fn device_view(d: &Device) -> DeviceView {
    DeviceView {
        id: d.id.clone(),
        user_id: d.user_id,
        client_device_identifier: d.client_device_identifier.clone(),
        name: nullable(&d.name),
        platform: d.platform.clone(),
        client: nullable(&d.client),
        client_version: d.client_version.clone(),
        ip_address: d.ip_address.clone(),
        mac_address: d.mac_address.clone(),
        hostname: d.hostname.clone(),
        sync_mode: d.sync_mode.clone(),
        sync_enabled: d.sync_enabled,
        sync_config: masked_sync_config(d.sync_config.as_deref()),
        last_seen: d.last_seen.map(|t| UnixTime(t).to_rfc3339()),
        created_at: UnixTime(d.created_at).to_rfc3339(),
        updated_at: UnixTime(d.updated_at.max(d.created_at)).to_rfc3339(),
    }
}

pub fn client_view(row: &OAuthClient, secret: Option<String>) -> OAuthClientView {
    let split = |s: &str| {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    OAuthClientView {
        id: row.id,
        client_id: row.client_id.clone(),
        name: row.name.clone(),
        confidential: row.confidential,
        grant_types: split(&row.grant_types),
        scopes: split(&row.scopes),
        can_introspect: row.can_introspect,
        builtin: row.builtin,
        created_at: UnixTime(row.created_at).to_rfc3339(),
        updated_at: UnixTime(row.updated_at).to_rfc3339(),
        redirect_uris: split(&row.redirect_uris),
        post_logout_redirect_uris: split(&row.post_logout_redirect_uris),
        backchannel_logout_uri: row.backchannel_logout_uri.clone(),
        skip_consent: row.skip_consent,
        logo_uri: row.logo_uri.clone(),
        refresh_without_offline_access: row.refresh_without_offline_access,
        client_secret: secret,
    }
}

pub fn token_view(row: &TokenRow, catalog: &ScopeCatalog) -> ClientToken {
    let t = |s: i64| UnixTime(s).to_rfc3339();
    ClientToken {
        id: row.id,
        name: row.name.clone(),
        scopes: catalog
            .names(catalog.parse(&row.scopes).unwrap_or_default())
            .into_iter()
            .map(str::to_owned)
            .collect(),
        expires_at: row.expires_at.map(t),
        last_used_at: row.last_used_at.map(t),
        created_at: t(row.created_at),
        user_id: row.user_id,
        device_id: row.device_id.clone(),
    }
}

pub fn created(c: CreatedToken, catalog: &ScopeCatalog) -> ClientTokenCreate {
    ClientTokenCreate {
        token: token_view(&c.row, catalog),
        raw_token: c.raw.expose().to_owned(),
    }
}
