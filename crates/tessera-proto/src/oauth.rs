//! RFC 6749 §5.2 / RFC 8628 §3.5 error bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// RomM's clients read `detail` on `/api/token` and `/api/auth/device/*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
