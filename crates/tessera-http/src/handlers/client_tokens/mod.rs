//! `/api/client-tokens*` (API.md §7).

pub mod admin;
pub mod create;
pub mod delete;
pub mod list;
pub mod pair;
pub mod regenerate;

use tessera_core::{ScopeCatalog, UnixTime};
use tessera_db::models::client_tokens::ClientToken as Row;
use tessera_proto::client_tokens::{ClientToken, ClientTokenCreate};
use tessera_service::client_tokens::CreatedToken;

pub fn view(row: &Row, catalog: &ScopeCatalog) -> ClientToken {
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
        token: view(&c.row, catalog),
        raw_token: c.raw.expose().to_owned(),
    }
}
