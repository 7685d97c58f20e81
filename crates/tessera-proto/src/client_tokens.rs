//! Client API tokens (RomM's names: `ClientToken`, `ClientTokenCreate`, `ClientTokenAdmin`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientTokenRequest {
    pub name: String,
    pub scopes: Vec<String>,
    /// `30d`, `90d`, `1y`, `never` or null (never).
    pub expires_in: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ClientToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
    pub user_id: i64,
    pub device_id: Option<String>,
}

/// Returned on creation, regeneration and exchange: the only time `raw_token` is shown.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ClientTokenCreate {
    #[serde(flatten)]
    pub token: ClientToken,
    pub raw_token: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ClientTokenAdmin {
    #[serde(flatten)]
    pub token: ClientToken,
    pub username: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct PairCode {
    pub code: String,
    pub expires_in: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExchangeRequest {
    pub code: String,
}
