//! `[rate_limits]`: the budget of every credential-guessing or abusable path.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tessera_service::ratelimit::{Budget, LimitedAction};

use super::{err, ConfigError};

/// `rate_limits.<action> = { limit = N, period_secs = S }`; unknown actions are refused.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RateLimitsFile {
    login_user: Option<Budget>,
    login_ip: Option<Budget>,
    device_init: Option<Budget>,
    user_code: Option<Budget>,
    pair_exchange: Option<Budget>,
    forgot_password: Option<Budget>,
    forgot_password_ip: Option<Budget>,
    oidc_start: Option<Budget>,
    register: Option<Budget>,
    invite: Option<Budget>,
    authorize: Option<Budget>,
    code_redeem: Option<Budget>,
    passkey_start: Option<Budget>,
    client_auth: Option<Budget>,
}

pub(super) fn settings(f: &RateLimitsFile) -> Result<HashMap<LimitedAction, Budget>, ConfigError> {
    let given = [
        (LimitedAction::LoginUser, f.login_user),
        (LimitedAction::LoginIp, f.login_ip),
        (LimitedAction::DeviceInit, f.device_init),
        (LimitedAction::UserCode, f.user_code),
        (LimitedAction::PairExchange, f.pair_exchange),
        (LimitedAction::ForgotPassword, f.forgot_password),
        (LimitedAction::ForgotPasswordIp, f.forgot_password_ip),
        (LimitedAction::OidcStart, f.oidc_start),
        (LimitedAction::Register, f.register),
        (LimitedAction::Invite, f.invite),
        (LimitedAction::Authorize, f.authorize),
        (LimitedAction::CodeRedeem, f.code_redeem),
        (LimitedAction::PasskeyStart, f.passkey_start),
        (LimitedAction::ClientAuth, f.client_auth),
    ];
    let mut out = HashMap::new();
    for (action, budget) in given {
        if let Some(b) = budget {
            if b.limit == 0 || b.period_secs == 0 {
                return Err(err(
                    &format!("rate_limits.{}", action.key()),
                    "limit and period_secs must be positive",
                ));
            }
            out.insert(action, b);
        }
    }
    Ok(out)
}
