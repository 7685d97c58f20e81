//! Device authorization: RFC 8628 (`/oauth/device_authorization` + the token grant) and RomM's
//! `/api/auth/device/*` JSON.

pub mod authorize;
pub mod romm;

use tessera_service::device_flow::display_user_code;

use crate::AppState;

/// `<public_url>/device` and the same with the code filled in.
pub fn verification(state: &AppState, user_code: &str) -> (String, String) {
    let base = &state.services.settings.server.public_url;
    (
        format!("{base}/device"),
        format!("{base}/device?user_code={}", display_user_code(user_code)),
    )
}
